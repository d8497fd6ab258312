"""The header every page shows about the signed-in person: inbox badge numbers and saved views.

Both are asked for by the page template, on every page. Read together they cost one statement; a page whose
view already asked for one of them (the inbox for its counts, the documents list for its views) reuses that
answer and reads only the other. Answers are memoised on the actor under the keys :func:`inbox.badge` and
:func:`saved_views.views` use, so the page and its header agree within a request.
"""

from __future__ import annotations

from dataclasses import dataclass

from graph.actor import Actor
from graph.queries.page_header import PAGE_HEADER
from graph.store import Row
from graph.usecases import Context, saved_views
from graph.workflows import inbox
from graph.workflows.runs import ACTIVE_RUN_STATUSES


@dataclass(frozen=True)
class Header:
    badge: dict[str, int]
    views: list[Row]


def header(ctx: Context, actor: Actor, *, now: int, soon_ms: int = inbox.DUE_SOON_MS) -> Header:
    """The actor's badge numbers and saved views, in one statement at most per request."""
    if actor.remembers(inbox.BADGE_KEY) or actor.remembers(saved_views.memo_key(actor)):
        return Header(inbox.badge(ctx.store, actor, now=now), saved_views.views(ctx, actor))
    rows = ctx.store.run(PAGE_HEADER, {"person_id": inbox.person_of(actor), "now": now, "soon": now + soon_ms,
                                       "active": list(ACTIVE_RUN_STATUSES)})
    row = rows[0] if rows else {}
    badge = inbox.badge_numbers(row)
    views = [dict(v) for v in row.get("views") or [] if v and v.get("id")]
    actor.memo(inbox.BADGE_KEY, lambda: badge)
    actor.memo(saved_views.memo_key(actor), lambda: views)
    return Header(dict(badge), list(views))
