"""Document records in the graph: creating documents and versions, metadata, extraction outcomes, share
specs and shares, on top of the statements of :mod:`graph.queries.documents`, each change audited.

This is the domain layer under the use cases (:mod:`graph.usecases`); the unchecked fetchers live in
:mod:`graph.document_rows` (domain only, enforced by the import contract); doors (web, CLI, API, tasks) call
the use cases, which check access once per request. Files, text and the search index are
``ingest``'s business. Metadata edits use optimistic concurrency on ``revision``: an edit
made against an older revision raises :class:`Conflict` and changes nothing.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from graph import audit, document_rows, permissions
from graph.classification import (
    ClassificationError,
    DomainCatalogue,
    ShareKind,
    parse_level,
    parse_share_access,
    share_counts,
)
from graph.queries import documents as q
from graph.queries import org_admin
from graph.store import GraphStore

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


class StaleBase(DocumentError):
    """A new version was made from a version that is no longer the current one; nothing was written."""

    def __init__(self, document_id: str, base: int, current: int) -> None:
        super().__init__(f"version {current} is current now, not your base version {base}")
        self.document_id = document_id
        self.base = base
        self.current = current
        self.sha256 = self.kind = self.filename = ""  # the refused upload's stored bytes (filled by ingest)


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
        rows = store.run(q.PERSON_REF_BY_USERNAME, {"username": spec.ref.lower()})
        row = rows[0] if rows and rows[0]["id"] else None
    else:
        rows = store.run(org_admin.CODED[_CODED[spec.kind]].by_code, {"code": spec.ref})
        row = rows[0] if rows else None
    if row is None:
        raise NotFound(f"no {spec.kind.value.lower()} {spec.ref!r} to share with")
    return replace(spec, target_id=row["id"], name=row.get("name"))


def share_allowed(level: str, spec: ShareSpec) -> bool:
    """Whether a share of this kind counts at this access level (a secret document reaches named people only)."""
    return share_counts(level, spec.kind)


def check_shares_allowed(level: str, specs: Iterable[ShareSpec]) -> None:
    """Refuse, before anything is written, shares the access level would ignore."""
    for spec in specs:
        if not share_allowed(level, spec):
            raise DocumentError(
                f"a {level} document cannot be shared with a {spec.kind.value.lower()} ({spec.ref}); "
                "lower the access level or share with named people"
            )


def share(store: GraphStore, actor_id: str, document_id: str, spec: ShareSpec | str, *,
          client: str | None = None) -> ShareSpec:
    """Share the document (the actor must be able to edit it); recorded in the audit trail."""
    spec = resolve_share(store, spec)
    assert spec.target_id is not None
    event = audit.Event("document.share", actor_id, "document", document_id, client,
                        {"with": spec.kind.value, "target_id": spec.target_id, "ref": spec.ref, "access": spec.access})
    try:  # the share and its audit event: one statement
        permissions.share(store, actor_id, document_id, spec.kind, spec.target_id, spec.access, event=event)
    except permissions.NotFound as error:
        raise NotFound(str(error)) from None
    except (permissions.Forbidden, permissions.PolicyViolation) as error:
        raise Forbidden(str(error)) from None
    return spec


def unshare(store: GraphStore, actor_id: str, document_id: str, spec: ShareSpec | str, *,
            client: str | None = None) -> bool:
    spec = resolve_share(store, spec)
    assert spec.target_id is not None
    event = audit.Event("document.unshare", actor_id, "document", document_id, client,
                        {"with": spec.kind.value, "target_id": spec.target_id, "ref": spec.ref})
    try:  # the removal and its audit event (only when a share was removed): one statement
        return permissions.unshare(store, actor_id, document_id, spec.kind, spec.target_id, event=event)
    except permissions.NotFound as error:
        raise NotFound(str(error)) from None
    except permissions.Forbidden as error:
        raise Forbidden(str(error)) from None


# -- permission checks ---------------------------------------------------------------------------------


def require_read(store: GraphStore, person_id: str, document_id: str) -> permissions.Access:
    """The read access, or :class:`NotFound` (a document the person may not read does not exist for them)."""
    access = audit.refusal(store, person_id, "document", document_id,
                           permissions.can_read(store, person_id, document_id))
    if not access.allowed:
        raise NotFound("no such document")
    return access


def require_edit(store: GraphStore, person_id: str, document_id: str) -> permissions.Access:
    """The edit access; :class:`NotFound` for a non-reader, :class:`Forbidden` for a reader who may not edit."""
    decision = permissions.decide(store, person_id, document_id)
    if not audit.refusal(store, person_id, "document", document_id, decision.read).allowed:
        raise NotFound("no such document")
    if not audit.refusal(store, person_id, "document", document_id, decision.edit).allowed:
        raise Forbidden("you can read this document but no share lets you change it")
    return decision.edit


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
    rows = store.run(q.CREATE_DOCUMENT_AUDITED, {**_create_params(doc), "owner_id": doc.owner_id,
                                                 **_upload_event(doc, client).statement_params()})
    if not rows:
        raise NotFound("the uploader does not exist")


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
                client: str | None = None, base_version: int | None = None) -> NewVersion:
    """A new current version linked to the previous one (the author must be able to edit).

    ``base_version`` is the version number the author worked from: when another version became current
    meanwhile, :class:`StaleBase` is raised and nothing is written (checked in the writing statement).
    """
    require_edit(store, author_id, document_id)
    at = at if at is not None else now_ms()
    # The version and its audit event in one statement; number and previous id are filled in there.
    event = audit.Event("document.version", author_id, "document", document_id, client,
                        {"version_id": version_id, "number": q.VERSION_NUMBER_MARK,
                         "previous_id": q.PREVIOUS_VERSION_MARK, "filename": filename, "sha256": sha256,
                         "size": size, "note": note or ""}, at)
    rows = store.run(q.ADD_VERSION_AUDITED, {
        "document_id": document_id, "version_id": version_id, "author_id": author_id, "sha256": sha256,
        "size": size, "filename": filename, "kind": kind, "mime": mime, "data_type": data_type,
        "note": (note or "")[:MAX_NOTE], "now": at, "base": None if base_version is None else int(base_version),
        **event.statement_params(),
    })
    if not rows:
        found = document_rows.get_document(store, document_id)
        if found is not None and base_version is not None:
            raise StaleBase(document_id, int(base_version), int(found["current_number"]))
        raise NotFound("no such document")
    row = rows[0]
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
    statement = q.UPDATE_METADATA_AND_LEVEL_AUDITED if "access" in changes else q.UPDATE_METADATA_AUDITED
    at = now_ms()
    event = audit.Event("document.update", actor_id, "document", document_id, client,
                        {"revision": int(revision) + 1, **changes}, at)
    rows = store.run(statement, {"id": document_id, "revision": int(revision), "title": changes.get("title"),
                                 "domain": changes.get("domain"), "access": changes.get("access"),
                                 "actor_id": actor_id, "now": at, **event.statement_params()})
    if not rows:
        current = store.run(q.REVISION_OF, {"id": document_id})
        if not current:
            raise NotFound("no such document")
        raise Conflict(document_id, int(revision), current[0]["revision"], current[0]["updated_by_name"])
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


def set_extractions(store: GraphStore, outcomes: list[ExtractionOutcome]) -> dict[str, str | None]:
    """Store what the extractions found on their versions (and documents while current), in one statement;
    returns version id -> its document's id while the
    version is current (None otherwise). Versions that no longer exist are left out."""
    if not outcomes:
        return {}
    rows = store.run(q.SET_EXTRACTIONS, {"rows": [o.params() for o in outcomes], "now": now_ms()})
    return {row["version_id"]: row["document_id"] for row in rows}


def set_indexed(store: GraphStore, version_id: str, chunks: int | None) -> None:
    """Mark a version as searchable (``chunks`` None: it has no text to search)."""
    store.run(q.SET_INDEXED, {"version_id": version_id, "now": now_ms(), "chunks": chunks})
