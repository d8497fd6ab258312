"""Document use cases that need files, text or the search index: upload (a new document or a new version),
download (current or any version), the extracted text, a diff of two versions, metadata edits (the
index's facets follow), and the background step of an upload.

Same rules as :mod:`graph.usecases`: each takes the acting person, access is decided once per request,
a document the actor may not read answers as a missing one, and every change is audited and announced
whatever the door. The door gives ``enqueue`` (how the background step is queued: Celery on the web
and for ``huitong upload``; None where the caller runs it itself) — ingest never imports workers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from graph import audit
from graph import documents as docs
from graph.actor import Actor
from graph.errors import DomainError, InvalidInput, NotPermitted, ObjectMissing
from graph.usecases import Context
from graph.usecases import documents as cases
from graph.usecases.access import MISSING, forget, require_editor, require_reader
from ingest import index_registry, pending_versions, processing, uploads, version_conflicts
from ingest.blobstore import BlobStore, BlobTooLarge
from ingest.filetypes import MismatchedFile, UnsupportedFile
from ingest.textstore import StoredText, TextStore
from ingest.versiondiff import TextDiff, diff_texts
from settings import Settings

Enqueue = Callable[[str], str | None]


@dataclass(frozen=True)
class Upload:
    """One file to store: its bytes (path, bytes or a binary stream) and name."""

    source: uploads.Source
    filename: str


def upload_refusal(error: docs.DocumentError, filename: str) -> DomainError:
    """An upload refusal as a code + params (the pipeline keeps the technical cause as ``reason``)."""
    cause = error.__context__
    if isinstance(error, docs.NotFound) and "share" in str(error):
        return InvalidInput("share.unknown_target", field="share", reason=str(error))
    if isinstance(error, docs.NotFound):
        return ObjectMissing(MISSING)
    if isinstance(error, docs.Forbidden):
        return NotPermitted("document.read_only")
    if isinstance(cause, MismatchedFile):
        code = "upload.mismatched"
    elif isinstance(cause, UnsupportedFile) or "empty" in str(error):
        code = "upload.unsupported"
    elif isinstance(cause, BlobTooLarge):
        code = "upload.too_large"
    elif "cannot be shared" in str(error) or "cannot read the share" in str(error):
        code = "share.level_excludes" if "cannot be shared" in str(error) else "share.malformed"
    else:
        code = "upload.invalid"
    return InvalidInput(code, field="file", filename=filename, reason=str(error))


def upload(ctx: Context, actor: Actor, item: Upload, *, domain: str | None = None, access: str | None = None,
           shares: Iterable[str] = (), note: str = "", title: str | None = None, document_id: str | None = None,
           enqueue: Enqueue | None = None, base_version: int | None = None,
           stored_sha256: str | None = None) -> uploads.UploadResult:
    """Store a file as a new document, or as a new version of ``document_id`` (the actor must be able to edit
    it). Nothing is written when it is refused. Announced: a new document to its readers, a new version to
    the document's watchers.

    ``base_version`` (new versions) is the number the uploader worked from; when another version became
    current meanwhile this raises ``StateConflict('version.stale_base')`` whose ``pending`` token lets the
    uploader add the kept file anyway or cancel (:mod:`ingest.version_conflicts`). ``stored_sha256`` is
    for that use case only (bytes already kept for this actor)."""
    if document_id is not None:
        require_editor(ctx.store, actor, document_id)
    try:
        result = uploads.upload(ctx.store, _settings(ctx), item.source, item.filename, actor.person_id, domain, access,
                                tuple(shares), note, document_id, title=title, enqueue=enqueue, client=actor.address,
                                base_version=base_version, stored_sha256=stored_sha256)
    except docs.StaleBase as stale:
        raise version_conflicts.refuse(ctx, actor, stale, note) from None
    except docs.DocumentError as error:
        raise upload_refusal(error, item.filename) from None
    forget(actor, result.document_id)
    if result.created:
        cases.announce_new(ctx, result.document_id)
    elif not result.unchanged:
        cases.announce(ctx, result.document_id, "version", version_id=result.version_id, number=result.number)
    return result


def add_pending(ctx: Context, actor: Actor, document_id: str, token: str, *,
                enqueue: Enqueue | None = None) -> uploads.UploadResult:
    """Add an upload kept after a stale-base refusal as the newest version anyway (the uploader's choice)."""
    pending = version_conflicts.held(ctx, actor, document_id, token)
    result = upload(ctx, actor, Upload(b"", pending.filename), note=pending.note, document_id=document_id,
                    enqueue=enqueue, stored_sha256=pending.sha256)
    pending_versions.drop(_settings(ctx), token)
    return result


def process(ctx: Context, version_id: str, *, index: bool = True) -> processing.Processed:
    """The background step of an upload, here and now (Celery task, ``upload --wait``); announces the status."""
    return processing.process_version_now(ctx.store, _settings(ctx), version_id, index=index)


def _settings(ctx: Context) -> Settings:
    if ctx.settings is None:
        raise ValueError("file use cases need the settings (data directory)")
    return ctx.settings


# -- reading ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Download:
    path: Path
    filename: str
    mime: str
    size: int
    sha256: str
    version_id: str
    number: int


def download(ctx: Context, actor: Actor, document_id: str, version_id: str | None = None) -> Download:
    """Where the bytes of a (current) version are; one ``document.download`` in the audit trail."""
    version = cases.version(ctx, actor, document_id, version_id)
    path = BlobStore.from_settings(_settings(ctx)).path(version["sha256"])
    if not path.is_file():
        raise ObjectMissing("version.missing", id=version["id"])
    audit.record(ctx.store, action="document.download", actor_id=actor.person_id, target_kind="document",
                 target_id=document_id, client=actor.address,
                 detail={"version_id": version["id"], "number": version["number"]})
    return Download(path, version["filename"], version["mime"], version["size"], version["sha256"], version["id"],
                    int(version["number"]))


def text(ctx: Context, actor: Actor, document_id: str, version_id: str | None = None) -> StoredText | None:
    """The extracted text of a (current) version; None while extraction has not run. Part of the page the
    actor opened (audited as that view), so not audited again."""
    version = cases.version(ctx, actor, document_id, version_id)
    return TextStore.from_settings(_settings(ctx)).load(version["id"])


def diff(ctx: Context, actor: Actor, document_id: str, old_version_id: str, new_version_id: str) -> TextDiff:
    """Line diff of the extracted text of two versions of one document (unified and HTML side by side)."""
    require_reader(ctx.store, actor, document_id)
    texts = TextStore.from_settings(_settings(ctx))
    sides = []
    for version_id in (old_version_id, new_version_id):
        version = cases.version(ctx, actor, document_id, version_id)
        stored = texts.load(version["id"])
        if stored is None:
            raise InvalidInput("version.not_extracted", field="version", number=version["number"])
        sides.append((f"v{version['number']} {version['filename']}", stored.text))
    audit.record(ctx.store, action="document.diff", actor_id=actor.person_id, target_kind="document",
                 target_id=document_id, client=actor.address,
                 detail={"old_version_id": old_version_id, "new_version_id": new_version_id})
    (old_label, old_text), (new_label, new_text) = sides
    return diff_texts(old_text, new_text, old_label, new_label)


# -- changes ----------------------------------------------------------------------------------------------


def edit_details(ctx: Context, actor: Actor, document_id: str, revision: int, *, title: str | None = None,
                 domain: str | None = None, access: str | None = None) -> int:
    """:func:`graph.usecases.documents.edit_details`, then the search index's facets follow."""
    new_revision = cases.edit_details(ctx, actor, document_id, revision, title=title, domain=domain, access=access)
    index_registry.refresh_facets(ctx.store, _settings(ctx), document_id)
    return new_revision
