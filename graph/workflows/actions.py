"""What people do to tasks and runs: approve, reject, return, claim, delegate, add a signer, urge...

Authorisation lives here: a person acts only on a task assigned to them or to a queue they are
in (department members, position holders); acting on a queue task claims it first. Admins may
reassign any task. Every outcome is a ``Decision`` linked to its task, run and author.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from typing import Any

from graph import audit, decisions
from graph.analytics import cache
from graph.queries import workflow_audited as aq
from graph.queries import workflows as q
from graph.store import GraphStore
from graph.workflows import reminders
from graph.workflows.definitions import FormError, WorkflowError, validate_form
from graph.workflows.errors import Conflict, NotAllowed, NotFound
from graph.workflows.routing import Assignee, resolve_step
from graph.workflows.runs import (
    OPEN_TASK_STATUSES,
    advance,
    approval_rows,
    new_id,
    person,
    task_row,
)
from graph.workflows.sla import DEFAULT_CALENDAR, WorkingCalendar

# ``event`` (every action): the audit event of the action, written by the statement that records its decision
# (graph.queries.workflow_audited), so the two are stored together or not at all. None: not audited here.
Event = audit.Event | None

ADMIN_ROLE = "admin"
# Decisions that count as "somebody acted": once one exists the initiator can no longer withdraw.
ACTING_KINDS = ("approve", "reject", "return", "claim", "delegate", "reassign", "add_signer", "request_info",
                "complete", "decline")
_seq = itertools.count()


@dataclass
class _Context:
    task: dict[str, Any]
    run: dict[str, Any]
    definition: dict[str, Any] | None
    in_queue: bool
    actor: dict[str, Any]

    @property
    def step(self) -> dict[str, Any] | None:
        if not self.definition or not self.task.get("step_key"):
            return None
        return next(s for s in self.definition["steps"] if s["key"] == self.task["step_key"])

    @property
    def is_admin(self) -> bool:
        return ADMIN_ROLE in self.actor["roles"]


def _load(store: GraphStore, task_id: str, actor_id: str) -> _Context:
    actor = person(store, actor_id)
    rows = store.run(q.TASK_CONTEXT, {"task_id": task_id, "person_id": actor_id})
    if not rows:
        raise NotFound(f"no task {task_id!r}")
    row = rows[0]
    definition = json.loads(row["definition"]) if row["definition"] else None
    return _Context(row["task"], row["run"], definition, bool(row["in_queue"]), actor)


def _require_status(ctx: _Context, *statuses: str) -> None:
    if ctx.task["status"] not in statuses:
        raise Conflict(f"the task is {ctx.task['status']}, not {' or '.join(statuses)}")


def _require_kind(ctx: _Context, *kinds: str) -> None:
    if ctx.task["kind"] not in kinds:
        raise Conflict(f"a {ctx.task['kind']} task cannot be handled this way")


def _authorise(ctx: _Context) -> None:
    """The actor must be the assignee, or a member of the assignee queue."""
    task = ctx.task
    if task["assignee_kind"] == "person":
        if task["assignee_id"] != ctx.actor["id"]:
            raise NotAllowed(f"{ctx.actor['username']} may not act on a task assigned to {task['assignee_name']}")
    elif not ctx.in_queue:
        raise NotAllowed(f"{ctx.actor['username']} is not in the queue {task['assignee_name']}")


def _decision(kind: str, ctx: _Context, now: int, comment: str = "", **extra: Any) -> dict[str, Any]:
    props = {"id": new_id(), "kind": kind, "at": now, "seq": next(_seq), "comment": comment.strip(),
             "task_id": ctx.task["id"], "run_id": ctx.run["id"], "step_key": ctx.task.get("step_key"),
             "actor_id": ctx.actor["id"], "actor_name": ctx.actor["name"], **extra}
    return {k: v for k, v in props.items() if v is not None}


def _decide(store: GraphStore, ctx: _Context, decision: dict[str, Any], task_changes: dict[str, Any], *,
            run_changes: dict[str, Any] | None = None, from_statuses: tuple[str, ...] = ("open",),
            event: Event = None) -> str:
    rows = audit.run_audited(store, q.DECIDE, aq.DECIDE_AUDITED, {
        "task_id": ctx.task["id"], "from_statuses": list(from_statuses), "assignee_id": ctx.task["assignee_id"],
        "actor_id": ctx.actor["id"], "task": task_changes, "run": run_changes or {}, "decision": decision}, event)
    if not rows:
        raise Conflict("the task changed meanwhile: reload it and try again")
    cache.bump(store)  # every task change makes cached analytics stale
    ctx.task.update(task_changes)
    return str(rows[0]["id"])


def _assign(store: GraphStore, ctx: _Context, target: Assignee, decision: dict[str, Any],
            task_changes: dict[str, Any], event: Event = None) -> None:
    changes = {"assignee_kind": target.kind, "assignee_id": target.id, "assignee_name": target.name, **task_changes}
    rows = audit.run_audited(store, q.ASSIGN, aq.ASSIGN_AUDITED, {
        "task_id": ctx.task["id"], "assignee_id": ctx.task["assignee_id"], "actor_id": ctx.actor["id"],
        "person_id": target.id if target.kind == "person" else None,
        "department_id": target.id if target.kind == "department" else None,
        "position_id": target.id if target.kind == "position" else None, "task": changes, "decision": decision},
        event)
    if not rows:
        raise Conflict("the task changed meanwhile: reload it and try again")
    cache.bump(store)
    ctx.task.update(changes)


def _take(store: GraphStore, ctx: _Context, now: int, event: Event = None) -> None:
    """Authorise, and claim a queue task for the actor first (``event``: when the claim is the action)."""
    _authorise(ctx)
    if ctx.task["assignee_kind"] != "person":
        me = Assignee("person", ctx.actor["id"], ctx.actor["name"])
        _assign(store, ctx, me, _decision("claim", ctx, now),
                {"claimed_at": now, "queue_id": ctx.task["assignee_id"]}, event)


# -- task actions --------------------------------------------------------------------------------------


def open_task(store: GraphStore, task_id: str, actor_id: str, *, now: int) -> dict[str, Any]:
    """The task for its assignee (or queue member); the first opening is recorded."""
    ctx = _load(store, task_id, actor_id)
    _authorise(ctx)
    if ctx.task.get("first_opened_at") is None and store.run(q.MARK_OPENED, {"task_id": task_id, "now": now}):
        ctx.task["first_opened_at"] = now
        cache.bump(store)  # waiting time ends at the first opening
    return ctx.task


def claim(store: GraphStore, task_id: str, actor_id: str, *, now: int, event: Event = None) -> None:
    ctx = _load(store, task_id, actor_id)
    _require_status(ctx, *OPEN_TASK_STATUSES)
    if ctx.task["assignee_kind"] == "person":
        raise Conflict(f"the task is already assigned to {ctx.task['assignee_name']}")
    _take(store, ctx, now, event)


def approve(store: GraphStore, task_id: str, actor_id: str, *, now: int, comment: str = "",
            values: dict[str, Any] | None = None, checklist: list[str] | tuple[str, ...] = (),
            attachments: dict[str, Any] | None = None, calendar: WorkingCalendar = DEFAULT_CALENDAR,
            event: Event = None) -> None:
    """Approve (or, for a cross-department request, complete) a task; the run moves on when the step is done."""
    ctx, extra = _checked_approval(store, task_id, actor_id, values, checklist, attachments)
    _take(store, ctx, now)
    kind, outcome = ("complete", "done") if ctx.task["kind"] == "adhoc" else ("approve", "approved")
    _decide(store, ctx, _decision(kind, ctx, now, comment, **extra),
            {"status": "done", "outcome": outcome, "completed_at": now}, event=event)
    _after_task(store, ctx.run["id"], ctx.task, now=now, calendar=calendar)


def check_approve(store: GraphStore, task_id: str, actor_id: str, *, values: dict[str, Any] | None = None,
                  checklist: list[str] | tuple[str, ...] = (), attachments: dict[str, Any] | None = None) -> None:
    """Everything :func:`approve` refuses, without writing: a door checks a decision this way before it stores
    the files that come with it (files by name only), so a refused form leaves no document behind."""
    _checked_approval(store, task_id, actor_id, values, checklist, attachments)


def _checked_approval(store: GraphStore, task_id: str, actor_id: str, values: dict[str, Any] | None,
                      checklist: Any, attachments: dict[str, Any] | None) -> tuple[_Context, dict[str, Any]]:
    ctx = _load(store, task_id, actor_id)
    _require_kind(ctx, "approval", "adhoc")
    _require_status(ctx, "open")
    _authorise(ctx)
    return ctx, (_check_step_inputs(ctx, values, checklist, attachments) if ctx.step else {})


def _check_step_inputs(ctx: _Context, values: dict[str, Any] | None, checklist: Any,
                       attachments: dict[str, Any] | None) -> dict[str, Any]:
    step = ctx.step
    assert step is not None
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    try:
        clean = validate_form(step["fields"], values)
    except FormError as error:
        errors.update(error.errors)  # reported together with the checklist and attachments below
    ticked = set(checklist or ())
    for requirement in step["requirements"]:
        if requirement["key"] not in ticked:
            errors[f"checklist.{requirement['key']}"] = f"confirm: {requirement['label']['zh']}"
    supplied = dict(json.loads(ctx.run.get("attachments") or "{}"))
    supplied.update(json.loads(ctx.run.get("form") or "{}"))
    supplied.update(attachments or {})
    for name in step["attachments"]:
        if not supplied.get(name):
            errors[f"attachments.{name}"] = "required attachment missing"
    if errors:
        raise FormError(errors)
    return {"values": json.dumps(clean, ensure_ascii=False) if clean else None,
            "attachments": json.dumps(attachments, ensure_ascii=False) if attachments else None,
            "checklist": sorted(ticked) or None}


def reject(store: GraphStore, task_id: str, actor_id: str, *, now: int, comment: str,
           calendar: WorkingCalendar = DEFAULT_CALENDAR, event: Event = None) -> None:
    """Reject: the step's reject behaviour applies (back to the initiator, to an earlier step, or the end)."""
    ctx = _load(store, task_id, actor_id)
    _require_kind(ctx, "approval", "adhoc")
    _require_status(ctx, "open")
    _authorise(ctx)
    _require_comment(comment)
    _take(store, ctx, now)
    if ctx.task["kind"] == "adhoc":
        _decide(store, ctx, _decision("decline", ctx, now, comment),
                {"status": "done", "outcome": "declined", "completed_at": now}, event=event)
        _after_task(store, ctx.run["id"], ctx.task, now=now, calendar=calendar)
        return
    _decide(store, ctx, _decision("reject", ctx, now, comment),
            {"status": "done", "outcome": "rejected", "completed_at": now}, event=event)
    on_reject = ctx.step["on_reject"] if ctx.step else {"to": "initiator"}
    target = str(on_reject.get("step") if on_reject["to"] == "step" else on_reject["to"])
    _send_back(store, ctx, target, now=now, calendar=calendar, outcome="rejected")


