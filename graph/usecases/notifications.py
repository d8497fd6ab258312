"""A person's notifications: list them, mark one or all read. Only the addressee ever sees or touches one:
anyone else's notification answers as a missing one."""

from __future__ import annotations

import time
from typing import Any

from graph import live
from graph import notifications as notices
from graph.actor import Actor
from graph.errors import ObjectMissing
from graph.queries import notifications as q
from graph.usecases import Context
from graph.workflows import inbox

LIMIT = 100


def notifications(ctx: Context, actor: Actor, *, unread_only: bool = False, limit: int = LIMIT) -> list[dict[str, Any]]:
    """The actor's notifications, newest first, what they are about named in the actor's language."""
    from graph.analytics import notices as trend_notices  # analytics loads numpy: only when listing

    rows = inbox.notifications(ctx.store, actor.person_id, unread_only=unread_only, limit=limit)
    return trend_notices.named(ctx.store, rows, actor.lang)


def _announce(ctx: Context, actor: Actor, which: str) -> None:
    if ctx.settings is not None:
        live.publish_to_people(ctx.settings, [actor.person_id], "notification", {"read": which})


def mark_read(ctx: Context, actor: Actor, notification_id: str) -> bool:
    """Mark the actor's notification read; True when it was unread. Someone else's: ``ObjectMissing``."""
    rows = ctx.store.run(q.READ_OWN_NOTIFICATION, {"person_id": actor.person_id, "id": notification_id,
                                                   "now": int(time.time() * 1000)})
    if not rows:
        raise ObjectMissing("notification.missing", id=notification_id)
    if rows[0]["unread"]:
        _announce(ctx, actor, notification_id)
    return bool(rows[0]["unread"])


def mark_all_read(ctx: Context, actor: Actor) -> int:
    """Mark every unread notification of the actor read; returns how many."""
    marked = 0
    for notice in inbox.notifications(ctx.store, actor.person_id, unread_only=True, limit=LIMIT):
        rows = ctx.store.run(q.READ_OWN_NOTIFICATION, {"person_id": actor.person_id, "id": notice["id"],
                                                       "now": int(time.time() * 1000)})
        marked += bool(rows and rows[0]["unread"])
    if marked:
        _announce(ctx, actor, "all")
    return marked


def preferences(ctx: Context, actor: Actor) -> dict[str, Any]:
    """The actor's own notification preferences: ``{"muted": [kinds], "digest": bool}``."""
    return notices.preferences(ctx.store, actor.person_id)


def set_preferences(ctx: Context, actor: Actor, *, muted: list[str], digest: bool) -> dict[str, Any]:
    """Save the actor's own preferences (muted kinds, daily digest instead of one e-mail per notice); audited."""
    saved = notices.set_preferences(ctx.store, actor.person_id, muted=muted, digest=digest)
    from graph import audit

    audit.record(ctx.store, action="account.notifications", actor_id=actor.person_id, target_kind="person",
                 target_id=actor.person_id, client=actor.address, detail=saved)
    return saved


def update_preferences(ctx: Context, actor: Actor, *, muted: list[str] | None = None,
                       digest: bool | None = None) -> dict[str, Any]:
    """The one door-independent change of the actor's own preferences (web page, CLI, API): what is given
    replaces the stored value, what is left out (None) keeps it. Unknown kinds are refused (field ``muted``)."""
    current = preferences(ctx, actor)
    return set_preferences(ctx, actor, muted=current["muted"] if muted is None else list(muted),
                           digest=current["digest"] if digest is None else bool(digest))


DIGEST_WORDS = {"daily": True, "off": False}


def in_words(saved: dict[str, Any]) -> dict[str, Any]:
    """Preferences as the CLI and the API show them: ``{"muted": [...], "digest": "daily"|"off", "kinds": [...]}``
    (``digest`` in the words their options take; ``kinds`` lists every kind one may mute)."""
    return {"muted": list(saved["muted"]), "digest": "daily" if saved["digest"] else "off",
            "kinds": list(notices.KINDS)}
