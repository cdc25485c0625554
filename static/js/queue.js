// The moderation queue: live filters (the results part re-renders alone), keyboard navigation,
// bulk selection and live deadlines. Progressive enhancement: without this file every filter,
// link and button still works as a plain form or link.
(function () {
  "use strict";

  var PARTIAL_HEADER = "X-Queue-Partial";
  document.documentElement.classList.add("js");

  // --- deadlines ---------------------------------------------------------------------------------

  function span(ms) {
    var minutes = Math.floor(Math.abs(ms) / 60000);
    var days = Math.floor(minutes / 1440);
    var hours = Math.floor((minutes % 1440) / 60);
    var mins = minutes % 60;
    if (days) { return days + "d" + (hours ? " " + hours + "h" : ""); }
    if (hours) { return hours + "h" + (mins ? " " + mins + "m" : ""); }
    return mins + "m";
  }

  // Same rule as the server (moderation.selectors.deadline_of): red when overdue, amber when less
  // than a quarter of the report's window is left.
  function refreshDeadlines(root) {
    var now = Date.now();
    root.querySelectorAll(".deadline[data-live]").forEach(function (el) {
      var due = Date.parse(el.dataset.due), start = Date.parse(el.dataset.start);
      if (isNaN(due)) { return; }
      var left = due - now, state, label;
      if (left <= 0) { state = "overdue"; label = window.reportDeskWords("i18nOverdue", { span: span(left) }); }
      else { state = left * 4 < (due - start) ? "soon" : "ok"; label = window.reportDeskWords("i18nLeft", { span: span(left) }); }
      el.classList.remove("deadline-ok", "deadline-soon", "deadline-overdue");
      el.classList.add("deadline-" + state);
      var text = el.querySelector(".deadline-label");
      if (text) { text.textContent = label; }
    });
  }

  // --- rows and keyboard -------------------------------------------------------------------------

  var current = -1;

  function rows() { return Array.prototype.slice.call(document.querySelectorAll("[data-row]")); }

  function select(index, focus) {
    var all = rows();
    if (!all.length) { current = -1; return; }
    index = Math.max(0, Math.min(all.length - 1, index));
    all.forEach(function (row, i) { row.classList.toggle("is-current", i === index); });
    current = index;
    var row = all[index];
    if (focus !== false) {
      var link = row.querySelector(".row-link");
      if (link) { link.focus({ preventScroll: true }); }
      row.scrollIntoView({ block: "nearest" });
    }
  }

  function typing(target) {
    if (!target) { return false; }
    var tag = target.tagName;
    return target.isContentEditable || tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT";
  }

  function openKeys() {
    var dialog = document.getElementById("keys-dialog");
    if (dialog && typeof dialog.showModal === "function" && !dialog.open) { dialog.showModal(); }
  }

  function onKey(event) {
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    var dialog = document.getElementById("keys-dialog");
    if (dialog && dialog.open) { return; }
    if (typing(event.target)) {
      if (event.key === "Escape") { event.target.blur(); }
      return;
    }
    var all = rows();
    switch (event.key) {
      case "j":
        select(current < 0 ? 0 : current + 1);
        break;
      case "k":
        select(current < 0 ? 0 : current - 1);
        break;
      case "Enter":
        if (current >= 0 && all[current] && event.target === document.body) {
          window.location.href = all[current].dataset.href;
        } else { return; }
        break;
      case "x":
        if (current >= 0 && all[current]) {
          var box = all[current].querySelector("input[name=ids]");
          if (box) { box.checked = !box.checked; updateBulk(); }
        }
        break;
      case "n":
        var next = document.getElementById("next-form");
        if (next) { next.requestSubmit ? next.requestSubmit() : next.submit(); }
        break;
      case "/":
        var search = document.querySelector("#queue-filters input[name=q]");
        if (search) { search.focus(); search.select(); } else { return; }
        break;
      case "?":
        openKeys();
        break;
      default:
        return;
    }
    event.preventDefault();
  }

  // --- bulk selection ----------------------------------------------------------------------------

  function updateBulk() {
    var form = document.getElementById("bulk-form");
    if (!form) { return; }
    var boxes = form.querySelectorAll("input[name=ids]");
    var ticked = form.querySelectorAll("input[name=ids]:checked").length;
    var count = form.querySelector("[data-bulk-count]");
    var submit = form.querySelector("[data-bulk-submit]");
    var bar = form.querySelector("[data-bulk-bar]");
    var all = form.querySelector("[data-select-all]");
    if (count) {
      count.textContent = ticked ? window.reportDeskWords("i18nSelected", { count: ticked })
        : window.reportDeskWords("i18nSelectRows", {});
    }
    if (submit) { submit.disabled = ticked === 0; }
    if (bar) { bar.classList.toggle("has-selection", ticked > 0); }
    if (all) {
      all.checked = ticked > 0 && ticked === boxes.length;
      all.indeterminate = ticked > 0 && ticked < boxes.length;
    }
    boxes.forEach(function (box) {
      var row = box.closest("[data-row]");
      if (row) { row.classList.toggle("is-selected", box.checked); }
    });
    var action = form.querySelector("[data-bulk-action]");
    var assignee = form.querySelector("[data-bulk-assignee]");
    if (action && assignee) { assignee.hidden = action.value !== "assign"; }
  }

  function initBulk(root) {
    var form = root.querySelector("#bulk-form");
    if (!form) { return; }
    form.addEventListener("change", function (event) {
      if (event.target.matches("[data-select-all]")) {
        form.querySelectorAll("input[name=ids]").forEach(function (box) { box.checked = event.target.checked; });
      }
      updateBulk();
    });
    form.addEventListener("submit", function (event) {
      var ticked = form.querySelectorAll("input[name=ids]:checked").length;
      var action = form.querySelector("[data-bulk-action]");
      if (!ticked) { event.preventDefault(); return; }
      var label = action.options[action.selectedIndex].text.replace("…", "");
      if (["resolved", "dismissed", "reviewed"].indexOf(action.value) >= 0 &&
          !window.confirm(label + ": " + ticked + " selected " + (ticked === 1 ? "row" : "rows") + "?")) {
        event.preventDefault();
      }
    });
    // Clicking anywhere on a row (not on a control) selects it, as j/k would.
    form.addEventListener("click", function (event) {
      var row = event.target.closest("[data-row]");
      if (!row || event.target.closest("a, input, button, label, select")) { return; }
      select(rows().indexOf(row), false);
    });
    updateBulk();
  }

  // --- live filters ------------------------------------------------------------------------------

  var inflight = null;

  // Forms outside the results that act in the current view ("Next report") carry it in their action.
  function syncQueryFields(query) {
    document.querySelectorAll("form[data-view-action]").forEach(function (form) {
      form.setAttribute("action", form.getAttribute("action").split("?")[0] + "?" + query);
    });
  }

  // After a tab or link changed the view, show the same values in the filter form.
  function syncForm(params) {
    var form = document.getElementById("queue-filters");
    if (!form) { return; }
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name) { return; }
      if (el.type === "checkbox") { el.checked = params.getAll(el.name).indexOf(el.value) >= 0; }
      else if (el.type !== "submit" && el.type !== "button") {
        var value = params.get(el.name);
        if (el.tagName === "SELECT" && value === null) { value = el.name === "per_page" ? "25" : ""; }
        if (document.activeElement !== el) { el.value = value === null ? "" : value; }
      }
    });
  }

  // history: "push" (a new step back), "replace" (typing in the search box), or "none" (going back).
  function load(url, history) {
    var results = document.getElementById("queue-results");
    if (!results) { window.location.href = url; return; }
    if (inflight) { inflight.abort(); }
    inflight = new AbortController();
    results.setAttribute("aria-busy", "true");
    results.classList.add("is-loading");
    fetch(url, { headers: { [PARTIAL_HEADER]: "1" }, credentials: "same-origin", signal: inflight.signal })
      .then(function (response) {
        // Signed out meanwhile (redirected to the sign-in page) or an error: load the page itself.
        if (!response.ok || response.redirected) { throw new Error("HTTP " + response.status); }
        return response.text();
      })
      .then(function (html) {
        results.innerHTML = html;
        results.setAttribute("aria-busy", "false");
        results.classList.remove("is-loading");
        var parsed = new URL(url, window.location.href);
        if (history === "push") { window.history.pushState({ queue: true }, "", parsed.pathname + parsed.search); }
        if (history === "replace") { window.history.replaceState({ queue: true }, "", parsed.pathname + parsed.search); }
        var box = results.querySelector("[data-query]");
        syncQueryFields(box ? box.dataset.query : parsed.search.slice(1));
        syncForm(parsed.searchParams);
        current = -1;
        enhance(results);
        // The results changed: one short sentence for a screen reader, not the whole table again;
        // and a notice of new reports belonged to the view before.
        hideLiveNotice();
        if (box && box.dataset.statusMessage) { announce(box.dataset.statusMessage); }
      })
      .catch(function (error) {
        if (error.name === "AbortError") { return; }
        window.location.href = url; // fall back to a full page load
      });
  }

  function formUrl(form) {
    var params = new URLSearchParams();
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.disabled) { return; }
      if (el.type === "checkbox" && !el.checked) { return; }
      if (el.value === "") { return; }
      params.append(el.name, el.value);
    });
    return form.action.split("?")[0] + "?" + params.toString();
  }

  function initFilters() {
    var form = document.getElementById("queue-filters");
    if (!form) { return; }
    // On a phone the filters fold away unless some are in use; the summary opens them.
    var more = form.querySelector("[data-more-filters]");
    if (more && !more.hasAttribute("data-active") && window.matchMedia("(max-width: 760px)").matches) {
      more.open = false;
    }
    var timer = null;
    form.addEventListener("change", function (event) {
      if (event.target.name === "q") { return; }
      load(formUrl(form), "push");
    });
    form.addEventListener("input", function (event) {
      if (event.target.name !== "q") { return; }
      window.clearTimeout(timer);
      timer = window.setTimeout(function () { load(formUrl(form), "replace"); }, 300);
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      window.clearTimeout(timer);
      load(formUrl(form), "push");
    });
    document.addEventListener("click", function (event) {
      var link = event.target.closest("a[data-partial]");
      if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) { return; }
      event.preventDefault();
      load(link.href, "push");
    });
    window.addEventListener("popstate", function () { load(window.location.href, "none"); });
  }

  // --- the live notice: new reports in this view --------------------------------------------------

  // The queue's only live region (visually hidden): filter changes and new reports are said in one
  // sentence each, never by re-reading the results.
  function announce(message) {
    var status = document.querySelector("[data-queue-status]");
    if (status) { status.textContent = message; }
  }

  var lastNew = 0;

  function hideLiveNotice() {
    var notice = document.querySelector("[data-queue-live-notice]");
    if (notice) { notice.hidden = true; }
    lastNew = 0;
  }

  // Every data-interval seconds (not while the tab is hidden), ask how many reports arrived in the
  // view since the results were read (moderation.views.new_reports); say so without touching the
  // rows, so nobody loses their place. "Show" reloads the results of the same view and page.
  function initLive() {
    var bar = document.querySelector("[data-queue-live]");
    if (!bar || !window.fetch) { return; }
    var interval = (parseInt(bar.dataset.interval, 10) || 30) * 1000;
    var notice = bar.querySelector("[data-queue-live-notice]");
    var words = bar.querySelector("[data-queue-live-text]");
    function poll() {
      var box = document.querySelector("#queue-results [data-since]");
      if (document.visibilityState === "hidden" || !box) { return; }
      var since = box.dataset.since;
      var query = box.dataset.query ? box.dataset.query + "&" : "";
      fetch(bar.dataset.url + "?" + query + "since=" + encodeURIComponent(since),
            { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok && !response.redirected ? response.json() : null; })
        .then(function (answer) {
          var shown = document.querySelector("#queue-results [data-since]");
          // The results were reloaded meanwhile: this answer is about the view before.
          if (!answer || !shown || shown.dataset.since !== since) { return; }
          if (answer["new"] > 0) {
            var sentence = answer.sentence;  // in the page's language, from the server
            words.textContent = sentence;
            notice.hidden = false;
            if (answer["new"] !== lastNew) { announce(sentence + "."); }
          } else {
            notice.hidden = true;
          }
          lastNew = answer["new"];
        })
        .catch(function () { /* a missed poll: the next one asks again */ });
    }
    bar.querySelector("[data-queue-live-show]").addEventListener("click", function () {
      load(window.location.href, "none");
    });
    window.setInterval(poll, interval);
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible") { poll(); }
    });
  }

  function enhance(root) {
    if (window.ReportDesk) { window.ReportDesk.init(root); }
    initBulk(root);
    refreshDeadlines(root);
  }

  document.addEventListener("DOMContentLoaded", function () {
    initFilters();
    initLive();
    initBulk(document);
    refreshDeadlines(document);
    window.setInterval(function () { refreshDeadlines(document); }, 30000);
    document.addEventListener("keydown", onKey);
    document.querySelectorAll("[data-keys-open]").forEach(function (button) {
      button.addEventListener("click", openKeys);
    });
  });
})();
