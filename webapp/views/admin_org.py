"""``/admin/org``: departments (tree), people, positions, projects, memberships, bulk import and export.

Views only translate between HTTP and the use cases of :mod:`graph.usecases.org_admin` (the CLI's door to
the same changes): validation lives in :mod:`graph.org` / :mod:`graph.org_io`, and every refused change
comes back as an :class:`graph.org.OrgError` whose problems are shown next to their fields. The use cases
write the audit trail.
"""

from __future__ import annotations

import re
import secrets
import shutil
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.utils import secure_filename

from graph import department_moves, org, org_io
from graph.errors import InvalidInput
from graph.org import OrgError, Problem
from graph.usecases import org_admin as cases
from webapp import services
from webapp.auth import current_person, roles_required
from webapp.downloads import content_disposition
from webapp.messages import MESSAGES, message

bp = Blueprint("admin_org", __name__, url_prefix="/admin/org")

PAGE_SIZE = 25
PLURALS: dict[str, str] = {"departments": "department", "positions": "position", "projects": "project"}
KIND_LABELS = {
    "department": _l("department"), "position": _l("position"), "project": _l("project"),
    "head": _l("head of department"), "person": _l("person"),
}
TITLES = {"departments": _l("Departments"), "positions": _l("Positions"), "projects": _l("Projects")}
IMPORT_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
IMPORT_MAX_AGE_S = 24 * 3600
SESSION_IMPORT = "org_import_token"
# The tree picker's refusals (the same sentences as the organisation module's own checks).
MESSAGES.update({
    department_moves.UNDER_ITSELF: _l("A department cannot be moved under itself."),
    department_moves.UNDER_DESCENDANT: _l("“%(code)s” cannot move under “%(parent)s”: that department is inside it."),
    department_moves.INACTIVE_PARENT: _l("The parent department “%(code)s” is inactive."),
    department_moves.UNKNOWN_PARENT: _l("No active department has the code “%(code)s”."),
    department_moves.MEMBERS_TO_ITSELF: _l("Members cannot be moved to the department being deactivated."),
    department_moves.MEMBERS_TO_DESCENDANT: _l(
        "“%(target)s” is inside “%(code)s”, which is being deactivated: choose a department outside it."),
    department_moves.MEMBERS_TO_INACTIVE: _l("The target department “%(code)s” is inactive."),
})


# -- helpers ---------------------------------------------------------------------------------------

def tr(problem: Problem) -> str:
    """A domain message in the request's language."""
    params = {k: KIND_LABELS.get(v, v) if k == "kind" and isinstance(v, str) else v for k, v in problem.params.items()}
    return _(problem.template, **params) if params else _(problem.template)


def _errors(error: OrgError) -> dict[str | None, list[str]]:
    return {name: [tr(p) for p in problems] for name, problems in error.by_field().items()}


def _page() -> int:
    try:
        return max(int(request.args.get("page", "1")), 1)
    except ValueError:
        return 1


def _status() -> str:
    status = request.args.get("status", "active")
    return status if status in org.STATUSES else "active"


def _htmx_results() -> bool:
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-Target") == "results"


def _kind(kinds: str) -> str:
    return PLURALS[kinds]


def _actor_id() -> str | None:
    person = current_person()
    return person.id if person else None


def record_refusal() -> None:
    """A non-administrator was refused an admin page: when it names an org object that exists, the refusal is
    recorded (see :func:`graph.usecases.org_admin.record_refusal`)."""
    args = request.view_args or {}
    if not (request.endpoint or "").startswith(f"{bp.name}.") or not args:
        return
    if "person_id" in args:
        kind, target = "person", args["person_id"]
    elif "entity_id" in args:
        kind, target = PLURALS.get(args.get("kinds", "departments"), ""), args["entity_id"]
    else:
        return
    cases.record_refusal(services.context(), services.actor(), kind, str(target))


@bp.app_template_global()
def admin_kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind))


# -- departments, positions, projects: lists ------------------------------------------------------------

