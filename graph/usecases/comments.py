"""Comments on documents: anyone who may read a document may comment on it and read its comments.

Comments are graph nodes (they are knowledge: who said what about which version), written through the
statements of :mod:`graph.queries.comments`, recorded in the audit trail and announced to the
document's watchers.
"""

from __future__ import annotations

from dataclasses import dataclass

from graph import audit, document_rows, notifications, permissions
from graph import documents as docs
from graph.actor import Actor
from graph.errors import InvalidInput, ObjectMissing
from graph.queries import comments as q
from graph.store import Row
from graph.usecases import Context
from graph.usecases.access import MISSING, require_reader
from graph.usecases.documents import announce

MAX_COMMENT = 4000


@dataclass(frozen=True)
class CommentPage:
    rows: list[Row]
    total: int


def add_comment(ctx: Context, actor: Actor, document_id: str, text: str, *, at: int | None = None) -> str:
    """Store a comment on the document's current version; returns its id. Empty or too long text is refused."""
    require_reader(ctx.store, actor, document_id)
    text = str(text or "").strip()
    if not text:
        raise InvalidInput("comment.empty", field="text")
    if len(text) > MAX_COMMENT:
        raise InvalidInput("comment.too_long", field="text", max=MAX_COMMENT)
    document = document_rows.get_document(ctx.store, document_id)
    if document is None:
        raise ObjectMissing(MISSING, id=document_id)
    comment_id, at = docs.new_id(), at if at is not None else docs.now_ms()
    event = audit.Event("document.comment", actor.person_id, "document", document_id, actor.address,
                        {"comment_id": comment_id, "chars": len(text)}, at)
    rows = ctx.store.run(q.ADD_DOCUMENT_COMMENT_AUDITED, {  # the comment and its audit event: one statement
        "document_id": document_id, "actor_id": actor.person_id, "id": comment_id, "text": text,
        "at": at, "version_id": document["current_version_id"], **event.statement_params(),
    })
    if not rows:
        raise ObjectMissing(MISSING, id=document_id)
    announce(ctx, document_id, "comment", comment_id=comment_id)
    _mention(ctx, actor, document, comment_id, text)
    return comment_id


def _mention(ctx: Context, actor: Actor, document: Row, comment_id: str, text: str) -> None:
    """@someone in a comment: they are told, when they may read the document (else they could not open it)."""
    readers = [p for p in notifications.mentioned(ctx.store, text)
               if p["id"] != actor.person_id and permissions.can_read(ctx.store, p["id"], document["id"]).allowed]
    now = docs.now_ms()
    notifications.send(ctx.store, ctx.settings, [
        notifications.notice("mentioned", p["id"], event=comment_id, now=now, document_id=document["id"],
                             title=str(document.get("title") or ""), text=text[:200],
                             by_name=actor.name or actor.username) for p in readers])


def comments(ctx: Context, actor: Actor, document_id: str, *, page: int = 1, per_page: int = 50) -> CommentPage:
    """Newest first, one page, for someone who may read the document."""
    require_reader(ctx.store, actor, document_id)
    page, per_page = max(int(page), 1), min(max(int(per_page), 1), 200)
    total = ctx.store.run(q.COUNT_DOCUMENT_COMMENTS, {"document_id": document_id})[0]["total"]
    rows = ctx.store.run(q.DOCUMENT_COMMENTS, {"document_id": document_id, "skip": (page - 1) * per_page,
                                               "limit": per_page})
    return CommentPage(rows, int(total))
