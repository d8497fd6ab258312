"""Access to one document, decided once per request and memoised on the actor.

The refusals are neutral: an actor who may not read a document gets exactly the answer of a missing id
(``ObjectMissing("document.missing")``), never the reason, the title or the classification. Only a
reader may be told why they may read ("why can I see this?"), or that they may read but not change.
"""

from __future__ import annotations

from graph import audit, permissions
from graph.actor import Actor
from graph.errors import NotPermitted, ObjectMissing
from graph.store import GraphStore

MISSING = "document.missing"


def decision(store: GraphStore, actor: Actor, document_id: str) -> permissions.Decision:
    """Read and edit access from one evaluation of the path query, once per actor (request) and document."""
    return actor.memo(("document.access", document_id),
                      lambda: permissions.decide(store, actor.person_id, document_id))


MEMO_KINDS = ("document.access", "document.row", "document.versions")


def forget(actor: Actor, document_id: str) -> None:
    """After a write to the document (a share, a new level, new details, a new version): what this request
    memoised about it is read again."""
    for kind in MEMO_KINDS:
        actor.forget((kind, document_id))


def require_reader(store: GraphStore, actor: Actor, document_id: str) -> permissions.Decision:
    found = decision(store, actor, document_id)
    if not found.read.allowed:
        # The answer is the neutral 404; the trail records who asked for an existing document they may not see.
        audit.refusal(store, actor.person_id, "document", document_id, found.read, client=actor.address)
        raise ObjectMissing(MISSING, id=document_id)
    return found


def require_editor(store: GraphStore, actor: Actor, document_id: str) -> permissions.Decision:
    found = require_reader(store, actor, document_id)
    if not found.edit.allowed:
        raise NotPermitted("document.read_only")
    return found


def require_manager(store: GraphStore, actor: Actor, document_id: str) -> permissions.Decision:
    """Owner or administrator: may change the access level, preview shares, see who can and who did read."""
    found = require_reader(store, actor, document_id)
    if not found.manages:
        raise NotPermitted("document.owner_only")
    return found
