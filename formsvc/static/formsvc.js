// Small enhancements; every page works without this file.
document.addEventListener("DOMContentLoaded", function () {
  // Move focus to the error summary so screen readers announce it at once.
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }

  // Picking an organisation from the register also picks its type, unless one is chosen already.
  document.querySelectorAll("input[data-type-field]").forEach(function (input) {
    var typeField = input.getAttribute("data-type-field");
    var list = document.getElementById(input.getAttribute("list"));
    if (!typeField || !list) { return; }
    input.addEventListener("change", function () {
      var option = Array.prototype.find.call(list.options, function (o) { return o.value === input.value; });
      if (!option) { return; }
      var chosen = document.querySelector("input[name='" + typeField + "']:checked");
      var radio = document.querySelector("input[name='" + typeField + "'][value='" + option.dataset.type + "']");
      if (!chosen && radio) { radio.checked = true; }
    });
  });

  // A question asked only after some answers (show_if): hidden, with its inputs disabled so they are not
  // sent, until an earlier answer holds; without this file it shows, with a note saying when to answer it.
  var form = document.querySelector("form.answer-form");
  var conditionals = document.querySelectorAll("[data-show-if]");
  if (!form || !conditionals.length) { return; }
  function picked(name) {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name === name && !el.disabled && (el.tagName === "SELECT" || el.checked);
    }).map(function (el) { return el.value; });
  }
  function update() {
    conditionals.forEach(function (wrapper) {
      var values = wrapper.getAttribute("data-show-if-values").split(" ");
      var shown = picked(wrapper.getAttribute("data-show-if")).some(function (v) { return values.indexOf(v) >= 0; });
      wrapper.hidden = !shown;
      wrapper.querySelectorAll("input, select, textarea").forEach(function (el) { el.disabled = !shown; });
    });
  }
  form.addEventListener("change", update);
  update();
});