def return_task(store: GraphStore, task_id: str, actor_id: str, *, now: int, comment: str,
                to_step: str | None = None, calendar: WorkingCalendar = DEFAULT_CALENDAR, event: Event = None) -> None:
    """Return (退回) to a chosen earlier step, or to the initiator when ``to_step`` is None."""
    ctx = _load(store, task_id, actor_id)
    _require_kind(ctx, "approval")
    _require_status(ctx, "open")
    _authorise(ctx)
    _require_comment(comment)
    assert ctx.definition is not None
    keys = [s["key"] for s in ctx.definition["steps"]]
    if to_step is not None and (to_step not in keys or keys.index(to_step) >= keys.index(ctx.task["step_key"])):
        raise Conflict(f"{to_step!r} is not an earlier step of this workflow")
    _take(store, ctx, now)
    _decide(store, ctx, _decision("return", ctx, now, comment, to_step=to_step or "initiator"),
            {"status": "done", "outcome": "returned", "completed_at": now}, event=event)
    _send_back(store, ctx, to_step or "initiator", now=now, calendar=calendar, outcome="returned")


def request_info(store: GraphStore, task_id: str, actor_id: str, *, now: int, question: str,
                 event: Event = None) -> None:
    """Ask the initiator for more information; the task waits until they answer."""
    ctx = _load(store, task_id, actor_id)
    _require_status(ctx, "open")
    _require_kind(ctx, "approval", "adhoc")
    _authorise(ctx)
    _require_comment(question)
    _take(store, ctx, now)
    decision = _decision("request_info", ctx, now, question)
    _decide(store, ctx, decision, {"status": "info_requested"}, event=event)
    reminders.notify(store, [reminders.notification(
        "info_requested", ctx.task, ctx.run["initiator_id"], now, key=decision["id"], text=question)], now=now)


