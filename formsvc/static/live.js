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

  function start(projector) {
    var url = projector.getAttribute("data-tally-url");
    var state = projector.getAttribute("data-state");
    var tiedText = projector.getAttribute("data-tied-text");

    function update(tally) {
      if (tally.state !== state) { window.location.reload(); return; }  // opened/closed: the layout changes
      projector.querySelector("[data-live='voters']").textContent = String(tally.voters);
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

  document.addEventListener("DOMContentLoaded", function () {
    var projector = document.querySelector(".projector[data-tally-url]");
    if (projector) { start(projector); }
  });
})();
