"""A new version uploaded against a stale base: the refusal (409) that keeps the file, the diff between the
kept file and the current version, and cancelling. Adding the kept file anyway is
:func:`ingest.usecases.add_pending` (the upload use case itself, with the kept bytes).

Both files are kept: the current version is untouched, and the refused upload stays in the blob store
with a record only its uploader can use (:mod:`ingest.pending_versions`).
"""

from __future__ import annotations

from graph import audit
from graph import documents as docs
from graph.actor import Actor
from graph.errors import InvalidInput, ObjectMissing, StateConflict
from graph.usecases import Context
from graph.usecases import documents as cases
from graph.usecases.access import require_editor
from ingest import pending_versions
from ingest.blobstore import BlobStore
from ingest.processing import extract_row
from ingest.textstore import TextStore
from ingest.versiondiff import TextDiff, diff_texts
from settings import Settings

STALE_BASE = "version.stale_base"
PENDING_MISSING = "version.pending_missing"


def _settings(ctx: Context) -> Settings:
    if ctx.settings is None:
        raise ValueError("file use cases need the settings (data directory)")
    return ctx.settings


def refuse(ctx: Context, actor: Actor, stale: docs.StaleBase, note: str) -> StateConflict:
    """Keep the refused upload for its uploader and say so: the 409 every door answers with."""
    pending = pending_versions.hold(_settings(ctx), person_id=actor.person_id, document_id=stale.document_id,
                                    sha256=stale.sha256, filename=stale.filename, note=note, base=stale.base,
                                    current=stale.current, kind=stale.kind)
    audit.record(ctx.store, action="document.version_conflict", actor_id=actor.person_id, target_kind="document",
                 target_id=stale.document_id, client=actor.address,
                 detail={"base": stale.base, "current": stale.current, "sha256": stale.sha256,
                         "filename": stale.filename})
    return StateConflict(STALE_BASE, document_id=stale.document_id, base=stale.base, current=stale.current,
                         pending=pending.token, filename=stale.filename)


def held(ctx: Context, actor: Actor, document_id: str, token: str) -> pending_versions.PendingVersion:
    """The actor's kept upload for this document (missing to anyone else, or once used or cancelled)."""
    require_editor(ctx.store, actor, document_id)
    pending = pending_versions.load(_settings(ctx), token, actor.person_id, document_id)
    if pending is None:
        raise ObjectMissing(PENDING_MISSING)
    return pending


def diff(ctx: Context, actor: Actor, document_id: str, token: str) -> TextDiff:
    """Line diff of the current version's extracted text and the kept upload's text (extracted now)."""
    pending = held(ctx, actor, document_id, token)
    current = cases.version(ctx, actor, document_id, None)
    settings = _settings(ctx)
    stored = TextStore.from_settings(settings).load(current["id"])
    if stored is None:
        raise InvalidInput("version.not_extracted", field="version", number=current["number"])
    extraction = extract_row(BlobStore.from_settings(settings),
                             {"sha256": pending.sha256, "kind": pending.kind, "filename": pending.filename})
    mine = "\n".join(section.text for section in extraction.sections)
    return diff_texts(stored.text, mine, f"v{current['number']} {current['filename']}", pending.filename)


def cancel(ctx: Context, actor: Actor, document_id: str, token: str) -> None:
    """Forget the kept upload (its bytes go with the next blob collection if nothing else holds them)."""
    held(ctx, actor, document_id, token)
    pending_versions.drop(_settings(ctx), token)
    audit.record(ctx.store, action="document.version_conflict_cancel", actor_id=actor.person_id,
                 target_kind="document", target_id=document_id, client=actor.address, detail={})
