"""``/admin/org``: departments (tree), people, positions, projects, memberships, bulk import and export.

Views only translate between HTTP and :mod:`graph.org` / :mod:`graph.org_io`: validation lives
there, and every refused change comes back as an :class:`graph.org.OrgError` whose problems are
shown next to their fields. Every change is written to the audit trail.
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

from graph import org, org_io
from graph.org import OrgError, Problem
from webapp import services
from webapp.auth import audit, current_person, roles_required
from webapp.downloads import content_disposition

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

def _department_options(exclude_subtree_of: str | None = None) -> list[dict[str, Any]]:
    """Active departments as (id, indented label), optionally without one department's subtree."""
    roots, _nodes = org.department_tree(services.store())
    options: list[dict[str, Any]] = []

    def walk(node: org.DeptNode) -> None:
        if node.row["id"] == exclude_subtree_of:
            return
        if node.row["active"]:
            options.append({"id": node.row["id"], "label": "\u2003" * node.depth + f"{node.row['code']} · "
                            f"{node.row['name']}"})
        for child in node.children:
            walk(child)

    for root in roots:
        walk(root)
    return options


def _render_coded_form(kinds: str, entity: Mapping[str, Any] | None, values: Mapping[str, Any],
                       errors: Mapping[str | None, list[str]] | None = None, section: str = "details",
                       status: int = 200) -> ResponseReturnValue:
    kind = _kind(kinds)
    context: dict[str, Any] = {"kinds": kinds, "kind": kind, "title": TITLES[kinds], "entity": entity,
                               "values": values, "errors": errors or {}, "section": section}
    if kind == "department":
        context["parent_options"] = _department_options(entity["id"] if entity else None)
        context["move_options"] = [o for o in _department_options() if not entity or o["id"] != entity["id"]]
        if entity:
            _, nodes = org.department_tree(services.store())
            node = nodes.get(entity["id"])
            context["current_parent_id"] = node.row["parent_id"] if node else None
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
        entity_id = org.create(services.store(), kind, request.form)
    except OrgError as error:
        return _render_coded_form(kinds, None, request.form, _errors(error), status=422)
    audit(f"org.{kind}.create", target_kind=kind, target_id=entity_id,
          detail={k: request.form.get(k, "") for k in ("code", "name", "name_en", "parent_id")})
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
        before = org.update(services.store(), kind, entity_id, request.form)
    except OrgError as error:
        return _render_coded_form(kinds, entity, request.form, _errors(error), status=422)
    after = {k: request.form.get(k, "").strip() for k in ("code", "name", "name_en")}
    audit(f"org.{kind}.update", target_kind=kind, target_id=entity_id,
          detail={"before": {k: before.get(k) for k in after}, "after": after})
    flash(_("Saved %(code)s.", code=after["code"]), "success")
    return redirect(url_for("admin_org.edit", kinds=kinds, entity_id=entity_id))


@bp.post("/departments/<entity_id>/move")
@roles_required("admin")
def move(entity_id: str) -> ResponseReturnValue:
    entity = _entity_or_404("department", entity_id)
    parent_id = request.form.get("parent_id", "").strip() or None
    try:
        org.move_department(services.store(), entity_id, parent_id)
    except OrgError as error:
        return _render_coded_form("departments", entity, entity, _errors(error), "move", 422)
    audit("org.department.move", target_kind="department", target_id=entity_id, detail={"parent_id": parent_id})
    flash(_("Moved %(code)s.", code=entity["code"]), "success")
    return redirect(url_for("admin_org.edit", kinds="departments", entity_id=entity_id))


@bp.post("/<any(departments, positions, projects):kinds>/<entity_id>/status")
@roles_required("admin")
def set_status(kinds: str, entity_id: str) -> ResponseReturnValue:
    kind = _kind(kinds)
    entity = _entity_or_404(kind, entity_id)
    active = request.form.get("active") == "true"
    target = request.form.get("move_members_to", "").strip() or None
    store = services.store()
    try:
        if kind == "department" and not active:
            moved = org.deactivate_department(store, entity_id, target)
            detail: dict[str, Any] = {"moved_members_to": target, "moved": moved}
        else:
            org.set_active(store, kind, entity_id, active)
            detail = {}
    except OrgError as error:
        return _render_coded_form(kinds, entity, entity, _errors(error), "status", 422)
    audit(f"org.{kind}.{'activate' if active else 'deactivate'}", target_kind=kind, target_id=entity_id,
          detail=detail)
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
        context["targets"] = {kind: org.search(store, kind, status="active", size=2000).rows for kind in org.KINDS}
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
        person_id = org.create_person(services.store(), request.form, roles)
    except OrgError as error:
        values = {**request.form.to_dict(), "roles": roles}
        return _render_person(None, values, _errors(error), status=422)
    audit("org.person.create", target_kind="person", target_id=person_id,
          detail={"username": request.form.get("username", "").strip().lower(), "roles": roles})
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
        before = org.update_person(services.store(), person_id, request.form)
    except OrgError as error:
        return _render_person(found, {**found, **request.form.to_dict()}, _errors(error), status=422)
    after = {k: request.form.get(k, "").strip() for k in ("name", "email")}
    audit("org.person.update", target_kind="person", target_id=person_id,
          detail={"before": {k: before.get(k) for k in after}, "after": after})
    flash(_("Saved %(username)s.", username=found["username"]), "success")
    return redirect(url_for("admin_org.person", person_id=person_id))