@bp.get("/")
@roles_required("admin")
def index() -> ResponseReturnValue:
    return redirect(url_for("admin_org.listing", kinds="departments"))


@bp.get("/<any(departments, positions, projects):kinds>")
@roles_required("admin")
def listing(kinds: str) -> ResponseReturnValue:
    kind, store = _kind(kinds), services.store()
    query, status = request.args.get("q", "").strip()[:100], _status()
    context: dict[str, Any] = {"kinds": kinds, "kind": kind, "title": TITLES[kinds], "q": query, "status": status}
    if kind == "department":
        roots, nodes = org.department_tree(store)
        context["paths"] = {i: " / ".join(r["code"] for r in org.department_path(nodes, i)) for i in nodes}
        if not query and status != "inactive":
            # Browsing shows the tree (inactive branches only on request); searching shows a flat list.
            context["tree"] = roots
            context["show_inactive"] = status == "all"
    if "tree" not in context:
        context["result"] = org.search(store, kind, query, status=status, page=_page(), size=PAGE_SIZE)
    template = "admin/_coded_results.html" if _htmx_results() else "admin/coded_list.html"
    return render_template(template, **context)


# -- departments, positions, projects: create / edit / move / (de)activate --------------------------------

def _render_coded_form(kinds: str, entity: Mapping[str, Any] | None, values: Mapping[str, Any],
                       errors: Mapping[str | None, list[str]] | None = None, section: str = "details",
                       status: int = 200) -> ResponseReturnValue:
    kind = _kind(kinds)
    errors = dict(errors or {})
    for by_id, picked in (("parent_id", "parent"), ("move_members_to", "move_members")):
        if by_id in errors:  # the organisation module names the field by id; the tree picker posts a code
            errors[picked] = errors.get(picked, []) + errors.pop(by_id)
    context: dict[str, Any] = {"kinds": kinds, "kind": kind, "title": TITLES[kinds], "entity": entity,
                               "values": values, "errors": errors, "section": section}
    if kind == "department":
        _, nodes = org.department_tree(services.store())
        context["members_code"] = values.get("move_members", "")
        # The tree picker shows codes: what was posted, else the parent the page was opened for or has now.
        named = nodes.get(str(values.get("parent_id") or ""))
        context["parent_code"] = values.get("parent", named.row["code"] if named else "")
        if entity:
            node = nodes.get(entity["id"])
            if "parent" not in values:
                context["parent_code"] = (node.row["parent_code"] if node else None) or ""
            context["members"] = node.row["members"] if node else 0
            context["path"] = org.department_path(nodes, entity["id"])
    return render_template("admin/coded_form.html", **context), status


@bp.route("/<any(departments, positions, projects):kinds>/new", methods=["GET", "POST"])
@roles_required("admin")
def create(kinds: str) -> ResponseReturnValue:
    kind = _kind(kinds)
    if request.method == "GET":
        return _render_coded_form(kinds, None, {"parent_id": request.args.get("parent_id", "")})
    try:
        entity_id = cases.create(services.context(), services.actor(), kind, request.form)
    except OrgError as error:
        return _render_coded_form(kinds, None, request.form, _errors(error), status=422)
    except InvalidInput as error:  # the tree picker's parent: unknown or inactive
        return _render_coded_form(kinds, None, request.form, refusal(error), status=422)
    flash(_("Created %(code)s.", code=request.form.get("code", "").strip()), "success")
    return redirect(url_for("admin_org.edit", kinds=kinds, entity_id=entity_id))


def _entity_or_404(kind: str, entity_id: str) -> dict[str, Any]:
    try:
        return org.get(services.store(), kind, entity_id)
    except org.NotFound:
        abort(404)


@bp.route("/<any(departments, positions, projects):kinds>/<entity_id>", methods=["GET", "POST"])
@roles_required("admin")
def edit(kinds: str, entity_id: str) -> ResponseReturnValue:
    kind = _kind(kinds)
    entity = _entity_or_404(kind, entity_id)
    if request.method == "GET":
        return _render_coded_form(kinds, entity, entity)
    try:
        cases.update(services.context(), services.actor(), kind, entity_id, request.form)
    except OrgError as error:
        return _render_coded_form(kinds, entity, request.form, _errors(error), status=422)
    flash(_("Saved %(code)s.", code=request.form.get("code", "").strip()), "success")
    return redirect(url_for("admin_org.edit", kinds=kinds, entity_id=entity_id))


