"""Copies of a document kept by other owners: linking them, and showing them without revealing anything.

The signatures and the similarity are computed in ``ingest/dedupe.py`` (it has the text); this module
writes the links and answers the questions. A viewer is told "also kept by 财务部, 人力资源部" only
for copies they may read; the others are a count, with no title, owner or department.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from graph import permissions
from graph.actor import Actor
from graph.errors import ObjectMissing
from graph.queries import duplicates as q
from graph.store import GraphStore

BATCH = 1000


@dataclass(frozen=True)
class Pair:
    """Two documents of different owners holding the same content (``kind`` exact or near)."""

    a: str
    b: str
    kind: str
    similarity: float

    @classmethod
    def of(cls, one: str, other: str, kind: str, similarity: float) -> Pair:
        first, second = sorted((one, other))
        return cls(first, second, kind, round(float(similarity), 4))


def relink(store: GraphStore, documents: Sequence[str], pairs: Iterable[Pair]) -> int:
    """Replace the duplicate links of ``documents`` by ``pairs`` (a document whose content changed loses
    its old links first), in one statement per batch. Returns the number of links written."""
    ids = sorted(set(documents))
    rows = [{"a": p.a, "b": p.b, "kind": p.kind, "similarity": p.similarity}
            for p in {(p.a, p.b): p for p in pairs}.values()]
    linked, now = 0, int(time.time() * 1000)
    for start in range(0, max(len(ids), 1), BATCH):
        batch = ids[start:start + BATCH]
        mine = [r for r in rows if r["a"] in batch or r["b"] in batch] if len(ids) > BATCH else rows
        found = store.run(q.RELINK, {"ids": batch, "pairs": mine, "now": now})
        linked += int(found[0]["linked"]) if found else 0
    return linked


def copies(store: GraphStore, actor: Actor, document_id: str) -> dict[str, Any]:
    """The copies of a document the actor may read, "also kept by" their owners' departments, and how many
    others exist. The document itself must be readable (else: missing)."""
    if not permissions.can_read(store, actor.person_id, document_id).allowed:
        raise ObjectMissing("document.missing", id=document_id)
    rows = store.run(q.COPIES, {"id": document_id})
    readable = actor.memo(("readable_documents",),
                          lambda: permissions.readable_document_ids(store, actor.person_id))
    shown = [{"id": r["id"], "title": r["title"], "kind": r["kind"], "similarity": r["similarity"],
              "owner_name": r["owner_name"], "departments": sorted(set(r["departments"]))}
             for r in rows if r["id"] in readable]
    departments = sorted({d for copy in shown for d in copy["departments"]})
    return {"copies": shown, "kept_by": departments, "hidden": len(rows) - len(shown)}


def pairs_among(store: GraphStore, document_ids: Sequence[str]) -> list[dict[str, Any]]:
    """Duplicate links touching ``document_ids`` (for a bulk ingestion summary: counts, never shown to others)."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    ids = sorted(set(document_ids))
    for start in range(0, len(ids), BATCH):
        for row in store.run(q.PAIRS_OF, {"ids": ids[start:start + BATCH]}):
            key = tuple(sorted((row["id"], row["other_id"])))
            found[key] = {"a": key[0], "b": key[1], "kind": row["kind"], "similarity": row["similarity"]}
    return list(found.values())


def department_report(store: GraphStore, actor: Actor) -> dict[str, Any]:
    """How much is kept twice, by which departments (managers and administrators; counts only, no titles)."""
    if not actor.is_manager:
        raise ObjectMissing("page.missing")
    table: dict[tuple[str, str], dict[str, Any]] = defaultdict(lambda: {"exact": 0, "near": 0, "bytes": 0})
    for row in store.run(q.BY_DEPARTMENTS):
        first, second = sorted((row["first"] or "", row["second"] or ""))
        cell = table[(first, second)]
        cell[row["kind"] if row["kind"] in ("exact", "near") else "near"] += int(row["pairs"])
        cell["bytes"] += int(row["bytes"] or 0)
    rows = [{"departments": [d for d in key if d] or [""], "same_department": key[0] == key[1], **cell}
            for key, cell in table.items()]
    rows.sort(key=lambda r: (-(r["exact"] + r["near"]), r["departments"]))
    return {"rows": rows, "pairs": sum(r["exact"] + r["near"] for r in rows),
            "bytes": sum(r["bytes"] for r in rows)}


def job_summary(store: GraphStore, job_id: str) -> dict[str, int]:
    """How many of a bulk ingestion job's documents have copies kept by other owners, and how many pairs."""
    rows = store.run(q.JOB_PAIRS, {"job_id": job_id})
    pairs = {(frozenset((r["id"], r["other_id"])), r["kind"]) for r in rows}
    return {"documents": len({r["id"] for r in rows}), "exact_pairs": sum(k == "exact" for _, k in pairs),
            "near_pairs": sum(k == "near" for _, k in pairs)}
