// Regions that scroll sideways (wide tables on phones) must be reachable by keyboard: give them a tab stop.
(function () {
  "use strict";
  function mark(root) {
    root.querySelectorAll("main table, main .scroll, main .table-wrap").forEach(function (el) {
      if (el.scrollWidth > el.clientWidth + 1 && !el.hasAttribute("tabindex")) {
        el.setAttribute("tabindex", "0");
      }
    });
  }
  document.addEventListener("DOMContentLoaded", function () { mark(document); });
  window.addEventListener("resize", function () { mark(document); });
  document.addEventListener("htmx:afterSettle", function (event) { mark(event.target.ownerDocument || document); });
})();
