"""Who works with whom: departments and people linked by shared documents, workflow handoffs,
co-assigned runs and comments, weighted by how often; with bridging people (betweenness
centrality), communities, and the shortest path between two departments. Output is Cytoscape.js
elements JSON.

Edge weights are interaction counts; for paths and betweenness an edge's length is 1 / weight, so
people who work together a lot are close.
"""

from __future__ import annotations

from collections import Counter
from itertools import combinations, pairwise
from typing import Any

import networkx as nx
import numpy as np

from graph.analytics.bottlenecks import groups, handoffs, tables_for
from graph.analytics.tasks import TaskTable, concat, directory, person_label
from graph.queries import analytics as q
from graph.store import GraphStore

FAR_FUTURE = 10**15
# Betweenness runs on the graph's backbone: every node keeps its BACKBONE strongest ties. Shortest
# paths (length 1 / weight) run along strong ties, so weak ones barely change the result, and dense
# co-assignment cliques (hundreds of people sharing runs) stop costing seconds. Above the budget of
# nodes x edges Dijkstra steps it is estimated from a seeded sample of sources (``betweenness_sources``).
BACKBONE = 12
BETWEENNESS_BUDGET = 500_000
MIN_SOURCES = 32
BRIDGES = 10


def _dept(department_id: str) -> str:
    return f"dept:{department_id}"


def _person(person_id: str) -> str:
    return f"person:{person_id}"


def _within(table: TaskTable, since: int, until: int) -> np.ndarray:
    return np.flatnonzero(~table.cancelled & (table.created >= since) & (table.created < until))


def _subset(table: TaskTable, idx: np.ndarray) -> TaskTable:
    data = {k: (v[idx] if isinstance(v, np.ndarray) else v) for k, v in table.__dict__.items()}
    return TaskTable(**data)


def build_graph(store: GraphStore, *, since: int = 0, until: int = FAR_FUTURE, workflow: str | None = None,
                department: str | None = None) -> nx.Graph:
    """The weighted collaboration graph (nodes ``dept:<department id>`` and ``person:<id>``)."""
    people_dir = directory(store)
    graph = nx.Graph()
    counts: Counter[tuple[str, str, str]] = Counter()
    names: dict[str, tuple[str, str | None]] = {}

    def person_node(person_id: str, name: str, dept: str | None) -> str:
        node = _person(person_id)
        if node not in names or names[node][1] is None:
            names[node] = (name, dept)
        return node

    tables = [_subset(t, _within(t, since, until)) for t in tables_for(store, workflow)]
    table = concat(tables) if tables else None
    if table is not None and len(table):
        for edge in handoffs(table)["edges"]:
            counts[(_dept(edge["from_id"]), _dept(edge["to_id"]), "handoffs")] += edge["count"]
        home: dict[int, str | None] = {}
        for code, idx in groups(table.person):
            dept_codes = table.department[idx][table.department[idx] >= 0]
            home[code] = table.departments[int(np.bincount(dept_codes).argmax())] if dept_codes.size else None
        for _, idx in groups(table.run):
            members = sorted({int(c) for c in table.person[idx] if c >= 0})
            nodes = []
            for code in members:
                name, person_id = person_label(table.people[code])
                nodes.append(person_node(person_id, name, people_dir.person_department.get(person_id, home[code])))
            for a, b in combinations(nodes, 2):
                counts[(a, b, "co_assigned")] += 1
    for row in store.run(q.SHARED_DOCUMENT_LINKS, {"since": since, "until": until}):
        source, target = row["source_id"], row["target_id"]
        if source in people_dir.department_name and target in people_dir.department_name and source != target:
            counts[(_dept(source), _dept(target), "shared_documents")] += row["documents"]
    for row in store.run(q.COMMENT_LINKS, {"since": since, "until": until, "workflow_key": workflow}):
        a = person_node(row["author_id"], people_dir.person_name.get(row["author_id"]) or row["author_id"],
                        people_dir.person_department.get(row["author_id"]))
        b = person_node(row["person_id"], people_dir.person_name.get(row["person_id"]) or row["person_id"],
                        people_dir.person_department.get(row["person_id"]))
        counts[(a, b, "comments")] += row["comments"]
    label = people_dir.label
    for node, (name, dept) in names.items():
        graph.add_node(node, kind="person", label=name, department=dept, department_name=label(dept))
        if dept:
            graph.add_node(_dept(dept), kind="department", label=label(dept), department=dept,
                           department_name=label(dept))
            counts[(node, _dept(dept), "member")] += 1
    for (a, b, kind), n in counts.items():
        for node in (a, b):
            if node not in graph:
                key = node.split(":", 1)[1]
                graph.add_node(node, kind="department", label=label(key), department=key, department_name=label(key))
        if graph.has_edge(a, b):
            data = graph.edges[a, b]
            data["weight"] += n
            data["kinds"][kind] = data["kinds"].get(kind, 0) + n
        else:
            graph.add_edge(a, b, weight=n, kinds={kind: n})
    for _, _, data in graph.edges(data=True):
        data["distance"] = 1.0 / data["weight"]
    if department:
        graph = _around(graph, department)
    return graph


