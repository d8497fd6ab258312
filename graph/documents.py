"""Documents, versions and sharing in the graph: the rules, on top of the statements of
:mod:`graph.queries.documents`.

Files, text and the search index are not this module's business (see ``ingest.pipeline``); here
live the nodes, who may touch them (through :mod:`graph.permissions`) and the audit trail of
every change and every read. Metadata edits use optimistic concurrency on ``revision``: an edit
made against an older revision raises :class:`Conflict` and changes nothing.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from graph import audit, mentions, permissions
from graph.classification import (
    ClassificationError,
    DomainCatalogue,
    ShareKind,
    parse_level,
    parse_share_access,
    share_counts,
)
from graph.queries import documents as q
from graph.queries import org as org_q
from graph.queries import org_admin
from graph.store import GraphStore, Row

STATUSES = ("pending", "ok", "empty", "encrypted", "corrupt", "unsupported")
MAX_TITLE = 200
MAX_NOTE = 2000


class DocumentError(ValueError):
    """A refused request about documents; ``str(error)`` is fit to show the user."""


class NotFound(DocumentError):
    """No such document, version, person or share target."""


class Forbidden(DocumentError):
    """The person may not read or change this document."""


class Conflict(DocumentError):
    """The document changed since the editor loaded it; nothing was overwritten."""

    def __init__(self, document_id: str, expected: int, current: int | None, by: str | None = None) -> None:
        who = f" by {by}" if by else ""
        super().__init__(
            f"the document was changed{who} since you opened it (your revision {expected}, now {current}); "
            "reload it, reapply your edit and save again"
        )
        self.document_id = document_id
        self.expected = expected
        self.current = current
        self.by = by


def now_ms() -> int:
    return int(time.time() * 1000)


def new_id() -> str:
    return str(uuid.uuid4())


# -- sharing ---------------------------------------------------------------------------------------

_SHARE_KINDS = {"department": ShareKind.DEPARTMENT, "dept": ShareKind.DEPARTMENT, "person": ShareKind.PERSON,
                "user": ShareKind.PERSON, "project": ShareKind.PROJECT, "position": ShareKind.POSITION}


@dataclass(frozen=True)
class ShareSpec:
    """A share to make: with a department/project/position (by code) or a person (by user name)."""

    kind: ShareKind
    ref: str  # code or user name as given
    access: str = "read"
    target_id: str | None = None  # resolved id
    name: str | None = None

    @classmethod
    def parse(cls, text: str) -> ShareSpec:
        """``department:FIN``, ``person:li.na:edit``, ``project:ERP-2026``, ``position:ACCOUNTANT``."""
        parts = [p.strip() for p in str(text).split(":")]
        if len(parts) not in (2, 3) or not parts[1] or parts[0].lower() not in _SHARE_KINDS:
            raise DocumentError(
                f"cannot read the share {text!r}; write KIND:CODE[:edit] with KIND one of department, person, "
                "project, position (e.g. department:FIN or person:li.na:edit)"
            )
        try:
            access = parse_share_access(parts[2]) if len(parts) == 3 else "read"
        except ClassificationError as error:
            raise DocumentError(str(error)) from None
        return cls(_SHARE_KINDS[parts[0].lower()], parts[1], access)


_CODED = {ShareKind.DEPARTMENT: "department", ShareKind.PROJECT: "project", ShareKind.POSITION: "position"}


def resolve_share(store: GraphStore, spec: ShareSpec | str) -> ShareSpec:
    """The spec with its target's id, looked up by code or user name (or id)."""
    spec = ShareSpec.parse(spec) if isinstance(spec, str) else spec
    if spec.target_id:
        return spec
    if spec.kind is ShareKind.PERSON:
        rows = store.run(org_q.PERSON_BY_USERNAME, {"username": spec.ref.lower()})
        row = rows[0] if rows and rows[0]["id"] else None
    else:
        rows = store.run(org_admin.CODED[_CODED[spec.kind]].by_code, {"code": spec.ref})
        row = rows[0] if rows else None
    if row is None:
        raise NotFound(f"no {spec.kind.value.lower()} {spec.ref!r} to share with")
    return replace(spec, target_id=row["id"], name=row.get("name"))


