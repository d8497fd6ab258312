"""Who may read or edit which document, answered as paths in the graph (policy: docs/permissions.md).

``check`` runs the one path query for a person and a document and turns its rows into an
:class:`Access` whose path explains the answer in Chinese or English. ``readable_document_ids``
answers "everything this person may read" from a per-process index of per-principal bitmaps that
follows the permission version kept in the graph, so it stays exact across processes.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
from pyroaring import BitMap

from graph.classification import (
    COUNTING_SHARES,
    AccessLevel,
    ClassificationError,
    ShareKind,
    effective_level,
    parse_level,
    parse_share_access,
    share_counts,
)
from graph.errors import GraphError
from graph.queries import permissions as q
from graph.store import GraphStore, Row


class AccessError(GraphError):
    """Base of the errors below."""


class NotFound(AccessError):
    """The person, document or share target does not exist."""


class Forbidden(AccessError):
    """The acting person may not make this change."""


class PolicyViolation(AccessError):
    """The change would contradict the access policy (e.g. sharing a secret document with a department)."""


class Mode(StrEnum):
    READ = "read"
    EDIT = "edit"


GRANTING_KINDS = ("owner", "person", "department", "project", "position", "public", "admin")
# The most specific explanation wins: a share naming you beats a department, an admin override comes last.
_RANK = {kind: rank for rank, kind in enumerate(GRANTING_KINDS)}


@dataclass(frozen=True, slots=True)
class PathStep:
    """One node on a justifying path (a person, department, project, position or the document)."""

    label: str
    id: str
    name: str | None = None
    name_en: str | None = None
    active: bool | None = None

    def display(self, lang: str = "zh") -> str:
        if lang == "en" and self.name_en:
            return self.name_en
        return self.name or self.name_en or self.id


@dataclass(frozen=True, slots=True)
class Access:
    """The answer to "may this person read/edit this document", with the path that justifies it.

    ``reason_kind`` is one of :data:`GRANTING_KINDS` when allowed; when refused it is
    ``unknown_person``, ``unknown_document``, ``inactive``, ``level_blocked`` (a share path exists
    but the access level excludes it), ``inactive_path`` (it runs through a deactivated department
    or project), ``read_only`` (edit asked, only read granted) or ``no_path``.
    """

    allowed: bool
    reason_kind: str
    path: list[PathStep] = field(default_factory=list)
    mode: Mode = Mode.READ
    level: str | None = None
    share_access: str | None = None

    def explain(self, lang: str = "zh") -> str:
        return explain(self, lang)


# -- the path query ---------------------------------------------------------------------------


def _steps(raw: Sequence[Mapping[str, Any]] | None) -> list[PathStep]:
    return [PathStep(s["label"], s["id"], s.get("name"), s.get("name_en"), s.get("active")) for s in raw or []
            if s and s.get("id") is not None]


def _best(rows: Iterable[Row]) -> Row | None:
    return min(rows, key=lambda r: (_RANK[r["kind"]], len(r["steps"] or [])), default=None)


def check(store: GraphStore, person_id: str, document_id: str, mode: Mode | str = Mode.READ) -> Access:
    """Decide with the one path query; refusals carry the closest path that did not count."""
    mode = Mode(mode)
    rows = store.run(q.ACCESS_PATHS, {"person_id": person_id, "document_id": document_id})
    subject = next(r for r in rows if r["kind"] == "subject")
    paths = [r for r in rows if r["kind"] != "subject"]
    level = subject["level"]
    if subject["person_id"] is None:
        return Access(False, "unknown_person", mode=mode, level=level)
    if subject["document_id"] is None:
        return Access(False, "unknown_document", mode=mode)
    if subject["person_active"] is not True:
        return Access(False, "inactive", mode=mode, level=level)
    counting = [r for r in paths if r["counts"]]
    wanted = [r for r in counting if r["edit"]] if mode is Mode.EDIT else counting
    best = _best(wanted)
    if best is not None:
        return Access(True, best["kind"], _steps(best["steps"]), mode, level, best["share_access"])
    if counting:  # edit asked, read granted
        read = _best(counting)
        assert read is not None
        return Access(False, "read_only", _steps(read["steps"]), mode, level, read["share_access"])
    blocked = _best(paths)
    if blocked is None:
        return Access(False, "no_path", mode=mode, level=level)
    reason = "level_blocked" if not share_counts(level, _share_kind(blocked["kind"])) else "inactive_path"
    return Access(False, reason, _steps(blocked["steps"]), mode, level, blocked["share_access"])


def _share_kind(kind: str) -> ShareKind:
    return ShareKind(kind.capitalize())


def can_read(store: GraphStore, person_id: str, document_id: str) -> Access:
    return check(store, person_id, document_id, Mode.READ)


def can_edit(store: GraphStore, person_id: str, document_id: str) -> Access:
    return check(store, person_id, document_id, Mode.EDIT)


# -- explanations -------------------------------------------------------------------------------

_KIND_WORDS = {
    "zh": {"department": "部门", "project": "项目组", "position": "岗位", "person": "个人"},
    "en": {"department": "departments", "project": "projects", "position": "positions", "person": "individual people"},
}


_FIXED: dict[str, tuple[str, str]] = {
    "owner": ("您是该文档的所有者。", "You own this document."),
    "person": ("该文档已直接共享给您。", "This document is shared with you directly."),
    "public": ("该文档为公开文档，所有在职人员均可阅读。",
               "This document is public: every active member of the organisation can read it."),
    "admin": ("您是系统管理员，可以访问所有文档。",
              "You are an administrator: administrators can open every document."),
    "unknown_person": ("该用户不存在。", "There is no such person."),
    "unknown_document": ("该文档不存在。", "There is no such document."),
    "inactive": ("您的账号已停用，无法访问任何文档。", "Your account is deactivated, so you cannot open any document."),
    "read_only": ("您可以阅读该文档，但没有任何共享授予您编辑权限。",
                  "You can read this document, but no share gives you edit access."),
    "no_path": ("该文档未共享给您本人，也未共享给您所在的部门、项目组或岗位。",
                "This document is not shared with you, nor with any of your departments, projects or positions."),
}


def explain(access: Access, lang: str = "zh") -> str:
    """One sentence, in ``zh`` or ``en``, saying why the access was granted or refused."""
    lang = "en" if lang == "en" else "zh"
    zh = lang == "zh"
    kind = access.reason_kind
    if kind in _FIXED:
        return _FIXED[kind][0 if zh else 1]
    middle = [s.display(lang) for s in access.path[1:-1]]  # between the person and the document
    target = middle[-1] if middle else ""
    if kind == "department":
        return _department_sentence(middle, lang)
    if kind == "project":
        return (f"您是项目组“{target}”的成员，该文档已共享给该项目组。" if zh
                else f"You are a member of the project {target}, which this document is shared with.")
    if kind == "position":
        return (f"您担任岗位“{target}”，该文档已共享给该岗位。" if zh
                else f"You hold the position {target}, which this document is shared with.")
    if kind == "level_blocked":
        level = effective_level(access.level).label(lang)
        words = _KIND_WORDS[lang][_blocked_kind(access)]
        return (f"该文档密级为“{level}”，此密级下共享给{words}的路径无效，因此“{target}”不能为您提供访问权限。" if zh
                else f"This document is {level}: at that level shares with {words} do not count, "
                     f"so {target} does not give you access.")
    if kind == "inactive_path":
        dead = next((s.display(lang) for s in access.path[1:-1] if s.active is not True), target)
        return (f"“{dead}”已停用，经由它的共享不再对您生效。" if zh
                else f"{dead} is deactivated, so the share through it no longer reaches you.")
    raise ValueError(f"no wording for reason {kind!r}")


def _department_sentence(chain: list[str], lang: str) -> str:
    first, target = chain[0], chain[-1]
    if lang == "en":
        parts = "".join(f", part of {name}" for name in chain[1:])
        return f"You are in {first}{parts}, which this document is shared with."
    links = "".join(
        f"，{'它' if i == 0 else chain[i]}隶属于{chain[i + 1]}" for i in range(len(chain) - 1)
    )
    return f"您属于{first}{links}，该文档已共享给{target}。"


def _blocked_kind(access: Access) -> str:
    labels = [s.label for s in access.path[1:-1]]
    if not labels:
        return "person"
    return labels[-1].lower()


# -- who can read, preview ----------------------------------------------------------------------


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


# -- changes --------------------------------------------------------------------------------------


def _parse_kind(kind: ShareKind | str) -> ShareKind:
    try:
        return ShareKind(kind) if isinstance(kind, ShareKind) else ShareKind(str(kind).strip().capitalize())
    except ValueError:
        raise ClassificationError(
            f"cannot share with {kind!r}; expected one of {', '.join(k.value for k in ShareKind)}"
        ) from None


def _require_target(store: GraphStore, kind: ShareKind, target_id: str) -> Row:
    rows = store.run(q.TARGET_EXISTS[kind], {"target_id": target_id})
    if not rows:
        raise NotFound(f"no {kind.value.lower()} with id {target_id!r}")
    return rows[0]


def _require_editor(store: GraphStore, actor_id: str, document_id: str, *, owner_only: bool = False) -> Access:
    access = can_edit(store, actor_id, document_id)
    if access.reason_kind == "unknown_document":
        raise NotFound(f"no document with id {document_id!r}")
    if not access.allowed or (owner_only and access.reason_kind not in ("owner", "admin")):
        raise Forbidden(access.explain("en") if not access.allowed else
                        "only the owner or an administrator may change the access level")
    return access


def share(store: GraphStore, actor_id: str, document_id: str, target_kind: ShareKind | str, target_id: str,
          access: str = "read") -> int:
    """Share (or change the access of an existing share); returns the new permission version.

    The actor must be able to edit the document. A share the document's level would ignore is
    refused rather than stored, so nobody believes a secret document reached a department.
    """
    kind, access = _parse_kind(target_kind), parse_share_access(access)
    editor = _require_editor(store, actor_id, document_id)
    _require_target(store, kind, target_id)
    if not share_counts(editor.level, kind):
        level = effective_level(editor.level).value
        raise PolicyViolation(f"a {level} document cannot be shared with a {kind.value.lower()}")
    rows = store.run(q.SHARE[kind], {"rows": [{"document_id": document_id, "target_id": target_id, "access": access}],
                                     "actor_id": actor_id, "now": int(time.time() * 1000)})
    if not rows:
        raise NotFound("the document or the share target disappeared while sharing")
    return int(rows[0]["version"])


def unshare(store: GraphStore, actor_id: str, document_id: str, target_kind: ShareKind | str, target_id: str) -> bool:
    """Remove a share; False when there was none. The actor must be able to edit the document."""
    kind = _parse_kind(target_kind)
    _require_editor(store, actor_id, document_id)
    return bool(store.run(q.UNSHARE[kind], {"document_id": document_id, "target_id": target_id}))


def set_level(store: GraphStore, actor_id: str, document_id: str, level: str | AccessLevel) -> int:
    """Change a document's access level (owner or administrator only). Existing shares are kept:
    those the new level ignores count again if the level is lowered later."""
    parsed = parse_level(level)
    _require_editor(store, actor_id, document_id, owner_only=True)
    rows = store.run(q.SET_LEVEL, {"document_id": document_id, "level": parsed.value})
    return int(rows[0]["version"])


def register_documents(store: GraphStore, rows: Sequence[Mapping[str, Any]]) -> int:
    """Create or update documents with classification and owner; returns how many were written."""
    if not rows:
        return 0
    clean = []
    for row in rows:
        if not row.get("id") or not row.get("owner_id"):
            raise ClassificationError(f"document rows need an id and an owner_id: {dict(row)!r}")
        clean.append({"id": row["id"], "title": row.get("title"), "access": parse_level(row["access"]).value,
                      "domain": row.get("domain"), "data_type": row.get("data_type"), "owner_id": row["owner_id"]})
    result = store.run(q.UPSERT_DOCUMENTS, {"rows": clean})
    written = int(result[0]["changed"]) if result else 0
    if written != len({r["id"] for r in clean}):
        raise NotFound("some owners do not exist; their documents were stored without an owner")
    return written


def record_change(store: GraphStore, *, people: Iterable[str] = (), documents: Iterable[str] = (),
                  principals: bool = False, everything: bool = False) -> int | None:
    """Tell every process that permissions changed. Call after any write this module did not make:
    membership, position, role or active flag of a person (``people``), a document's owner or
    shares (``documents``), a department moved or (de)activated or a project (de)activated
    (``principals``), or a bulk import (``everything``). Returns the new version."""
    changes = [f"person:{p}" for p in people] + [f"doc:{d}" for d in documents]
    changes += ["principals"] if principals else []
    changes += ["all"] if everything else []
    rows = store.run(q.RECORD_CHANGES, {"changes": changes})
    return int(rows[0]["version"]) if rows else None


# -- the readable-set index ------------------------------------------------------------------------

_OWNER = "owner"
# The policy table by graph label, for the index's inner loop.
_COUNTING_LABELS = {level: frozenset(kind.value for kind in kinds) for level, kinds in COUNTING_SHARES.items()}
_PUBLIC = ("public", "")


@dataclass(slots=True)
class _Principals:
    active: bool
    admin: bool
    keys: list[tuple[str, str]]


class _Index:
    """Per-principal bitmaps of the documents whose share with that principal counts under the policy.

    Also the document numbering of those bitmaps: ``ids`` (number -> id) and ``numbers`` (id -> number)
    only grow and a number never changes meaning; a rebuild makes a new index, hence a new numbering.
    """

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.numbers: dict[str, int] = {}
        self.all_docs = BitMap()
        self.bitmaps: dict[tuple[str, str], BitMap] = {}
        self.keys_of: dict[int, list[tuple[str, str]]] = {}

    def put(self, row: Row) -> None:
        number = self.numbers.get(row["id"])
        if number is None:
            number = self.numbers[row["id"]] = len(self.ids)
            self.ids.append(row["id"])
        self.drop(number)
        level = effective_level(row["level"])
        counting = _COUNTING_LABELS[level]
        keys = [(_OWNER, owner) for owner in row["owners"] if owner]
        keys += [(label, target) for label, target in row["targets"] if label in counting]
        if level is AccessLevel.PUBLIC:
            keys.append(_PUBLIC)
        for key in keys:
            bitmap = self.bitmaps.get(key)
            if bitmap is None:
                bitmap = self.bitmaps[key] = BitMap()
            bitmap.add(number)
        self.keys_of[number] = keys
        self.all_docs.add(number)

    def drop(self, number: int) -> None:
        for key in self.keys_of.pop(number, ()):
            self.bitmaps[key].discard(number)
        self.all_docs.discard(number)


@dataclass(frozen=True, slots=True)
class ReadableSet:
    """A person's readable documents as a bitmap of ``numbering``'s document numbers.

    ``numbering`` (``ids``: number -> id, ``numbers``: id -> number) belongs to the cache: read it, do
    not change it. Consumers that keep a map per numbering (the search catalog) may key it on the
    object: a rebuilt index is a new object.
    """

    bitmap: BitMap
    numbering: _Index

    def numbers(self) -> np.ndarray:
        """The bitmap's numbers as a uint32 array (what a search filter gathers with)."""
        raw = self.bitmap.to_array()  # array('I'); np.asarray(raw, dtype=np.int64) was ~20x slower than a view
        if raw.itemsize == 4:
            return np.frombuffer(raw, dtype=np.uint32)
        return np.fromiter(self.bitmap, dtype=np.int64, count=len(self.bitmap))

    def document_ids(self) -> set[str]:
        ids = self.numbering.ids
        return {ids[n] for n in self.bitmap}


