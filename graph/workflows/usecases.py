"""Workflow use cases: one function per action a person takes on workflows, whatever the door.

Web views, the JSON API, the CLI and Celery tasks call these with the acting person (:class:`Actor`);
each decides access once per request (memoised on the actor), calls the engine
(:mod:`graph.workflows.runs` / :mod:`~graph.workflows.actions`), records the audit event and
announces the change to the browsers concerned. A run, task or comment the actor may not see is
answered exactly like a missing one (:class:`ObjectMissing`), so refusals disclose nothing.

Who may see a run is ONE rule (:mod:`graph.queries.run_participation`): the same graph patterns
decide the run page, commenting and downloading its attachments, and which attachments a
person's search may find.
"""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from graph import audit, live, notifications
from graph.actor import Actor
from graph.errors import InvalidInput, ObjectMissing
from graph.queries import workflow_access as aq
from graph.queries import workflows as q
from graph.store import GraphStore
from graph.workflows import actions, notices, requests, run_actions, runs
from graph.workflows.definitions import WorkflowError
from graph.workflows.errors import NotAllowed, NotFound
from settings import get_settings

# -- access: the one rule ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RunAccess:
    run_id: str
    participant: bool
    admin: bool

    @property
    def may_view(self) -> bool:
        return self.participant or self.admin

    # Commenting and downloading follow viewing: whoever takes part may speak and read the files.
    may_comment = may_view
    may_download = may_view


def run_access(store: GraphStore, actor: Actor, run_id: str) -> RunAccess | None:
    """The actor's standing in the run (None: no such run, or no such active person)."""

    def compute() -> RunAccess | None:
        rows = store.run(aq.RUN_PARTICIPANT, {"run_id": run_id, "person_id": actor.person_id})
        if not rows or rows[0]["active"] is not True:
            return None
        return RunAccess(run_id, bool(rows[0]["participant"]), bool(rows[0]["admin"]))

    return actor.memo(("workflow.run", run_id), compute)


def require_run(store: GraphStore, actor: Actor, run_id: str) -> RunAccess:
    """The run's access for an actor who may see it; anyone else meets the missing-run answer."""
    access = run_access(store, actor, run_id)
    if access is None or not access.may_view:
        if access is not None:  # the run exists: the trail keeps who asked (the answer stays neutral)
            _audit(store, actor, "access.refused", "workflow_run", run_id, reason="not_a_participant")
        raise ObjectMissing("workflow.run_missing", run_id=run_id)
    return access


def task_run(store: GraphStore, actor: Actor, task_id: str) -> tuple[dict[str, Any], str]:
    """A task and its run id, for an actor who may see the run (else the missing-task answer)."""
    rows = actor.memo(("workflow.task", task_id),
                      lambda: store.run(q.TASK_CONTEXT, {"task_id": task_id, "person_id": actor.person_id}))
    if not rows:
        raise ObjectMissing("workflow.task_missing", task_id=task_id)
    run_id = str(rows[0]["run"]["id"])
    access = run_access(store, actor, run_id)
    if access is None or not access.may_view:
        raise ObjectMissing("workflow.task_missing", task_id=task_id)
    return dict(rows[0]["task"]), run_id


# -- reading -------------------------------------------------------------------------------------------


def view_run(store: GraphStore, actor: Actor, run_id: str) -> dict[str, Any]:
    """Everything the run page shows, with what the actor may do there."""
    access = require_run(store, actor, run_id)
    view = runs.run_view(store, run_id)
    view["access"] = access
    view["files"] = store.run(aq.RUN_ATTACHMENTS, {"run_id": run_id})
    return view


def open_task(store: GraphStore, actor: Actor, task_id: str, *, now: int) -> tuple[dict[str, Any], str]:
    """The task page: visible to the run's participants; the assignee's first look is recorded."""
    task, run_id = task_run(store, actor, task_id)
    # Initiators, copied people and past participants look without it counting as opened.
    with contextlib.suppress(NotAllowed):
        actions.open_task(store, task_id, actor.person_id, now=now)
    return task, run_id


def attachment_version(store: GraphStore, actor: Actor, run_id: str, document_id: str) -> dict[str, Any]:
    """The attached version of one of the run's files, for a participant (else: missing)."""
    require_run(store, actor, run_id)
    for row in store.run(aq.RUN_ATTACHMENTS, {"run_id": run_id}):
        if row["document_id"] == document_id:
            return dict(row)
    raise ObjectMissing("workflow.attachment_missing", document_id=document_id)


# -- writing -------------------------------------------------------------------------------------------


