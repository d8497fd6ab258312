"""A document's history: the provenance timeline (what changed, by whom, when) for every reader, and the
"who read it" list for those allowed to read the audit of the document.

Rule (docs/permissions.md): the reads of a document — page opens, downloads, version comparisons — are
shown to its owner and to administrators only; the changes are part of the document's knowledge and
are shown to every reader. Both lists are filtered to their actions IN THE QUERY, before the limit, so
a thousand reads never push a share or a classification change out of the timeline.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from graph.actor import Actor
from graph.queries import audit as aq
from graph.store import Row
from graph.usecases import Context, documents
from graph.usecases.access import require_manager, require_reader

# action -> the word the timeline shows
CHANGES = {
    "document.upload": "uploaded", "document.version": "new_version", "document.update": "changed",
    "document.share": "shared", "document.unshare": "unshared", "document.extracted": "extracted",
    "document.comment": "commented", "document.classify": "changed", "document.decision": "decided",
    "decision.record": "decided",
}
READS = {
    "document.view": "viewed", "document.download": "downloaded", "document.diff": "compared",
    "document.thumbnail": "viewed",
    "document.read": "read",  # text reads audited before views were (kept so old trails still show)
}
LIMIT = 200
READS_ON_PAGE = 30  # the document page lists the newest reads; each row is formatted (time, label) per request


def timeline(ctx: Context, actor: Actor, document_id: str, *, limit: int = LIMIT) -> list[Row]:
    """The changes, oldest first: uploads, versions, shares, classification and metadata, comments, decisions.

    Completed with the versions themselves (a version always shows, even one created before auditing existed).
    """
    require_reader(ctx.store, actor, document_id)
    entries = _entries(ctx, document_id, CHANGES, limit)
    seen = {e["detail"].get("version_id") for e in entries if e["action"] in ("document.upload", "document.version")}
    for v in documents.versions(ctx, actor, document_id):  # read once per request with the page's other parts
        if v["id"] not in seen:
            entries.append({"at": v["created_at"], "kind": "uploaded" if v["number"] == 1 else "new_version",
                            "action": "version", "actor_id": v["author_id"], "actor": v["author_username"],
                            "actor_name": v["author_name"],
                            "detail": {"version_id": v["id"], "number": v["number"], "filename": v.get("filename")}})
    return sorted(entries, key=lambda e: e["at"])


def reads(ctx: Context, actor: Actor, document_id: str, *, limit: int = LIMIT) -> list[Row]:
    """Who read the document and when, newest first (owner and administrators only)."""
    require_manager(ctx.store, actor, document_id)
    return _entries(ctx, document_id, READS, limit)[::-1]


def _entries(ctx: Context, document_id: str, actions: Mapping[str, str], limit: int) -> list[Row]:
    rows = ctx.store.run(aq.DOCUMENT_HISTORY, {"document_id": document_id, "actions": sorted(actions),
                                               "limit": max(int(limit), 1)})
    return [{"at": r["at"], "kind": actions[r["action"]], "action": r["action"], "actor_id": r["actor_id"],
             "actor": r["actor_username"], "actor_name": r["actor_name"], "detail": _detail(r["detail"])}
            for r in reversed(rows)]


def _detail(detail: str | None) -> dict[str, Any]:
    if not detail:
        return {}
    try:
        value = json.loads(detail)
    except ValueError:
        return {"text": detail}
    return dict(value) if isinstance(value, Mapping) else {"value": value}
