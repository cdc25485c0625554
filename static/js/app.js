// Report Desk: small progressive enhancements. Every page works without this file.
(function () {
  "use strict";

  // The page's words (base.html puts them on <body> in the page's language): "%(name)s" places filled.
  function words(name, values) {
    var text = (document.body && document.body.dataset[name]) || "";
    return text.replace(/%\((\w+)\)s/g, function (whole, key) { return key in values ? values[key] : whole; });
  }
  window.reportDeskWords = words;

  // Live character counters: <textarea data-counter="ID" maxlength="N"> updates #ID.
  function initCounters(root) {
    root.querySelectorAll("textarea[data-counter]").forEach(function (field) {
      var out = document.getElementById(field.dataset.counter);
      var max = parseInt(field.getAttribute("maxlength"), 10);
      if (!out || !max) { return; }
      function update() {
        var left = max - field.value.length;
        out.textContent = words("i18nCounter", { count: field.value.length, max: max }) +
          (left < 50 ? " " + words("i18nCounterLeft", { left: left }) : "");
        out.classList.toggle("counter-warn", left < 50);
      }
      field.addEventListener("input", update);
      update();
    });
  }

  // Blurred images are revealed on click, one at a time (moderator wellbeing).
  function initReveal(root) {
    root.querySelectorAll("[data-reveal]").forEach(function (button) {
      button.addEventListener("click", function () {
        var target = document.getElementById(button.dataset.reveal);
        if (target) { target.classList.remove("blurred"); button.remove(); }
      });
    });
  }

  // Confirm before destructive buttons: <button data-confirm="Are you sure?">.
  function initConfirm(root) {
    root.querySelectorAll("[data-confirm]").forEach(function (el) {
      el.addEventListener("click", function (event) {
        if (!window.confirm(el.dataset.confirm)) { event.preventDefault(); }
      });
    });
  }

  // After a failed submit the page opens with an error summary: focus moves there (a screen reader
  // reads it), and each of its links moves focus to the field it names.
  function initErrorSummary(root) {
    var summary = root.querySelector("[data-error-summary]");
    if (!summary) { return; }
    summary.addEventListener("click", function (event) {
      var link = event.target.closest("a[href^='#']");
      var field = link && document.getElementById(link.getAttribute("href").slice(1));
      if (field) { event.preventDefault(); field.focus(); field.scrollIntoView({ block: "center" }); }
    });
    if (root === document) { summary.focus(); }
  }

  function init(root) {
    initErrorSummary(root);
    initCounters(root);
    initReveal(root);
    initConfirm(root);
  }

  window.ReportDesk = { init: init };
  document.addEventListener("DOMContentLoaded", function () { init(document); });
})();
