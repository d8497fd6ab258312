"""Reading the organisation for its administration: searches, one department/position/project or person,
the department tree and a person's memberships. Raises :class:`graph.org_checks.NotFound` for a missing id."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graph.org_checks import N_, STATUSES, NotFound, Problem
from graph.queries import org_admin as q
from graph.store import GraphStore, Row


def _kind(kind: str) -> q.CodedStatements:
    if kind not in q.CODED:
        raise ValueError(f"unknown kind {kind!r}")
    return q.CODED[kind]


# -- reading -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Page:
    """One page of a search: rows, total matches, page number (1-based) and size."""

    rows: list[Row]
    total: int
    page: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))


def _search_params(query: str, status: str, page: int, size: int) -> dict[str, Any]:
    return {"q": query.strip().lower(), "status": status if status in STATUSES else "active",
            "skip": (max(page, 1) - 1) * size, "limit": size}


def search(store: GraphStore, kind: str, query: str = "", *, status: str = "active", page: int = 1,
           size: int = 20) -> Page:
    """Departments, positions or projects whose code or names contain ``query`` (case-insensitive)."""
    statements = _kind(kind)
    params = _search_params(query, status, page, size)
    rows = store.run(statements.search, params)
    total = store.run(statements.count, {"q": params["q"], "status": params["status"]})[0]["total"]
    return Page(rows, total, max(page, 1), size)


def search_people(store: GraphStore, query: str = "", *, status: str = "active", page: int = 1,
                  size: int = 20) -> Page:
    params = _search_params(query, status, page, size)
    rows = store.run(q.PEOPLE_SEARCH, params)
    total = store.run(q.PEOPLE_COUNT, {"q": params["q"], "status": params["status"]})[0]["total"]
    return Page(rows, total, max(page, 1), size)


def get(store: GraphStore, kind: str, entity_id: str) -> Row:
    rows = store.run(_kind(kind).get, {"id": entity_id})
    if not rows:
        raise NotFound(Problem(N_("No such %(kind)s."), {"kind": kind}))
    return rows[0]


def by_code(store: GraphStore, kind: str, code: str) -> Row | None:
    rows = store.run(_kind(kind).by_code, {"code": code})
    return rows[0] if rows else None


@dataclass
class DeptNode:
    """A department in the tree, with its children (sorted by code)."""

    row: Row
    children: list[DeptNode] = field(default_factory=list)
    depth: int = 0


def department_tree(store: GraphStore) -> tuple[list[DeptNode], dict[str, DeptNode]]:
    """The roots of the department forest and every node by id."""
    rows = store.run(q.DEPARTMENT_TREE)
    nodes = {row["id"]: DeptNode(row) for row in rows}
    roots: list[DeptNode] = []
    for node in nodes.values():  # rows come sorted by code, so children lists are sorted too
        parent = nodes.get(node.row["parent_id"] or "")
        (parent.children if parent else roots).append(node)

    def set_depth(node: DeptNode, depth: int) -> None:
        node.depth = depth
        for child in node.children:
            set_depth(child, depth + 1)

    for root in roots:
        set_depth(root, 0)
    return roots, nodes


def department_path(nodes: Mapping[str, DeptNode], department_id: str) -> list[Row]:
    """The department and its ancestors, root first."""
    path: list[Row] = []
    seen: set[str] = set()
    current = nodes.get(department_id)
    while current is not None and current.row["id"] not in seen:
        seen.add(current.row["id"])
        path.append(current.row)
        current = nodes.get(current.row["parent_id"] or "")
    return path[::-1]


def get_person(store: GraphStore, person_id: str) -> Row:
    rows = store.run(q.PERSON_GET, {"id": person_id})
    if not rows:
        raise NotFound(Problem(N_("No such person.")))
    return rows[0]


def memberships(store: GraphStore, person_id: str) -> list[Row]:
    """The person's departments, headships, positions and projects, each with its ``kind``."""
    kinds = {(rel, label): kind for kind, (rel, label) in q.MEMBERSHIP_KINDS.items()}
    rows = store.run(q.PERSON_MEMBERSHIPS, {"id": person_id})
    return [{**row, "kind": kinds[(row["rel"], row["label"])]} for row in rows
            if (row["rel"], row["label"]) in kinds]