@bp.post("/departments/<entity_id>/move")
@roles_required("admin")
def move(entity_id: str) -> ResponseReturnValue:
    entity = _entity_or_404("department", entity_id)
    parent_id = request.form.get("parent_id", "").strip() or None
    try:
        cases.move_department(services.context(), services.actor(), entity_id, parent_id,
                              parent_code=request.form.get("parent"))
    except OrgError as error:
        return _render_coded_form("departments", entity, entity, _errors(error), "move", 422)
    except InvalidInput as error:  # under itself or its own descendant, or no such department
        return move_refused(entity, error)
    flash(_("Moved %(code)s.", code=entity["code"]), "success")
    return redirect(url_for("admin_org.edit", kinds="departments", entity_id=entity_id))


def refusal(error: InvalidInput) -> dict[str | None, list[str]]:
    field = error.params.get("field")
    return {str(field) if field else None: [message(error)]}


def move_refused(entity: Mapping[str, Any], error: InvalidInput) -> ResponseReturnValue:
    """The department page again, the refused parent kept in the picker and the reason beside it."""
    values = {**entity, "parent": request.form.get("parent", "")}
    return _render_coded_form("departments", entity, values, refusal(error), "move", 422)


def status_refused(kinds: str, entity: Mapping[str, Any],
                   errors: Mapping[str | None, list[str]]) -> ResponseReturnValue:
    """The page again after a refused (de)activation, the members' department kept in the picker."""
    values = {**entity, "move_members": request.form.get("move_members", "")}
    return _render_coded_form(kinds, entity, values, errors, "status", 422)


@bp.post("/<any(departments, positions, projects):kinds>/<entity_id>/status")
@roles_required("admin")
def set_status(kinds: str, entity_id: str) -> ResponseReturnValue:
    kind = _kind(kinds)
    entity = _entity_or_404(kind, entity_id)
    active = request.form.get("active") == "true"
    target = request.form.get("move_members_to", "").strip() or None
    try:
        cases.set_status(services.context(), services.actor(), kind, entity_id, active, target,
                         members_code=request.form.get("move_members"))
    except OrgError as error:
        return status_refused(kinds, entity, _errors(error))
    except InvalidInput as error:  # the members' new department: itself, inside it, closed or unknown
        return status_refused(kinds, entity, refusal(error))
    message = _("Reactivated %(code)s.", code=entity["code"]) if active else _("Deactivated %(code)s.",
                                                                              code=entity["code"])
    flash(message, "success")
    return redirect(url_for("admin_org.edit", kinds=kinds, entity_id=entity_id))


# -- people ------------------------------------------------------------------------------------------------

@bp.get("/people")
@roles_required("admin")
def people() -> ResponseReturnValue:
    query, status = request.args.get("q", "").strip()[:100], _status()
    result = org.search_people(services.store(), query, status=status, page=_page(), size=PAGE_SIZE)
    template = "admin/_people_results.html" if _htmx_results() else "admin/people.html"
    return render_template(template, result=result, q=query, status=status)


def _render_person(person: Mapping[str, Any] | None, values: Mapping[str, Any],
                   errors: Mapping[str | None, list[str]] | None = None, section: str = "details",
                   status: int = 200) -> ResponseReturnValue:
    store = services.store()
    context: dict[str, Any] = {"person": person, "values": values, "errors": errors or {}, "section": section,
                               "roles": org.ROLES, "membership_kinds": org.MEMBERSHIP_KINDS}
    if person is not None:
        context["memberships"] = org.memberships(store, person["id"])
        context["is_self"] = person["id"] == _actor_id()
    return render_template("admin/person.html", **context), status


