"""Organisation administration as use cases: departments, positions, projects, people, memberships, bulk
import and export, whatever the door (the admin pages, ``huitong user activate|deactivate``).

Each takes the acting person, checks once that they administer the organisation, writes through
:mod:`graph.org` / :mod:`graph.org_io` (which validate and raise :class:`graph.org.OrgError`), and records
the audit event with the door it came through. A refusal on an org object that exists is itself
recorded (``access.refused``): the person still gets the neutral answer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from graph import accounts, audit, department_moves, org, org_io
from graph.actor import Actor
from graph.errors import NotPermitted, StateConflict
from graph.org import OrgError, Problem
from graph.usecases import Context

KINDS = ("department", "position", "project")
OBJECT_KINDS = (*KINDS, "person")
ADMIN_ONLY = "org.admin_only"


def operator(door: str = "cli") -> Actor:
    """Whoever runs a command on the server itself: they administer the organisation (the machine is theirs)
    and are nobody in it, so their events carry the door instead of a person."""
    return Actor("", "operator", "operator", frozenset({"admin"}), door=door, address=door)


def _exists(ctx: Context, kind: str, target_id: str) -> bool:
    try:
        if kind == "person":
            org.get_person(ctx.store, target_id)
        else:
            org.get(ctx.store, kind, target_id)
    except OrgError:  # NotFound, or a kind that is not one
        return False
    return True


def record_refusal(ctx: Context, actor: Actor, kind: str | None, target_id: str | None) -> bool:
    """Note that ``actor`` was refused the org object ``kind``/``target_id`` (only when it exists: probing
    for ids that do not exist says nothing about anyone). Returns whether an event was written."""
    if not kind or not target_id or kind not in OBJECT_KINDS or not _exists(ctx, kind, target_id):
        return False
    audit.record(ctx.store, action="access.refused", actor_id=actor.person_id, target_kind=kind, target_id=target_id,
                 client=actor.address, detail={"reason": "not_admin", "door": actor.door})
    return True


def require_admin(ctx: Context, actor: Actor, kind: str | None = None, target_id: str | None = None) -> None:
    """Organisation changes are for administrators; anyone else is refused (and a refusal on an existing
    object is recorded)."""
    if actor.is_admin:
        return
    record_refusal(ctx, actor, kind, target_id)
    raise NotPermitted(ADMIN_ONLY)


def _audit(ctx: Context, actor: Actor, action: str, kind: str | None = None, target_id: str | None = None,
           detail: Mapping[str, Any] | None = None) -> None:
    audit.record(ctx.store, action=action, actor_id=actor.person_id or None, target_kind=kind, target_id=target_id,
                 client=actor.address, detail={**(detail or {}), "door": actor.door})


def _event(actor: Actor, action: str, kind: str, target_id: str, detail: Mapping[str, Any] | None = None
           ) -> audit.Event:
    """The event a change records in its own statement (graph.queries.org_audited): both stored or neither."""
    return audit.Event(action, actor.person_id or None, kind, target_id, actor.address,
                       {**(detail or {}), "door": actor.door})


# -- departments, positions, projects ------------------------------------------------------------------------


def create(ctx: Context, actor: Actor, kind: str, form: Mapping[str, str]) -> str:
    """A new department, position or project; a department's parent is named by id (``parent_id``) or, as
    the tree picker posts it, by code (``parent``)."""
    require_admin(ctx, actor)
    if kind == "department" and "parent" in form:
        form = {**form, "parent_id": department_parent(ctx, actor, None, form["parent"]) or ""}
    return org.create(ctx.store, kind, form, _event(actor, f"org.{kind}.create", kind, "", {
        k: form.get(k, "") for k in ("code", "name", "name_en", "parent_id")}))


def update(ctx: Context, actor: Actor, kind: str, entity_id: str, form: Mapping[str, str]) -> dict[str, Any]:
    """Returns the fields as they were."""
    require_admin(ctx, actor, kind, entity_id)
    before = org.get(ctx.store, kind, entity_id)
    after = {k: form.get(k, "").strip() for k in ("code", "name", "name_en")}
    org.update(ctx.store, kind, entity_id, form, _event(actor, f"org.{kind}.update", kind, entity_id, {
        "before": {k: before.get(k) for k in after}, "after": after}))
    return dict(before)


def department_parent(ctx: Context, actor: Actor, department_id: str | None, parent_code: str) -> str | None:
    """The id of the department ``parent_code`` names (blank: the top level), checked as the new parent of
    ``department_id`` (None: a department being created): never itself or one of its own descendants."""
    require_admin(ctx, actor, "department", department_id)
    _, nodes = org.department_tree(ctx.store)
    return department_moves.parent_by_code(nodes, department_id, parent_code)


def move_department(ctx: Context, actor: Actor, department_id: str, parent_id: str | None, *,
                    parent_code: str | None = None) -> None:
    """Put a department under another (by id, or by code as the tree picker posts it) or at the top level;
    a move under itself or its own descendant is refused with a code (field ``parent``)."""
    require_admin(ctx, actor, "department", department_id)
    _, nodes = org.department_tree(ctx.store)
    if parent_code is not None:
        parent_id = department_moves.parent_by_code(nodes, department_id, parent_code)
    elif department_id in nodes and (parent_id or "") in nodes:  # an unknown id is the move's own NotFound
        department_moves.check(nodes, department_id, parent_id)
    org.move_department(ctx.store, department_id, parent_id,
                        _event(actor, "org.department.move", "department", department_id, {"parent_id": parent_id}))


def members_target(ctx: Context, actor: Actor, department_id: str, code: str) -> str | None:
    """The id of the department ``code`` names (blank: nobody moves) as the new department of the active members
    of ``department_id`` when it is deactivated: never itself, one of its descendants or a closed department
    (field ``move_members``)."""
    require_admin(ctx, actor, "department", department_id)
    _, nodes = org.department_tree(ctx.store)
    return department_moves.parent_by_code(nodes, department_id, code, department_moves.MEMBERS)


def set_status(ctx: Context, actor: Actor, kind: str, entity_id: str, active: bool,
               move_members_to: str | None = None, *, members_code: str | None = None) -> dict[str, Any]:
    """(De)activate; a department's members move to ``move_members_to`` first (by id, or by code as the tree
    picker posts it: ``members_code``). Returns the audit detail."""
    require_admin(ctx, actor, kind, entity_id)
    action = f"org.{kind}.{'activate' if active else 'deactivate'}"
    if kind == "department" and not active:
        _, nodes = org.department_tree(ctx.store)
        if members_code is not None:
            move_members_to = department_moves.parent_by_code(nodes, entity_id, members_code,
                                                              department_moves.MEMBERS)
        elif entity_id in nodes and (move_members_to or "") in nodes:  # an unknown id is the organisation's refusal
            department_moves.check(nodes, entity_id, move_members_to, department_moves.MEMBERS)
        event = _event(actor, action, kind, entity_id, {"moved_members_to": move_members_to})
        moved = org.deactivate_department(ctx.store, entity_id, move_members_to, event=event)
        return {"moved_members_to": move_members_to, "moved": moved}
    org.set_active(ctx.store, kind, entity_id, active, _event(actor, action, kind, entity_id))
    return {}


# -- people ---------------------------------------------------------------------------------------------------


def create_person(ctx: Context, actor: Actor, form: Mapping[str, str], roles: list[str]) -> str:
    require_admin(ctx, actor)
    return org.create_person(ctx.store, form, roles, _event(actor, "org.person.create", "person", "", {
        "username": form.get("username", "").strip().lower(), "roles": roles}))


def update_person(ctx: Context, actor: Actor, person_id: str, form: Mapping[str, str]) -> dict[str, Any]:
    require_admin(ctx, actor, "person", person_id)
    before = org.get_person(ctx.store, person_id)
    after = {k: form.get(k, "").strip() for k in ("name", "email")}
    org.update_person(ctx.store, person_id, form, _event(actor, "org.person.update", "person", person_id, {
        "before": {k: before.get(k) for k in after}, "after": after}))
    return dict(before)


def set_roles(ctx: Context, actor: Actor, person_id: str, roles: list[str], manager: str | None) -> None:
    """Roles and line manager (by user name) of a person; an administrator cannot drop their own admin role."""
    require_admin(ctx, actor, "person", person_id)
    found = org.get_person(ctx.store, person_id)
    if person_id == actor.person_id and "admin" not in roles:
        raise OrgError(Problem(org.N_("You cannot remove your own admin role."), field="roles"))
    org.set_manager(ctx.store, person_id, manager or None)
    org.set_roles(ctx.store, person_id, roles)
    _audit(ctx, actor, "org.person.roles", "person", person_id,
           {"before": {"roles": sorted(found["roles"]), "manager": found["manager_username"]},
            "after": {"roles": sorted(roles), "manager": manager or None}})


def set_person_active(ctx: Context, actor: Actor, person_id: str, active: bool) -> int:
    """(De)activate a person; deactivation ends every session of theirs for good (and their open streams).
    Returns how many sessions ended."""
    require_admin(ctx, actor, "person", person_id)
    if not active and person_id == actor.person_id:
        raise OrgError(Problem(org.N_("You cannot deactivate your own account.")))
    sessions = 0 if active else accounts.end_sessions(ctx.store, person_ids=[person_id])
    org.set_person_active(ctx.store, person_id, active, _event(
        actor, f"org.person.{'activate' if active else 'deactivate'}", "person", person_id,
        {"sessions_ended": sessions} if not active else None))
    return sessions


def add_membership(ctx: Context, actor: Actor, person_id: str, kind: str, code: str) -> dict[str, Any]:
    require_admin(ctx, actor, "person", person_id)
    target = org.add_membership(ctx.store, person_id, kind, code,
                                _event(actor, "org.membership.add", "person", person_id, {"kind": kind}))
    return dict(target)


def remove_membership(ctx: Context, actor: Actor, person_id: str, kind: str, target_id: str) -> bool:
    require_admin(ctx, actor, "person", person_id)
    return bool(org.remove_membership(ctx.store, person_id, kind, target_id, _event(
        actor, "org.membership.remove", "person", person_id, {"kind": kind, "target_id": target_id})))


# -- bulk import and export -----------------------------------------------------------------------------------


def _sources(paths: Path | Sequence[Path]) -> list[Path]:
    return [paths] if isinstance(paths, Path) else list(paths)


def _file_names(paths: Path | Sequence[Path]) -> list[str]:
    return sorted(c.name for p in _sources(paths) for c in (p.iterdir() if p.is_dir() else [p]))


def plan_import(ctx: Context, actor: Actor, paths: Path | Sequence[Path], *,
                audited: bool = True) -> org_io.ImportPlan:
    """The dry run of an import of the files at ``paths`` (files, or folders of them: the upload folder of the
    admin page, the arguments of ``huitong org import``). Nothing is written but, when ``audited``, the audit
    event; the apply step plans again unaudited, since the graph may have changed."""
    require_admin(ctx, actor)
    plan = org_io.plan_import(ctx.store, org_io.read_paths(_sources(paths)))
    if not audited:
        return plan
    _audit(ctx, actor, "org.import.dry_run", detail={"files": _file_names(paths), "ok": plan.ok,
                                                     "problems": len(plan.problems), "summary": plan.summary()})
    return plan


def apply_import(ctx: Context, actor: Actor, plan: org_io.ImportPlan,
                 paths: Path | Sequence[Path]) -> dict[str, Any]:
    """Write a clean plan (one with problems is refused: ``org.import_not_clean``) and audit it."""
    require_admin(ctx, actor)
    if not plan.ok:
        raise StateConflict("org.import_not_clean", problems=len(plan.problems))
    summary = org_io.apply_plan(ctx.store, plan)
    _audit(ctx, actor, "org.import.apply", detail={"files": _file_names(paths), "summary": summary})
    return dict(summary)


def import_files(ctx: Context, actor: Actor, paths: Path | Sequence[Path], *,
                 dry_run: bool = False) -> tuple[org_io.ImportPlan, bool]:
    """Plan and, when the plan is clean, has changes and this is no dry run, apply it at once (the command
    line's one step); returns the plan and whether it was applied."""
    plan = plan_import(ctx, actor, paths, audited=False)
    if dry_run or not plan.ok or not plan.has_changes:
        _audit(ctx, actor, "org.import.dry_run", detail={"files": _file_names(paths), "ok": plan.ok,
                                                         "problems": len(plan.problems), "summary": plan.summary()})
        return plan, False
    apply_import(ctx, actor, plan, paths)
    return plan, True


def export_to(ctx: Context, actor: Actor, target: Path) -> list[Path]:
    """``huitong org export``: every sheet written to ``target`` (an .xlsx file, or a folder of CSV files)."""
    require_admin(ctx, actor)
    written = org_io.write_export(ctx.store, target)
    _audit(ctx, actor, "org.export", detail={"format": "xlsx" if target.suffix.lower() == ".xlsx" else "csv",
                                             "files": [p.name for p in written]})
    return written


def list_departments(ctx: Context, actor: Actor) -> list[dict[str, Any]]:
    """Every department with its parent (the directory is open to everyone signed in, and to operators)."""
    if not actor.person_id and not actor.is_admin:
        raise NotPermitted(ADMIN_ONLY)
    return accounts.list_departments(ctx.store)


def export(ctx: Context, actor: Actor, fmt: str, sheet: str | None = None) -> dict[str, list[dict[str, Any]]]:
    """Every sheet of the organisation (the door writes the format asked for)."""
    require_admin(ctx, actor)
    sheets = org_io.export_org(ctx.store)
    _audit(ctx, actor, "org.export", detail={"format": fmt, **({"sheet": sheet} if sheet else {})})
    return sheets
