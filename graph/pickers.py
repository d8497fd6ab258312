"""What a picker offers: people, departments (with their place in the tree), positions and projects whose
name, English name, code or user name contains the typed text.

The organisation directory is open to every signed-in colleague (it is how they address each other), but
only its living part: deactivated people, closed departments and projects are never offered. The value a
picker puts into a form is what the form always took (a code, or a user name), so every door that
accepts codes keeps working unchanged.
"""

from __future__ import annotations

from typing import Any

from graph import department_moves, org
from graph.actor import Actor
from graph.errors import InvalidInput
from graph.queries import pickers as q
from graph.store import GraphStore

KINDS = {"person": q.PICK_PEOPLE, "department": q.PICK_DEPARTMENTS, "position": q.PICK_POSITIONS,
         "project": q.PICK_PROJECTS}
LIMIT = 20
MAX_TEXT = 60


def search(store: GraphStore, actor: Actor, kind: str, text: str, *, lang: str = "zh",
           limit: int = LIMIT) -> list[dict[str, Any]]:
    """Up to ``limit`` choices ``{value, label, hint}``; an unknown kind is refused (field ``kind``)."""
    statement = KINDS.get(kind)
    if statement is None:
        raise InvalidInput("picker.unknown_kind", field="kind", kind=str(kind)[:40])
    wanted = str(text or "").strip().lower()[:MAX_TEXT]
    rows = store.run(statement, {"q": wanted, "limit": max(1, min(int(limit), 50))})
    english = lang.startswith("en")
    choices = []
    for row in rows:
        label = (row["name_en"] if english and row["name_en"] else row["name"]) or row["value"]
        if kind == "department":
            path = row["path_en"] if english and all(row["path_en"]) and row["path_en"] else row["path"]
            hint = " / ".join(reversed([p for p in path if p]))
        else:
            hint = (row["hint_en"] if english and row["hint_en"] else row["hint"]) or ""
        choices.append({"value": row["value"], "label": label, "hint": hint})
    return choices


def department_tree(store: GraphStore, actor: Actor, text: str, *, lang: str = "zh",
                    exclude: str | None = None) -> list[dict[str, Any]]:
    """The tree picker's departments: with nothing typed, the whole active tree to browse (``children``
    nested); otherwise the matching departments, flat, each with its ``path`` (names, root first). Where a
    department is being moved (``exclude``, an id), it and its descendants are offered ``disabled``: a
    department cannot go under itself."""
    roots, nodes = org.department_tree(store)
    blocked = department_moves.subtree(nodes, exclude) if exclude else set()
    english = lang.startswith("en")

    def label(row: dict[str, Any]) -> str:
        return str((row.get("name_en") if english and row.get("name_en") else row.get("name")) or row["code"])

    def item(node: org.DeptNode, nested: bool) -> dict[str, Any]:
        above = org.department_path(nodes, node.row["id"])[:-1]
        children = [item(c, True) for c in node.children if c.row["active"]] if nested else []
        return {"value": node.row["code"], "label": label(node.row), "path": " / ".join(label(r) for r in above),
                "disabled": node.row["id"] in blocked, "children": children}

    wanted = str(text or "").strip().lower()[:MAX_TEXT]
    if not wanted:
        return [item(root, True) for root in roots if root.row["active"]]
    found = [n for n in nodes.values() if n.row["active"]
             and any(wanted in str(n.row.get(k) or "").lower() for k in ("code", "name", "name_en"))]
    found.sort(key=lambda n: (str(n.row["code"]).lower() != wanted, n.depth, label(n.row), n.row["code"]))
    return [item(n, False) for n in found[:LIMIT]]
