// The staff pages work without this script; with it, a wave's counts
// update live, and the reply review page takes keyboard shortcuts.
"use strict";

(function () {
  // Live counts: a section with data-counts polls that URL every second
  // until every letter is done.
  var live = document.querySelector("[data-counts]");
  if (live) {
    var url = live.getAttribute("data-counts");
    var poll = function () {
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (c) {
          if (!c) { return; }
          Object.keys(c.counts).forEach(function (state) {
            var el = document.getElementById("count-" + state);
            if (el) { el.textContent = c.counts[state]; }
          });
          var p = document.getElementById("wave-progress");
          if (p) { p.max = c.total; p.value = c.done; }
          var d = document.getElementById("wave-done");
          if (d) { d.textContent = c.done; }
          if (c.done < c.total) { setTimeout(poll, 1000); }
        })
        .catch(function () { setTimeout(poll, 3000); });
    };
    setTimeout(poll, 1000);
  }

  // Keyboard shortcuts: an element with data-key="x" is clicked when x is
  // pressed outside a text field.
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) { return; }
    var t = e.target;
    if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable)) { return; }
    var el = document.querySelector('[data-key="' + e.key + '"]');
    if (el) { e.preventDefault(); el.click(); }
  });
})();