def provide_info(store: GraphStore, task_id: str, actor_id: str, *, now: int, answer: str,
                 event: Event = None) -> None:
    """The initiator answers a request for information; the task is open again."""
    ctx = _load(store, task_id, actor_id)
    _require_status(ctx, "info_requested")
    if ctx.run["initiator_id"] != actor_id:
        raise NotAllowed("only the initiator answers a request for information")
    _require_comment(answer)
    _decide(store, ctx, _decision("provide_info", ctx, now, answer), {"status": "open"},
            from_statuses=("info_requested",), event=event)


def delegate(store: GraphStore, task_id: str, actor_id: str, to_person_id: str, *, now: int,
             comment: str = "", event: Event = None) -> None:
    """Hand one's task to another person (委托/转交)."""
    ctx = _load(store, task_id, actor_id)
    _require_status(ctx, *OPEN_TASK_STATUSES)
    _authorise(ctx)
    target = person(store, to_person_id)
    if target["id"] == actor_id:
        raise Conflict("a task cannot be delegated to oneself")
    _take(store, ctx, now)
    _assign(store, ctx, Assignee("person", target["id"], target["name"]),
            _decision("delegate", ctx, now, comment, to_id=target["id"]), {"delegated_from": actor_id}, event)


def reassign(store: GraphStore, task_id: str, admin_id: str, *, to_kind: str, to_id: str, now: int,
             comment: str = "", event: Event = None) -> None:
    """An admin moves any open task to a person or a department / position queue."""
    ctx = _load(store, task_id, admin_id)
    if not ctx.is_admin:
        raise NotAllowed("only an administrator may reassign tasks of others")
    _require_status(ctx, *OPEN_TASK_STATUSES)
    target = _target(store, to_kind, to_id)
    _assign(store, ctx, target, _decision("reassign", ctx, now, comment, to_id=to_id, to_kind=to_kind), {}, event)


