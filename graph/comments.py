"""Comments on documents: anyone who may read a document may comment on it and read its comments.

Comments are graph nodes (they are knowledge: who said what about which version), written
through the statements of :mod:`graph.queries.comments` and recorded in the audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass

from graph import audit
from graph import documents as docs
from graph.queries import comments as q
from graph.store import GraphStore, Row

MAX_COMMENT = 4000


@dataclass(frozen=True)
class CommentPage:
    rows: list[Row]
    total: int


def add_comment(store: GraphStore, actor_id: str, document_id: str, text: str, *,
                client: str | None = None, at: int | None = None) -> str:
    """Store a comment on the document's current version; returns its id. Empty text is refused."""
    docs.require_read(store, actor_id, document_id)
    text = str(text or "").strip()
    if not text:
        raise docs.DocumentError("the comment is empty")
    if len(text) > MAX_COMMENT:
        raise docs.DocumentError(f"the comment is longer than {MAX_COMMENT} characters")
    document = docs.get_document(store, document_id)
    if document is None:
        raise docs.NotFound("no such document")
    comment_id = docs.new_id()
    rows = store.run(q.ADD_DOCUMENT_COMMENT, {
        "document_id": document_id, "actor_id": actor_id, "id": comment_id, "text": text,
        "at": at if at is not None else docs.now_ms(), "version_id": document["current_version_id"],
    })
    if not rows:
        raise docs.NotFound("the document or the author disappeared")
    audit.record(store, action="document.comment", actor_id=actor_id, target_kind="document",
                 target_id=document_id, client=client, detail={"comment_id": comment_id, "chars": len(text)})
    return comment_id


def list_comments(store: GraphStore, viewer_id: str, document_id: str, *, page: int = 1,
                  per_page: int = 50) -> CommentPage:
    """Newest first, one page, for someone who may read the document."""
    docs.require_read(store, viewer_id, document_id)
    page, per_page = max(int(page), 1), min(max(int(per_page), 1), 200)
    total = store.run(q.COUNT_DOCUMENT_COMMENTS, {"document_id": document_id})[0]["total"]
    rows = store.run(q.DOCUMENT_COMMENTS, {"document_id": document_id, "skip": (page - 1) * per_page,
                                           "limit": per_page})
    return CommentPage(rows, int(total))
