"""What a workflow action means for the people concerned: notices, and the ``task.created`` /
``run.finished`` audit events that outgoing webhooks subscribe to.

The use cases take a :class:`Snapshot` of the run before an action and compare it with the run after it,
so every action — start, approve, reject, return, claim, delegate, 加签, resubmit, feedback, withdraw,
whatever the door — raises the same events without each action listing them:

- a task that is newly open for someone (new, or newly assigned): ``task_arrived`` to its assignee, or to
  every member of its queue; a revision task is the initiator's ``run_returned`` / ``run_rejected``, an
  acceptance task their ``feedback_requested``;
- a run whose work ended: ``run_approved`` / ``run_rejected`` / ``run_finished`` to the initiator, and
  ``run_withdrawn`` to those who had it open. The actor is never told about their own action.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graph import audit, notifications
from graph.actor import Actor
from graph.queries import workflows as q
from graph.store import GraphStore
from graph.workflows import runs
from settings import Settings

ENDED = ("awaiting_feedback", "closed", "withdrawn")
_RUN_ENDED = {"approved": "run_approved", "rejected": "run_rejected", "completed": "run_finished",
              "withdrawn": "run_withdrawn"}


@dataclass(frozen=True)
class Snapshot:
    """A run as the people concerned see it: its status and its open tasks with their assignees."""

    run: dict[str, Any]
    tasks: list[dict[str, Any]]
    cc: list[str] = field(default_factory=list)

    @property
    def open(self) -> dict[str, tuple[str, str]]:
        return {t["id"]: (t["assignee_kind"], t["assignee_id"]) for t in self.tasks
                if t["status"] in runs.OPEN_TASK_STATUSES}


def snapshot(store: GraphStore, run_id: str) -> Snapshot:
    view = runs.run_view(store, run_id)
    return Snapshot(view["run"], view["tasks"], list(view["cc"]))


def people_of(store: GraphStore, snap: Snapshot) -> set[str]:
    """Everyone whose inbox the run touches: initiator, copied, assignees, members of open queue tasks."""
    people = {snap.run["initiator_id"], *snap.cc}
    for task in snap.tasks:
        if task["assignee_kind"] == "person":
            people.add(task["assignee_id"])
        elif task["status"] in runs.OPEN_TASK_STATUSES:
            people.update(_queue(store, task))
    return people


def _queue(store: GraphStore, task: dict[str, Any]) -> list[str]:
    rows = store.run(q.QUEUE_BY_ID, {"kind": task["assignee_kind"], "id": task["assignee_id"]})
    return list(rows[0]["members"]) if rows else []


def _task_kind(task: dict[str, Any]) -> str:
    if task["kind"] == "revise":
        return "run_rejected" if task.get("reason") == "rejected" else "run_returned"
    if task["kind"] == "acceptance":
        return "feedback_requested"
    return "task_arrived"


def raise_events(store: GraphStore, settings: Settings | None, actor: Actor, before: Snapshot | None,
                 after: Snapshot, *, now: int) -> list[str]:
    """Notify and audit what changed between two snapshots of one run; returns the new notice ids."""
    run = after.run
    rows: list[dict[str, Any]] = []
    events: list[audit.Event] = []
    was_open = before.open if before else {}
    known = {t["id"] for t in before.tasks} if before else set()
    by = actor.name or actor.username
    for task in after.tasks:
        if task["status"] not in runs.OPEN_TASK_STATUSES or was_open.get(task["id"]) == (
                task["assignee_kind"], task["assignee_id"]):
            continue
        if task["id"] not in known:
            events.append(audit.Event("task.created", actor.person_id, "task", task["id"], actor.address, {
                "run_id": run["id"], "kind": task["kind"], "step": task.get("step_key"),
                "assignee_kind": task["assignee_kind"], "assignee_id": task["assignee_id"],
                "due_at": task.get("due_at")}))
        people = [task["assignee_id"]] if task["assignee_kind"] == "person" else _queue(store, task)
        kind = _task_kind(task)
        event = f"{task['id']}:{task['assignee_id']}"
        extra: dict[str, Any] = {"outcome": run.get("outcome")} if kind == "feedback_requested" else {}
        rows += [notifications.notice(kind, p, event=event, now=now, task=task, by_name=by, queue=(
            task["assignee_name"] if task["assignee_kind"] != "person" else None), **extra)
                 for p in people if p != actor.person_id]
    ended = run["status"] in ENDED and (before is None or before.run["status"] not in ENDED)
    if ended:
        outcome = str(run.get("outcome") or run["status"])
        events.append(audit.Event("run.finished", actor.person_id, "run", run["id"], actor.address, {
            "outcome": outcome, "status": run["status"], "workflow": run.get("workflow_key")}))
        kind = _RUN_ENDED.get(outcome, "run_finished")
        if run["status"] == "withdrawn" and before is not None:
            told = {p for t in before.tasks if t["status"] in runs.OPEN_TASK_STATUSES
                    for p in ([t["assignee_id"]] if t["assignee_kind"] == "person" else _queue(store, t))}
        elif run["status"] == "awaiting_feedback":
            told = set()  # the acceptance task's feedback_requested says it
        else:
            told = {run["initiator_id"]}
        rows += [notifications.notice(kind, p, event=f"{run['id']}:{run['round']}", now=now, title=run["title"],
                                      run_id=run["id"], by_name=by, outcome=outcome)
                 for p in sorted(told) if p != actor.person_id]
    if events:
        audit.record_many(store, events)
    return notifications.send(store, settings, rows)