def check_shares_allowed(level: str, specs: Iterable[ShareSpec]) -> None:
    """Refuse, before anything is written, shares the access level would ignore."""
    for spec in specs:
        if not share_counts(level, spec.kind):
            raise DocumentError(
                f"a {level} document cannot be shared with a {spec.kind.value.lower()} ({spec.ref}); "
                "lower the access level or share with named people"
            )


def share(store: GraphStore, actor_id: str, document_id: str, spec: ShareSpec | str, *,
          client: str | None = None) -> ShareSpec:
    """Share the document (the actor must be able to edit it); recorded in the audit trail."""
    spec = resolve_share(store, spec)
    assert spec.target_id is not None
    try:
        permissions.share(store, actor_id, document_id, spec.kind, spec.target_id, spec.access)
    except permissions.NotFound as error:
        raise NotFound(str(error)) from None
    except (permissions.Forbidden, permissions.PolicyViolation) as error:
        raise Forbidden(str(error)) from None
    audit.record(store, action="document.share", actor_id=actor_id, target_kind="document", target_id=document_id,
                 client=client, detail={"with": spec.kind.value, "target_id": spec.target_id, "ref": spec.ref,
                                        "access": spec.access})
    return spec


def unshare(store: GraphStore, actor_id: str, document_id: str, spec: ShareSpec | str, *,
            client: str | None = None) -> bool:
    spec = resolve_share(store, spec)
    assert spec.target_id is not None
    try:
        removed = permissions.unshare(store, actor_id, document_id, spec.kind, spec.target_id)
    except permissions.NotFound as error:
        raise NotFound(str(error)) from None
    except permissions.Forbidden as error:
        raise Forbidden(str(error)) from None
    if removed:
        audit.record(store, action="document.unshare", actor_id=actor_id, target_kind="document",
                     target_id=document_id, client=client,
                     detail={"with": spec.kind.value, "target_id": spec.target_id, "ref": spec.ref})
    return removed


# -- permission checks ---------------------------------------------------------------------------------


def _required(access: permissions.Access) -> permissions.Access:
    if access.reason_kind == "unknown_document":
        raise NotFound("no such document")
    if not access.allowed:
        raise Forbidden(access.explain("en"))
    return access


def require_read(store: GraphStore, person_id: str, document_id: str) -> permissions.Access:
    return _required(permissions.can_read(store, person_id, document_id))


def require_edit(store: GraphStore, person_id: str, document_id: str) -> permissions.Access:
    return _required(permissions.can_edit(store, person_id, document_id))


# -- creating and versioning ------------------------------------------------------------------------


@dataclass(frozen=True)
class NewDocument:
    """Everything a first upload stores in the graph (the pipeline fills it in)."""

    document_id: str
    version_id: str
    owner_id: str
    title: str
    title_source: Literal["user", "filename"]
    kind: str
    mime: str
    domain: str
    data_type: str
    access: str
    size: int
    sha256: str
    filename: str
    note: str = ""
    created_at: int = field(default_factory=now_ms)


def clean_title(title: str | None) -> str | None:
    if title is None:
        return None
    title = " ".join(str(title).split())
    if not title:
        return None
    return title[:MAX_TITLE]


def validate_classification(domain: str, access: str, catalogue: DomainCatalogue | None = None) -> tuple[str, str]:
    """The domain code and access level, or a :class:`DocumentError` naming the bad one."""
    try:
        return (catalogue or DomainCatalogue()).get(domain).code, parse_level(access).value
    except ClassificationError as error:
        raise DocumentError(str(error)) from None