def _person_or_404(person_id: str) -> dict[str, Any]:
    try:
        return org.get_person(services.store(), person_id)
    except org.NotFound:
        abort(404)


@bp.route("/people/new", methods=["GET", "POST"])
@roles_required("admin")
def person_new() -> ResponseReturnValue:
    if request.method == "GET":
        return _render_person(None, {"roles": ["member"]})
    roles = request.form.getlist("roles")
    try:
        person_id = cases.create_person(services.context(), services.actor(), request.form, roles)
    except OrgError as error:
        values = {**request.form.to_dict(), "roles": roles}
        return _render_person(None, values, _errors(error), status=422)
    flash(_("Created %(username)s. They can sign in once an administrator sets their password.",
            username=request.form.get("username", "").strip().lower()), "success")
    return redirect(url_for("admin_org.person", person_id=person_id))


@bp.route("/people/<person_id>", methods=["GET", "POST"])
@roles_required("admin")
def person(person_id: str) -> ResponseReturnValue:
    found = _person_or_404(person_id)
    if request.method == "GET":
        return _render_person(found, found)
    try:
        cases.update_person(services.context(), services.actor(), person_id, request.form)
    except OrgError as error:
        return _render_person(found, {**found, **request.form.to_dict()}, _errors(error), status=422)
    flash(_("Saved %(username)s.", username=found["username"]), "success")
    return redirect(url_for("admin_org.person", person_id=person_id))


@bp.post("/people/<person_id>/roles")
@roles_required("admin")
def person_roles(person_id: str) -> ResponseReturnValue:
    found = _person_or_404(person_id)
    roles, manager = request.form.getlist("roles"), request.form.get("manager", "").strip()
    try:
        cases.set_roles(services.context(), services.actor(), person_id, roles, manager or None)
    except OrgError as error:
        return _render_person(found, {**found, "roles": roles, "manager_username": manager}, _errors(error),
                              "roles", 422)
    flash(_("Saved %(username)s.", username=found["username"]), "success")
    return redirect(url_for("admin_org.person", person_id=person_id))


@bp.post("/people/<person_id>/status")
@roles_required("admin")
def person_status(person_id: str) -> ResponseReturnValue:
    found = _person_or_404(person_id)
    active = request.form.get("active") == "true"
    try:
        cases.set_person_active(services.context(), services.actor(), person_id, active)
    except OrgError as error:
        return _render_person(found, found, _errors(error), "status", 422)
    message = (_("Reactivated %(code)s.", code=found["username"]) if active else
               _("Deactivated %(code)s.", code=found["username"]))
    flash(message, "success")
    return redirect(url_for("admin_org.person", person_id=person_id))


@bp.post("/people/<person_id>/memberships")
@roles_required("admin")
def membership_add(person_id: str) -> ResponseReturnValue:
    found = _person_or_404(person_id)
    kind, code = request.form.get("kind", ""), request.form.get("code", "")
    try:
        target = cases.add_membership(services.context(), services.actor(), person_id, kind, code)
    except OrgError as error:
        return _render_person(found, {**found, "kind": kind, "code": code}, _errors(error), "memberships", 422)
    flash(_("Added %(username)s to %(code)s.", username=found["username"], code=target["code"]), "success")
    return redirect(url_for("admin_org.person", person_id=person_id) + "#memberships")


@bp.post("/people/<person_id>/memberships/remove")
@roles_required("admin")
def membership_remove(person_id: str) -> ResponseReturnValue:
    found = _person_or_404(person_id)
    kind, target_id = request.form.get("kind", ""), request.form.get("target_id", "")
    try:
        removed = cases.remove_membership(services.context(), services.actor(), person_id, kind, target_id)
    except OrgError as error:
        return _render_person(found, found, _errors(error), "memberships", 422)
    if removed:
        flash(_("Membership removed."), "success")
    return redirect(url_for("admin_org.person", person_id=person_id) + "#memberships")


# -- bulk import and export --------------------------------------------------------------------------------

def _imports_dir() -> Path:
    return services.settings().data_dir / "imports"