def _audit(store: GraphStore, actor: Actor, action: str, kind: str, target: str, **detail: Any) -> None:
    audit.record(store, action=action, actor_id=actor.person_id, target_kind=kind, target_id=target,
                 client=actor.address, detail=detail or None)


def _event(actor: Actor, action: str, kind: str, target: str, now: int, **detail: Any) -> audit.Event:
    """The event a write statement records itself (see graph.queries.workflow_audited)."""
    return audit.Event(action, actor.person_id, kind, target, actor.address, detail or None, now)


def people_of_run(store: GraphStore, run_id: str) -> set[str]:
    """Everyone whose inbox a change of this run may change: initiator, copied, assignees, queue members."""
    return notices.people_of(store, notices.snapshot(store, run_id))


def _announce(store: GraphStore, actor: Actor, run_id: str, before: notices.Snapshot | None, *, now: int) -> None:
    """Every door announces the same way: the people concerned are notified (task arrived, run approved...),
    the webhook events recorded, and the event bus tells their browsers (web, CLI, API, Celery)."""
    settings = get_settings()
    after = notices.snapshot(store, run_id)
    notices.raise_events(store, settings, actor, before, after, now=now)
    people = notices.people_of(store, after) | (notices.people_of(store, before) if before else set())
    live.publish_to_people(settings, people, "inbox", {"run_id": run_id})


def _participants_changed(store: GraphStore, run_id: str) -> None:
    """New assignees of a run with attachments now read its files: their readable sets must follow."""
    rows = store.run(aq.RUN_HAS_ATTACHMENTS, {"run_id": run_id})
    if rows and rows[0]["n"]:
        from graph.permissions import record_change  # the permission cache's own module

        record_change(store, principals=True)


def _check_files(store: GraphStore, actor: Actor, files: list[dict[str, Any]]) -> None:
    """Every file a door hands in is a non-empty document version the actor has just stored."""
    wanted = [f for f in files if f.get("document_id")]
    if len(wanted) != len(files):
        raise InvalidInput("workflow.attachment_not_stored", field=files[0].get("field", ""))
    found = {r["version_id"]: r for r in store.run(aq.OWNED_VERSIONS, {
        "person_id": actor.person_id,
        "files": [{"document_id": f["document_id"], "version_id": f["version_id"]} for f in wanted]})}
    for item in wanted:
        row = found.get(item["version_id"])
        if row is None:
            raise InvalidInput("workflow.attachment_not_stored", field=item.get("field", ""))
        if not row["size"]:
            raise InvalidInput("workflow.attachment_empty", field=item.get("field", ""), name=item.get("name", ""))


def _attach(store: GraphStore, actor: Actor, task_id: str, files: list[dict[str, Any]], *, now: int,
            decision_id: str | None = None) -> None:
    if files:
        store.run(aq.ATTACH, {"task_id": task_id, "now": now, "actor_id": actor.person_id,
                              "files": [{**f, "decision_id": decision_id} for f in files]})


def file_refs(values: dict[str, Any], field_types: dict[str, str]) -> list[dict[str, Any]]:
    """The stored files among form values (``{"name", "document_id", "version_id"}`` records)."""
    refs = []
    for name, value in values.items():
        if field_types.get(name) != "file":
            continue
        for item in value if isinstance(value, list) else [value]:
            refs.append({"field": name, "name": item.get("name", ""), "document_id": item.get("document_id"),
                         "version_id": item.get("version_id")})
    return refs


def start_run(store: GraphStore, actor: Actor, key: str, values: dict[str, Any], *, now: int,
              title: str = "") -> str:
    """Start a run of workflow ``key``; files of the start form are attached to its first task."""
    workflow = runs.current_definition(store, key)
    types = {f["name"]: f["type"] for f in workflow["definition"]["form"]}
    files = file_refs(values, types)
    _check_files(store, actor, files)
    run_id = runs.new_id()
    event = audit.Event("workflow.start", actor.person_id, "run", run_id, actor.address,
                        {"key": key, "version": workflow["version"], "files": len(files)}, now)
    runs.start_run(store, key, actor.person_id, values, now=now, title=title, run_id=run_id, event=event)
    first = runs.run_view(store, run_id)["tasks"][0]["id"]
    _attach(store, actor, first, files, now=now)
    _announce(store, actor, run_id, None, now=now)
    return run_id


def check_start(store: GraphStore, actor: Actor, key: str, values: dict[str, Any]) -> None:
    """What :func:`start_run` would refuse, refused now and without writing (``values`` may name files that are
    not stored yet): a door stores a form's files only once the form is known to go through."""
    runs.check_start(store, key, actor.person_id, values)