@bp.post("/people/<person_id>/roles")
@roles_required("admin")
def person_roles(person_id: str) -> ResponseReturnValue:
    found = _person_or_404(person_id)
    roles, manager = request.form.getlist("roles"), request.form.get("manager", "").strip()
    store = services.store()
    if person_id == _actor_id() and "admin" not in roles:
        error = OrgError(Problem(org.N_("You cannot remove your own admin role."), field="roles"))
        return _render_person(found, {**found, "roles": roles}, _errors(error), "roles", 422)
    try:
        org.set_manager(store, person_id, manager or None)
        org.set_roles(store, person_id, roles)
    except OrgError as error:
        return _render_person(found, {**found, "roles": roles, "manager_username": manager}, _errors(error),
                              "roles", 422)
    audit("org.person.roles", target_kind="person", target_id=person_id,
          detail={"before": {"roles": sorted(found["roles"]), "manager": found["manager_username"]},
                  "after": {"roles": sorted(roles), "manager": manager or None}})
    flash(_("Saved %(username)s.", username=found["username"]), "success")
    return redirect(url_for("admin_org.person", person_id=person_id))


@bp.post("/people/<person_id>/status")
@roles_required("admin")
def person_status(person_id: str) -> ResponseReturnValue:
    found = _person_or_404(person_id)
    active = request.form.get("active") == "true"
    if not active and person_id == _actor_id():
        error = OrgError(Problem(org.N_("You cannot deactivate your own account.")))
        return _render_person(found, found, _errors(error), "status", 422)
    org.set_person_active(services.store(), person_id, active)
    audit(f"org.person.{'activate' if active else 'deactivate'}", target_kind="person", target_id=person_id)
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
        target = org.add_membership(services.store(), person_id, kind, code)
    except OrgError as error:
        return _render_person(found, {**found, "kind": kind, "code": code}, _errors(error), "memberships", 422)
    audit("org.membership.add", target_kind="person", target_id=person_id,
          detail={"kind": kind, "code": target["code"], "target_id": target["id"]})
    flash(_("Added %(username)s to %(code)s.", username=found["username"], code=target["code"]), "success")
    return redirect(url_for("admin_org.person", person_id=person_id) + "#memberships")


@bp.post("/people/<person_id>/memberships/remove")
@roles_required("admin")
def membership_remove(person_id: str) -> ResponseReturnValue:
    found = _person_or_404(person_id)
    kind, target_id = request.form.get("kind", ""), request.form.get("target_id", "")
    try:
        removed = org.remove_membership(services.store(), person_id, kind, target_id)
    except OrgError as error:
        return _render_person(found, found, _errors(error), "memberships", 422)
    if removed:
        audit("org.membership.remove", target_kind="person", target_id=person_id,
              detail={"kind": kind, "target_id": target_id})
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


def _plan_from(folder: Path) -> org_io.ImportPlan:
    return org_io.plan_import(services.store(), org_io.read_paths([folder]))


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
    plan = _plan_from(folder)
    audit("org.import.dry_run", detail={"files": sorted(p.name for p in folder.iterdir()), "ok": plan.ok,
                                        "problems": len(plan.problems), "summary": plan.summary()})
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
    plan = _plan_from(folder)
    if not plan.ok:
        flash(_("The files no longer import cleanly; nothing was written."), "error")
        return render_template("admin/import.html", plan=plan, token=token, tr=tr, columns=org_io.COLUMNS,
                               required=org_io.REQUIRED, files=sorted(p.name for p in folder.iterdir())), 409
    summary = org_io.apply_plan(services.store(), plan)
    audit("org.import.apply", detail={"files": sorted(p.name for p in folder.iterdir()), "summary": summary})
    shutil.rmtree(folder, ignore_errors=True)
    session.pop(SESSION_IMPORT, None)
    flash(_("Import applied: %(count)s change(s).", count=len(plan.changes)), "success")
    return redirect(url_for("admin_org.import_form"))


@bp.get("/export.xlsx")
@roles_required("admin")
def export_xlsx() -> ResponseReturnValue:
    data = org_io.xlsx_bytes(org_io.export_org(services.store()))
    audit("org.export", detail={"format": "xlsx"})
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    return Response(data, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": content_disposition(f"huitong-org-{stamp}.xlsx")})


@bp.get("/export/<any(departments, positions, projects, people, memberships):sheet>.csv")
@roles_required("admin")
def export_csv(sheet: str) -> ResponseReturnValue:
    rows = org_io.export_org(services.store())[sheet]
    audit("org.export", detail={"format": "csv", "sheet": sheet})
    return Response(org_io.csv_bytes(rows, sheet), mimetype="text/csv",
                    headers={"Content-Disposition": content_disposition(f"{sheet}.csv")})
