// Live vote projector: fetch the tally every second and redraw the numbers without reloading the page.
// Without this file the page still shows correct numbers (it reloads itself via <noscript> meta refresh).
(function () {
  "use strict";
  var INTERVAL = 1000;

  function cell(tag, text, className) {
    var element = document.createElement(tag);
    element.textContent = text;
    if (className) { element.className = className; }
    return element;
  }

  // The same rows as templates/staff/_live_standings.html draws.
  function drawRows(tbody, standings, tiedText) {
    var placeKey = tbody.getAttribute("data-place");
    var tiedKey = tbody.getAttribute("data-tied");
    var columns = tbody.getAttribute("data-columns").split(" ");
    var rows = document.createDocumentFragment();
    standings.forEach(function (standing) {
      var row = document.createElement("tr");
      var place = cell("td", String(standing[placeKey]), "number live-place");
      if (standing[tiedKey]) { place.appendChild(cell("span", " " + tiedText, "tied")); }
      row.appendChild(place);
      var label = cell("th", standing.label);
      label.setAttribute("scope", "row");
      row.appendChild(label);
      columns.forEach(function (column) { row.appendChild(cell("td", String(standing[column]), "number")); });
      rows.appendChild(row);
    });
    tbody.replaceChildren(rows);
  }

  // The wall's bars: the same row elements are kept (found by option key) and moved into the new order,
  // so a bar's width changes in place and its CSS transition shows it growing.
  function drawBars(tbody, standings, tiedText) {
    var most = standings.reduce(function (m, s) { return Math.max(m, s.points); }, 0);
    var rows = {};
    tbody.querySelectorAll("tr[data-key]").forEach(function (row) { rows[row.getAttribute("data-key")] = row; });
    standings.forEach(function (standing) {
      var row = rows[standing.key];
      if (!row) { return; }
      var place = row.querySelector(".live-place");
      place.textContent = String(standing.points_place);
      if (standing.points_tied) { place.appendChild(cell("span", " " + tiedText, "tied")); }
      row.querySelector(".bar-points").textContent = String(standing.points);
      row.querySelector(".bar-mentions").textContent = String(standing.mentions);
      row.querySelector(".bar-value").setAttribute("width", most ? (standing.points * 100 / most).toFixed(1) : "0");
      tbody.appendChild(row);
    });
  }

  function start(projector) {
    var url = projector.getAttribute("data-tally-url");
    var state = projector.getAttribute("data-state");
    var hidden = projector.getAttribute("data-hidden") === "true";
    var tiedText = projector.getAttribute("data-tied-text");

    function update(tally) {
      // Opened, closed, results shown or hidden: the layout changes, so the server draws it again.
      if (tally.state !== state || Boolean(tally.hidden) !== hidden) { window.location.reload(); return; }
      projector.querySelector("[data-live='voters']").textContent = String(tally.voters);
      if (hidden) { return; }
      var bars = projector.querySelector("tbody[data-live='bars']");
      if (bars) { drawBars(bars, tally.by_points, tiedText); return; }
      drawRows(projector.querySelector("tbody[data-live='by_points']"), tally.by_points, tiedText);
      drawRows(projector.querySelector("tbody[data-live='by_mentions']"), tally.by_mentions, tiedText);
    }

    function poll() {
      fetch(url, { credentials: "same-origin", cache: "no-store", headers: { "Accept": "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (tally) { if (tally) { update(tally); } })
        .catch(function () { /* a missed poll is retried at the next tick */ })
        .then(function () { if (state === "open") { window.setTimeout(poll, INTERVAL); } });
    }
    if (state === "open") { window.setTimeout(poll, INTERVAL); }
  }

  function fullScreenButton() {
    var button = document.querySelector("[data-fullscreen]");
    if (!button || !document.documentElement.requestFullscreen) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      if (document.fullscreenElement) { document.exitFullscreen(); } else { document.documentElement.requestFullscreen(); }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    fullScreenButton();
    var projector = document.querySelector(".projector[data-tally-url]");
    if (projector) { start(projector); }
  });
})();