def _create_params(doc: NewDocument) -> dict[str, Any]:
    return {"id": doc.document_id, "version_id": doc.version_id, "title": doc.title,
            "title_source": doc.title_source, "kind": doc.kind, "mime": doc.mime, "domain": doc.domain,
            "data_type": doc.data_type, "access": doc.access, "size": doc.size, "sha256": doc.sha256,
            "filename": doc.filename, "note": (doc.note or "")[:MAX_NOTE], "now": doc.created_at}


def _upload_event(doc: NewDocument, client: str | None) -> audit.Event:
    return audit.Event("document.upload", doc.owner_id, "document", doc.document_id, client,
                       {"version_id": doc.version_id, "number": 1, "filename": doc.filename, "sha256": doc.sha256,
                        "size": doc.size, "title": doc.title, "domain": doc.domain, "access": doc.access},
                       doc.created_at)


def create_document(store: GraphStore, doc: NewDocument, *, client: str | None = None) -> None:
    """Create the document, its first version, the owner's OWNS edge; one statement."""
    rows = store.run(q.CREATE_DOCUMENT, {**_create_params(doc), "owner_id": doc.owner_id})
    if not rows:
        raise NotFound("the uploader does not exist")
    audit.record_many(store, [_upload_event(doc, client)])


def create_documents(store: GraphStore, owner_id: str, docs: list[NewDocument], *,
                     client: str | None = None) -> None:
    """Create many documents of one (active) owner, each with its first version and its upload event, in two
    statements (bulk ingestion). All or nothing: raises :class:`NotFound` when the owner is not active."""
    if not docs:
        return
    if any(doc.owner_id != owner_id for doc in docs):
        raise ValueError("every document of a bulk creation belongs to its owner")
    rows = store.run(q.CREATE_DOCUMENTS, {"owner_id": owner_id, "rows": [_create_params(doc) for doc in docs]})
    if not rows:
        raise NotFound("the uploader is not a known, active person")
    audit.record_many(store, [_upload_event(doc, client) for doc in docs])


@dataclass(frozen=True)
class NewVersion:
    number: int
    previous_id: str


def add_version(store: GraphStore, *, document_id: str, version_id: str, author_id: str, sha256: str, size: int,
                filename: str, kind: str, mime: str, data_type: str, note: str = "", at: int | None = None,
                client: str | None = None) -> NewVersion:
    """A new current version linked to the previous one (the author must be able to edit)."""
    require_edit(store, author_id, document_id)
    at = at if at is not None else now_ms()
    rows = store.run(q.ADD_VERSION, {
        "document_id": document_id, "version_id": version_id, "author_id": author_id, "sha256": sha256,
        "size": size, "filename": filename, "kind": kind, "mime": mime, "data_type": data_type,
        "note": (note or "")[:MAX_NOTE], "now": at,
    })
    if not rows:
        raise NotFound("no such document")
    row = rows[0]
    audit.record(store, action="document.version", actor_id=author_id, target_kind="document",
                 target_id=document_id, client=client, at=at,
                 detail={"version_id": version_id, "number": row["number"], "previous_id": row["previous_id"],
                         "filename": filename, "sha256": sha256, "size": size, "note": note or ""})
    return NewVersion(int(row["number"]), row["previous_id"])