def _target(store: GraphStore, kind: str, target_id: str) -> Assignee:
    if kind == "person":
        found = person(store, target_id)
        return Assignee("person", found["id"], found["name"])
    if kind not in ("department", "position"):
        raise WorkflowError(f"unknown assignee kind {kind!r}")
    rows = store.run(q.QUEUE_BY_ID, {"kind": kind, "id": target_id})
    if not rows:
        raise NotFound(f"no {kind} {target_id!r}")
    return Assignee(kind, target_id, rows[0]["name"])


def add_signer(store: GraphStore, task_id: str, actor_id: str, signer_id: str, *, now: int, comment: str = "",
               calendar: WorkingCalendar = DEFAULT_CALENDAR, event: Event = None) -> str:
    """加签: another person must also approve this step; returns the new task's id."""
    ctx = _load(store, task_id, actor_id)
    _require_kind(ctx, "approval")
    _require_status(ctx, "open")
    _authorise(ctx)
    signer = person(store, signer_id)
    siblings = _round_tasks(store, ctx.run["id"], ctx.task["round"])
    if any(t["assignee_id"] == signer_id and t["status"] in OPEN_TASK_STATUSES for t in siblings):
        raise Conflict(f"{signer['name']} already has this step open")
    _take(store, ctx, now)
    assert ctx.step is not None
    rows = approval_rows(ctx.run, ctx.step, _step_ids(store, ctx.run)[ctx.step["key"]],
                         [Assignee("person", signer["id"], signer["name"])], prev_id=ctx.task["id"], now=now,
                         calendar=calendar, group="added")
    rows[0]["props"]["round"] = ctx.task["round"]
    result = store.run(q.ADD_TASKS, {"run_id": ctx.run["id"], "round": ctx.task["round"], "tasks": rows})
    if not result or not result[0]["created"]:
        raise Conflict("the run moved on meanwhile: reload it and try again")
    cache.bump(store)
    audit.run_audited(store, q.NOTE_ON_RUN, aq.NOTE_ON_RUN_AUDITED, {
        "run_id": ctx.run["id"], "actor_id": actor_id, "task_id": task_id,
        "decision": _decision("add_signer", ctx, now, comment, to_id=signer_id)}, event)
    return str(rows[0]["props"]["id"])