def _forget_old_uploads() -> None:
    root = _imports_dir()
    if not root.is_dir():
        return
    cutoff = time.time() - IMPORT_MAX_AGE_S
    for folder in root.iterdir():
        if folder.is_dir() and folder.stat().st_mtime < cutoff:
            shutil.rmtree(folder, ignore_errors=True)


def _save_uploads() -> tuple[str, Path]:
    """Keep the uploaded files until they are applied (or a day has passed)."""
    _forget_old_uploads()
    token = secrets.token_urlsafe(24)
    folder = _imports_dir() / token
    folder.mkdir(parents=True)
    for index, upload in enumerate(request.files.getlist("files")):
        if not upload.filename:
            continue
        original = Path(upload.filename)
        # secure_filename drops non-ASCII letters; the stem (the sheet name) must survive or be visibly lost.
        name = secure_filename(original.name) or f"upload-{index}{original.suffix.lower()}"
        upload.save(folder / name)
    return token, folder


def _import_folder(token: str) -> Path | None:
    if not IMPORT_TOKEN_RE.match(token) or session.get(SESSION_IMPORT) != token:
        return None
    folder = _imports_dir() / token
    return folder if folder.is_dir() else None


@bp.get("/import")
@roles_required("admin")
def import_form() -> ResponseReturnValue:
    return render_template("admin/import.html", plan=None, token=None, columns=org_io.COLUMNS,
                           required=org_io.REQUIRED)


@bp.post("/import")
@roles_required("admin")
def import_dry_run() -> ResponseReturnValue:
    if not any(f.filename for f in request.files.getlist("files")):
        flash(_("Choose at least one CSV or XLSX file."), "error")
        return render_template("admin/import.html", plan=None, token=None, columns=org_io.COLUMNS,
                               required=org_io.REQUIRED, file_error=True), 422
    token, folder = _save_uploads()
    session[SESSION_IMPORT] = token
    plan = cases.plan_import(services.context(), services.actor(), folder)
    return render_template("admin/import.html", plan=plan, token=token, tr=tr, columns=org_io.COLUMNS,
                           required=org_io.REQUIRED, files=sorted(p.name for p in folder.iterdir()))


@bp.post("/import/apply")
@roles_required("admin")
def import_apply() -> ResponseReturnValue:
    token = request.form.get("token", "")
    folder = _import_folder(token)
    if folder is None:
        flash(_("This import is no longer available; upload the files again."), "error")
        return redirect(url_for("admin_org.import_form"))
    # Planned again: the graph may have changed since the dry run, and only a clean plan is written.
    plan = cases.plan_import(services.context(), services.actor(), folder, audited=False)
    if not plan.ok:
        flash(_("The files no longer import cleanly; nothing was written."), "error")
        return render_template("admin/import.html", plan=plan, token=token, tr=tr, columns=org_io.COLUMNS,
                               required=org_io.REQUIRED, files=sorted(p.name for p in folder.iterdir())), 409
    cases.apply_import(services.context(), services.actor(), plan, folder)
    shutil.rmtree(folder, ignore_errors=True)
    session.pop(SESSION_IMPORT, None)
    flash(_("Import applied: %(count)s change(s).", count=len(plan.changes)), "success")
    return redirect(url_for("admin_org.import_form"))


@bp.get("/export.xlsx")
@roles_required("admin")
def export_xlsx() -> ResponseReturnValue:
    data = org_io.xlsx_bytes(cases.export(services.context(), services.actor(), "xlsx"))
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    return Response(data, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": content_disposition(f"huitong-org-{stamp}.xlsx")})


@bp.get("/export/<any(departments, positions, projects, people, memberships):sheet>.csv")
@roles_required("admin")
def export_csv(sheet: str) -> ResponseReturnValue:
    rows = cases.export(services.context(), services.actor(), "csv", sheet)[sheet]
    return Response(org_io.csv_bytes(rows, sheet), mimetype="text/csv",
                    headers={"Content-Disposition": content_disposition(f"{sheet}.csv")})
