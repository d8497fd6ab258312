"""What a manager may see of the analytics: the departments they head and everything below them.

Administrators see everything. A manager sees, for the departments they head (or, heading none,
the departments they belong to) and all their sub-departments: department and person figures,
people in the collaboration graph, trend warnings about those departments. Workflow and step
figures describe the process as a whole, name nobody, and are shown to every manager. People of
other departments never reach a manager's browser: in the collaboration graph they are folded
into their department's node, and in paths they are replaced by it.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from graph.actor import Actor
from graph.analytics.tasks import directory
from graph.queries import org_admin
from graph.store import GraphStore


@dataclass(frozen=True)
class Scope:
    """Department ids the viewer may look into (``None``: all of them) and the names of the units that grant it.

    Keyed by id: department names are not unique, and a head of one "综合科" sees nothing of another."""

    departments: frozenset[str] | None
    units: tuple[str, ...] = ()

    @property
    def everything(self) -> bool:
        return self.departments is None

    def allows(self, department: str | None) -> bool:
        return self.departments is None or (department is not None and department in self.departments)


def scope_for(store: GraphStore, actor: Actor) -> Scope:
    """What of the analytics this actor may see (decided once per request: memoised on the actor)."""
    return actor.memo(("analytics.scope",), lambda: _scope(store, actor))


def _scope(store: GraphStore, actor: Actor) -> Scope:
    if actor.is_admin:
        return Scope(None)
    memberships = [m for m in store.run(org_admin.PERSON_MEMBERSHIPS, {"id": actor.person_id})
                   if m["label"] == "Department"]
    roots = [m for m in memberships if m["rel"] == "HEADS"] or [m for m in memberships if m["rel"] == "MEMBER_OF"]
    ids: set[str] = set()
    for root in roots:
        ids.update(row["id"] for row in store.run(org_admin.DEPARTMENT_SUBTREE, {"id": root["id"]}))
    return Scope(frozenset(ids), tuple(sorted(r["name"] for r in roots)))


# -- bottleneck report -------------------------------------------------------------------------------


def report(data: dict[str, Any], scope: Scope) -> dict[str, Any]:
    if scope.everything:
        return data
    return {**data, "departments": [r for r in data["departments"] if scope.allows(r["department_id"])],
            "people": [r for r in data["people"] if scope.allows(r["department_id"])],
            "handoffs": handoffs(data["handoffs"], scope)}


def handoffs(matrix: dict[str, Any], scope: Scope) -> dict[str, Any]:
    """Only pairs with at least one end in scope; departments that take part in none are dropped."""
    names, ids = matrix["departments"], matrix["department_ids"]

    def seen(i: int, j: int) -> bool:
        return scope.allows(ids[i]) or scope.allows(ids[j])

    counts = [[c if seen(i, j) else 0 for j, c in enumerate(row)] for i, row in enumerate(matrix["counts"])]
    delays = [[d if seen(i, j) else None for j, d in enumerate(row)] for i, row in enumerate(matrix["median_delay_s"])]
    keep = [i for i in range(len(names)) if any(counts[i][j] or counts[j][i] for j in range(len(names)))]
    return {"departments": [names[i] for i in keep], "department_ids": [ids[i] for i in keep],
            "counts": [[counts[i][j] for j in keep] for i in keep],
            "median_delay_s": [[delays[i][j] for j in keep] for i in keep],
            "edges": [e for e in matrix["edges"] if scope.allows(e["from_id"]) or scope.allows(e["to_id"])]}


def warnings(items: list[dict[str, Any]], scope: Scope) -> list[dict[str, Any]]:
    return [w for w in items if "department_id" not in w or scope.allows(w["department_id"])]


# -- collaboration graph -----------------------------------------------------------------------------


def _dept_node(department_id: str) -> str:
    return f"dept:{department_id}"


def collaboration(data: dict[str, Any], scope: Scope) -> dict[str, Any]:
    """People out of scope folded into their department's node (edges merged, weights summed)."""
    if scope.everything:
        return data
    nodes: dict[str, dict[str, Any]] = {}
    target: dict[str, str | None] = {}
    labels_of = {n["data"]["department"]: n["data"].get("department_name") or n["data"]["department"]
                 for n in data["elements"]["nodes"] if n["data"]["department"]}
    for node in data["elements"]["nodes"]:
        info = node["data"]
        if info["kind"] == "department" or scope.allows(info["department"]):
            nodes[info["id"]] = node
            target[info["id"]] = info["id"]
        else:
            target[info["id"]] = _dept_node(info["department"]) if info["department"] else None
    for node_id in {t for t in target.values() if t and t not in nodes}:
        department = node_id.split(":", 1)[1]
        name = labels_of.get(department, department)
        nodes[node_id] = {"data": {"id": node_id, "label": name, "kind": "department", "department": department,
                                   "department_name": name, "betweenness": 0.0, "community": -1, "degree": 0}}
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for edge in data["elements"]["edges"]:
        info = edge["data"]
        a, b = target.get(info["source"]), target.get(info["target"])
        if not a or not b or a == b:
            continue
        key = (min(a, b), max(a, b))
        into = merged.setdefault(key, {"id": f"{key[0]}|{key[1]}", "source": key[0], "target": key[1], "weight": 0,
                                       "kinds": {}})
        into["weight"] += info["weight"]
        for kind, n in info["kinds"].items():
            into["kinds"][kind] = into["kinds"].get(kind, 0) + n
    visible = set(nodes)
    labels = {n["data"]["label"] for n in nodes.values()}
    return {
        **data,
        "elements": {"nodes": [nodes[k] for k in sorted(nodes)],
                     "edges": [{"data": merged[k]} for k in sorted(merged)]},
        "bridges": [b for b in data["bridges"] if b["id"] in visible],
        "communities": [c for c in ([m for m in members if m in labels] for members in data["communities"]) if c],
    }


def path(store: GraphStore, found: dict[str, Any], scope: Scope) -> dict[str, Any]:
    """A department path with people out of scope replaced by their department (repeats collapsed)."""
    if scope.everything or not found.get("path"):
        return found
    people_dir = directory(store)
    people = people_dir.person_department
    steps: list[dict[str, Any]] = []
    for step in found["path"]:
        if step["kind"] == "person":
            person_id = step["id"].split(":", 1)[1]
            department = people.get(person_id)
            if not scope.allows(department):
                step = {"id": _dept_node(department or "?"), "label": people_dir.label(department) or "?",
                        "kind": "department"}
        if not steps or steps[-1]["id"] != step["id"]:
            steps.append(step)
    links = [{"source": a["id"], "target": b["id"]} for a, b in pairwise(steps)]
    return {**found, "path": steps, "links": links}
