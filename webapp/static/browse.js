// The documents list: "select all" of the page's checkboxes and the number of ticked documents beside the bulk
// actions. Delegated from the document: the results part is replaced by htmx (sorting, pages, live refresh).
(function () {
  "use strict";
  function boxes() {
    return Array.from(document.querySelectorAll('#doc-results input[name="document"]'));
  }
  function update() {
    const ticked = boxes().filter((b) => b.checked).length;
    const count = document.querySelector("[data-bulk-count]");
    if (count) {
      count.textContent = ticked ? "(" + ticked + ")" : "";
    }
    const all = document.querySelector("#doc-results [data-select-all]");
    if (all) {
      const n = boxes().length;
      all.checked = n > 0 && ticked === n;
      all.indeterminate = ticked > 0 && ticked < n;
    }
  }
  document.addEventListener("change", (event) => {
    const target = event.target;
    if (!(target instanceof HTMLInputElement)) {
      return;
    }
    if (target.matches("[data-select-all]")) {
      boxes().forEach((b) => { b.checked = target.checked; });
    }
    if (target.matches("[data-select-all], #doc-results input[name='document']")) {
      update();
    }
  });
  document.addEventListener("htmx:afterSwap", update);
})();
