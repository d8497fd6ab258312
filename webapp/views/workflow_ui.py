"""Presentation helpers of the workflow pages: who may see and do what, timelines, forms, live updates.

The domain (:mod:`graph.workflows`) decides and enforces; these helpers only predict which
actions to offer, so a page shows exactly the buttons its viewer may use. Whatever a tampered
form asks for is still refused by the domain.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from flask import request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from graph.errors import DomainError
from graph.names import in_language
from graph.store import GraphStore
from graph.workflows import actions, runs, usecases
from graph.workflows.runs import OPEN_TASK_STATUSES
from ingest import workflow_attachments
from webapp import events, services
from webapp.i18n import current_language
from webapp.services import actor
from webapp.ui import local_time
from webapp.views import document_ui

ADMIN = "admin"

STATUS_LABELS = {
    "open": _l("open"), "info_requested": _l("waiting for information"), "done": _l("done"),
    "cancelled": _l("cancelled"), "running": _l("running"), "revising": _l("returned for revision"),
    "awaiting_feedback": _l("awaiting acceptance feedback"), "closed": _l("closed"), "withdrawn": _l("withdrawn"),
}
OUTCOME_LABELS = {
    "approved": _l("approved"), "rejected": _l("rejected"), "returned": _l("returned"), "done": _l("completed"),
    "declined": _l("declined"), "resubmitted": _l("resubmitted"), "accepted": _l("accepted"),
    "not_accepted": _l("not accepted"), "cancelled": _l("cancelled"), "completed": _l("completed"),
    "withdrawn": _l("withdrawn"),
}
DECISION_LABELS = {
    "approve": _l("approved"), "reject": _l("rejected"), "return": _l("returned"), "claim": _l("claimed"),
    "delegate": _l("delegated"), "reassign": _l("reassigned"), "add_signer": _l("added a signer"),
    "request_info": _l("asked for information"), "provide_info": _l("provided information"),
    "complete": _l("completed"), "decline": _l("declined"), "urge": _l("urged"), "withdraw": _l("withdrew"),
    "resubmit": _l("resubmitted"), "feedback": _l("gave acceptance feedback"),
    "record": _l("recorded the decision"),
}
RULE_LABELS = {
    "department": _l("department queue"), "position": _l("position queue"), "department_head": _l("head of department"),
    "initiator_head": _l("initiator's head of department"), "budget_owner": _l("project budget owner"),
    "person": _l("a person"),
}
REJECT_LABELS = {"initiator": _l("back to the initiator"), "step": _l("back to an earlier step"),
                 "end": _l("end the run")}
APPROVAL_LABELS = {"single": _l("single approver"), "any": _l("any one of"), "all": _l("all of")}
NOTICE_LABELS = {
    "due_soon": _l("Due soon"), "overdue": _l("Overdue"), "escalation": _l("Escalated: overdue"),
    "urge": _l("Reminder from the initiator"), "info_requested": _l("Information requested"),
    "trend_warning": _l("Trend warning"), "task_arrived": _l("A task for you"),
    "run_approved": _l("Your request was approved"), "run_rejected": _l("Your request was rejected"),
    "run_returned": _l("Your request was returned for changes"), "run_finished": _l("Your request is finished"),
    "run_withdrawn": _l("A request was withdrawn"), "feedback_requested": _l("Your acceptance feedback is requested"),
    "mentioned": _l("You were mentioned"), "document_shared": _l("A document was shared with you"),
    "access_requested": _l("Someone asks for access to your document"),
}
# The domain speaks English; the messages people meet most often are shown in their language.
FORM_MESSAGES = {"required": _l("required"), "unknown field": _l("unknown field"),
                 "required attachment missing": _l("required attachment missing"),
                 "must be a number": _l("must be a number"), "must be a whole number": _l("must be a whole number"),
                 "at most two decimal places": _l("at most two decimal places"),
                 "must be a date YYYY-MM-DD": _l("must be a date (YYYY-MM-DD)"), "only one file": _l("only one file"),
                 "a future time (epoch ms)": _l("a date and time in the future")}


def now_ms() -> int:
    return int(time.time() * 1000)


def text(name: Any) -> str:
    """A {zh, en} name in the request's language."""
    if isinstance(name, dict):
        return in_language(name.get("zh"), name.get("en"), current_language())
    return "" if name is None else str(name)


def item_name(item: dict[str, Any], base: str) -> str:
    """``name`` / ``name_en`` style properties of a node in the request's language."""
    return in_language(item.get(base), item.get(f"{base}_en"), current_language())


