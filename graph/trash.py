"""Trash and legal hold, one function per action (the graph part; purging files and index: :mod:`ingest.retention`).

Owners and administrators move a document to the trash and restore it; administrators set and clear a
legal hold, which keeps a trashed document from being purged. A trashed document leaves every readable
set and access path at once (``d.trashed_at``, see :mod:`graph.queries.permissions`): search, browse,
related, decision and duplicate panels and counts all stop showing it, and its page is a 404 to everyone.
Only the trash page and restore still see it, and only for its owners and administrators: to anyone else
it is a missing document. Every change is audited and bumps the permission version.
"""

from __future__ import annotations

from typing import Any

from graph import audit, live, permissions
from graph import documents as docs
from graph.actor import Actor
from graph.errors import NotPermitted, ObjectMissing, StateConflict
from graph.queries import permissions as pq
from graph.queries import trash as q
from graph.store import Row
from graph.usecases import Context
from graph.usecases.access import MISSING, forget, require_manager

TRASH_LIMIT = 500


def _changed(ctx: Context, actor: Actor, document_id: str, action: str) -> None:
    """After a trash or restore: every process re-reads the document's grants, then audit and announce."""
    permissions.record_change(ctx.store, documents=[document_id])
    forget(actor, document_id)
    audit.record(ctx.store, action=action, actor_id=actor.person_id, target_kind="document",
                 target_id=document_id, client=actor.address)
    # Watchers of the page reload it (and now get the 404 or the restored document).
    if ctx.settings is not None:
        live.document_changed(ctx.settings, document_id, "metadata")


def _subject(ctx: Context, actor: Actor, document_id: str) -> Row:
    rows = ctx.store.run(q.SUBJECT, {"id": document_id, "person_id": actor.person_id})
    return rows[0] if rows else {}


def trash(ctx: Context, actor: Actor, document_id: str) -> None:
    """Move a document to the trash (owner or administrator; anyone who cannot read it gets the 404)."""
    require_manager(ctx.store, actor, document_id)
    if not ctx.store.run(q.TRASH, {"id": document_id, "now": docs.now_ms(), "actor_id": actor.person_id}):
        raise StateConflict("trash.already", id=document_id)
    _changed(ctx, actor, document_id, "document.trash")


def _require_trash_manager(ctx: Context, actor: Actor, document_id: str) -> Row:
    """The trashed document's row for its owner or an administrator; a missing document to anyone else."""
    found = _subject(ctx, actor, document_id)
    if not found or not (found["owner"] or found["admin"]):
        raise ObjectMissing(MISSING, id=document_id)
    if found["trashed_at"] is None:
        raise StateConflict("trash.not_trashed", id=document_id)
    return found


def restore(ctx: Context, actor: Actor, document_id: str) -> None:
    """Take a document out of the trash: readable again by everyone who could read it before."""
    _require_trash_manager(ctx, actor, document_id)
    if not ctx.store.run(q.RESTORE, {"id": document_id}):
        raise StateConflict("trash.not_trashed", id=document_id)
    _changed(ctx, actor, document_id, "document.restore")


def set_legal_hold(ctx: Context, actor: Actor, document_id: str, hold: bool) -> None:
    """Set or clear a legal hold (administrators only; a hold keeps a trashed document from being purged)."""
    found = _subject(ctx, actor, document_id)
    visible = found and (found["admin"] or found["owner"] or (
        found["trashed_at"] is None and permissions.can_read(ctx.store, actor.person_id, document_id).allowed))
    if not visible:
        raise ObjectMissing(MISSING, id=document_id)
    if not found["admin"]:
        raise NotPermitted("trash.admin_only")
    ctx.store.run(q.SET_HOLD, {"id": document_id, "hold": bool(hold)})
    audit.record(ctx.store, action="document.legal_hold" if hold else "document.legal_hold_cleared",
                 actor_id=actor.person_id, target_kind="document", target_id=document_id, client=actor.address)


def trashed(ctx: Context, actor: Actor, *, everyone: bool = False, limit: int = TRASH_LIMIT) -> list[dict[str, Any]]:
    """The trash page: the actor's trashed documents, newest first (``everyone``: all of them, administrators)."""
    owner: str | None = actor.person_id
    if everyone:
        if not _is_admin(ctx, actor):
            raise NotPermitted("trash.admin_only")
        owner = None
    return ctx.store.run(q.LIST_TRASHED, {"owner_id": owner, "limit": max(1, min(int(limit), TRASH_LIMIT))})


def _is_admin(ctx: Context, actor: Actor) -> bool:
    rows = ctx.store.run(pq.PRINCIPALS, {"person_id": actor.person_id})
    return bool(rows and rows[0]["active"] is True and rows[0]["admin"])


def due_for_purge(ctx: Context, older_than_ms: int, *, limit: int = 200) -> list[str]:
    """Trashed documents past retention and not under legal hold (the retention task purges them)."""
    return [r["id"] for r in ctx.store.run(q.DUE_FOR_PURGE, {"before": docs.now_ms() - older_than_ms,
                                                            "limit": limit})]
