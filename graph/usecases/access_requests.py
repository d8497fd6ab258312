"""申请权限 — "request access": from the neutral "not found" answer for a document, a person asks its owner
to share it with them.

Neutrality first. The page that offers the request and the answer to it are the same whether the id names a
document or nothing: a request for a missing document, or for one the person can already read, is silently
dropped (nothing written, nothing audited), and the same acknowledgement is shown. Every request counts
against the person's limit BEFORE anything is looked up, so being limited says nothing about any id either.

A request that is passed on becomes an in-app notification to the owner (mailed like any other when e-mail is
configured, see workers/notify.py), names the person asking and their note, and is audited
(``document.access_request``). The owner answers with one click: the notification carries a "share with
this person" form that goes through the ordinary share use case (:func:`graph.usecases.documents.share`).
"""

from __future__ import annotations

import time

from graph import audit, document_rows, notifications, permissions, throttle
from graph.actor import Actor
from graph.errors import DomainError
from graph.usecases import Context

KIND = "access_requested"
MAX_NOTE = 500
FREE_REQUESTS = 5  # then each further request within the hour waits longer (1 s, 2 s, 4 s ... 15 min)
DAY_MS = 24 * 3_600_000


class TooManyRequests(DomainError):
    status = 429


def _limit(actor: Actor) -> throttle.Rule:
    return throttle.Rule(f"access_request:{actor.person_id}", FREE_REQUESTS, "person")


def request_access(ctx: Context, actor: Actor, document_id: str, note: str = "", *, now: int | None = None) -> None:
    """Ask the owner of ``document_id`` to share it with ``actor``. Returns nothing, whatever happened (see
    the module's notes); only being over the limit is an error (``access_request.too_many``)."""
    now = int(time.time() * 1000) if now is None else now
    if not actor.person_id:
        return
    rule = _limit(actor)
    retry = throttle.retry_at(ctx.store, [rule], now)
    if retry > now:
        raise TooManyRequests("access_request.too_many", seconds=max(1, -(-(retry - now) // 1000)))
    throttle.fail(ctx.store, [rule], now)  # every request counts, whatever the id names
    if permissions.decide(ctx.store, actor.person_id, document_id).read.allowed:
        return  # already a reader: nothing to ask for
    document = document_rows.get_document(ctx.store, document_id)
    owner = (document or {}).get("owner_id")
    if document is None or not owner or owner == actor.person_id or document.get("trashed_at"):
        return
    text = " ".join((note or "").split())[:MAX_NOTE]
    # One notice per person, document and day: asking again the same day does not notify the owner again.
    notifications.send(ctx.store, ctx.settings, [notifications.notice(
        KIND, owner, event=f"{document_id}:{actor.person_id}:{now // DAY_MS}", now=now, document_id=document_id,
        title=str(document.get("title") or ""), text=text, by_name=actor.name or actor.username,
        by_username=actor.username, by_id=actor.person_id)])
    audit.record(ctx.store, action="document.access_request", actor_id=actor.person_id, target_kind="document",
                 target_id=document_id, client=actor.address or actor.door, at=now,
                 detail={"owner_id": owner, "note": text})