def urge(store: GraphStore, task_id: str, actor_id: str, *, now: int, comment: str = "", event: Event = None) -> int:
    """催办: the initiator (or an admin) nudges the assignee; at most one nudge per hour. Returns notices sent."""
    ctx = _load(store, task_id, actor_id)
    _require_status(ctx, *OPEN_TASK_STATUSES)
    if actor_id != ctx.run["initiator_id"] and not ctx.is_admin:
        raise NotAllowed("only the initiator or an administrator may urge a task")
    people = reminders.task_recipients(store, task_id).people
    hour = now // reminders.HOUR_MS
    made = reminders.notify(store, [reminders.notification("urge", ctx.task, p, now, key=str(hour), text=comment)
                                    for p in people], now=now)
    if made:
        audit.run_audited(store, q.NOTE_ON_RUN, aq.NOTE_ON_RUN_AUDITED, {
            "run_id": ctx.run["id"], "actor_id": actor_id, "task_id": task_id,
            "decision": _decision("urge", ctx, now, comment)}, event)
    return len(made)


def resubmit(store: GraphStore, task_id: str, actor_id: str, *, now: int, form: dict[str, Any] | None = None,
             comment: str = "", calendar: WorkingCalendar = DEFAULT_CALENDAR, event: Event = None) -> None:
    """The initiator resubmits a returned run (with corrected form values); it starts again at the first step."""
    ctx = _load(store, task_id, actor_id)
    _require_kind(ctx, "revise")
    _require_status(ctx, "open")
    _authorise(ctx)
    assert ctx.definition is not None
    values = json.loads(ctx.run.get("form") or "{}")
    values.update(form or {})
    projects = {r["code"] for r in store.run(q.PROJECT_CODES)}
    clean = validate_form(ctx.definition["form"], values, projects=projects)
    first = ctx.definition["steps"][0]
    assignees = resolve_step(store, first, ctx.run["initiator_id"], clean)
    run_form = json.dumps(clean, ensure_ascii=False)
    _decide(store, ctx, _decision("resubmit", ctx, now, comment), {"status": "done", "outcome": "resubmitted",
                                                                   "completed_at": now},
            run_changes={"form": run_form}, event=event)
    rows = approval_rows({**ctx.run, "form": run_form}, first, _step_ids(store, ctx.run)[first["key"]], assignees,
                         prev_id=ctx.task["id"], now=now, calendar=calendar)
    advance(store, ctx.run, rows, now=now, changes={"status": "running", "current_step": first["key"]})


def give_feedback(store: GraphStore, task_id: str, actor_id: str, *, accepted: bool, rating: int, now: int,
                  comment: str = "", event: Event = None) -> None:
    """The initiator's acceptance feedback (accepted or not, rating 1–5) ends the run."""
    ctx = _load(store, task_id, actor_id)
    _require_kind(ctx, "acceptance")
    _require_status(ctx, "open")
    _authorise(ctx)
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise FormError({"rating": "a whole number from 1 to 5"})
    _decide(store, ctx, _decision("feedback", ctx, now, comment, accepted=bool(accepted), rating=rating),
            {"status": "done", "outcome": "accepted" if accepted else "not_accepted", "completed_at": now},
            run_changes={"status": "closed", "ended_at": now, "accepted": bool(accepted), "rating": rating,
                         "feedback": comment.strip(), "due_at": None}, event=event)


# -- moving the run on ---------------------------------------------------------------------------------


def _after_task(store: GraphStore, run_id: str, task: dict[str, Any], *, now: int,
                calendar: WorkingCalendar) -> None:
    """After a task is done: complete the step (or the request) when its rule is met, then move on."""
    view = _run_context(store, run_id)
    run = view["run"]
    if run["round"] != task["round"]:
        return
    siblings = [t for t in view["tasks"] if t.get("round") == task["round"] and t["kind"] in ("approval", "adhoc")]
    if task["kind"] == "adhoc":
        if all(t["status"] == "done" for t in siblings):
            _finish(store, run, "completed", prev_id=task["id"], now=now)
        return
    if not _step_complete(siblings):
        return
    definition = view["definition"]
    keys = [s["key"] for s in definition["steps"]]
    index = keys.index(task["step_key"]) + 1
    if index == len(keys):
        _finish(store, run, "approved", prev_id=task["id"], now=now, definition=definition)
        decisions.record_from_run(store, run_id, now=now)  # the business decision, resting on the run's files
        return
    step = definition["steps"][index]
    assignees = resolve_step(store, step, run["initiator_id"], json.loads(run.get("form") or "{}"))
    rows = approval_rows(run, step, _step_ids(store, run)[step["key"]], assignees, prev_id=task["id"], now=now,
                         calendar=calendar)
    advance(store, run, rows, now=now, changes={"status": "running", "current_step": step["key"]})