def update_metadata(store: GraphStore, actor_id: str, document_id: str, revision: int, *, title: str | None = None,
                    domain: str | None = None, access: str | None = None, client: str | None = None,
                    catalogue: DomainCatalogue | None = None) -> int:
    """Edit title/domain/access made against ``revision``; returns the new revision.

    Raises :class:`Conflict` when someone else saved in between (nothing is changed), ``Forbidden``
    when the actor may not edit (changing the access level takes the owner or an administrator).
    """
    editor = require_edit(store, actor_id, document_id)
    title = clean_title(title)
    changes: dict[str, str] = {}
    if title is not None:
        changes["title"] = title
    if domain is not None:
        changes["domain"] = validate_classification(domain, "internal", catalogue)[0]
    if access is not None:
        try:
            level = parse_level(access).value
        except ClassificationError as error:
            raise DocumentError(str(error)) from None
        if level != editor.level:
            if editor.reason_kind not in ("owner", "admin"):
                raise Forbidden("only the owner or an administrator may change the access level")
            changes["access"] = level
    statement = q.UPDATE_METADATA_AND_LEVEL if "access" in changes else q.UPDATE_METADATA
    at = now_ms()
    rows = store.run(statement, {"id": document_id, "revision": int(revision), "title": changes.get("title"),
                                 "domain": changes.get("domain"), "access": changes.get("access"),
                                 "actor_id": actor_id, "now": at})
    if not rows:
        current = store.run(q.REVISION_OF, {"id": document_id})
        if not current:
            raise NotFound("no such document")
        raise Conflict(document_id, int(revision), current[0]["revision"], current[0]["updated_by_name"])
    audit.record(store, action="document.update", actor_id=actor_id, target_kind="document", target_id=document_id,
                 client=client, at=at, detail={"revision": int(revision) + 1, **changes})
    return int(revision) + 1


@dataclass(frozen=True)
class ExtractionOutcome:
    """What an extraction found, to store on its version (see :func:`set_extractions`)."""

    version_id: str
    status: str
    reason: str | None
    pages: int | None
    author: str | None
    chars: int
    title: str | None

    def params(self) -> dict[str, Any]:
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}")
        return {"version_id": self.version_id, "status": self.status, "reason": self.reason, "pages": self.pages,
                "author": self.author, "chars": self.chars, "title": clean_title(self.title)}


def set_extraction(store: GraphStore, version_id: str, *, status: str, reason: str | None, pages: int | None,
                   author: str | None, chars: int, title: str | None) -> Row | None:
    """Store an extraction's outcome on the version (and the document while it is current)."""
    params = ExtractionOutcome(version_id, status, reason, pages, author, chars, title).params()
    rows = store.run(q.SET_EXTRACTION, {**params, "now": now_ms()})
    return rows[0] if rows else None


def set_extractions(store: GraphStore, outcomes: list[ExtractionOutcome]) -> dict[str, str | None]:
    """``set_extraction`` of many versions in one statement; returns version id -> its document's id while the
    version is current (None otherwise). Versions that no longer exist are left out."""
    if not outcomes:
        return {}
    rows = store.run(q.SET_EXTRACTIONS, {"rows": [o.params() for o in outcomes], "now": now_ms()})
    return {row["version_id"]: row["document_id"] for row in rows}


def link_mentions_many(store: GraphStore, items: list[tuple[str, str, str]]) -> dict[str, int]:
    """Replace the MENTIONS edges of many documents with those found in their current text, in two statements;
    ``items`` are (document id, version id, text). Returns the number of mentions found per document."""
    if not items:
        return {}
    matcher = mentions.matcher_for(store)
    found: dict[str, int] = {}
    rows = []
    for document_id, version_id, text in items:
        hits = matcher.find(text)
        found[document_id] = len(hits)
        rows.extend({"document_id": document_id, "version_id": version_id, "label": m.label, "id": m.id,
                     "count": m.count, "ambiguous": m.ambiguous} for m in hits if m.label in q.MENTION_LABELS)
    store.run(q.CLEAR_MENTIONS_MANY, {"document_ids": [document_id for document_id, _, _ in items]})
    if rows:
        store.run(q.LINK_MENTIONS_MANY, {"rows": rows})
    return found


def set_indexed(store: GraphStore, version_id: str, chunks: int | None) -> None:
    """Mark a version as searchable (``chunks`` None: it has no text to search)."""
    store.run(q.SET_INDEXED, {"version_id": version_id, "now": now_ms(), "chunks": chunks})


# -- reading one document ------------------------------------------------------------------------------


def get_document(store: GraphStore, document_id: str) -> Row | None:
    """The document with owner and current version, WITHOUT a permission check (internal use)."""
    rows = store.run(q.GET_DOCUMENT, {"id": document_id})
    if not rows:
        return None
    row = rows[0]
    return {**row["document"], "owner_name": row["owner_name"], "owner_username": row["owner_username"],
            "current_version_id": row["current_version_id"], "current_number": row["current_number"]}