class PermissionCache:
    """The readable sets of one graph, kept exact by following the graph's permission version.

    Before each use one indexed lookup reads the version; when another process (or this one) has
    changed permissions since, the change log tells which documents to reload and which people's
    principals to forget. A gap in the log, or a bulk change, rebuilds everything.
    """

    def __init__(self, store: GraphStore) -> None:
        self.store = store
        self._lock = threading.RLock()
        self._index: _Index | None = None
        self._version = -1
        self._principals: dict[str, _Principals] = {}
        self.rebuilds = 0

    # hooks for writers: they record the change in the graph; every process catches up on next use
    def invalidate_person(self, person_id: str) -> None:
        record_change(self.store, people=[person_id])

    def invalidate_document(self, document_id: str) -> None:
        record_change(self.store, documents=[document_id])

    def invalidate_all(self) -> None:
        record_change(self.store, everything=True)

    def warm(self) -> None:
        """Build the index now (a worker calls this at start so the first search does not pay for it)."""
        with self._lock:
            self._sync()

    def readable_set(self, person_id: str) -> ReadableSet:
        """The readable documents as a fresh bitmap (the caller may change it) of the index's numbering."""
        with self._lock:
            self._sync()
            index = self._index
            assert index is not None
            principals = self._principals.get(person_id)
            if principals is None:
                principals = self._principals[person_id] = self._load_principals(person_id)
            if not principals.active:
                return ReadableSet(BitMap(), index)
            if principals.admin:
                return ReadableSet(BitMap(index.all_docs), index)
            maps = [index.bitmaps[k] for k in principals.keys if k in index.bitmaps]
            return ReadableSet(BitMap.union(*maps) if maps else BitMap(), index)  # union makes a new bitmap

    def readable_bitmap(self, person_id: str) -> tuple[BitMap, list[str]]:
        """The readable documents as a bitmap of this process's document numbers, and the number -> id
        list (shared with the cache: read it, do not change it)."""
        readable = self.readable_set(person_id)
        return readable.bitmap, readable.numbering.ids

    def readable_document_ids(self, person_id: str) -> set[str]:
        return self.readable_set(person_id).document_ids()

    def _load_principals(self, person_id: str) -> _Principals:
        rows = self.store.run(q.PRINCIPALS, {"person_id": person_id})
        if not rows:
            return _Principals(False, False, [])
        row = rows[0]
        keys = [("Person", person_id), (_OWNER, person_id), _PUBLIC]
        keys += [("Department", d) for d in row["departments"]]
        keys += [("Project", j) for j in row["projects"]]
        keys += [("Position", s) for s in row["positions"]]
        return _Principals(row["active"] is True, bool(row["admin"]), keys)

    def _sync(self) -> None:
        rows = self.store.run(q.PERMISSIONS_VERSION)
        version = int(rows[0]["version"]) if rows and rows[0]["version"] is not None else 0
        if self._index is not None and version == self._version:
            return
        if self._index is None or version < self._version:  # never built, or the graph was replaced
            self._rebuild(version)
            return
        self._catch_up()

    def _catch_up(self) -> None:
        rows = self.store.run(q.PERMISSIONS_LOG)
        if not rows:  # the graph was emptied meanwhile
            self._rebuild(0)
            return
        version, log = int(rows[0]["version"]), list(rows[0]["log"] or [])
        entries = [(int(v), change) for v, _, change in (e.partition("|") for e in log)]
        complete = len(log) < q.LOG_LENGTH or (entries and entries[0][0] <= self._version)
        news = [change for v, change in entries if v > self._version]
        if not complete or "all" in news:
            self._rebuild(version)
            return
        documents = {c[4:] for c in news if c.startswith("doc:")}
        if "principals" in news:
            self._principals.clear()
        for change in news:
            if change.startswith("person:"):
                self._principals.pop(change[7:], None)
        self._reload_documents(documents)
        self._version = version

    def _reload_documents(self, documents: set[str]) -> None:
        assert self._index is not None
        found = self.store.run(q.DOCUMENT_GRANTS, {"ids": sorted(documents)}) if documents else []
        for row in found:
            self._index.put(row)
        for gone in documents - {row["id"] for row in found}:
            number = self._index.numbers.get(gone)
            if number is not None:
                self._index.drop(number)

    def _rebuild(self, version: int) -> None:
        # The version was read before the data: a change racing the scan bumps it again and is caught next time.
        documents = {row["id"]: {**row, "owners": [], "targets": []} for row in self.store.run(q.ALL_DOCUMENTS)}
        # Rows of documents created after the first scan are skipped: their creation bumped the
        # version past the one read above, so the next use reloads them from the log.
        for row in self.store.run(q.ALL_OWNERSHIPS):
            if row["id"] in documents:
                documents[row["id"]]["owners"].append(row["owner"])
        for row in self.store.run(q.ALL_SHARES):
            if row["id"] in documents:
                documents[row["id"]]["targets"].append((row["label"], row["target"]))
        index = _Index()
        for document in documents.values():
            index.put(document)
        self._index, self._version = index, version
        self._principals.clear()
        self.rebuilds += 1


_CACHES: weakref.WeakKeyDictionary[GraphStore, PermissionCache] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def cache_for(store: GraphStore) -> PermissionCache:
    """The process-wide cache of one store."""
    with _CACHES_LOCK:
        cache = _CACHES.get(store)
        if cache is None:
            cache = _CACHES[store] = PermissionCache(store)
        return cache


def readable_set(store: GraphStore, person_id: str) -> ReadableSet:
    """Like :func:`readable_document_ids`, as a bitmap of the process's document numbering (fast to filter on)."""
    return cache_for(store).readable_set(person_id)


def readable_document_ids(store: GraphStore, person_id: str) -> set[str]:
    """Every document the person may read under the policy (exact; search filters on it)."""
    return cache_for(store).readable_document_ids(person_id)
