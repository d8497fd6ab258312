"""Inbox: my tasks, my queues' unclaimed tasks, runs I started, runs I am copied on; overdue first.

A department's queue is its direct members (not its sub-departments' people: a team's work is
the team's), a position's queue is its holders. Overdue items lead (oldest deadline first); the rest
follow by deadline, where an item without one ranks as if due ``UNDATED_MS`` after it was created: a
task just assigned without a deadline sits among this week's work, ahead of deadlines months away,
and one left waiting long moves up to the front of what is not yet overdue (never above overdue ones).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graph.actor import Actor
from graph.errors import InvalidInput, ObjectMissing
from graph.queries import workflow_inbox as q
from graph.store import GraphStore
from graph.workflows import usecases
from graph.workflows.runs import ACTIVE_RUN_STATUSES, OPEN_TASK_STATUSES

DUE_SOON_MS = 24 * 3_600_000
UNDATED_MS = 3 * 24 * 3_600_000  # an item without a deadline ranks as due this long after its creation
MAX_PAGE = 200
TABS = ("mine", "queues", "started", "copied")
UNREAD_LIMIT = 100  # the badge counts unread notices up to this many ("99+")
BADGE_KEY = ("inbox.badge",)  # where the badge numbers are memoised on the actor for the request


def my_tasks(store: GraphStore, person_id: str, *, now: int, search: str | None = None,
             workflow_key: str | None = None, limit: int = 50, offset: int = 0,
             soon_ms: int = DUE_SOON_MS) -> list[dict[str, Any]]:
    rows = store.run(q.INBOX_MINE, {"person_id": person_id, "statuses": list(OPEN_TASK_STATUSES),
                                    **_filters(now, search, workflow_key, limit, offset)})
    return [_flag(r["task"], now, soon_ms) for r in rows]


def queue_tasks(store: GraphStore, person_id: str, *, now: int, search: str | None = None,
                workflow_key: str | None = None, limit: int = 50, offset: int = 0,
                soon_ms: int = DUE_SOON_MS) -> list[dict[str, Any]]:
    rows = store.run(q.INBOX_QUEUES, {"person_id": person_id, **_filters(now, search, workflow_key, limit, offset)})
    return [{**_flag(r["task"], now, soon_ms), "queue_id": r["queue_id"], "queue_name": r["queue_name"]}
            for r in rows]


def started_runs(store: GraphStore, person_id: str, *, now: int, active_only: bool = True,
                 search: str | None = None, workflow_key: str | None = None, limit: int = 50, offset: int = 0,
                 soon_ms: int = DUE_SOON_MS) -> list[dict[str, Any]]:
    rows = store.run(q.INBOX_STARTED, {"person_id": person_id, "statuses": _run_statuses(active_only),
                                       **_filters(now, search, workflow_key, limit, offset)})
    return [_flag(r["run"], now, soon_ms) for r in rows]


def copied_runs(store: GraphStore, person_id: str, *, now: int, active_only: bool = True,
                search: str | None = None, workflow_key: str | None = None, limit: int = 50, offset: int = 0,
                soon_ms: int = DUE_SOON_MS) -> list[dict[str, Any]]:
    rows = store.run(q.INBOX_COPIED, {"person_id": person_id, "statuses": _run_statuses(active_only),
                                      **_filters(now, search, workflow_key, limit, offset)})
    return [_flag(r["run"], now, soon_ms) for r in rows]


def counts(store: GraphStore, person_id: str, *, now: int, soon_ms: int = DUE_SOON_MS) -> dict[str, int]:
    """Badge numbers: mine (with overdue and due_soon among them), queues, started, copied, and unread
    notices (up to ``UNREAD_LIMIT``), in one statement: the header of every page asks for them."""
    rows = store.run(q.INBOX_COUNTS, {"person_id": person_id, "now": now, "soon": now + soon_ms,
                                      "active": list(ACTIVE_RUN_STATUSES)})
    return badge_numbers(rows[0] if rows else {})


BADGE_NUMBERS = ("mine", "overdue", "due_soon", "queues", "started", "copied", "unread")


def badge_numbers(row: dict[str, Any]) -> dict[str, int]:
    """The badge's numbers from a counting row (zero for a person the graph does not know)."""
    found = {k: int(row.get(k) or 0) for k in BADGE_NUMBERS}
    return {**found, "unread": min(found["unread"], UNREAD_LIMIT)}


