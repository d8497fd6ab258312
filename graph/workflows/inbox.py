"""Inbox: my tasks, my queues' unclaimed tasks, runs I started, runs I am copied on; overdue first.

A department's queue is its direct members (not its sub-departments' people: a team's work is
the team's), a position's queue is its holders. Results come sorted by deadline, so overdue
items lead, then those due soon, then the rest; items without a deadline come last.
"""

from __future__ import annotations

from typing import Any

from graph.queries import workflow_inbox as q
from graph.store import GraphStore
from graph.workflows.runs import ACTIVE_RUN_STATUSES, OPEN_TASK_STATUSES

DUE_SOON_MS = 24 * 3_600_000
_FAR = 2**53  # sorts tasks without a deadline after every real one
MAX_PAGE = 200


def my_tasks(store: GraphStore, person_id: str, *, now: int, search: str | None = None,
             workflow_key: str | None = None, limit: int = 50, offset: int = 0,
             soon_ms: int = DUE_SOON_MS) -> list[dict[str, Any]]:
    rows = store.run(q.INBOX_MINE, {"person_id": person_id, "statuses": list(OPEN_TASK_STATUSES),
                                    **_filters(search, workflow_key, limit, offset)})
    return [_flag(r["task"], now, soon_ms) for r in rows]


def queue_tasks(store: GraphStore, person_id: str, *, now: int, search: str | None = None,
                workflow_key: str | None = None, limit: int = 50, offset: int = 0,
                soon_ms: int = DUE_SOON_MS) -> list[dict[str, Any]]:
    rows = store.run(q.INBOX_QUEUES, {"person_id": person_id, **_filters(search, workflow_key, limit, offset)})
    return [{**_flag(r["task"], now, soon_ms), "queue_id": r["queue_id"], "queue_name": r["queue_name"]}
            for r in rows]


def started_runs(store: GraphStore, person_id: str, *, now: int, active_only: bool = True,
                 search: str | None = None, workflow_key: str | None = None, limit: int = 50, offset: int = 0,
                 soon_ms: int = DUE_SOON_MS) -> list[dict[str, Any]]:
    rows = store.run(q.INBOX_STARTED, {"person_id": person_id, "statuses": _run_statuses(active_only),
                                       **_filters(search, workflow_key, limit, offset)})
    return [_flag(r["run"], now, soon_ms) for r in rows]


def copied_runs(store: GraphStore, person_id: str, *, now: int, active_only: bool = True,
                search: str | None = None, workflow_key: str | None = None, limit: int = 50, offset: int = 0,
                soon_ms: int = DUE_SOON_MS) -> list[dict[str, Any]]:
    rows = store.run(q.INBOX_COPIED, {"person_id": person_id, "statuses": _run_statuses(active_only),
                                      **_filters(search, workflow_key, limit, offset)})
    return [_flag(r["run"], now, soon_ms) for r in rows]


def counts(store: GraphStore, person_id: str, *, now: int, soon_ms: int = DUE_SOON_MS) -> dict[str, int]:
    """Badge numbers: mine (with overdue and due_soon among them), queues, started, copied."""
    rows = store.run(q.INBOX_COUNTS, {"person_id": person_id, "now": now, "soon": now + soon_ms,
                                      "active": list(ACTIVE_RUN_STATUSES)})
    empty = {"mine": 0, "overdue": 0, "due_soon": 0, "queues": 0, "started": 0, "copied": 0}
    return {k: int(v or 0) for k, v in rows[0].items()} if rows else empty


def notifications(store: GraphStore, person_id: str, *, unread_only: bool = False,
                  limit: int = 50) -> list[dict[str, Any]]:
    rows = store.run(q.NOTIFICATIONS_FOR, {"person_id": person_id, "unread_only": unread_only,
                                           "limit": _page(limit)})
    return [r["notification"] for r in rows]


def mark_read(store: GraphStore, person_id: str, notification_id: str, *, now: int) -> bool:
    """True when the notification was this person's and unread."""
    return bool(store.run(q.MARK_NOTIFICATION_READ, {"person_id": person_id, "id": notification_id, "now": now}))


def _filters(search: str | None, workflow_key: str | None, limit: int, offset: int) -> dict[str, Any]:
    text = (search or "").strip().lower() or None
    return {"q": text, "workflow_key": workflow_key or None, "far": _FAR, "skip": max(0, int(offset)),
            "limit": _page(limit)}


def _page(limit: int) -> int:
    return max(1, min(int(limit), MAX_PAGE))


def _run_statuses(active_only: bool) -> list[str]:
    return list(ACTIVE_RUN_STATUSES) if active_only else [*ACTIVE_RUN_STATUSES, "closed", "withdrawn"]


def _flag(item: dict[str, Any], now: int, soon_ms: int) -> dict[str, Any]:
    due = item.get("due_at")
    return {**item, "overdue": due is not None and due < now,
            "due_soon": due is not None and now <= due < now + soon_ms}
