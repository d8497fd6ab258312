"""Listing the documents a person may read: one page filtered and sorted, counts per classification, the
department folders. The readable set (:func:`graph.permissions.readable_document_ids`) is the only source:
nothing the actor may not read is listed, counted or hinted at."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Literal

from graph import permissions
from graph.actor import Actor
from graph.errors import InvalidInput
from graph.queries import browse as q
from graph.queries import documents as dq
from graph.store import GraphStore, Row
from graph.usecases import Context

SORTS = tuple(q.SORTS)
SORT_COLUMNS = q.SORT_COLUMNS


def now_ms() -> int:
    return int(time.time() * 1000)


def uploader_id(ctx: Context, username: str) -> str | None:
    """The id of the person with this user name (a browse filter), looked up without touching any secret."""
    rows = ctx.store.run(dq.PERSON_REF_BY_USERNAME, {"username": username.strip().lower()})
    return rows[0]["id"] if rows and rows[0]["id"] else None


Scope = Literal["all", "mine", "department", "recent"]
RECENT_DAYS = 30


@dataclass(frozen=True)
class BrowseFilter:
    """What to list; None means "any". Times are epoch ms, ``until`` exclusive."""

    scope: Scope = "all"
    domain: str | None = None
    data_type: str | None = None
    access: str | None = None
    kind: str | None = None
    owner_id: str | None = None
    status: str | None = None
    text: str | None = None  # part of the title, case-insensitive
    department_id: str | None = None  # the department "folder": documents shared with it
    since: int | None = None
    until: int | None = None


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _candidate_ids(store: GraphStore, viewer_id: str, where: BrowseFilter) -> list[str]:
    """The readable documents, narrowed by the scopes that are sets of documents."""
    ids = permissions.readable_document_ids(store, viewer_id)
    department_ids: list[str] = []
    if where.scope == "department":
        department_ids = [r["id"] for r in store.run(q.MY_DEPARTMENTS, {"person_id": viewer_id})]
        ids &= _shared_with(store, department_ids)
    if where.department_id:
        ids &= _shared_with(store, [where.department_id])
    return sorted(ids)


def _shared_with(store: GraphStore, department_ids: list[str]) -> set[str]:
    if not department_ids:
        return set()
    return {r["id"] for r in store.run(q.SHARED_WITH_DEPARTMENTS, {"department_ids": department_ids})}


def _filter_params(viewer_id: str, where: BrowseFilter, ids: list[str]) -> dict[str, Any]:
    since = where.since or 0
    if where.scope == "recent" and where.since is None:
        since = now_ms() - RECENT_DAYS * 24 * 3600 * 1000
    owner = viewer_id if where.scope == "mine" else where.owner_id
    text = where.text.strip().lower() if where.text and where.text.strip() else None
    return {"ids": ids, "since": since, "until": where.until if where.until is not None else 2**53,
            "domain": where.domain or None, "data_type": where.data_type or None, "access": where.access or None,
            "kind": where.kind or None, "owner_id": owner or None, "status": where.status or None, "text": text}


def browse(ctx: Context, actor: Actor, where: BrowseFilter | None = None, *, sort: str = "updated",
           page: int = 1, per_page: int = 20) -> Page:
    """One page of the documents the actor may read, filtered and sorted (``SORTS`` keys)."""
    store, viewer_id = ctx.store, actor.person_id
    where = where or BrowseFilter()
    if sort not in q.SORTS:
        raise InvalidInput("browse.sort", field="sort", value=sort)
    if where.scope == "recent":
        sort = "updated"
    page, per_page = max(int(page), 1), min(max(int(per_page), 1), 200)
    params = _filter_params(viewer_id, where, _candidate_ids(store, viewer_id, where))
    total = store.run(q.COUNT["ids"], params)[0]["total"]
    rows = store.run(q.BROWSE[("ids", sort)], {**params, "skip": (page - 1) * per_page, "limit": per_page})
    return Page(rows, int(total), page, per_page)


def classification_tree(ctx: Context, actor: Actor, where: BrowseFilter | None = None) -> list[Row]:
    """Counts of readable documents as a tree: domain -> data type -> access level."""
    store, viewer_id = ctx.store, actor.person_id
    where = where or BrowseFilter()
    params = _filter_params(viewer_id, where, _candidate_ids(store, viewer_id, where))
    tree: dict[str, Row] = {}
    for row in store.run(q.CLASSIFICATION["ids"], params):
        domain = tree.setdefault(row["domain"], {"domain": row["domain"], "count": 0, "data_types": {}})
        domain["count"] += row["count"]
        data_type = domain["data_types"].setdefault(
            row["data_type"], {"data_type": row["data_type"], "count": 0, "levels": {}})
        data_type["count"] += row["count"]
        data_type["levels"][row["access"]] = row["count"]
    out = []
    for domain in tree.values():
        domain["data_types"] = list(domain["data_types"].values())
        out.append(domain)
    return sorted(out, key=lambda d: (-d["count"], d["domain"] or ""))


def department_folders(ctx: Context, actor: Actor) -> list[Row]:
    """Every department with the number of readable documents shared with it, as a tree (children nested)."""
    store, viewer_id = ctx.store, actor.person_id
    ids = sorted(permissions.readable_document_ids(store, viewer_id))
    params = _filter_params(viewer_id, BrowseFilter(), ids)
    counts = {r["department_id"]: r["count"] for r in store.run(q.FOLDER_COUNTS["ids"], params)}
    nodes = {r["id"]: {**r, "count": counts.get(r["id"], 0), "children": []} for r in store.run(q.DEPARTMENTS)}
    roots: list[Row] = []
    for node in nodes.values():
        parent = nodes.get(node["parent_id"])
        (parent["children"] if parent else roots).append(node)

    def total(node: Row) -> int:
        node["total"] = node["count"] + sum(total(child) for child in node["children"])
        return node["total"]

    for root in roots:
        total(root)
    return roots


def readable_among(ctx: Context, actor: Actor, document_ids: list[str]) -> list[str]:
    """Those of ``document_ids`` the actor may read (a listing's live stream watches only these)."""
    readable = permissions.readable_document_ids(ctx.store, actor.person_id) if document_ids else set()
    return [i for i in document_ids if i in readable]


def department_names(ctx: Context) -> list[Row]:
    """Every department (id, code, names): facet labels and folder names (organisation facts, no documents)."""
    return ctx.store.run(q.DEPARTMENTS)


def person_names(ctx: Context, person_ids: list[str]) -> dict[str, str]:
    """Display names of people by id (facet labels of uploaders)."""
    if not person_ids:
        return {}
    return {row["id"]: row["name"] or "" for row in ctx.store.run(q.PEOPLE_NAMES, {"ids": list(person_ids)})}