def when(ms: int | None) -> str:
    if not isinstance(ms, (int, float)):  # absent properties arrive as None or template Undefined
        return "—"
    return local_time(ms)


def duration(ms: int | None) -> str:
    if not isinstance(ms, (int, float)):
        return "—"
    minutes = max(int(ms // 60_000), 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return _("%(d)dd %(h)dh", d=days, h=hours)
    if hours:
        return _("%(h)dh %(m)dm", h=hours, m=minutes)
    return _("%(m)dm", m=minutes)


def form_message(message: str) -> str:
    found = FORM_MESSAGES.get(message)
    return str(found) if found else message


# -- who may see and do what ------------------------------------------------------------------------


@dataclass
class Viewer:
    id: str
    roles: set[str]
    queues: set[str]

    @property
    def is_admin(self) -> bool:
        return ADMIN in self.roles


def viewer(store: GraphStore, person_id: str) -> Viewer:
    found = runs.person(store, person_id)
    return Viewer(found["id"], set(found["roles"]), set(found["departments"]) | set(found["positions"]))


DOMAIN_MESSAGES = {
    "workflow.attachment_empty": _l("the file %(name)s is empty: attach a file with content"),
    "workflow.attachment_not_stored": _l("attach the file itself"),
    "workflow.attachment_rejected": _l("the file %(name)s was refused: %(reason)s"),
}


def domain_message(error: DomainError) -> str:
    found = DOMAIN_MESSAGES.get(error.code)
    if found is None:
        return error.code
    params = {"name": "", "reason": "", **{k: str(v) for k, v in error.params.items()}}
    return str(found) % params


@dataclass
class TaskActions:
    """What one viewer may do with one task (and its run)."""

    allowed: set[str] = field(default_factory=set)
    return_targets: list[dict[str, str]] = field(default_factory=list)
    handler: bool = False  # the task is the viewer's (or waits in one of their queues): "your task"

    def __contains__(self, name: str) -> bool:
        return name in self.allowed


def task_actions(me: Viewer, view: dict[str, Any], task: dict[str, Any]) -> TaskActions:
    run, result = view["run"], TaskActions()
    current = task.get("round") == run["round"] and task["status"] in OPEN_TASK_STATUSES
    if not current:
        return result
    mine = task["assignee_kind"] == "person" and task["assignee_id"] == me.id
    queued = task["assignee_kind"] != "person" and task["assignee_id"] in me.queues
    handler, initiator, kind = mine or queued, me.id == run["initiator_id"], task["kind"]
    result.handler = handler
    allowed = result.allowed
    if kind in ("approval", "adhoc"):
        if task["status"] == "open" and handler:
            allowed.update({"approve", "reject", "request_info", "delegate"})
            if queued:
                allowed.add("claim")
            if kind == "approval":
                allowed.update({"return", "add_signer"})
                result.return_targets = _return_targets(view, task)
        if task["status"] == "info_requested":
            if initiator:
                allowed.add("provide_info")
            if handler:
                allowed.add("delegate")
        if (initiator or me.is_admin) and not mine:
            allowed.add("urge")
    elif kind == "revise" and mine and task["status"] == "open":
        allowed.add("resubmit")
    elif kind == "acceptance" and mine and task["status"] == "open":
        allowed.add("feedback")
    if me.is_admin:
        allowed.add("reassign")
    return result


def _return_targets(view: dict[str, Any], task: dict[str, Any]) -> list[dict[str, str]]:
    targets = [{"key": "", "label": _("the initiator")}]
    definition = view["definition"]
    if definition:
        for step in definition["steps"]:
            if step["key"] == task.get("step_key"):
                break
            targets.append({"key": step["key"], "label": text(step["name"])})
    return targets


def can_withdraw(me: Viewer, view: dict[str, Any]) -> bool:
    run = view["run"]
    if me.id != run["initiator_id"] or (view["definition"] and not view["definition"]["allow_withdraw"]):
        return False
    if run["status"] == "revising":
        return True
    return run["status"] == "running" and not any(d["kind"] in actions.ACTING_KINDS for d in view["decisions"])


# -- the run's story ---------------------------------------------------------------------------------


def timeline(view: dict[str, Any], now: int) -> list[dict[str, Any]]:
    """Every task so far (who, arrived, first looked, finished, waited, took), then the steps not reached."""
    rows = []
    for task in view["tasks"]:
        start = task["created_at"]
        looked = task.get("first_opened_at") or task.get("claimed_at")
        finished = task.get("completed_at")
        rows.append({
            "task": task, "step": item_name(task, "step_name"), "who": task.get("assignee_name"),
            "arrived": start, "looked": looked, "finished": finished,
            "waited": (looked or finished or now) - start,
            "took": (finished - start) if finished else None,
            "open": task["status"] in OPEN_TASK_STATUSES, "overdue": bool(
                task["status"] in OPEN_TASK_STATUSES and task.get("due_at") and task["due_at"] < now),
        })
    definition, run = view["definition"], view["run"]
    if definition and run["status"] in ("running", "revising"):
        keys = [s["key"] for s in definition["steps"]]
        current = run.get("current_step")
        later = definition["steps"][keys.index(current) + 1:] if current in keys else (
            definition["steps"] if run["status"] == "revising" else [])
        rows += [{"pending": True, "step": text(s["name"])} for s in later]
    return rows


def attachments(view: dict[str, Any]) -> list[dict[str, Any]]:
    """Files of the start form and those supplied with approvals."""
    found: list[dict[str, Any]] = []
    form_fields = {f["name"]: f for f in (view["definition"] or {}).get("form", [])}
    for name, value in view["run"]["form"].items():
        if form_fields.get(name, {}).get("type") == "file":
            found += [{"field": text(form_fields[name]["label"]), **f} for f in value]
    for decision in view["decisions"]:
        for name, value in json.loads(decision.get("attachments") or "{}").items():
            files = value if isinstance(value, list) else [value]
            found += [{"field": name, "by": decision.get("by_name"), **f} for f in files if isinstance(f, dict)]
    return found


def form_rows(fields: list[dict[str, Any]], values: dict[str, Any]) -> list[dict[str, str]]:
    rows = []
    for spec in fields:
        value = values.get(spec["name"])
        if value is None:
            continue
        shown = ", ".join(f.get("name", "") for f in value) if spec["type"] == "file" else str(value)
        rows.append({"label": text(spec["label"]), "value": shown})
    return rows


def step_of(view: dict[str, Any], task: dict[str, Any]) -> dict[str, Any] | None:
    definition = view["definition"]
    if not definition or not task.get("step_key"):
        return None
    return next((s for s in definition["steps"] if s["key"] == task["step_key"]), None)


def supplied_attachments(view: dict[str, Any]) -> dict[str, Any]:
    supplied = dict(json.loads(view["run"].get("attachments") or "{}"))
    supplied.update(view["run"]["form"])
    return supplied


# -- reading posted forms ----------------------------------------------------------------------------


def _store_posted(store: GraphStore | None, field: str, key: str) -> list[dict[str, Any]]:
    """The files posted under ``key``, stored as documents (see :mod:`ingest.workflow_attachments`)."""
    posted = [workflow_attachments.PostedFile(field, f.filename, f.stream) for f in request.files.getlist(key)
              if f and f.filename]
    if not posted:
        return []
    if store is None:
        return [{"name": f.filename} for f in posted]
    return workflow_attachments.store_files(services.context(), actor(), posted, enqueue=document_ui.enqueue()
                                            ).get(field, [])


def posted_values(fields: list[dict[str, Any]], prefix: str = "f.", *, store: GraphStore | None = None
                  ) -> dict[str, Any]:
    """Values of a definition's fields from the posted form; posted files are stored as documents
    (with ``store``) and become ``{"name", "document_id", "version_id"}`` records."""
    values: dict[str, Any] = {}
    for spec in fields:
        key = prefix + spec["name"]
        if spec["type"] == "file":
            files = _store_posted(store, spec["name"], key)
            if files:
                values[spec["name"]] = files if spec.get("multiple") else files[0]
            continue
        raw = request.form.get(key, "")
        if raw.strip():
            values[spec["name"]] = raw
    return values


def posted_attachments(store: GraphStore | None, names: list[str]) -> dict[str, Any]:
    """A step's required attachments from the posted form, stored as documents (without ``store``: by name
    only, for checking a decision before anything is stored)."""
    found: dict[str, Any] = {}
    for name in names:
        files = _store_posted(store, name, f"a.{name}")
        if files:
            found[name] = files
    return found


# -- live updates --------------------------------------------------------------------------------------


def people_of_run(store: GraphStore, run_id: str) -> set[str]:
    return usecases.people_of_run(store, run_id)


def announce(store: GraphStore, run_id: str, extra: set[str] | frozenset[str] = frozenset()) -> None:
    """Tell every browser concerned that this run changed (their inbox badges refresh themselves)."""
    events.publish(people_of_run(store, run_id) | set(extra), "inbox", {"run_id": run_id})

