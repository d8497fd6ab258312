"""``/admin/org/impact``: who would gain or lose access, shown before an organisation change is applied.

The forms of the organisation pages post here first; the page shows the impact computed by
:mod:`graph.org_impact` and carries the same fields to the real change (one more click). The
change itself stays in :mod:`webapp.views.admin_org`, which validates and audits it.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request, url_for
from flask.typing import ResponseReturnValue

from graph import org, org_impact
from graph.errors import InvalidInput
from graph.usecases import org_admin as cases
from webapp import services
from webapp.auth import roles_required
from webapp.views import admin_org

bp = Blueprint("org_impact", __name__, url_prefix="/admin/org/impact")

KINDS = {"departments": "department", "positions": "position", "projects": "project"}


def _fields() -> dict[str, str]:
    return {k: v for k, v in request.form.items() if k != "csrf_token"}


def _render(impact: org_impact.Impact, apply_url: str, back_url: str, subject: str) -> ResponseReturnValue:
    return render_template("org_impact/preview.html", impact=impact, apply_url=apply_url, back_url=back_url,
                           fields=_fields(), subject=subject)


def _entity(kind: str, entity_id: str) -> dict:
    try:
        return org.get(services.store(), kind, entity_id)
    except org.NotFound:
        abort(404)


def _person(person_id: str) -> dict:
    try:
        return org.get_person(services.store(), person_id)
    except org.NotFound:
        abort(404)


@bp.post("/departments/<entity_id>/move")
@roles_required("admin")
def move(entity_id: str) -> ResponseReturnValue:
    entity = _entity("department", entity_id)
    parent_id = request.form.get("parent_id", "").strip() or None
    if "parent" in request.form:  # the tree picker posts a code: a refused parent is said before any preview
        try:
            parent_id = cases.department_parent(services.context(), services.actor(), entity_id,
                                                request.form["parent"])
        except InvalidInput as error:
            return admin_org.move_refused(entity, error)
    impact = org_impact.preview_move(services.store(), entity_id, parent_id)
    return _render(impact, url_for("admin_org.move", entity_id=entity_id),
                   url_for("admin_org.edit", kinds="departments", entity_id=entity_id), entity["code"])


@bp.post("/<any(departments, positions, projects):kinds>/<entity_id>/status")
@roles_required("admin")
def status(kinds: str, entity_id: str) -> ResponseReturnValue:
    entity = _entity(KINDS[kinds], entity_id)
    active, target = request.form.get("active") == "true", request.form.get("move_members_to", "").strip() or None
    if KINDS[kinds] == "department" and not active and "move_members" in request.form:
        try:  # the tree picker posts a code: a refused department is said before any preview
            target = cases.members_target(services.context(), services.actor(), entity_id,
                                          request.form["move_members"])
        except InvalidInput as error:
            return admin_org.status_refused(kinds, entity, admin_org.refusal(error))
    impact = org_impact.preview_status(services.store(), KINDS[kinds], entity_id, active, target)
    return _render(impact, url_for("admin_org.set_status", kinds=kinds, entity_id=entity_id),
                   url_for("admin_org.edit", kinds=kinds, entity_id=entity_id), entity["code"])


@bp.post("/people/<person_id>/memberships/<any(add, remove):action>")
@roles_required("admin")
def membership(person_id: str, action: str) -> ResponseReturnValue:
    person = _person(person_id)
    kind = request.form.get("kind", "")
    impact = org_impact.preview_membership(services.store(), person_id, kind, code=request.form.get("code", "").strip(),
                                           target_id=request.form.get("target_id", ""), add=action == "add")
    endpoint = "admin_org.membership_add" if action == "add" else "admin_org.membership_remove"
    return _render(impact, url_for(endpoint, person_id=person_id),
                   url_for("admin_org.person", person_id=person_id), person["username"])


@bp.post("/people/<person_id>/status")
@roles_required("admin")
def person_status(person_id: str) -> ResponseReturnValue:
    person = _person(person_id)
    impact = org_impact.preview_person_active(services.store(), person_id, request.form.get("active") == "true")
    return _render(impact, url_for("admin_org.person_status", person_id=person_id),
                   url_for("admin_org.person", person_id=person_id), person["username"])
