"""``/workflows``: the designer, published versions, starting runs, run and task pages, task actions, requests.

Views translate between HTTP and :mod:`graph.workflows`; the domain validates and authorises.
A refused action answers 403 with the reason, an invalid form 422 with each problem next to its
field, an action overtaken by another one 409-style (flash and reload).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from graph import directory
from graph.errors import DomainError, InvalidInput, ObjectMissing
from graph.workflows import (
    Conflict,
    DefinitionError,
    FormError,
    NotAllowed,
    NotFound,
    RoutingError,
    WorkflowError,
    actions,
    runs,
    templates,
    usecases,
)
from graph.workflows.definitions import APPROVAL_MODES, FIELD_TYPES, REJECT_TARGETS, RULE_KINDS, SLA_UNITS
from ingest import workflow_attachments
from webapp import services
from webapp.auth import current_person, roles_required
from webapp.views import workflow_ui as ui

bp = Blueprint("workflows", __name__, url_prefix="/workflows")

DESIGNER_ROLES = ("admin", "manager")
MAX_REQUEST_ROWS = 20


@bp.app_template_global()
def wf_text(name: Any) -> str:
    return ui.text(name)


@bp.app_template_global()
def wf_name(item: dict[str, Any], base: str = "name") -> str:
    return ui.item_name(item, base)


@bp.app_template_filter("wf_when")
def wf_when(ms: int | None) -> str:
    return ui.when(ms)


@bp.app_template_filter("wf_duration")
def wf_duration(ms: int | None) -> str:
    return ui.duration(ms)


@bp.app_template_global()
def wf_label(kind: str, value: str | None) -> str:
    table = {"status": ui.STATUS_LABELS, "outcome": ui.OUTCOME_LABELS, "decision": ui.DECISION_LABELS,
             "approval": ui.APPROVAL_LABELS, "notice": ui.NOTICE_LABELS, "rule": ui.RULE_LABELS,
             "reject": ui.REJECT_LABELS}[kind]
    return str(table.get(value or "", value or ""))


def _me() -> str:
    person = current_person()
    assert person is not None  # every route here requires login
    return person.id


def refused(error: WorkflowError | DomainError, status: int) -> ResponseReturnValue:
    if status == 404:
        return missing()
    titles = {403: _("You may not do this"), 409: _("This changed meanwhile")}
    return render_template("workflows/refused.html", title=titles.get(status, _("Request refused")),
                           message=str(error), status=status), status


def missing() -> ResponseReturnValue:
    """The one answer for a run, task, comment or file that does not exist OR that the person may not see."""
    return render_template("workflows/refused.html", title=_("Not found"),
                           message=_("There is no such item, or it is not visible to you."), status=404), 404


# -- workflows and versions ---------------------------------------------------------------------------


@bp.get("/")
def index() -> ResponseReturnValue:
    store = services.store()
    workflows = runs.list_workflows(store)
    person = current_person()
    return render_template("workflows/list.html", workflows=workflows,
                           can_design=bool(person and person.has_any_role(*DESIGNER_ROLES)),
                           templates=templates.TEMPLATES)


@bp.get("/<key>")
def detail(key: str) -> ResponseReturnValue:
    try:
        current, shown, versions = usecases.workflow_detail(services.store(), key, request.args.get("version"))
    except ObjectMissing:
        return missing()
    person = current_person()
    return render_template("workflows/detail.html", workflow=shown, current=current, versions=versions,
                           can_design=bool(person and person.has_any_role(*DESIGNER_ROLES)))


# -- designer -------------------------------------------------------------------------------------------


def _blank_definition() -> dict[str, Any]:
    return {"key": "", "name": {"zh": "", "en": ""}, "description": {"zh": "", "en": ""}, "allow_withdraw": True,
            "form": [], "cc": [], "steps": [{"key": "s1", "name": {"zh": "", "en": ""}, "approval": "single",
                                             "responsible": [{"kind": "initiator_head"}], "sla": None,
                                             "requirements": [], "attachments": [], "fields": [],
                                             "on_reject": {"to": "initiator"}}]}


def _render_designer(definition: dict[str, Any], errors: list[str], status: int = 200,
                     editing: bool = False) -> ResponseReturnValue:
    parsed = []
    for message in errors:
        path, _sep, detail = message.partition(": ")
        parsed.append({"path": path if detail else "", "message": detail or message})
    data = {"definition": definition, "errors": parsed,
            "options": {"field_types": FIELD_TYPES, "approval_modes": APPROVAL_MODES, "rule_kinds": RULE_KINDS,
                        "sla_units": SLA_UNITS, "reject_targets": REJECT_TARGETS},
            "picker_url": url_for("pickers.search", kind="x")[:-2]}  # the pickers' base: /pick
    return render_template("workflows/designer.html", data=data, errors=parsed, editing=editing,
                           definition=definition), status


@bp.get("/design")
@roles_required(*DESIGNER_ROLES)
def design() -> ResponseReturnValue:
    key, template_key = request.args.get("key", ""), request.args.get("template", "")
    if key:
        try:
            return _render_designer(runs.current_definition(services.store(), key)["definition"], [], editing=True)
        except NotFound as error:
            return refused(error, 404)
    if template_key:
        try:
            return _render_designer(templates.template(template_key), [])
        except KeyError:
            abort(404)
    return _render_designer(_blank_definition(), [])


@bp.post("/design")
@roles_required(*DESIGNER_ROLES)
def publish() -> ResponseReturnValue:
    raw_text = request.form.get("definition", "")
    try:
        raw = json.loads(raw_text)
    except ValueError as error:
        return _render_designer(_blank_definition(), [_("definition: not valid JSON (%(error)s)", error=str(error))],
                                422)
    try:
        result = usecases.publish_definition(services.store(), ui.actor(), raw, now=ui.now_ms())
    except DefinitionError as error:
        return _render_designer(raw if isinstance(raw, dict) else _blank_definition(), error.errors, 422,
                                editing=bool(request.form.get("editing")))
    if result["created"]:
        flash(_("Published version %(version)d of %(key)s.", version=result["version"], key=result["key"]), "success")
    else:
        flash(_("Nothing changed: version %(version)d of %(key)s stays current.", version=result["version"],
                key=result["key"]), "info")
    return redirect(url_for("workflows.detail", key=result["key"]))


# -- starting a run ------------------------------------------------------------------------------------


def _projects() -> list[str]:
    return usecases.project_codes(services.store())


@bp.route("/<key>/start", methods=["GET", "POST"])
def start(key: str) -> ResponseReturnValue:
    store = services.store()
    try:
        workflow = runs.current_definition(store, key)
    except NotFound as error:
        return refused(error, 404)
    fields = workflow["definition"]["form"]
    if request.method == "GET":
        return render_template("workflows/start.html", workflow=workflow, fields=fields, values={}, errors={},
                               projects=_projects())
    title = request.form.get("title", "")
    values: dict[str, Any] = {}
    try:
        # Checked with the files by name first: a refused form stores no attachment (no orphan documents).
        usecases.check_start(store, ui.actor(), key, ui.posted_values(fields))
        values = ui.posted_values(fields, store=store)
        run_id = usecases.start_run(store, ui.actor(), key, values, now=ui.now_ms(), title=title)
    except InvalidInput as error:
        errors = {str(error.params.get("field", "")): ui.domain_message(error)}
        return render_template("workflows/start.html", workflow=workflow, fields=fields, values=values,
                               errors=errors, projects=_projects(), title=title), 422
    except FormError as error:
        errors = {k: ui.form_message(v) for k, v in error.errors.items()}
        return render_template("workflows/start.html", workflow=workflow, fields=fields, values=values,
                               errors=errors, projects=_projects(), title=title), 422
    except RoutingError as error:
        flash(_("This run cannot be routed: %(reason)s", reason=str(error)), "error")
        return render_template("workflows/start.html", workflow=workflow, fields=fields, values=values,
                               errors={}, projects=_projects(), title=title), 422
    flash(_("Started."), "success")
    return redirect(url_for("workflows.run_page", run_id=run_id))


# -- run and task pages -----------------------------------------------------------------------------------


def _render_run(run_id: str, focus_id: str | None = None, errors: dict[str, str] | None = None,
                status: int = 200, posted: dict[str, Any] | None = None) -> ResponseReturnValue:
    store = services.store()
    try:
        view = usecases.view_run(store, ui.actor(), run_id)
    except (NotFound, ObjectMissing):
        return missing()
    me = ui.viewer(store, _me())
    now = ui.now_ms()
    tasks = {t["id"]: t for t in view["tasks"]}
    focus = tasks.get(focus_id) if focus_id else None
    # Without a task in focus, offer the viewer's own current task of the run (if any).
    candidates = [focus] if focus else [t for t in reversed(view["tasks"])]
    panels = []
    for task in candidates:
        allowed = ui.task_actions(me, view, task)
        if allowed.allowed and (focus or allowed.allowed - {"urge", "reassign"}):
            panels.append({"task": task, "actions": allowed, "step": ui.step_of(view, task)})
    urgeable = [t for t in view["tasks"] if "urge" in ui.task_actions(me, view, t)] if not focus else []
    definition = view["definition"] or {}
    context = {
        "view": view, "run": view["run"], "definition": view["definition"], "focus": focus, "panels": panels,
        "timeline": ui.timeline(view, now), "attachments": ui.attachments(view),
        "files": view["files"],
        "form_rows": ui.form_rows(definition.get("form", []), view["run"]["form"]),
        "supplied": ui.supplied_attachments(view), "can_withdraw": ui.can_withdraw(me, view),
        "can_comment": view["access"].may_comment, "errors": errors or {}, "posted": posted or {}, "now": now,
        "urgeable": urgeable,
        "projects": _projects(), "me": me,
        "posted_fields": {k[2:]: v for k, v in (posted or {}).items() if k.startswith("f.")},
    }
    return render_template("workflows/run.html", **context), status


@bp.get("/runs/<run_id>")
def run_page(run_id: str) -> ResponseReturnValue:
    return _render_run(run_id)


@bp.get("/tasks/<task_id>")
def task_page(task_id: str) -> ResponseReturnValue:
    try:
        _task, run_id = usecases.open_task(services.store(), ui.actor(), task_id, now=ui.now_ms())
    except ObjectMissing:
        return missing()
    return _render_run(run_id, task_id)


@bp.get("/runs/<run_id>/files/<document_id>")
def attachment(run_id: str, document_id: str) -> ResponseReturnValue:
    """Download a file attached to the run (its participants only; the version that was attached)."""
    try:
        found = workflow_attachments.open_attachment(services.context(), ui.actor(), run_id, document_id)
    except ObjectMissing:
        return missing()
    return send_file(found.path, mimetype=found.mime, as_attachment=True, download_name=found.filename,
                     etag=found.sha256)


# -- task actions -----------------------------------------------------------------------------------------


def _username_id(field: str) -> str:
    username = request.form.get(field, "").strip().lower()
    found = directory.active_person_id(services.store(), username)
    if found is None:
        raise FormError({field: _("no active person with user name %(name)s", name=username or "—")})
    return found


def _rating() -> int:
    try:
        return int(request.form.get("rating", ""))
    except ValueError:
        raise FormError({"rating": _("a whole number from 1 to 5")}) from None


def _approval_inputs(store: Any, task: dict[str, Any], files: dict[str, Any]) -> dict[str, Any]:
    step = ui.step_of(runs.run_view(store, task["run_id"]), task)
    if not step:
        return {}
    return {"values": ui.posted_values(step["fields"]), "checklist": request.form.getlist("checklist"),
            "attachments": files or None}


def _approve(store: Any, task: dict[str, Any], me: str, now: int, comment: str, event: Any) -> None:
    actions.approve(store, task["id"], me, now=now, comment=comment, event=event,
                    **_approval_inputs(store, task, g.workflow_files))


def _resubmit(store: Any, task: dict[str, Any], me: str, now: int, comment: str, event: Any) -> None:
    view = runs.run_view(store, task["run_id"])
    fields = (view["definition"] or {}).get("form", [])
    actions.resubmit(store, task["id"], me, now=now, form=ui.posted_values(fields), comment=comment,
                     event=event)


def _reassign(store: Any, task: dict[str, Any], me: str, now: int, comment: str, event: Any) -> None:
    kind = request.form.get("to_kind", "")
    if kind == "person":
        target = _username_id("to_code")
    else:
        found = usecases.queue_id(store, kind, request.form.get("to_code", ""))
        if found is None:
            raise FormError({"to_code": _("no such department or position")})
        target = found
    actions.reassign(store, task["id"], me, to_kind=kind, to_id=target, now=now, comment=comment,
                     event=event)


ACTIONS: dict[str, Callable[[Any, dict[str, Any], str, int, str, Any], Any]] = {
    "approve": _approve,
    "reject": lambda s, t, me, now, c, e: actions.reject(s, t["id"], me, now=now, comment=c, event=e),
    "return": lambda s, t, me, now, c, e: actions.return_task(s, t["id"], me, now=now, comment=c,
                                                              to_step=request.form.get("to_step") or None, event=e),
    "claim": lambda s, t, me, now, c, e: actions.claim(s, t["id"], me, now=now, event=e),
    "request_info": lambda s, t, me, now, c, e: actions.request_info(s, t["id"], me, now=now, question=c, event=e),
    "provide_info": lambda s, t, me, now, c, e: actions.provide_info(s, t["id"], me, now=now, answer=c, event=e),
    "delegate": lambda s, t, me, now, c, e: actions.delegate(s, t["id"], me, _username_id("username"), now=now,
                                                             comment=c, event=e),
    "add_signer": lambda s, t, me, now, c, e: actions.add_signer(s, t["id"], me, _username_id("username"), now=now,
                                                                 comment=c, event=e),
    "urge": lambda s, t, me, now, c, e: actions.urge(s, t["id"], me, now=now, comment=c, event=e),
    "resubmit": _resubmit,
    "feedback": lambda s, t, me, now, c, e: actions.give_feedback(
        s, t["id"], me, accepted=request.form.get("accepted") == "yes", rating=_rating(), now=now, comment=c,
        event=e),
    "reassign": _reassign,
}
DONE_MESSAGES = {
    "approve": _l("Approved."), "reject": _l("Rejected."), "return": _l("Returned."), "claim": _l("Claimed."),
    "request_info": _l("Question sent."), "provide_info": _l("Answer sent."), "delegate": _l("Delegated."),
    "add_signer": _l("Signer added."), "urge": _l("Reminder sent."), "resubmit": _l("Resubmitted."),
    "feedback": _l("Thank you for your feedback."), "reassign": _l("Reassigned."),
}


@bp.post("/tasks/<task_id>/<action>")
def act(task_id: str, action: str) -> ResponseReturnValue:
    handler = ACTIONS.get(action)
    if handler is None:
        abort(404)
    store, me, now = services.store(), _me(), ui.now_ms()
    try:
        task, run_id = usecases.task_run(store, ui.actor(), task_id)
    except ObjectMissing:
        return missing()
    comment = request.form.get("comment", "")
    try:
        g.workflow_files = {}
        if action == "approve":
            # Checked with the files by name first: a refused decision stores no attachment (no orphans).
            names = _step_attachments(store, task)
            actions.check_approve(store, task_id, me, **_approval_inputs(store, task,
                                                                          ui.posted_attachments(None, names)))
            g.workflow_files = ui.posted_attachments(store, names)
        files = [{"field": name, **f} for name, items in g.workflow_files.items() for f in items]
        usecases.act(store, ui.actor(), task_id, action,
                     lambda event: handler(store, task, me, now, comment, event), now=now, files=files)
    except InvalidInput as error:
        return _render_run(run_id, task_id, {f"{action}.attachments.{error.params.get('field', '')}":
                                             ui.domain_message(error)}, 422, posted=request.form.to_dict())
    except NotAllowed as error:
        return refused(error, 403)
    except FormError as error:
        errors = {k: ui.form_message(v) for k, v in error.errors.items()}
        return _render_run(run_id, task_id, {f"{action}.{k}": v for k, v in errors.items()}, 422,
                           posted=request.form.to_dict())
    except (Conflict, RoutingError) as error:
        flash(str(error), "error")
        return redirect(url_for("workflows.task_page", task_id=task_id), 303)
    except (NotFound, ObjectMissing):
        return missing()
    flash(str(DONE_MESSAGES[action]) if action not in ("approve", "reject") or task["kind"] != "adhoc" else
          (_("Completed.") if action == "approve" else _("Declined.")), "success")
    return redirect(url_for("workflows.task_page", task_id=task_id), 303)


# -- run actions ---------------------------------------------------------------------------------------------


@bp.post("/runs/<run_id>/comment")
def comment(run_id: str) -> ResponseReturnValue:
    store = services.store()
    try:
        usecases.comment(store, ui.actor(), run_id, request.form.get("comment", ""), now=ui.now_ms(),
                         task_id=request.form.get("task_id") or None)
    except (NotAllowed, NotFound, ObjectMissing):
        return missing()  # who may comment is who may see the run: anyone else meets a missing run
    except FormError:
        return _render_run(run_id, request.form.get("task_id") or None, {"comment": _("required")}, 422)
    return redirect(_back(run_id), 303)


@bp.post("/runs/<run_id>/withdraw")
def withdraw(run_id: str) -> ResponseReturnValue:
    store = services.store()
    try:
        usecases.withdraw(store, ui.actor(), run_id, now=ui.now_ms(), reason=request.form.get("comment", ""))
    except NotAllowed as error:
        return refused(error, 403)
    except (NotFound, ObjectMissing):
        return missing()
    except Conflict as error:
        flash(str(error), "error")
        return redirect(url_for("workflows.run_page", run_id=run_id), 303)
    flash(_("Withdrawn."), "success")
    return redirect(url_for("workflows.run_page", run_id=run_id), 303)


def _back(run_id: str) -> str:
    task_id = request.form.get("task_id")
    target = url_for("workflows.task_page", task_id=task_id) if task_id else url_for("workflows.run_page",
                                                                                       run_id=run_id)
    return target + "#comments"


# Routes of ad-hoc requests are declared on this blueprint by their own module.
from webapp.views import workflow_requests  # noqa: E402, F401


def _step_attachments(store: Any, task: dict[str, Any]) -> list[str]:
    step = ui.step_of(runs.run_view(store, task["run_id"]), task)
    return list(step["attachments"]) if step else []
