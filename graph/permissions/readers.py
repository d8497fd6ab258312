"""Who can read a document (each reader with the path that lets them) and who would gain access by a share."""

from __future__ import annotations

from dataclasses import dataclass

from graph.classification import (
    AccessLevel,
    ShareKind,
    effective_level,
    parse_share_access,
    share_counts,
)
from graph.permissions.policy import (
    _RANK,
    Access,
    Mode,
    NotFound,
    PathStep,
    _best,
    _parse_kind,
    _require_target,
    _steps,
)
from graph.queries import permissions as q
from graph.store import GraphStore, Row


@dataclass(frozen=True, slots=True)
class Reader:
    person_id: str
    name: str | None
    access: Access
    can_edit: bool


@dataclass(frozen=True, slots=True)
class ReadersPage:
    document_id: str
    total: int
    page: int
    per_page: int
    readers: list[Reader]


def _readers(store: GraphStore, document: Row) -> dict[str, Reader]:
    """Readers by every rule but "public" (see :func:`who_can_read`), each with their best path."""
    rows = store.run(q.READERS, {"document_id": document["id"]})
    by_person: dict[str, list[Row]] = {}
    for row in rows:
        by_person.setdefault(row["person_id"], []).append(row)
    readers = {}
    for person_id, mine in by_person.items():
        best = _best(mine)
        assert best is not None
        # Reader rows leave a direct person -> document path empty (see the query).
        path = _steps(best["steps"]) or _direct(document, person_id, best["person_name"])
        access = Access(True, best["kind"], path, Mode.READ, best["level"], best["share_access"])
        readers[person_id] = Reader(person_id, best["person_name"], access, any(r["edit"] for r in mine))
    return readers


def _direct(document: Row, person_id: str, name: str | None) -> list[PathStep]:
    return [PathStep("Person", person_id, name, None, True), PathStep("Document", document["id"], document["title"])]


def _is_public(document: Row) -> bool:
    return effective_level(document["level"]) is AccessLevel.PUBLIC


def _by_name(reader: Reader) -> tuple[bool, str, str]:
    # The order of Cypher's ORDER BY p.name, p.id: nulls last.
    return reader.name is None, reader.name or "", reader.person_id


def _require_document(store: GraphStore, document_id: str) -> Row:
    rows = store.run(q.DOCUMENT_GRANTS, {"ids": [document_id]})
    if not rows:
        raise NotFound(f"no document with id {document_id!r}")
    return rows[0]


def who_can_read(store: GraphStore, document_id: str, page: int = 1, per_page: int = 50) -> ReadersPage:
    """Every active person who may read the document, with the path that lets them, by name."""
    if page < 1 or not 1 <= per_page <= 1000:
        raise ValueError("page must be >= 1 and per_page between 1 and 1000")
    document = _require_document(store, document_id)
    readers = _readers(store, document)
    start = (page - 1) * per_page
    if not _is_public(document):
        ordered = sorted(readers.values(), key=_by_name)
        return ReadersPage(document_id, len(ordered), page, per_page, ordered[start:start + per_page])
    # Public: the page comes from the people themselves; a more specific path than "public" wins.
    total = store.run(q.ACTIVE_PEOPLE_COUNT)[0]["count"]
    rows = store.run(q.ACTIVE_PEOPLE_PAGE, {"skip": start, "limit": per_page})
    listed = []
    for row in rows:
        known = readers.get(row["person_id"])
        if known is None or _RANK[known.access.reason_kind] > _RANK["public"]:
            public = Access(True, "public", _direct(document, row["person_id"], row["person_name"]), Mode.READ,
                            document["level"])
            known = Reader(row["person_id"], row["person_name"], public, known is not None and known.can_edit)
        listed.append(known)
    return ReadersPage(document_id, total, page, per_page, listed)


@dataclass(frozen=True, slots=True)
class Person:
    id: str
    name: str | None


@dataclass(frozen=True, slots=True)
class SharePreview:
    """Who would gain access if the document were shared with the target."""

    counts: bool  # False when the document's level makes a share of this kind grant nothing
    gain_read: list[Person]
    gain_edit: list[Person]
    level: str | None


def share_preview(store: GraphStore, document_id: str, target_kind: ShareKind | str, target_id: str,
                  access: str = "read") -> SharePreview:
    kind, access = _parse_kind(target_kind), parse_share_access(access)
    document = _require_document(store, document_id)
    level = document["level"]
    _require_target(store, kind, target_id)
    if not share_counts(level, kind):
        return SharePreview(False, [], [], level)
    reached = {r["person_id"]: r["person_name"] for r in store.run(q.MEMBERS[kind], {"target_id": target_id})}
    current = _readers(store, document)
    readers = set(reached) if _is_public(document) else set(current)  # public: every active person reads

    def gained(has: set[str]) -> list[Person]:
        return sorted((Person(pid, name) for pid, name in reached.items() if pid not in has),
                      key=lambda p: (p.name or "", p.id))

    gain_edit = gained({pid for pid, r in current.items() if r.can_edit}) if access == "edit" else []
    return SharePreview(True, gained(readers), gain_edit, level)
