/* Searchable pickers (ARIA 1.2 combobox with a listbox popup). The server renders the options (htmx swaps
 * them into the list); this script only shows/hides the list and does the keyboard: ArrowDown/ArrowUp move
 * through the options, Enter picks the active one (without submitting the form), Escape closes the list.
 * Picking writes the option's value (a code or user name) into the field, which is what the form posts.
 * No inline handlers (the CSP forbids them); loaded once even when several pickers include it.
 * Tree pickers (departments: role="tree" popup) browse the tree until something is typed: ArrowRight opens a
 * branch (or goes to its first child), ArrowLeft closes it (or goes to the parent); only the visible, allowed
 * departments are stepped through; a click on the triangle opens or closes a branch.
 */
(function () {
  "use strict";
  if (window.huitongPicker) return;

  function parts(input) {
    var list = document.getElementById(input.getAttribute("aria-controls"));
    var chosen = document.getElementById(input.id + "-chosen");
    return {list: list, chosen: chosen};
  }
  function isTree(list) { return !!list && list.getAttribute("role") === "tree"; }
  // The choices that can be stepped to: allowed, and not inside a closed branch.
  function options(list) {
    var role = isTree(list) ? "treeitem" : "option";
    return Array.prototype.slice.call(list.querySelectorAll('[role="' + role + '"]:not([aria-disabled="true"])'))
      .filter(function (o) { return !o.closest('[role="group"][hidden]'); });
  }
  function expand(item, on) {
    if (!item || !item.hasAttribute("aria-expanded")) return false;
    item.setAttribute("aria-expanded", on ? "true" : "false");
    for (var i = 0; i < item.children.length; i++) {
      if (item.children[i].getAttribute("role") === "group") item.children[i].hidden = !on;
    }
    return true;
  }
  // A list may be gone: the designer re-renders its fields (and their lists) after many changes.
  function open(input, list) { if (list) { list.hidden = false; input.setAttribute("aria-expanded", "true"); } }
  function close(input, list) {
    if (!list) return;
    list.hidden = true; input.setAttribute("aria-expanded", "false"); input.removeAttribute("aria-activedescendant");
  }
  function activate(input, list, index) {
    Array.prototype.forEach.call(list.querySelectorAll('[aria-selected="true"]'), function (o) { o.setAttribute("aria-selected", "false"); });
    var all = options(list);
    all.forEach(function (o, i) { o.setAttribute("aria-selected", i === index ? "true" : "false"); });
    if (all[index]) { input.setAttribute("aria-activedescendant", all[index].id); all[index].scrollIntoView({block: "nearest"}); }
  }
  function current(list) {
    var all = options(list);
    for (var i = 0; i < all.length; i++) if (all[i].getAttribute("aria-selected") === "true") return i;
    return -1;
  }
  function choose(input, option) {
    var p = parts(input);
    var value = option.getAttribute("data-value");
    if (input.hasAttribute("data-picker-multiple")) {
      // Replace the entry being typed (after the last separator) and leave room for the next one.
      var kept = input.value.replace(/[^,，\s]*$/, "");
      input.value = kept + value + ", ";
    } else {
      input.value = value;
    }
    var path = option.getAttribute("data-path");  // a department's place in the tree, root first
    if (p.chosen) p.chosen.textContent = (path ? path + " / " : "") + option.getAttribute("data-label") + " (" + value + ")";
    close(input, p.list);
    input.dispatchEvent(new Event("change", {bubbles: true}));
  }
  function isPicker(el) { return el && el.getAttribute && el.getAttribute("role") === "combobox" && el.hasAttribute("data-picker-kind"); }

  // A picker whose kind follows another field (the share form's "with" select) asks the matching search.
  document.addEventListener("htmx:configRequest", function (e) {
    var input = e.detail.elt;
    if (!isPicker(input) || !input.hasAttribute("data-picker-kind-from")) return;
    var source = input.form && input.form.elements[input.getAttribute("data-picker-kind-from")];
    if (source && source.value) e.detail.path = e.detail.path.replace(/\/pick\/[^/?]+/, "/pick/" + encodeURIComponent(source.value));
  });
  document.addEventListener("htmx:afterSwap", function (e) {
    var list = e.detail.target;
    if (!list || (list.getAttribute("role") !== "listbox" && !isTree(list))) return;
    var input = document.querySelector('[aria-controls="' + list.id + '"]');
    if (!input || document.activeElement !== input) return;
    open(input, list);
  });
  document.addEventListener("keydown", function (e) {
    var input = e.target;
    if (!isPicker(input)) return;
    var list = parts(input).list;
    if (!list) return;
    var all = options(list), at = current(list);
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      if (list.hidden) { open(input, list); }
      if (!all.length) return;
      var next = e.key === "ArrowDown" ? (at + 1) % all.length : (at <= 0 ? all.length - 1 : at - 1);
      activate(input, list, next);
    } else if (e.key === "Enter") {
      if (!list.hidden && at >= 0) { e.preventDefault(); choose(input, all[at]); }
    } else if ((e.key === "ArrowRight" || e.key === "ArrowLeft") && isTree(list) && !list.hidden && at >= 0) {
      e.preventDefault();
      var item = all[at], opened = item.getAttribute("aria-expanded") === "true";
      if (e.key === "ArrowRight") {
        if (!opened) { expand(item, true); } else {
          var first = options(list).indexOf(item) + 1, after = options(list)[first];
          if (after && item.contains(after)) activate(input, list, first);
        }
      } else if (opened) {
        expand(item, false);
      } else {
        var parent = item.parentNode.closest('[role="treeitem"]'), index = options(list).indexOf(parent);
        if (index >= 0) activate(input, list, index);
      }
    } else if (e.key === "Escape") {
      if (!list.hidden) { e.preventDefault(); close(input, list); }
    }
  });
  // mousedown, not click: it comes before the field's blur closes the list.
  document.addEventListener("mousedown", function (e) {
    var toggle = e.target.closest && e.target.closest(".picker-tree .picker-toggle");
    if (toggle) {
      e.preventDefault();
      var branch = toggle.closest('[role="treeitem"]');
      expand(branch, branch.getAttribute("aria-expanded") !== "true");
      return;
    }
    var option = e.target.closest && e.target.closest('.picker-list [role="option"], .picker-list [role="treeitem"]');
    if (!option || option.getAttribute("aria-disabled") === "true") { if (option) e.preventDefault(); return; }
    e.preventDefault();
    var input = document.querySelector('[aria-controls="' + option.closest(".picker-list").id + '"]');
    if (input) choose(input, option);
  });
  // Fields built by scripts (the workflow designer) search without htmx: the same endpoint, the same options.
  function attach(input, kind, base) {
    var listId = input.id + "-list", timer = null, asked = 0;
    var list = document.createElement("ul");
    list.id = listId; list.className = "picker-list"; list.hidden = true; list.setAttribute("role", "listbox");
    input.setAttribute("role", "combobox"); input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false"); input.setAttribute("aria-controls", listId);
    input.setAttribute("data-picker-kind", kind); input.setAttribute("autocomplete", "off");
    input.parentNode.classList.add("picker");
    input.parentNode.appendChild(list);
    function search() {
      var mine = ++asked;
      fetch(base + "/" + encodeURIComponent(kind) + "?list=" + listId + "&q=" + encodeURIComponent(input.value),
            {credentials: "same-origin", headers: {"HX-Request": "true"}})
        .then(function (r) { return r.text(); })
        .then(function (html) {
          if (mine !== asked) return;  // a later search answered first: keep its options
          list.innerHTML = html;
          if (document.activeElement === input) open(input, list);
        });
    }
    input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(search, 250); });
    input.addEventListener("focus", search);
  }
  window.huitongPicker = {attach: attach};

  document.addEventListener("focusout", function (e) {
    if (!isPicker(e.target)) return;
    var input = e.target;
    setTimeout(function () { if (document.activeElement !== input) close(input, parts(input).list); }, 150);
  });
})();
