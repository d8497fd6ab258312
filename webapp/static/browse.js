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
  // Sorting, filtering and paging swap only the results and push the new address: the filter form's order, the
  // bulk form's way back and the "save this view" query follow that address.
  function follow() {
    const params = new URLSearchParams(window.location.search);
    params.delete("page");
    params.delete("view");
    document.querySelectorAll('#bulk-form input[name="back"], .save-view input[name="query"]').forEach((input) => {
      input.value = params.toString();
    });
    const sort = document.querySelector('form.filters input[name="sort"]');
    if (sort && params.get("sort")) {
      sort.value = params.get("sort");
    }
  }
  document.addEventListener("htmx:pushedIntoHistory", follow);
})();
