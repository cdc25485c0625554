// Presence on a report (moderation/presence.py): every data-interval seconds the page tells the server
// "still here" and learns who else is, through the shared cache. The state sent is the page's
// data-doing ("viewing", or "deciding" on the decision form), and "reviewing" once a form marked
// [data-presence-form] has been typed in, so that colleagues acting meanwhile are asked once.
// Leaving the page removes the entry at once. Without this file the page still shows who was
// there when it loaded.
(function () {
  "use strict";

  function start() {
    var box = document.querySelector("[data-presence]");
    var token = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (!box || !token || !window.fetch) { return; }
    var url = box.dataset.url;
    var interval = (parseInt(box.dataset.interval, 10) || 15) * 1000;
    var doing = box.dataset.doing || "viewing";
    var line = box.querySelector("[data-presence-line]");
    var timer = null;

    function body(state) {
      var data = new FormData();
      data.append("csrfmiddlewaretoken", token.value);
      data.append("doing", state);
      return data;
    }

    function show(answer) {
      // Only a change is written, so a screen reader hears who came or went, not every beat.
      if (answer && line && line.textContent !== answer.line) { line.textContent = answer.line; }
    }

    function beat() {
      fetch(url, { method: "POST", body: body(doing), credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(show)
        .catch(function () { /* offline for a moment: the next beat tries again */ });
    }

    function run() {
      window.clearInterval(timer);
      timer = window.setInterval(beat, interval);
    }

    document.querySelectorAll("[data-presence-form]").forEach(function (form) {
      form.addEventListener("input", function () {
        if (doing === "viewing") { doing = "reviewing"; beat(); }
      });
    });
    window.addEventListener("pagehide", function () {
      window.clearInterval(timer);
      if (navigator.sendBeacon) { navigator.sendBeacon(url, body("leaving")); }
    });
    // Back from the browser's page cache: here again.
    window.addEventListener("pageshow", function (event) {
      if (event.persisted) { beat(); run(); }
    });
    run();
  }

  document.addEventListener("DOMContentLoaded", start);
})();