def start_request(store: GraphStore, actor: Actor, title: str, parts: list[dict[str, Any]], *, now: int,
                  cc: list[str] | None = None) -> str:
    """An ad-hoc cross-department request: one run, one task per department."""
    run_id = requests.start_request(store, actor.person_id, title, parts, now=now, cc=cc or [])
    _audit(store, actor, "workflow.request", "run", run_id, parts=len(parts))
    _announce(store, actor, run_id, None, now=now)
    return run_id


def act(store: GraphStore, actor: Actor, task_id: str, action: str, run: Callable[[audit.Event], object], *,
        now: int, files: list[dict[str, Any]] | None = None) -> str:
    """Do ``action`` on a task (``run`` performs it in the engine, which authorises the actor for the
    task itself, and records the ``workflow.<action>`` event it is given with the decision, in the same
    statement); files supplied with it are attached to the task and its decision. Returns the run id."""
    _task, run_id = task_run(store, actor, task_id)
    files = files or []
    _check_files(store, actor, files)
    before = notices.snapshot(store, run_id)
    run(_event(actor, f"workflow.{action}", "task", task_id, now, run_id=run_id))
    if files:
        decision = store.run(q.RUN_DECISIONS, {"run_id": run_id})
        mine = [d["decision"]["id"] for d in decision if d["decision"].get("task_id") == task_id
                and d["by_id"] == actor.person_id]
        _attach(store, actor, task_id, files, now=now, decision_id=mine[-1] if mine else None)
    actor.forget()  # the actor's standing may have changed (claimed, delegated away...)
    _participants_changed(store, run_id)
    _announce(store, actor, run_id, before, now=now)
    return run_id


def comment(store: GraphStore, actor: Actor, run_id: str, text: str, *, now: int, task_id: str | None = None) -> str:
    """Comment on a run (or one of its tasks): the run's participants, by the one rule."""
    require_run(store, actor, run_id)
    if task_id is not None:
        _task, task_run_id = task_run(store, actor, task_id)
        if task_run_id != run_id:
            raise ObjectMissing("workflow.task_missing", task_id=task_id)
    comment_id = run_actions.comment(store, run_id, actor.person_id, text, now=now, task_id=task_id,
                                     event=_event(actor, "workflow.comment", "run", run_id, now))
    _mention(store, actor, run_id, comment_id, text, now=now)
    _announce(store, actor, run_id, notices.snapshot(store, run_id), now=now)
    return comment_id


def withdraw(store: GraphStore, actor: Actor, run_id: str, *, now: int, reason: str = "") -> None:
    require_run(store, actor, run_id)
    before = notices.snapshot(store, run_id)
    event = audit.Event("workflow.withdraw", actor.person_id, "run", run_id, actor.address, None, now)
    run_actions.withdraw(store, run_id, actor.person_id, now=now, reason=reason, event=event)
    _announce(store, actor, run_id, before, now=now)


def _mention(store: GraphStore, actor: Actor, run_id: str, comment_id: str, text: str, *, now: int) -> None:
    """@someone in a run comment: they are told, when they take part in the run (else they could not open it)."""
    named = [p for p in notifications.mentioned(store, text) if p["id"] != actor.person_id]
    allowed = [p for p in named if (rows := store.run(aq.RUN_PARTICIPANT, {"run_id": run_id, "person_id": p["id"]}))
               and (rows[0]["participant"] or rows[0]["admin"])]
    title = str(runs.run_view(store, run_id)["run"]["title"]) if allowed else ""
    notifications.send(store, get_settings(), [
        notifications.notice("mentioned", p["id"], event=comment_id, now=now, title=title, run_id=run_id,
                             text=text[:200], by_name=actor.name or actor.username) for p in allowed])


def publish_definition(store: GraphStore, actor: Actor, raw: dict[str, Any], *, now: int) -> dict[str, Any]:
    """Publish a definition from the designer (designers: admins and managers; the door checks the role)."""
    result = runs.publish(store, raw, now=now, by=actor.person_id)
    _audit(store, actor, "workflow.publish", "workflow", result["id"], key=result["key"],
           version=result["version"], created=result["created"])
    return result


def decision_files(decision: dict[str, Any]) -> dict[str, Any]:
    """The files a decision recorded (its ``attachments`` JSON), by field."""
    return dict(json.loads(decision.get("attachments") or "{}"))


# -- definitions, look-ups for forms -------------------------------------------------------------------