def _around(graph: nx.Graph, department: str) -> nx.Graph:  # department: an id
    """The department, its people and everything one step from them."""
    core = {n for n, d in graph.nodes(data=True) if d.get("department") == department}
    keep = set(core)
    for node in core:
        keep.update(graph.neighbors(node))
    return graph.subgraph(keep).copy()


def backbone(graph: nx.Graph, keep: int = BACKBONE) -> nx.Graph:
    """The graph with, for every node, only its ``keep`` strongest edges (an edge stays if either end keeps it)."""
    chosen: set[tuple[str, str]] = set()
    for node in graph.nodes:
        ranked = sorted(graph[node].items(), key=lambda item: (-item[1]["weight"], item[0]))[:keep]
        chosen.update((min(node, other), max(node, other)) for other, _ in ranked)
    core = nx.Graph()
    core.add_nodes_from(graph.nodes)
    core.add_edges_from((a, b, {"distance": graph.edges[a, b]["distance"]}) for a, b in chosen)
    return core


def analyse(graph: nx.Graph) -> dict[str, Any]:
    """Betweenness, communities and the Cytoscape.js elements of ``graph``."""
    if graph.number_of_nodes() == 0:
        return {"elements": {"nodes": [], "edges": []}, "bridges": [], "communities": [], "betweenness_sources": 0}
    core = backbone(graph)
    nodes_n, edges_n = core.number_of_nodes(), max(core.number_of_edges(), 1)
    sample = None if nodes_n * edges_n <= BETWEENNESS_BUDGET else min(nodes_n, max(MIN_SOURCES,
                                                                                   BETWEENNESS_BUDGET // edges_n))
    centrality = nx.betweenness_centrality(core, k=sample, weight="distance", normalized=True, seed=7)
    communities = sorted((sorted(c) for c in nx.community.louvain_communities(graph, weight="weight", seed=7)),
                         key=lambda c: (-len(c), c[0]))
    community_of = {node: i for i, members in enumerate(communities) for node in members}
    nodes = [{"data": {"id": node, "label": data["label"], "kind": data["kind"], "department": data["department"],
                       "department_name": data.get("department_name") or "",
                       "betweenness": round(centrality[node], 5), "community": community_of[node],
                       "degree": graph.degree(node, weight="weight")}}
             for node, data in sorted(graph.nodes(data=True))]
    edges = [{"data": {"id": f"{a}|{b}", "source": a, "target": b, "weight": data["weight"],
                       "kinds": dict(sorted(data["kinds"].items()))}}
             for a, b, data in sorted(graph.edges(data=True), key=lambda e: (e[0], e[1]))]
    bridges = sorted((n["data"] for n in nodes if n["data"]["kind"] == "person" and n["data"]["betweenness"] > 0),
                     key=lambda d: -d["betweenness"])[:BRIDGES]
    return {"elements": {"nodes": nodes, "edges": edges},
            "bridges": [{"id": b["id"], "label": b["label"], "department_id": b["department"],
                         "department": b["department_name"], "betweenness": b["betweenness"]} for b in bridges],
            "communities": [[graph.nodes[n]["label"] for n in c] for c in communities],
            "betweenness_sources": sample or nodes_n}


def collaboration(store: GraphStore, *, since: int = 0, until: int = FAR_FUTURE, workflow: str | None = None,
                  department: str | None = None) -> dict[str, Any]:
    """The collaboration graph with its analysis, filtered by time range, workflow and department."""
    result = analyse(build_graph(store, since=since, until=until, workflow=workflow, department=department))
    result["filters"] = {"since": since, "until": until, "workflow": workflow, "department": department}
    return result


def department_path(store: GraphStore, source: str, target: str, *, since: int = 0, until: int = FAR_FUTURE,
                    workflow: str | None = None) -> dict[str, Any]:
    """The strongest chain of collaboration between two departments (ids), through people and departments.

    Without a path, ``reason`` is a code (``path.no_activity`` with the department, ``path.not_connected``)."""
    graph = build_graph(store, since=since, until=until, workflow=workflow)
    a, b = _dept(source), _dept(target)
    for node, key in ((a, source), (b, target)):
        if node not in graph:
            return {"source": source, "target": target, "path": None, "reason": "path.no_activity",
                    "params": {"department": directory(store).label(key)}}
    try:
        path = nx.shortest_path(graph, a, b, weight="distance")
    except nx.NetworkXNoPath:
        return {"source": source, "target": target, "path": None, "reason": "path.not_connected", "params": {}}
    steps = [{"id": n, "label": graph.nodes[n]["label"], "kind": graph.nodes[n]["kind"]} for n in path]
    links = [{"source": x, "target": y, "weight": graph.edges[x, y]["weight"], "kinds": graph.edges[x, y]["kinds"]}
             for x, y in pairwise(path)]
    return {"source": source, "target": target, "path": steps, "links": links,
            "length": round(sum(graph.edges[x, y]["distance"] for x, y in pairwise(path)), 4)}
