"""Purging the trash: a trashed document past ``trash_days`` and not under legal hold loses its graph records,
its search index entries, its extracted texts, and the blobs (and thumbnails) nothing else references.

Blobs are content-addressed and may be shared by several documents (the same bytes uploaded twice, or a
kept upload waiting for its uploader's choice after a version conflict): a blob is deleted only when no
version of any document and no kept upload holds it any more. The beat task
``huitong.purge_trash`` runs :func:`purge_due`; ``huitong trash purge`` runs it by hand.
"""

from __future__ import annotations

import logging
from contextlib import suppress
from dataclasses import dataclass, field

from graph import audit
from graph import trash as graph_trash
from graph.queries import trash as q
from graph.usecases import Context
from ingest import index_registry, pending_versions
from ingest.blobstore import BlobStore
from ingest.textstore import TextStore
from ingest.thumbnails import thumbnail_path
from settings import Settings

log = logging.getLogger(__name__)
DAY_MS = 24 * 3600 * 1000


@dataclass
class PurgeReport:
    purged: list[str] = field(default_factory=list)
    blobs_deleted: int = 0
    blobs_kept: int = 0  # still referenced by another document's version or by a kept upload

    def as_json(self) -> dict[str, object]:
        return {"purged": len(self.purged), "documents": self.purged, "blobs_deleted": self.blobs_deleted,
                "blobs_kept": self.blobs_kept}


def _settings(ctx: Context) -> Settings:
    if ctx.settings is None:
        raise ValueError("purging needs the settings (data directory)")
    return ctx.settings


def purge(ctx: Context, document_id: str, report: PurgeReport | None = None) -> PurgeReport:
    """Purge one trashed document now (no-op when it was restored or put under hold meanwhile)."""
    report = report if report is not None else PurgeReport()
    settings = _settings(ctx)
    parts = ctx.store.run(q.PARTS, {"id": document_id})
    rows = ctx.store.run(q.PURGE, {"id": document_id})
    if not rows or not int(rows[0]["purged"]):
        return report
    # The graph records are gone (the statement re-checked trash and hold); the rest follows, each step
    # idempotent so a crash here leaves only unreferenced files for the next collection.
    index_registry.search_index(settings).delete_document(document_id)
    texts = TextStore.from_settings(settings)
    for part in parts:
        with suppress(ValueError, FileNotFoundError):
            texts.path(part["version_id"]).unlink()
    deleted, kept = collect_blobs(ctx, {p["sha256"] for p in parts if p["sha256"]})
    report.purged.append(document_id)
    report.blobs_deleted += deleted
    report.blobs_kept += kept
    audit.record(ctx.store, action="document.purge", target_kind="document", target_id=document_id,
                 detail={"versions": len(parts), "blobs_deleted": deleted, "blobs_kept": kept})
    return report


def collect_blobs(ctx: Context, hashes: set[str]) -> tuple[int, int]:
    """Delete the blobs among ``hashes`` that nothing references any more; returns (deleted, kept)."""
    if not hashes:
        return 0, 0
    settings = _settings(ctx)
    held = pending_versions.held_hashes(settings)
    refs = {r["sha256"]: int(r["refs"]) for r in ctx.store.run(q.BLOB_REFERENCES, {"hashes": sorted(hashes)})}
    blobs = BlobStore.from_settings(settings)
    deleted = kept = 0
    for sha256 in sorted(hashes):
        if refs.get(sha256, 0) > 0 or sha256 in held:
            kept += 1
            continue
        with suppress(ValueError, FileNotFoundError):
            blobs.path(sha256).unlink()
            deleted += 1
        with suppress(ValueError, FileNotFoundError):
            thumbnail_path(settings, sha256).unlink()
    return deleted, kept


def purge_due(ctx: Context, *, limit: int = 200) -> PurgeReport:
    """Purge every trashed document older than ``trash_days`` and not under legal hold."""
    settings = _settings(ctx)
    report = PurgeReport()
    for document_id in graph_trash.due_for_purge(ctx, settings.trash_days * DAY_MS, limit=limit):
        try:
            purge(ctx, document_id, report)
        except Exception:  # one bad document must not stop the others; the next run retries it
            log.exception("could not purge document %s", document_id)
    return report
