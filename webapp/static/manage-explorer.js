/* Collaboration explorer: Cytoscape.js over /manage/explorer/data.json.
 *
 * Departments are always shown; a department's people appear when it is expanded (click it), and
 * links to people of collapsed departments are drawn to their department, weights summed. Every
 * link on screen is one aggregated edge: its width grows with the number of interactions, its
 * colour says the kind that dominates it (colours come from the legend's swatches, so the CSS is
 * the one place they are defined). Up to COSE_LIMIT nodes use a force-directed layout that keeps
 * labels apart (fcose when served, else cose with label sizes); above that, communities are laid
 * out as rings packed on rows, which is instant and stays readable at 500+ nodes. Zoom stops at
 * MAX_ZOOM so a click never fills the screen with one node; a found path is highlighted in place.
 */
(function () {
  "use strict";
  var COSE_LIMIT = 150;
  var MAX_ZOOM = 2;
  var KINDS = ["handoffs", "co_assigned", "shared_documents", "comments", "member"];
  var RING_GAP = 22;
  var DEPT_GAP = 48;
  var PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                 "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd"];

  var root = document.getElementById("explorer");
  if (!root || typeof cytoscape === "undefined") { return; }
  var msg = function (name) { return root.getAttribute("data-msg-" + name) || ""; };
  var words = JSON.parse((document.getElementById("explorer-words") || { textContent: "{}" }).textContent || "{}");
  var kindColours = {};
  KINDS.forEach(function (kind) {
    var swatch = document.querySelector("[data-legend-kind='" + kind + "'] .swatch");
    kindColours[kind] = swatch ? window.getComputedStyle(swatch).backgroundColor : "#8d97aa";
  });
  var status = document.getElementById("explorer-status");
  var details = document.getElementById("explorer-details");
  var pathResult = document.getElementById("path-result");
  var state = { nodes: {}, edges: [], byNode: {}, expanded: new Set(), all: false };

  var cy = cytoscape({
    container: document.getElementById("cy"),
    minZoom: 0.05, maxZoom: MAX_ZOOM, wheelSensitivity: 0.3,
    textureOnViewport: true, hideEdgesOnViewport: true,
    style: [
      { selector: "node", style: { "label": "data(label)", "font-size": 8, "min-zoomed-font-size": 9,
                                   "background-color": "data(color)", "width": 10, "height": 10,
                                   "text-valign": "bottom", "text-margin-y": 2, "color": "#1d2330" } },
      { selector: "node[kind = 'department']", style: { "shape": "round-rectangle", "width": 26, "height": 18,
                                                        "font-size": 11, "font-weight": "bold",
                                                        "min-zoomed-font-size": 4, "border-width": 1,
                                                        "border-color": "#1d2330" } },
      { selector: "node.expanded", style: { "border-width": 3, "border-color": "#b3261e" } },
      { selector: "edge", style: { "width": "data(w)", "line-color": "data(colour)", "opacity": 0.6,
                                   "curve-style": "haystack" } },
      { selector: ".faded", style: { "opacity": 0.12 } },
      { selector: "node.focus", style: { "border-width": 4, "border-color": "#b3261e", "z-index": 10,
                                         "min-zoomed-font-size": 0 } },
      { selector: "node.on-path", style: { "border-width": 4, "border-color": "#b3261e", "min-zoomed-font-size": 0 } },
      { selector: "edge.on-path", style: { "line-color": "#b3261e", "opacity": 1, "width": 6, "z-index": 10 } }
    ]
  });

  function setStatus(text) { if (status) { status.textContent = text; } }

  function setData(data) {
    state.nodes = {};
    state.byNode = {};
    data.elements.nodes.forEach(function (n) {
      var d = n.data;
      d.color = d.kind === "department" ? "#dfe6f3" : PALETTE[((d.community % PALETTE.length) + PALETTE.length) % PALETTE.length];
      state.nodes[d.id] = d;
      state.byNode[d.id] = [];
    });
    state.edges = data.elements.edges.map(function (e) { return e.data; });
    state.edges.forEach(function (e) {
      if (state.byNode[e.source]) { state.byNode[e.source].push(e); }
      if (state.byNode[e.target]) { state.byNode[e.target].push(e); }
    });
    var list = document.getElementById("explorer-names");
    if (list) {
      list.textContent = "";
      Object.keys(state.nodes).forEach(function (id) {
        var option = document.createElement("option");
        var d = state.nodes[id];
        option.value = d.label;
        option.label = d.kind === "person" && d.department_name ? d.label + " · " + d.department_name : d.label;
        list.appendChild(option);
      });
    }
  }

  function deptId(name) { return "dept:" + name; }

  // The node that stands for ``id`` on screen: itself, or its collapsed department.
  function rep(id) {
    var d = state.nodes[id];
    if (!d) { return null; }
    if (d.kind === "department" || state.all || state.expanded.has(d.department)) { return id; }
    var dept = d.department ? deptId(d.department) : null;
    return dept && state.nodes[dept] ? dept : null;
  }

  function visibleElements() {
    var nodes = [];
    Object.keys(state.nodes).forEach(function (id) {
      if (rep(id) === id) { nodes.push({ group: "nodes", data: state.nodes[id] }); }
    });
    var merged = {};
    state.edges.forEach(function (e) {
      var a = rep(e.source), b = rep(e.target);
      if (!a || !b || a === b) { return; }
      var key = a < b ? a + "|" + b : b + "|" + a;
      if (!merged[key]) {
        merged[key] = { id: key, source: a < b ? a : b, target: a < b ? b : a, weight: 0, kinds: {} };
      }
      merged[key].weight += e.weight;
      Object.keys(e.kinds || {}).forEach(function (kind) {
        merged[key].kinds[kind] = (merged[key].kinds[kind] || 0) + e.kinds[kind];
      });
    });
    var peak = 1;
    Object.keys(merged).forEach(function (k) { peak = Math.max(peak, merged[k].weight); });
    var edges = Object.keys(merged).map(function (k) {
      var e = merged[k];
      // Width on a log scale from 1 to 12 px: the busiest link is the widest, a single interaction a hairline.
      e.w = Math.round((1 + 11 * Math.log(1 + e.weight) / Math.log(1 + peak)) * 10) / 10;
      e.kind = dominant(e.kinds);
      e.colour = kindColours[e.kind] || "#8d97aa";
      return { group: "edges", data: e };
    });
    return { nodes: nodes, edges: edges };
  }

  function dominant(kinds) {
    var best = "member", most = -1;
    Object.keys(kinds).forEach(function (kind) {
      // Membership only ties a person to their department: any real interaction names the link.
      var n = kind === "member" ? kinds[kind] * 0.001 : kinds[kind];
      if (n > most) { most = n; best = kind; }
    });
    return best;
  }

  // Communities as rings (departments in the middle, people around, grouped by department), packed in rows.
  function communityPositions(nodes) {
    var groups = {};
    nodes.forEach(function (n) {
      var c = n.data.community === undefined ? -1 : n.data.community;
      (groups[c] = groups[c] || []).push(n.data);
    });
    var list = Object.keys(groups).map(function (k) { return groups[k]; });
    list.sort(function (a, b) { return b.length - a.length; });
    var positions = {};
    var rings = list.map(function (members) {
      members.sort(function (a, b) {
        if (a.kind !== b.kind) { return a.kind === "department" ? -1 : 1; }
        return (a.department || "").localeCompare(b.department || "") || a.label.localeCompare(b.label);
      });
      var placed = [], radius = 0, index = 0;
      while (index < members.length) {
        // Department boxes are wider than people's dots: their rings are spaced wider and hold only them.
        var isDept = members[index].kind === "department";
        var gap = isDept ? DEPT_GAP : RING_GAP;
        var capacity = radius === 0 ? 1 : Math.max(6, Math.floor(2 * Math.PI * radius / gap));
        var slice = members.slice(index, index + capacity).filter(function (d) {
          return (d.kind === "department") === isDept;
        });
        slice.forEach(function (d, i) {
          var angle = 2 * Math.PI * i / slice.length;
          placed.push({ id: d.id, x: radius * Math.cos(angle), y: radius * Math.sin(angle) });
        });
        index += slice.length;
        if (index < members.length) { radius += radius === 0 ? DEPT_GAP : gap; }
      }
      return { placed: placed, radius: radius + 30 };
    });
    var area = rings.reduce(function (s, r) { return s + 4 * r.radius * r.radius; }, 0);
    var rowWidth = Math.max(600, Math.sqrt(area) * 1.3);
    var x = 0, y = 0, rowHeight = 0;
    rings.forEach(function (ring) {
      var size = 2 * ring.radius;
      if (x > 0 && x + size > rowWidth) { x = 0; y += rowHeight; rowHeight = 0; }
      ring.placed.forEach(function (p) { positions[p.id] = { x: x + ring.radius + p.x, y: y + ring.radius + p.y }; });
      x += size;
      rowHeight = Math.max(rowHeight, size);
    });
    return positions;
  }

  function layoutFor(elements) {
    if (elements.nodes.length <= COSE_LIMIT && typeof cytoscapeFcose !== "undefined") {
      return { name: "fcose", animate: false, randomize: true, quality: "default", nodeDimensionsIncludeLabels: true,
               idealEdgeLength: function () { return 90; }, nodeRepulsion: function () { return 12000; },
               nodeSeparation: 60, packComponents: true, fit: true, padding: 30 };
    }
    if (elements.nodes.length <= COSE_LIMIT) {
      return { name: "cose", nodeDimensionsIncludeLabels: true, animate: false, randomize: true, idealEdgeLength: function () { return 60; },
               nodeRepulsion: function () { return 9000; }, edgeElasticity: function () { return 80; },
               gravity: 0.3, numIter: 600, componentSpacing: 60, nodeOverlap: 8, fit: true, padding: 20 };
    }
    var positions = communityPositions(elements.nodes);
    return { name: "preset", positions: function (node) { return positions[node.id()]; }, fit: true, padding: 20 };
  }

  function nextFrame() {
    return new Promise(function (resolve) { requestAnimationFrame(function () { requestAnimationFrame(resolve); }); });
  }

  // Rebuild the graph on screen; resolves to the milliseconds it took (elements, layout and first paint).
  function render() {
    var started = performance.now();
    var elements = visibleElements();
    cy.batch(function () {
      cy.elements().remove();
      cy.add(elements.nodes);
      cy.add(elements.edges);
      state.expanded.forEach(function (key) { cy.getElementById(deptId(key)).addClass("expanded"); });
    });
    cy.layout(layoutFor(elements)).run();
    return nextFrame().then(function () {
      var ms = Math.round(performance.now() - started);
      root.setAttribute("data-rendered-nodes", String(elements.nodes.length));
      root.setAttribute("data-render-ms", String(ms));
      setStatus(msg("status").replace("{nodes}", elements.nodes.length)
        .replace("{edges}", elements.edges.length).replace("{ms}", ms));
      return ms;
    });
  }

  function showDetails(id) {
    var d = state.nodes[id];
    if (!d || !details) { return; }
    details.textContent = "";
    var title = document.createElement("h3");
    title.textContent = d.label;
    details.appendChild(title);
    var facts = document.createElement("p");
    facts.className = "muted";
    var bits = [d.kind === "department" ? "" : d.department_name, (words.betweenness || "") + " " + d.betweenness];
    if (d.kind === "department") {
      var people = Object.keys(state.nodes).filter(function (k) {
        return state.nodes[k].kind === "person" && state.nodes[k].department === d.department;
      }).length;
      bits.unshift(people + " " + msg("people"));
    }
    facts.textContent = bits.filter(Boolean).join(" · ");
    details.appendChild(facts);
    var heading = document.createElement("h4");
    heading.textContent = msg("links");
    details.appendChild(heading);
    var list = document.createElement("ul");
    (state.byNode[id] || []).slice().sort(function (a, b) { return b.weight - a.weight; }).slice(0, 10)
      .forEach(function (e) {
        var other = state.nodes[e.source === id ? e.target : e.source];
        var item = document.createElement("li");
        var kinds = Object.keys(e.kinds || {}).map(function (k) {
          return (words["kind_" + k] || k) + " " + e.kinds[k];
        }).join(", ");
        item.textContent = (other ? other.label : "?") + " — " + e.weight + (kinds ? " (" + kinds + ")" : "");
        list.appendChild(item);
      });
    details.appendChild(list);
  }

  function focusNode(id) {
    var node = cy.getElementById(rep(id));
    if (node.empty()) { return; }
    cy.elements().removeClass("focus faded");
    var hood = node.closedNeighborhood();
    cy.elements().not(hood).addClass("faded");
    node.addClass("focus");
    fitTo(hood);
    showDetails(id);
  }

  // Fit with room around, never closer than a readable zoom: a lone node must not fill the screen.
  function fitTo(eles) {
    var level = Math.min(1.4, MAX_ZOOM);
    cy.stop();
    cy.fit(eles, 60);
    if (cy.zoom() > level) {
      cy.zoom(level);
      cy.center(eles);
    }
  }

  function toggle(key) {
    if (state.expanded.has(key)) { state.expanded.delete(key); } else { state.expanded.add(key); }
    return render();
  }

  cy.on("tap", "node", function (event) {
    var d = event.target.data();
    if (d.kind === "department" && !state.all) {
      toggle(d.department).then(function () { focusNode(d.id); });
    } else {
      focusNode(d.id);
    }
  });
  cy.on("tap", function (event) {
    if (event.target === cy) { cy.elements().removeClass("focus faded"); }
  });

  function find(text) {
    var wanted = text.trim().toLowerCase();
    if (!wanted) { return null; }
    var ids = Object.keys(state.nodes);
    return ids.find(function (id) { return state.nodes[id].label.toLowerCase() === wanted; }) ||
      ids.find(function (id) { return state.nodes[id].label.toLowerCase().indexOf(wanted) >= 0; }) || null;
  }

  document.getElementById("explorer-search").addEventListener("submit", function (event) {
    event.preventDefault();
    var id = find(document.getElementById("explorer-q").value);
    if (!id) { setStatus(msg("none")); return; }
    var d = state.nodes[id];
    var ready = d.kind === "person" && rep(id) !== id ? toggle(d.department) : Promise.resolve();
    ready.then(function () { focusNode(id); });
  });

  document.getElementById("explorer-path").addEventListener("submit", function (event) {
    event.preventDefault();
    var url = new URL(root.getAttribute("data-path-url"), window.location.href);
    url.searchParams.set("a", document.getElementById("path-a").value);
    url.searchParams.set("b", document.getElementById("path-b").value);
    fetchJson(url.toString()).then(function (found) {
      if (!found.path) { pathResult.textContent = msg("nopath") + " " + (found.message || ""); return null; }
      found.path.forEach(function (step) {
        var d = state.nodes[step.id];
        if (d && d.kind === "person" && rep(step.id) !== step.id) { state.expanded.add(d.department); }
      });
      return render().then(function () {
        cy.elements().removeClass("on-path focus faded");
        var onPath = cy.collection();
        found.path.forEach(function (step, i) {
          var node = cy.getElementById(rep(step.id) || "");
          onPath = onPath.union(node.addClass("on-path"));
          if (i > 0) {
            var previous = cy.getElementById(rep(found.path[i - 1].id) || "");
            onPath = onPath.union(node.edgesWith(previous).addClass("on-path"));
          }
        });
        cy.elements().not(onPath).addClass("faded");
        fitTo(onPath);
        root.setAttribute("data-path-shown", String(onPath.nodes().length));
        pathResult.textContent = found.path.map(function (s) { return s.label; }).join(" → ");
      });
    }).catch(function (error) { pathResult.textContent = String(error.message || error); });
  });

  document.getElementById("expand-all").addEventListener("click", function () { state.all = true; render(); });
  document.getElementById("collapse-all").addEventListener("click", function () {
    state.all = false;
    state.expanded.clear();
    render();
  });

  function fetchJson(url) {
    return fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) { throw new Error(body.message || body.error || response.statusText); }
          return body;
        });
      });
  }

  // For tests and benchmarks: draw any elements JSON with everyone shown; resolves to milliseconds.
  window.huitongExplorer = {
    show: function (data, everyone) {
      setData(data);
      state.all = Boolean(everyone);
      state.expanded.clear();
      return render();
    },
    expand: toggle,
    cy: cy
  };

  setStatus(msg("loading"));
  fetchJson(root.getAttribute("data-url")).then(function (data) {
    setData(data);
    var params = new URL(window.location.href).searchParams;
    if (params.get("department")) { state.expanded.add(params.get("department")); }
    return render();
  }).then(function () {
    root.setAttribute("data-ready", "true");
  }).catch(function (error) {
    setStatus(msg("failed") + " " + (error.message || error));
  });
}());