def notifications(store: GraphStore, person_id: str, *, unread_only: bool = False,
                  limit: int = 50) -> list[dict[str, Any]]:
    rows = store.run(q.NOTIFICATIONS_FOR, {"person_id": person_id, "unread_only": unread_only,
                                           "limit": _page(limit)})
    return [r["notification"] for r in rows]


def mark_read(store: GraphStore, person_id: str, notification_id: str, *, now: int) -> bool:
    """True when the notification was this person's and unread."""
    return bool(store.run(q.MARK_NOTIFICATION_READ, {"person_id": person_id, "id": notification_id, "now": now}))


def _filters(now: int, search: str | None, workflow_key: str | None, limit: int, offset: int) -> dict[str, Any]:
    text = (search or "").strip().lower() or None
    return {"q": text, "workflow_key": workflow_key or None, "now": now, "undated": UNDATED_MS,
            "skip": max(0, int(offset)), "limit": _page(limit)}


def _page(limit: int) -> int:
    return max(1, min(int(limit), MAX_PAGE))


def _run_statuses(active_only: bool) -> list[str]:
    return list(ACTIVE_RUN_STATUSES) if active_only else [*ACTIVE_RUN_STATUSES, "closed", "withdrawn"]


def _flag(item: dict[str, Any], now: int, soon_ms: int) -> dict[str, Any]:
    due = item.get("due_at")
    return {**item, "overdue": due is not None and due < now,
            "due_soon": due is not None and now <= due < now + soon_ms}


# -- the use cases: what every door (inbox page, /api/v1/tasks, the badge) calls ---------------------------------


@dataclass(frozen=True)
class InboxPage:
    tab: str
    rows: list[dict[str, Any]]
    page: int
    per_page: int
    has_next: bool
    bulk: frozenset[str] = field(default_factory=frozenset)  # tasks approvable from the list (plain approvals)


def person_of(actor: Actor) -> str:
    """An inbox is its owner's: one without a person (an operator, the scheduler) has none."""
    if not actor.person_id:
        raise ObjectMissing("inbox.missing")
    return actor.person_id


def inbox_page(store: GraphStore, actor: Actor, tab: str = "mine", *, now: int, search: str | None = None,
               workflow_key: str | None = None, closed: bool = False, page: int = 1,
               per_page: int = 20, approvable: bool = True) -> InboxPage:
    """One page of the actor's own inbox tab (``approvable``: also which tasks may be approved from the
    list, one definition lookup per task). Nothing is audited (a person reading their own work list
    changes nothing and reveals nothing of anyone else's) and nothing is announced."""
    me = person_of(actor)
    if tab not in TABS:
        raise InvalidInput("inbox.bad_tab", field="tab", value=str(tab)[:40], known=", ".join(TABS))
    page, per_page = max(int(page), 1), _page(per_page)
    common: dict[str, Any] = {"now": now, "search": search, "workflow_key": workflow_key, "limit": per_page + 1,
                              "offset": (page - 1) * per_page}
    if tab == "mine":
        rows = my_tasks(store, me, **common)
    elif tab == "queues":
        rows = queue_tasks(store, me, **common)
    elif tab == "started":
        rows = started_runs(store, me, active_only=not closed, **common)
    else:
        rows = copied_runs(store, me, active_only=not closed, **common)
    has_next, rows = len(rows) > per_page, rows[:per_page]
    bulk = frozenset(_bulk_approvable(store, actor, rows)) if approvable and tab in ("mine", "queues") else frozenset()
    return InboxPage(tab, rows, page, per_page, has_next, bulk)


def _bulk_approvable(store: GraphStore, actor: Actor, tasks: list[dict[str, Any]]) -> list[str]:
    found = []
    for task in tasks:
        try:
            definition = usecases.task_definition(store, actor, task["id"])[1]
        except ObjectMissing:
            continue
        if usecases.bulk_approvable(task, definition):
            found.append(task["id"])
    return found


def badge(store: GraphStore, actor: Actor, *, now: int) -> dict[str, int]:
    """The header badge: the actor's inbox counts and unread notices (up to ``UNREAD_LIMIT``)."""
    me = person_of(actor)
    # The page and its header ask once per request.
    return dict(actor.memo(BADGE_KEY, lambda: counts(store, me, now=now)))
