"""Reminders, overdue warnings and escalation, as ``(:Notification)`` nodes; pure functions of ``now``.

A notification's id is derived (uuid5) from what it says — kind, task, deadline, recipient — so
running the scan again, from any number of workers, never produces the same notice twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from graph import audit, notifications
from graph.actor import Actor
from graph.errors import NotPermitted
from graph.queries import workflow_inbox as q
from graph.queries import workflows as wq
from graph.store import GraphStore
from settings import Settings

HOUR_MS = 3_600_000
_NAMESPACE = uuid.UUID("0b8a4c7e-51f2-4d0e-9f53-6c1d2a7e9b40")
ADMIN_ROLE = "admin"


@dataclass(frozen=True)
class ReminderPolicy:
    remind_before_ms: int = 4 * HOUR_MS  # "due soon" notice to the assignee
    escalate_after_ms: int = 24 * HOUR_MS  # past the deadline by this much: tell the next level up
    batch: int = 1000


@dataclass(frozen=True)
class Recipients:
    people: list[str]  # the assignee, or the members of the assignee queue
    heads: list[str]  # heads of the assignee's departments (overdue warnings)
    escalation: list[str]  # heads one level above (escalation), else the administrators


def notification(kind: str, task: dict[str, Any], person_id: str, now: int, *, key: str = "",
                 text: str = "") -> dict[str, Any]:
    """A notification row for :func:`notify`; ``key`` separates notices of the same kind (a deadline, an hour)."""
    notice_id = str(uuid.uuid5(_NAMESPACE, f"{kind}:{task['id']}:{key}:{person_id}"))
    props = {"id": notice_id, "kind": kind, "task_id": task["id"], "run_id": task.get("run_id"),
             "person_id": person_id, "title": task.get("title"), "step_name": task.get("step_name"),
             "due_at": task.get("due_at"), "text": text or None, "created_at": now}
    return {"person_id": person_id, "task_id": task["id"], "props": {k: v for k, v in props.items() if v is not None}}


def notify(store: GraphStore, rows: list[dict[str, Any]], *, now: int) -> list[str]:
    """Store notifications; returns the ids of those that did not exist yet."""
    if not rows:
        return []
    result = store.run(q.NOTIFY, {"rows": rows, "token": f"{now}:{uuid.uuid4()}"})
    return [r["id"] for r in result if r["created"]]


def task_recipients(store: GraphStore, task_id: str) -> Recipients:
    rows = store.run(q.TASK_RECIPIENTS, {"task_id": task_id})
    if not rows:
        return Recipients([], [], [])
    row = rows[0]
    if "Person" in row["kinds"]:
        people = [row["assignee_id"]]
        units = row["own_units"]
    else:
        people = sorted(set(row["members"]))
        units = [row["assignee_id"]] if "Department" in row["kinds"] else row["holder_units"]
    heads, above, parents = _heads(store, units)
    heads -= set(people)
    if not heads:
        # The assignee heads their own unit: warn the level above, escalate one level higher still.
        heads = above - set(people)
        above = _heads(store, parents)[1]
    above -= heads | set(people)
    if not above:
        above = {r["id"] for r in store.run(wq.ADMINS, {"role": ADMIN_ROLE})} - set(people)
    return Recipients(people, sorted(heads), sorted(above))


def _heads(store: GraphStore, units: Iterable[str]) -> tuple[set[str], set[str], list[str]]:
    """Heads of the units, heads of their parent units, and the parent units' ids."""
    heads: set[str] = set()
    above: set[str] = set()
    parents: set[str] = set()
    for unit in store.run(q.UNIT_HEADS, {"unit_ids": sorted(set(units))}):
        heads.update(unit["heads"])
        above.update(unit["parent_heads"])
        parents.update(unit["parent_ids"])
    return heads, above, sorted(parents)


def run_reminders(store: GraphStore, *, now: int, policy: ReminderPolicy = ReminderPolicy()) -> list[dict[str, Any]]:
    """Produce every reminder, warning and escalation due at ``now``; returns the new notifications."""
    created: list[dict[str, Any]] = []
    candidates = store.run(q.REMINDER_CANDIDATES, {"horizon": now + policy.remind_before_ms, "limit": policy.batch})
    for row in candidates:
        task = row["task"]
        recipients = task_recipients(store, task["id"])
        deadline = str(task["due_at"])
        rows = list(_notices(task, recipients, now, deadline, policy))
        fresh = set(notify(store, rows, now=now))
        created += [r["props"] for r in rows if r["props"]["id"] in fresh]
        if any(r["props"]["kind"] == "escalation" and r["props"]["id"] in fresh for r in rows):
            store.run(q.MARK_ESCALATED, {"task_id": task["id"], "now": now})
    return created


def _notices(task: dict[str, Any], to: Recipients, now: int, deadline: str,
             policy: ReminderPolicy) -> Iterable[dict[str, Any]]:
    due = task["due_at"]
    if now < due:
        for person_id in to.people:
            yield notification("due_soon", task, person_id, now, key=deadline)
        return
    for person_id in [*to.people, *to.heads]:
        yield notification("overdue", task, person_id, now, key=deadline)
    if now >= due + policy.escalate_after_ms:
        for person_id in to.escalation:
            yield notification("escalation", task, person_id, now, key=deadline)


# -- the use case: what the beat task (and an administrator, by hand) calls ------------------------------------


def scheduler() -> Actor:
    """The periodic scan's actor: nobody in the organisation, so its audit events carry the door instead."""
    return Actor("", "scheduler", "scheduler", door="worker", address="worker")


def scan(store: GraphStore, settings: Settings | None, actor: Actor, *, now: int,
         policy: ReminderPolicy = ReminderPolicy()) -> list[dict[str, Any]]:
    """Every reminder, overdue warning and escalation due at ``now``: written (idempotently), audited
    (``task.overdue`` once per newly overdue task, which outgoing webhooks subscribe to; ``task.escalated``
    per escalation) and announced live to the recipients (notice count and inbox badge). Returns the new
    notifications; e-mail and group robots are the caller's to send. For the scheduler, or an administrator."""
    if actor.door != "worker" and not actor.is_admin:
        raise NotPermitted("reminders.scheduler_only")
    created = run_reminders(store, now=now, policy=policy)
    _audit(store, actor, created)
    if settings is not None:
        notifications.announce(settings, created)
    return created


def _audit(store: GraphStore, actor: Actor, created: list[dict[str, Any]]) -> None:
    first: dict[tuple[str, str], dict[str, Any]] = {}
    for notice in created:
        kind, task_id = notice.get("kind"), notice.get("task_id")
        if kind in ("overdue", "escalation") and task_id:
            first.setdefault((kind, task_id), notice)
    events = [audit.Event("task.overdue" if kind == "overdue" else "task.escalated", actor.person_id or None,
                          "task", task_id, actor.address or actor.door,
                          {"title": n.get("title"), "step": n.get("step_name"), "due_at": n.get("due_at"),
                           "run_id": n.get("run_id")})
              for (kind, task_id), n in first.items()]
    if events:
        audit.record_many(store, events)