def view_document(store: GraphStore, viewer_id: str, document_id: str, *, client: str | None = None) -> Row:
    """The document as the viewer may see it, with why they may, and whether they may edit; audited."""
    access = require_read(store, viewer_id, document_id)
    doc = get_document(store, document_id)
    if doc is None:
        raise NotFound("no such document")
    edit = permissions.can_edit(store, viewer_id, document_id)
    audit.record(store, action="document.view", actor_id=viewer_id, target_kind="document", target_id=document_id,
                 client=client)
    doc.pop("locked_at", None)
    return {**doc, "access_reason": access.explain("en"), "access_reason_zh": access.explain("zh"),
            "access_path": access.path, "can_edit": edit.allowed,
            "can_change_level": edit.allowed and edit.reason_kind in ("owner", "admin")}


def get_version(store: GraphStore, version_id: str) -> Row | None:
    """Version, its document and whether it is current, WITHOUT a permission check (internal use)."""
    rows = store.run(q.GET_VERSION, {"version_id": version_id})
    return rows[0] if rows else None


def get_versions(store: GraphStore, version_ids: list[str]) -> dict[str, Row]:
    """``get_version`` of many versions in one statement, by version id (missing ones are left out)."""
    if not version_ids:
        return {}
    return {row["version"]["id"]: row for row in store.run(q.GET_VERSIONS, {"ids": list(version_ids)})}


def list_versions(store: GraphStore, viewer_id: str, document_id: str) -> list[Row]:
    """Newest first: number, author, time, size, hash, note, extraction status, current flag."""
    require_read(store, viewer_id, document_id)
    return [{**r["version"], "current": r["current"], "author_name": r["author_name"],
             "author_username": r["author_username"]} for r in store.run(q.LIST_VERSIONS, {"id": document_id})]


def shares_of(store: GraphStore, viewer_id: str, document_id: str) -> list[Row]:
    require_read(store, viewer_id, document_id)
    return store.run(q.SHARES_OF, {"id": document_id})


def version_of_document(store: GraphStore, document_id: str, version_id: str | None) -> Row:
    """A version of this document (the current one when ``version_id`` is None)."""
    if version_id is None:
        doc = get_document(store, document_id)
        if doc is None or not doc["current_version_id"]:
            raise NotFound("no such document")
        version_id = doc["current_version_id"]
    found = get_version(store, version_id)
    if found is None or found["document"]["id"] != document_id:
        raise NotFound("no such version of this document")
    return {**found["version"], "current": found["current"]}


# -- browsing ------------------------------------------------------------------------------------------

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


def browse(store: GraphStore, viewer_id: str, where: BrowseFilter | None = None, *, sort: str = "updated",
           page: int = 1, per_page: int = 20) -> Page:
    """One page of the documents the viewer may read, filtered and sorted (``q.SORTS`` keys)."""
    where = where or BrowseFilter()
    if sort not in q.SORTS:
        raise DocumentError(f"unknown sort {sort!r}; expected one of {', '.join(q.SORTS)}")
    if where.scope == "recent":
        sort = "updated"
    page, per_page = max(int(page), 1), min(max(int(per_page), 1), 200)
    params = _filter_params(viewer_id, where, _candidate_ids(store, viewer_id, where))
    total = store.run(q.COUNT["ids"], params)[0]["total"]
    rows = store.run(q.BROWSE[("ids", sort)], {**params, "skip": (page - 1) * per_page, "limit": per_page})
    return Page(rows, int(total), page, per_page)


def classification_tree(store: GraphStore, viewer_id: str, where: BrowseFilter | None = None) -> list[Row]:
    """Counts of readable documents as a tree: domain -> data type -> access level."""
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


