// The dashboard's only script: progressive enhancement. Every page works without it; this
// adds copy buttons, live sync progress (polling a fragment), and auto-submitting pickers.
(function () {
  "use strict";

  function announce(el, text) {
    var live = el.closest("[data-copy-scope]");
    var status = live ? live.querySelector("[role=status]") : null;
    if (status) { status.textContent = text; }
  }

  // <button data-copy="id-of-input">: copies that input's value.
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var source = document.getElementById(button.getAttribute("data-copy"));
      if (!source) { return; }
      var text = source.value || source.textContent;
      var done = function () { announce(button, "Copied to the clipboard."); };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, function () { source.select(); });
      } else {
        source.select();
        announce(button, "Selected: press Ctrl+C to copy.");
      }
    });
  });

  // <select data-autosubmit>: submits its form when changed (the form's button stays for
  // keyboards and for pages without this script); "custom" waits for the dates.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () {
      if (select.value !== "custom") { select.form.submit(); }
    });
  });

  // <div data-poll="/url" data-every="1000">: replaces its content with the fragment at the
  // URL until the fragment says it is done (data-done on its first element).
  document.querySelectorAll("[data-poll]").forEach(function (box) {
    var url = box.getAttribute("data-poll");
    var every = parseInt(box.getAttribute("data-every") || "1500", 10);
    var tick = function () {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (html) {
          box.innerHTML = html;
          var first = box.firstElementChild;
          if (!(first && first.hasAttribute("data-done"))) { setTimeout(tick, every); }
        })
        .catch(function () { setTimeout(tick, every * 4); });
    };
    var first = box.firstElementChild;
    if (!(first && first.hasAttribute("data-done"))) { setTimeout(tick, every); }
  });
})();
