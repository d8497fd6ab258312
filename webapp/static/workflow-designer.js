/* Workflow designer: edits a definition in the browser and serialises it into the JSON the server validates.
 * No framework and no inline handlers (the CSP forbids them): the page holds the definition, the labels and
 * the server's errors as JSON blocks; this script renders the editor, keeps the JSON field in sync, and shows
 * each server error next to the part of the editor its path names (e.g. "steps[1].responsible[0].code").
 */
(function () {
  "use strict";

  var root = document.getElementById("designer");
  var form = document.getElementById("designer-form");
  var json = document.getElementById("definition-json");
  if (!root || !form || !json) return;
  var data = JSON.parse(document.getElementById("designer-data").textContent);
  var L = JSON.parse(document.getElementById("designer-labels").textContent);
  var options = data.options;
  var state = normalise(data.definition || {});
  var dragFrom = null;

  function name(v) { return (v && typeof v === "object") ? {zh: v.zh || "", en: v.en || ""} : {zh: v || "", en: v || ""}; }

  function normalise(d) {
    var rules = function (r) { return (Array.isArray(r) ? r : (r ? [r] : [])).map(function (x) { return Object.assign({}, x); }); };
    return {
      key: d.key || "", name: name(d.name), description: name(d.description),
      allow_withdraw: d.allow_withdraw !== false, acceptance: d.acceptance === true, form: (d.form || []).map(field), cc: rules(d.cc),
      steps: (d.steps || []).map(function (s) {
        var sla = s.sla && typeof s.sla === "object" ? Object.keys(s.sla)[0] : "";
        return {
          key: s.key || "", name: name(s.name), approval: s.approval || "single", responsible: rules(s.responsible),
          slaUnit: sla || "", slaAmount: sla ? String(s.sla[sla]) : "",
          requirements: (s.requirements || []).map(function (r, i) {
            return typeof r === "string" ? {key: "r" + (i + 1), label: name(r)} : {key: r.key, label: name(r.label)};
          }),
          attachments: (s.attachments || []).join(", "), fields: (s.fields || []).map(field),
          onReject: (s.on_reject && s.on_reject.to) || (typeof s.on_reject === "string" ? s.on_reject : "initiator"),
          onRejectStep: (s.on_reject && s.on_reject.step) || ""
        };
      })
    };
  }

  function field(f) {
    var out = Object.assign({}, f);
    out.label = name(f.label || f.name);
    out.optionsText = (f.options || []).join(", ");
    ["min", "max", "min_length", "max_length"].forEach(function (k) { out[k] = f[k] === undefined ? "" : String(f[k]); });
    return out;
  }

  // -- serialisation ------------------------------------------------------------------------------

  function num(v) { var t = String(v).trim(); return t === "" ? undefined : (isNaN(Number(t)) ? t : Number(t)); }
  function list(text) { return String(text).split(/[,，\n]/).map(function (s) { return s.trim(); }).filter(Boolean); }

  function fieldOut(f) {
    var o = {name: f.name, type: f.type, label: f.label, required: !!f.required};
    if (f.type === "number" || f.type === "money") { ["min", "max"].forEach(function (k) { if (num(f[k]) !== undefined) o[k] = num(f[k]); }); }
    if (f.type === "number") o.integer = !!f.integer;
    if (f.type === "text") { ["min_length", "max_length"].forEach(function (k) { if (num(f[k]) !== undefined) o[k] = num(f[k]); }); }
    if (f.type === "select") { if (f.source === "projects") o.source = "projects"; else o.options = list(f.optionsText); }
    if (f.type === "file") o.multiple = !!f.multiple;
    return o;
  }

  function ruleOut(r) {
    var o = {kind: r.kind};
    if (["department", "position", "department_head"].indexOf(r.kind) >= 0) o.code = (r.code || "").trim();
    if (r.kind === "person") o.username = (r.username || "").trim();
    if (r.kind === "budget_owner") o.field = (r.field || "project").trim();
    return o;
  }

  function serialise() {
    var out = {
      key: state.key.trim(), name: state.name, description: state.description, allow_withdraw: state.allow_withdraw,
      form: state.form.map(fieldOut), cc: state.cc.map(ruleOut),
      steps: state.steps.map(function (s) {
        var out = {
          key: s.key.trim(), name: s.name, approval: s.approval, responsible: s.responsible.map(ruleOut),
          requirements: s.requirements.map(function (r) { return {key: r.key, label: r.label}; }),
          attachments: list(s.attachments), fields: s.fields.map(fieldOut),
          on_reject: s.onReject === "step" ? {to: "step", step: s.onRejectStep} : {to: s.onReject}
        };
        if (s.slaUnit) { out.sla = {}; out.sla[s.slaUnit] = num(s.slaAmount) === undefined ? "" : num(s.slaAmount); }
        return out;
      })
    };
    if (state.acceptance) out.acceptance = true;  // only when chosen: an explicit step, never a silent one
    return out;
  }

  function sync() { json.value = JSON.stringify(serialise(), null, 2); diagram(); }

  // -- the flow as a diagram beside the form ---------------------------------------------------------
  // A plain HTML list (readable by screen readers, no library): start, each step with its mode, who is
  // responsible and its deadline, where a rejection goes, the optional acceptance feedback, the end.

  function who(r) {
    var kind = L["rule_" + r.kind] || r.kind;
    var ref = r.code || r.username || "";
    return ref ? kind + " " + ref : kind;
  }

  function node(cls, title, lines) {
    var li = el("li", {className: "wf-node " + cls}, [el("strong", {text: title})]);
    lines.forEach(function (t) { if (t) li.appendChild(el("span", {className: "wf-node-line", text: t})); });
    return li;
  }

  function diagram() {
    var box = document.getElementById("designer-diagram");
    if (!box) return;
    box.textContent = "";
    box.appendChild(el("h2", {text: L.diagram}));
    var ol = el("ol", {className: "wf-flow"});
    ol.appendChild(node("wf-start", L.diagram_start, [state.form.length ? L.diagram_form + " · " + state.form.length : ""]));
    state.steps.forEach(function (s, i) {
      var nm = s.name.zh || s.name.en || s.key || (L.step + " " + (i + 1));
      var reject = s.onReject === "step" ? L.reject_step + " " + (s.onRejectStep || "?") : L["reject_" + s.onReject];
      var sla = s.slaUnit ? s.slaAmount + " " + (L["sla_" + s.slaUnit] || s.slaUnit) : L.no_sla;
      ol.appendChild(node("wf-step wf-" + s.approval, (i + 1) + ". " + nm, [
        L["approval_" + s.approval], s.responsible.map(who).join(" / "), sla, "↩ " + L.on_reject + ": " + reject
      ]));
    });
    if (state.acceptance) ol.appendChild(node("wf-acceptance", L.diagram_acceptance, []));
    ol.appendChild(node("wf-end", L.diagram_end, []));
    box.appendChild(ol);
  }

  // -- small DOM helpers ----------------------------------------------------------------------------

  var uid = 0;
  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") e.textContent = attrs[k];
      else if (k === "className") e.className = attrs[k];
      else if (attrs[k] !== false && attrs[k] !== undefined && attrs[k] !== null) e.setAttribute(k, attrs[k] === true ? "" : attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) e.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return e;
  }

  // A labelled control bound to obj[prop]; path names its place for server errors.
  function control(label, obj, prop, path, kind, choices) {
    var id = "d" + (++uid);
    var input;
    if (kind === "select") {
      input = el("select", {id: id});
      choices.forEach(function (c) { input.appendChild(el("option", {value: c[0], text: c[1], selected: String(obj[prop]) === c[0]})); });
    } else if (kind === "checkbox") {
      input = el("input", {id: id, type: "checkbox", checked: !!obj[prop]});
    } else {
      input = el("input", {id: id, type: "text", value: obj[prop] === undefined ? "" : obj[prop]});
    }
    input.setAttribute("data-bind", path);
    input.addEventListener(kind === "select" || kind === "checkbox" ? "change" : "input", function () {
      obj[prop] = kind === "checkbox" ? input.checked : input.value;
      sync();
      if (kind === "select") render(id);
    });
    if (kind === "pick") {
      // A picker fills the field on "change" (a choice from its list), not on "input".
      input.addEventListener("change", function () { obj[prop] = input.value; sync(); });
    }
    var wrap = el("div", {className: "dz-field" + (kind === "checkbox" ? " dz-check" : ""), "data-path": path});
    if (kind === "checkbox") { wrap.appendChild(input); wrap.appendChild(el("label", {"for": id, text: label})); }
    else { wrap.appendChild(el("label", {"for": id, text: label})); wrap.appendChild(input); }
    if (kind === "pick" && window.huitongPicker && data.picker_url) window.huitongPicker.attach(input, choices, data.picker_url);
    return wrap;
  }

  function nameControls(label, obj, prop, path) {
    return el("div", {className: "dz-row", "data-path": path}, [
      control(label + " · 中文", obj[prop], "zh", path + ".zh"), control(label + " · English", obj[prop], "en", path + ".en")
    ]);
  }

  function button(text, title, onClick, extra) {
    var b = el("button", Object.assign({type: "button", title: title, "aria-label": title, text: text}, extra || {}));
    b.addEventListener("click", onClick);
    return b;
  }

  function move(arr, from, to) {
    if (to < 0 || to >= arr.length || from === to) return false;
    arr.splice(to, 0, arr.splice(from, 1)[0]);
    return true;
  }

  // -- sections -------------------------------------------------------------------------------------------

  function fieldsEditor(fields, path, title) {
    var box = el("fieldset", {className: "dz-fields", "data-path": path}, [el("legend", {text: title})]);
    fields.forEach(function (f, i) {
      var p = path + "[" + i + "]";
      var row = el("div", {className: "dz-row dz-item", "data-path": p}, [
        control(L.field_name, f, "name", p + ".name"),
        nameControls(L.label, f, "label", p + ".label"),
        control(L.type, f, "type", p + ".type", "select", options.field_types.map(function (t) { return [t, L["type_" + t] || t]; })),
        control(L.required, f, "required", p + ".required", "checkbox")
      ]);
      if (f.type === "number" || f.type === "money") {
        row.appendChild(control(L.min, f, "min", p + ".min")); row.appendChild(control(L.max, f, "max", p + ".max"));
      }
      if (f.type === "number") row.appendChild(control(L.integer, f, "integer", p + ".integer", "checkbox"));
      if (f.type === "text") {
        row.appendChild(control(L.min_length, f, "min_length", p + ".min_length"));
        row.appendChild(control(L.max_length, f, "max_length", p + ".max_length"));
      }
      if (f.type === "select") {
        row.appendChild(control(L.source, f, "source", p + ".source", "select", [["", L.source_options], ["projects", L.source_projects]]));
        if (f.source !== "projects") row.appendChild(control(L.options, f, "optionsText", p + ".options"));
      }
      if (f.type === "file") row.appendChild(control(L.multiple, f, "multiple", p + ".multiple", "checkbox"));
      row.appendChild(el("div", {className: "dz-tools"}, [
        button("↑", L.move_up, function () { if (move(fields, i, i - 1)) { sync(); render(); } }),
        button("↓", L.move_down, function () { if (move(fields, i, i + 1)) { sync(); render(); } }),
        button("✕", L.remove_field, function () { fields.splice(i, 1); sync(); render(); })
      ]));
      box.appendChild(row);
    });
    box.appendChild(button("+ " + L.add_field, L.add_field, function () {
      fields.push(field({name: "field" + (fields.length + 1), type: "text", label: {zh: "", en: ""}, required: false}));
      sync(); render();
    }, {className: "dz-add"}));
    return box;
  }

  function rulesEditor(rules, path, title) {
    var box = el("fieldset", {className: "dz-rules", "data-path": path}, [el("legend", {text: title})]);
    rules.forEach(function (r, j) {
      var p = path + "[" + j + "]";
      var row = el("div", {className: "dz-row dz-item", "data-path": p}, [
        control(L.rule_kind, r, "kind", p + ".kind", "select", options.rule_kinds.map(function (k) { return [k, L["rule_" + k] || k]; }))
      ]);
      // Codes and user names are picked by name from the organisation (typing a code still works).
      if (["department", "position", "department_head"].indexOf(r.kind) >= 0) {
        row.appendChild(control(L.code, r, "code", p + ".code", "pick", r.kind === "position" ? "position" : "department"));
      }
      if (r.kind === "person") row.appendChild(control(L.username, r, "username", p + ".username", "pick", "person"));
      if (r.kind === "budget_owner") { if (!r.field) r.field = "project"; row.appendChild(control(L.project_field, r, "field", p + ".field")); }
      row.appendChild(el("div", {className: "dz-tools"}, [button("✕", L.remove_rule, function () { rules.splice(j, 1); sync(); render(); })]));
      box.appendChild(row);
    });
    box.appendChild(button("+ " + L.add_rule, L.add_rule, function () { rules.push({kind: "department", code: ""}); sync(); render(); }, {className: "dz-add"}));
    return box;
  }

  function requirementsEditor(step, path) {
    var box = el("fieldset", {className: "dz-reqs", "data-path": path}, [el("legend", {text: L.checklist})]);
    step.requirements.forEach(function (r, k) {
      var p = path + "[" + k + "]";
      box.appendChild(el("div", {className: "dz-row dz-item", "data-path": p}, [
        nameControls(L.item, r, "label", p + ".label"),
        el("div", {className: "dz-tools"}, [button("✕", L.remove_item, function () { step.requirements.splice(k, 1); sync(); render(); })])
      ]));
    });
    box.appendChild(button("+ " + L.add_item, L.add_item, function () {
      var used = step.requirements.map(function (r) { return r.key; });
      var n = step.requirements.length + 1;
      while (used.indexOf("r" + n) >= 0) n++;
      step.requirements.push({key: "r" + n, label: {zh: "", en: ""}}); sync(); render();
    }, {className: "dz-add"}));
    return box;
  }

  function stepCard(step, i) {
    var p = "steps[" + i + "]";
    var card = el("li", {className: "dz-step", "data-path": p, "data-index": String(i)});
    var earlier = state.steps.slice(0, i).map(function (s) { return [s.key, s.key + " · " + (s.name.zh || s.name.en)]; });
    card.appendChild(el("div", {className: "dz-step-head"}, [
      handle(card, i),
      el("h3", {text: L.step + " " + (i + 1) + (step.name.zh || step.name.en ? " · " + (step.name.zh || step.name.en) : "")}),
      el("div", {className: "dz-tools"}, [
        button("↑", L.move_up, function () { if (move(state.steps, i, i - 1)) { sync(); render("up-" + (i - 1)); } }, {"data-focus": "up-" + i}),
        button("↓", L.move_down, function () { if (move(state.steps, i, i + 1)) { sync(); render("down-" + (i + 1)); } }, {"data-focus": "down-" + i}),
        button("✕ " + L.remove_step, L.remove_step, function () { state.steps.splice(i, 1); sync(); render(); })
      ])
    ]));
    card.appendChild(el("div", {className: "dz-row"}, [control(L.step_key, step, "key", p + ".key")]));
    card.appendChild(nameControls(L.step_name, step, "name", p + ".name"));
    card.appendChild(el("div", {className: "dz-row"}, [
      control(L.approval, step, "approval", p + ".approval", "select", options.approval_modes.map(function (m) { return [m, L["approval_" + m]]; })),
      control(L.sla_amount, step, "slaAmount", p + ".sla"),
      control(L.sla_unit, step, "slaUnit", p + ".sla.unit", "select", [["", L.no_sla]].concat(options.sla_units.map(function (u) { return [u, L["sla_" + u]]; }))),
      control(L.on_reject, step, "onReject", p + ".on_reject", "select", options.reject_targets.map(function (t) { return [t, L["reject_" + t]]; }))
    ]));
    if (step.onReject === "step") {
      card.lastChild.appendChild(control(L.reject_step_label, step, "onRejectStep", p + ".on_reject.step", "select", [["", "—"]].concat(earlier)));
    }
    card.appendChild(rulesEditor(step.responsible, p + ".responsible", L.responsible));
    card.appendChild(requirementsEditor(step, p + ".requirements"));
    card.appendChild(el("div", {className: "dz-row"}, [control(L.attachments, step, "attachments", p + ".attachments")]));
    card.appendChild(fieldsEditor(step.fields, p + ".fields", L.step_fields));
    card.addEventListener("dragover", function (e) { if (dragFrom !== null) { e.preventDefault(); card.classList.add("dz-over"); } });
    card.addEventListener("dragleave", function () { card.classList.remove("dz-over"); });
    card.addEventListener("drop", function (e) {
      e.preventDefault();
      var from = dragFrom; dragFrom = null;
      if (from !== null && move(state.steps, from, i)) { sync(); render(); announce(L.moved); }
    });
    return card;
  }

  // Only the handle is draggable: a draggable card would steal mouse text selection from its inputs.
  function handle(card, i) {
    var h = el("span", {className: "dz-handle", title: L.drag, "aria-hidden": "true", draggable: "true", text: "⠿"});
    h.addEventListener("dragstart", function (e) {
      dragFrom = i; card.classList.add("dz-dragging");
      e.dataTransfer.effectAllowed = "move"; e.dataTransfer.setData("text/plain", String(i));
    });
    h.addEventListener("dragend", function () { card.classList.remove("dz-dragging"); dragFrom = null; });
    return h;
  }

  function announce(text) { var live = document.getElementById("designer-live"); if (live) live.textContent = text; }

  function render(focusId) {
    var active = document.activeElement && document.activeElement.getAttribute("data-bind");
    root.textContent = "";
    var head = el("section", {className: "dz-workflow", "data-path": ""}, [el("h2", {text: L.workflow})]);
    head.appendChild(el("div", {className: "dz-row"}, [control(L.key, state, "key", "key")]));
    head.appendChild(nameControls(L.name, state, "name", "name"));
    head.appendChild(nameControls(L.description, state, "description", "description"));
    head.appendChild(control(L.allow_withdraw, state, "allow_withdraw", "allow_withdraw", "checkbox"));
    head.appendChild(control(L.acceptance, state, "acceptance", "acceptance", "checkbox"));
    head.appendChild(fieldsEditor(state.form, "form", L.start_form));
    head.appendChild(rulesEditor(state.cc, "cc", L.cc));
    root.appendChild(head);
    var steps = el("section", {className: "dz-steps-box", "data-path": "steps"}, [el("h2", {text: L.steps}),
      el("p", {className: "hint", text: L.reorder_hint})]);
    var ol = el("ol", {className: "dz-steps"});
    state.steps.forEach(function (s, i) { ol.appendChild(stepCard(s, i)); });
    steps.appendChild(ol);
    steps.appendChild(button("+ " + L.add_step, L.add_step, function () {
      var used = state.steps.map(function (s) { return s.key; });
      var n = state.steps.length + 1;
      while (used.indexOf("s" + n) >= 0) n++;
      state.steps.push({key: "s" + n, name: {zh: "", en: ""}, approval: "single", responsible: [{kind: "initiator_head"}],
        slaUnit: "", slaAmount: "", requirements: [], attachments: "", fields: [], onReject: "initiator", onRejectStep: ""});
      sync(); render(); announce(L.added);
    }, {className: "dz-add", id: "add-step"}));
    root.appendChild(steps);
    showErrors();
    var target = focusId && (document.getElementById(focusId) || root.querySelector('[data-focus="' + focusId + '"]'));
    if (!target && active) target = root.querySelector('[data-bind="' + active + '"]');
    if (target) target.focus();
  }

  // Server errors: each goes to the element whose data-path is its path, or the nearest enclosing one.
  function showErrors() {
    (data.errors || []).forEach(function (err) {
      var path = err.path || "", target = null;
      for (;;) {
        target = root.querySelector('[data-path="' + path.replace(/["\\]/g, "") + '"]');
        if (target || !path) break;
        var shorter = path.replace(/(\.[^.[\]]+|\[\d+\])$/, "");
        path = shorter === path ? "" : shorter;
      }
      target = target || root;
      target.classList.add("dz-invalid");
      var msg = el("p", {className: "dz-error", role: "alert", text: err.message});
      var input = target.querySelector("input, select");
      if (input && target.classList.contains("dz-field")) {
        msg.id = "e" + (++uid); input.setAttribute("aria-invalid", "true"); input.setAttribute("aria-describedby", msg.id);
      }
      target.appendChild(msg);
    });
  }

  form.addEventListener("submit", function () { sync(); });
  var load = document.getElementById("load-json");
  if (load) load.addEventListener("click", function () {
    try { state = normalise(JSON.parse(json.value)); data.errors = []; render(); announce(L.loaded); }
    catch (e) { announce(L.bad_json + " " + e.message); }
  });
  document.documentElement.classList.add("designer-js");
  render();
  sync();
})();