def department_folders(store: GraphStore, viewer_id: str) -> list[Row]:
    """Every department with the number of readable documents shared with it, as a tree (children nested)."""
    ids = sorted(permissions.readable_document_ids(store, viewer_id))
    params = _filter_params(viewer_id, BrowseFilter(), ids)
    counts = {r["department_id"]: r["count"] for r in store.run(q.FOLDER_COUNTS["ids"], params)}
    nodes = {r["id"]: {**r, "count": counts.get(r["id"], 0), "children": []} for r in store.run(q.DEPARTMENTS)}
    roots = []
    for node in nodes.values():
        parent = nodes.get(node["parent_id"])
        (parent["children"] if parent else roots).append(node)

    def total(node: Row) -> int:
        node["total"] = node["count"] + sum(total(child) for child in node["children"])
        return node["total"]

    for root in roots:
        total(root)
    return roots


# -- related knowledge and provenance ---------------------------------------------------------------------


@dataclass
class Related:
    same_domain: list[Row]
    people: list[Row]
    departments: list[Row]
    projects: list[Row]
    tasks: list[Row]
    decisions: list[Row]


def related(store: GraphStore, viewer_id: str, document_id: str, *, limit: int = 10) -> Related:
    """What the graph knows around a readable document, limited to what the viewer may read."""
    require_read(store, viewer_id, document_id)
    readable = sorted(permissions.readable_document_ids(store, viewer_id) - {document_id})
    same = store.run(q.RELATED_SAME_DOMAIN["ids"], {"id": document_id, "ids": readable, "limit": limit})
    mentioned = store.run(q.MENTIONED, {"id": document_id})
    work = store.run(q.LINKED_WORK, {"id": document_id})
    return Related(
        same_domain=same,
        people=[m for m in mentioned if m["label"] == "Person"],
        departments=[m for m in mentioned if m["label"] == "Department"],
        projects=[m for m in mentioned if m["label"] == "Project"],
        tasks=[w for w in work if w["label"] == "Task"],
        decisions=[w for w in work if w["label"] == "Decision"],
    )


_TIMELINE_ACTIONS = {
    "document.upload": "uploaded", "document.version": "new_version", "document.update": "changed",
    "document.share": "shared", "document.unshare": "unshared", "document.download": "downloaded",
    "document.read": "read", "document.view": "viewed", "document.extracted": "extracted",
    "document.diff": "compared",
}


def timeline(store: GraphStore, viewer_id: str, document_id: str, *, limit: int = 500,
             include_views: bool = False) -> list[Row]:
    """Provenance, oldest first: who uploaded, changed, shared, downloaded the document, and when.

    Built from the audit trail, completed with the versions themselves (a version always shows,
    even one created before auditing existed).
    """
    require_read(store, viewer_id, document_id)
    events = audit.list_events(store, audit.AuditFilter(target_kind="document", target_id=document_id),
                               limit=limit)
    entries: list[Row] = []
    seen_versions: set[str] = set()
    for event in events:
        kind = _TIMELINE_ACTIONS.get(event["action"], event["action"])
        if kind == "viewed" and not include_views:
            continue
        detail = _parse_detail(event["detail"])
        if detail.get("version_id"):
            seen_versions.add(detail["version_id"])
        entries.append({"at": event["at"], "kind": kind, "action": event["action"], "actor_id": event["actor_id"],
                        "actor": event["actor_username"], "detail": detail})
    for version in store.run(q.LIST_VERSIONS, {"id": document_id}):
        v = version["version"]
        if v["id"] not in seen_versions:
            entries.append({"at": v["created_at"], "kind": "uploaded" if v["number"] == 1 else "new_version",
                            "action": "version", "actor_id": v["author_id"], "actor": version["author_username"],
                            "detail": {"version_id": v["id"], "number": v["number"], "filename": v.get("filename")}})
    return sorted(entries, key=lambda e: e["at"])


def _parse_detail(detail: str | None) -> dict[str, Any]:
    if not detail:
        return {}
    try:
        value = json.loads(detail)
    except ValueError:
        return {"text": detail}
    return value if isinstance(value, Mapping) else {"value": value}
