// leadflow's own script: the upload progress bar and the chat box. No inline script
// anywhere (the Content-Security-Policy forbids it); htmx does the requests.
(function () {
  "use strict";

  document.addEventListener("htmx:xhr:progress", function (event) {
    var form = event.target.closest ? event.target.closest("#upload-form") : null;
    if (!form) { return; }
    var box = document.getElementById("upload-progress-box");
    var bar = document.getElementById("upload-progress");
    if (!box || !bar) { return; }
    box.hidden = false;
    if (event.detail.lengthComputable && event.detail.total > 0) {
      var pct = Math.round((100 * event.detail.loaded) / event.detail.total);
      bar.value = pct;
      bar.textContent = pct + "%";
    }
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.target.closest ? event.target.closest("#upload-form") : null;
    if (form) {
      var bar = document.getElementById("upload-progress");
      if (bar) { bar.value = 100; bar.textContent = "100%"; }
    }
    if (event.target.id === "chat-form" || (event.target.closest && event.target.closest("form[hx-post='/chat']"))) {
      var input = document.getElementById("question");
      if (input && event.detail.successful) { input.value = ""; input.focus(); }
    }
  });

  // Enter in a field of the import form must not start the import: it applies the field.
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.key !== "Enter" || target.tagName !== "INPUT" || !target.closest("#import-form")) {
      return;
    }
    event.preventDefault();
    target.dispatchEvent(new Event("change", { bubbles: true }));
  });

  // A button with data-confirm asks first (plain forms; htmx buttons use hx-confirm).
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button[data-confirm]") : null;
    if (button && !window.confirm(button.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });

  // htmx shows no body for 4xx/5xx answers by default: show our error fragments.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if (status >= 400 && status < 500 && !event.detail.xhr.getResponseHeader("HX-Redirect")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
      // the API's JSON error envelope (a file over the size limit ...): show its message
      var type = event.detail.xhr.getResponseHeader("Content-Type") || "";
      if (type.indexOf("application/json") === 0) {
        var message = "The request failed (" + status + ").";
        try { message = JSON.parse(event.detail.serverResponse).error.message; } catch (e) { /* keep */ }
        var p = document.createElement("p");
        p.className = "error";
        p.setAttribute("role", "alert");
        p.textContent = message;
        event.detail.serverResponse = p.outerHTML;
      }
    }
  });
})();