def _step_complete(tasks: list[dict[str, Any]]) -> bool:
    """会签 (all) needs every base task approved, 或签 (any) one; added signers (加签) must all approve."""
    base = [t for t in tasks if t.get("group", "base") == "base"]
    added = [t for t in tasks if t.get("group") == "added"]
    approved = [t.get("outcome") == "approved" for t in base]
    base_done = any(approved) if base and base[0].get("approval") == "any" else all(approved)
    return base_done and all(t.get("outcome") == "approved" for t in added)


def _send_back(store: GraphStore, ctx: _Context, target: str, *, now: int, calendar: WorkingCalendar,
               outcome: str) -> None:
    run = ctx.run
    if target == "end":
        _finish(store, run, "rejected", prev_id=ctx.task["id"], now=now, definition=ctx.definition)
        return
    if target == "initiator":
        initiator = Assignee("person", run["initiator_id"], run["initiator_name"])
        rows = [task_row(run, initiator, kind="revise", prev_id=ctx.task["id"], now=now, due=None,
                         extra={"reason": outcome})]
        advance(store, run, rows, now=now, changes={"status": "revising", "current_step": None})
        return
    assert ctx.definition is not None
    step = next(s for s in ctx.definition["steps"] if s["key"] == target)
    assignees = resolve_step(store, step, run["initiator_id"], json.loads(run.get("form") or "{}"))
    rows = approval_rows(run, step, _step_ids(store, run)[step["key"]], assignees, prev_id=ctx.task["id"], now=now,
                         calendar=calendar)
    advance(store, run, rows, now=now, changes={"status": "running", "current_step": step["key"]})


def _finish(store: GraphStore, run: dict[str, Any], outcome: str, *, prev_id: str, now: int,
            definition: dict[str, Any] | None = None) -> None:
    """The work is over: the run closes, or (when its definition asks for it, and for every ad-hoc request)
    the initiator is asked for acceptance feedback first."""
    if definition is not None and not definition.get("acceptance"):
        rows = store.run(q.END_RUN, {"run_id": run["id"], "round": run["round"], "now": now, "run": {
            "status": "closed", "outcome": outcome, "current_step": None, "finished_at": now, "ended_at": now,
            "due_at": None}})
        if not rows:
            raise Conflict("the run moved on meanwhile: reload it and try again")
        cache.bump(store)
        return
    initiator = Assignee("person", run["initiator_id"], run["initiator_name"])
    rows = [task_row(run, initiator, kind="acceptance", prev_id=prev_id, now=now, due=None)]
    advance(store, run, rows, now=now, changes={"status": "awaiting_feedback", "outcome": outcome,
                                                "current_step": None, "finished_at": now})


def _run_context(store: GraphStore, run_id: str) -> dict[str, Any]:
    rows = store.run(q.RUN_CONTEXT, {"run_id": run_id})
    if not rows:
        raise NotFound(f"no workflow run {run_id!r}")
    row = rows[0]
    return {"run": row["run"], "definition": json.loads(row["definition"]) if row["definition"] else None,
            "tasks": row["tasks"], "cc": row["cc"]}


def _round_tasks(store: GraphStore, run_id: str, round_: int) -> list[dict[str, Any]]:
    return [t for t in _run_context(store, run_id)["tasks"] if t.get("round") == round_]


def _step_ids(store: GraphStore, run: dict[str, Any]) -> dict[str, str]:
    return {s["key"]: s["id"] for s in store.run(q.WORKFLOW_STEPS, {"id": run["workflow_id"]})}


def _require_comment(text: str) -> None:
    if not isinstance(text, str) or not text.strip():
        raise FormError({"comment": "required"})
