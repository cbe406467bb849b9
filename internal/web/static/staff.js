// The staff pages work without this script; with it, a wave's counts
// update live, and the reply review page takes keyboard shortcuts once
// they are turned on.
"use strict";

(function () {
  // Live counts: a section with data-counts polls that URL while the wave
  // is a draft or under way, and updates the counts, the state and the
  // buttons the state offers. Only a change of state is announced to
  // screen readers (#wave-announce is a status region); the counts are not.
  var live = document.querySelector("[data-counts]");
  if (live) {
    var url = live.getAttribute("data-counts");
    var state = live.getAttribute("data-state");
    var show = function (id, on) {
      var el = document.getElementById(id);
      if (el) { el.hidden = !on; }
    };
    var poll = function () {
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (c) {
          if (!c) { setTimeout(poll, 3000); return; }
          Object.keys(c.counts).forEach(function (s) {
            var el = document.getElementById("count-" + s);
            if (el) { el.textContent = c.counts[s]; }
          });
          var p = document.getElementById("wave-progress");
          if (p) { p.max = c.total; p.value = c.done; }
          var d = document.getElementById("wave-done");
          if (d) { d.textContent = c.done; }
          if (c.state !== state) {
            state = c.state;
            var b = document.getElementById("wave-state");
            if (b) { b.textContent = state; b.className = "badge " + state; }
            var a = document.getElementById("wave-announce");
            if (a) {
              a.textContent = "The wave is " + state + ": " + c.counts.sent + " sent, " + c.counts.failed +
                " failed, " + c.counts.uncertain + " uncertain.";
            }
            show("wave-start", state === "draft");
            show("wave-cancel", state === "draft" || state === "started");
          }
          if (state === "draft" || state === "started") {
            // Every letter ended but follow-ups are still to come: they
            // are weeks away, so look less often.
            setTimeout(poll, c.done < c.total ? 1000 : 30000);
          }
        })
        .catch(function () { setTimeout(poll, 3000); });
    };
    setTimeout(poll, 1000);
  }

  // Keyboard shortcuts: an element with data-key="x" is clicked when x is
  // pressed outside a text field. Single keys are easy to press by
  // accident (WCAG 2.1.4), so they are off until turned on with the
  // #shortcuts switch, which this browser remembers.
  var storeKey = "outreach.shortcuts";
  var shortcutsOn = function () {
    try { return window.localStorage.getItem(storeKey) === "on"; } catch (err) { return false; }
  };
  var toggle = document.getElementById("shortcuts");
  if (toggle) {
    toggle.checked = shortcutsOn();
    toggle.addEventListener("change", function () {
      try { window.localStorage.setItem(storeKey, toggle.checked ? "on" : "off"); } catch (err) { /* private mode: this page only */ }
    });
    var box = toggle.closest("[hidden]");
    if (box) { box.hidden = false; }
  }
  var typing = function (t) {
    if (!t || !t.tagName) { return false; }
    if (t.isContentEditable || t.tagName === "TEXTAREA" || t.tagName === "SELECT") { return true; }
    return t.tagName === "INPUT" && ["checkbox", "radio", "button", "submit", "reset"].indexOf(t.type) < 0;
  };
  document.addEventListener("keydown", function (e) {
    if (!toggle || !toggle.checked) { return; }
    if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target) || !/^[a-z]$/.test(e.key)) { return; }
    var el = document.querySelector('[data-key="' + e.key + '"]');
    if (el) { e.preventDefault(); el.click(); }
  });
})();
