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
});