def workflow_detail(store: GraphStore, key: str, version_id: str | None = None
                    ) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    """(current version, the version asked for, every version) of workflow ``key``; missing otherwise."""
    try:
        current = runs.current_definition(store, key)
    except NotFound:
        raise ObjectMissing("workflow.missing", key=key) from None
    versions = store.run(q.WORKFLOW_VERSIONS, {"key": key})
    shown = current
    if version_id and version_id != current["id"]:
        rows = store.run(q.WORKFLOW_BY_ID, {"id": version_id})
        if not rows or rows[0]["workflow"]["key"] != key:
            raise ObjectMissing("workflow.version_missing", key=key, version_id=version_id)
        shown = {**rows[0]["workflow"], "definition": json.loads(rows[0]["workflow"]["definition"])}
    return current, shown, versions


def project_codes(store: GraphStore) -> list[str]:
    return sorted(str(r["code"]) for r in store.run(q.PROJECT_CODES))


def queue_id(store: GraphStore, kind: str, code: str) -> str | None:
    """The id of the department or position with this code (a task queue), None when there is none."""
    if kind not in ("department", "position"):
        return None
    rows = store.run(q.QUEUE_BY_CODE, {"kind": kind, "code": code.strip()})
    return str(rows[0]["id"]) if rows else None


# -- the inbox -------------------------------------------------------------------------------------------


def bulk_approvable(task: dict[str, Any], definition: dict[str, Any] | None) -> bool:
    """An approval whose step asks for nothing but a yes: no checklist, fields or attachments."""
    if task["kind"] != "approval" or task["status"] != "open" or not definition:
        return False
    step = next((s for s in definition["steps"] if s["key"] == task.get("step_key")), None)
    return step is not None and not (step["requirements"] or step["fields"] or step["attachments"])


def task_definition(store: GraphStore, actor: Actor, task_id: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """A visible task and the definition its run follows (missing for anyone who may not see the run)."""
    task, _run_id = task_run(store, actor, task_id)
    rows: list[dict[str, Any]] = actor.memo(("workflow.task", task_id), list)
    definition = rows[0]["definition"] if rows else None
    return task, json.loads(definition) if definition else None


@dataclass
class BulkOutcome:
    approved: int = 0
    failed: list[tuple[dict[str, Any] | None, str, WorkflowError | None]] = field(default_factory=list)


def _approve_as(store: GraphStore, task_id: str, person_id: str, event: audit.Event, *, now: int,
                comment: str) -> None:
    actions.approve(store, task_id, person_id, now=now, comment=comment, event=event)


def bulk_approve(store: GraphStore, actor: Actor, task_ids: list[str], *, comment: str, now: int) -> BulkOutcome:
    """Approve several plain approvals at once; each one that cannot be is reported, the others go on."""
    outcome = BulkOutcome()
    for task_id in task_ids:
        try:
            task, definition = task_definition(store, actor, task_id)
        except ObjectMissing:
            outcome.failed.append((None, task_id, None))
            continue
        if not bulk_approvable(task, definition):
            outcome.failed.append((task, task_id, WorkflowError("needs its own page")))
            continue
        try:
            act(store, actor, task_id, "approve", functools.partial(
                _approve_as, store, task_id, actor.person_id, now=now, comment=comment), now=now)
        except WorkflowError as error:
            outcome.failed.append((task, task_id, error))
            continue
        outcome.approved += 1
    return outcome


# -- demo data -------------------------------------------------------------------------------------------


def runs_needing_files(store: GraphStore, *, limit: int = 100_000) -> list[dict[str, Any]]:
    """Runs without files whose start form requires one: ``{run_id, title, initiator_id, started_at,
    first_task_id, form, fields}`` with ``fields`` the required file fields (name, label)."""
    found = []
    for row in store.run(aq.RUNS_WITHOUT_FILES, {"limit": limit}):
        definition = json.loads(row["definition"] or "{}")
        fields = [f for f in definition.get("form", []) if f.get("type") == "file" and f.get("required")]
        if fields:
            found.append({**row, "form": json.loads(row["form"] or "{}"), "fields": fields})
    return found


def record_start_files(store: GraphStore, run: dict[str, Any], files: dict[str, list[dict[str, Any]]], *,
                       at: int) -> None:
    """Put stored files into a run's start form and attach them to its first task (demo history)."""
    form = dict(run["form"])
    multiple = {f["name"]: f.get("multiple", False) for f in run["fields"]}
    for name, refs in files.items():
        form[name] = refs if multiple.get(name) else refs[0]
    store.run(aq.SET_RUN_FORM, {"run_id": run["run_id"], "form": json.dumps(form, ensure_ascii=False)})
    store.run(aq.ATTACH, {"task_id": run["first_task_id"], "now": at, "actor_id": run["initiator_id"],
                          "files": [{"field": name, "decision_id": None, **ref} for name, refs in files.items()
                                    for ref in refs]})
