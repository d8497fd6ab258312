"""Organisation administration: departments, people, positions, projects and memberships.

Every change is validated here, before and (for races) inside the statement that makes it:
codes and user names stay unique, a department never moves under itself or a descendant,
a department with active members or active sub-departments is not deactivated, nobody
reports to themselves through a chain. People are never deleted: deactivation keeps their
history (memberships, authorship, audit trail).

Messages are English ``%(name)s`` templates marked with :func:`N_`; the web layer translates
them with gettext, the CLI prints them as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from graph import accounts, audit
from graph.org_checks import (
    CODE_RE,
    EMAIL_RE,
    FORMULA_START,
    KINDS,
    MAX_NAME,
    MEMBERSHIP_KINDS,
    N_,
    ROLES,
    STATUSES,
    USERNAME_RE,
    NotFound,
    OrgError,
    Problem,
    _now,
    _raise_if,
    check_code,
    check_email,
    check_name,
    check_roles,
    check_username,
    clean,
    new_id,
)
from graph.org_read import (
    DeptNode,
    Page,
    _kind,
    by_code,
    department_path,
    department_tree,
    get,
    get_person,
    memberships,
    search,
    search_people,
)
from graph.queries import org_admin as q
from graph.queries import org_audited as aq
from graph.store import GraphStore, Row

# The reading side and the rules live in graph.org_read and graph.org_checks; their names stay importable
# from here, where the org's callers have always found them.
__all__ = [
    "CODE_RE",
    "EMAIL_RE",
    "FORMULA_START",
    "KINDS",
    "MAX_NAME",
    "MEMBERSHIP_KINDS",
    "N_",
    "ROLES",
    "STATUSES",
    "USERNAME_RE",
    "DeptNode",
    "NotFound",
    "OrgError",
    "Page",
    "Problem",
    "add_membership",
    "by_code",
    "check_code",
    "check_email",
    "check_name",
    "check_roles",
    "check_username",
    "clean",
    "create",
    "create_person",
    "deactivate_department",
    "department_path",
    "department_tree",
    "get",
    "get_person",
    "memberships",
    "move_department",
    "new_id",
    "remove_membership",
    "search",
    "search_people",
    "set_active",
    "set_manager",
    "set_person_active",
    "set_roles",
    "update",
    "update_person",
]

Event = audit.Event | None


def _on(event: Event, target_id: str) -> Event:
    """The event of a creation, about the node whose id is only known once it is made."""
    return None if event is None else replace(event, target_id=target_id)


def _moved(event: Event, moved: int) -> Event:
    return None if event is None else replace(event, detail={**dict(event.detail or {}),  # type: ignore[arg-type]
                                                             "moved": moved})


# -- departments, positions, projects --------------------------------------------------------------

def _coded_fields(data: Mapping[str, object]) -> tuple[str, str, str | None]:
    code, name, name_en = clean(data.get("code")), clean(data.get("name")), clean(data.get("name_en"))
    _raise_if(check_code(code), check_name(name), check_name(name_en, "name_en", required=False))
    return code, name, name_en or None


def _duplicate_code(kind: str, code: str) -> OrgError:
    return OrgError(Problem(N_("Code “%(code)s” is already used by another %(kind)s."),
                            {"code": code, "kind": kind}, "code"))


def create(store: GraphStore, kind: str, data: Mapping[str, object], event: Event = None) -> str:
    """Create a department, position or project; departments may name a ``parent_id``. Returns the new id.
    ``event`` (here and below): the change's audit event, recorded by the statement that makes the change."""
    statements = _kind(kind)
    code, name, name_en = _coded_fields(data)
    parent_id = clean(data.get("parent_id")) if kind == "department" else ""
    if parent_id:
        parent = get(store, "department", parent_id)
        if not parent["active"]:
            raise OrgError(Problem(N_("The parent department “%(code)s” is inactive."),
                                   {"code": parent["code"]}, "parent_id"))
    entity_id = new_id()
    created = audit.run_audited(store, statements.create, aq.CREATE[kind], {
        "id": entity_id, "code": code, "name": name, "name_en": name_en, "now": _now()}, _on(event, entity_id))
    if not created:
        raise _duplicate_code(kind, code)
    if parent_id:
        move_department(store, entity_id, parent_id)
    return entity_id


def update(store: GraphStore, kind: str, entity_id: str, data: Mapping[str, object], event: Event = None) -> Row:
    """Change the code and names; returns the row as it was before (for the audit trail)."""
    statements = _kind(kind)
    before = get(store, kind, entity_id)
    code, name, name_en = _coded_fields(data)
    if not audit.run_audited(store, statements.update, aq.UPDATE[kind],
                             {"id": entity_id, "code": code, "name": name, "name_en": name_en}, event):
        raise _duplicate_code(kind, code)
    return before


def set_active(store: GraphStore, kind: str, entity_id: str, active: bool, event: Event = None) -> None:
    """(Re)activate or deactivate a position or project; departments go through :func:`deactivate_department`."""
    if kind == "department":
        if not active:
            deactivate_department(store, entity_id, event=event)
            return
        _reactivate_department(store, entity_id, event)
        return
    get(store, kind, entity_id)
    audit.run_audited(store, _kind(kind).set_active, aq.SET_ACTIVE[kind], {"id": entity_id, "active": active}, event)


def _reactivate_department(store: GraphStore, department_id: str, event: Event) -> None:
    _, nodes = department_tree(store)
    node = nodes.get(department_id)
    if node is None:
        raise NotFound(Problem(N_("No such %(kind)s."), {"kind": "department"}))
    parent = nodes.get(node.row["parent_id"] or "")
    if parent is not None and not parent.row["active"]:
        raise OrgError(Problem(N_("Reactivate the parent department “%(code)s” first."),
                               {"code": parent.row["code"]}))
    audit.run_audited(store, q.CODED["department"].set_active, aq.SET_ACTIVE["department"],
                      {"id": department_id, "active": True}, event)


def move_department(store: GraphStore, department_id: str, parent_id: str | None, event: Event = None) -> None:
    """Put the department under ``parent_id`` (or make it a root): its PART_OF edge is replaced."""
    department = get(store, "department", department_id)
    if not parent_id:
        audit.run_audited(store, q.MAKE_DEPARTMENT_ROOT, aq.MAKE_DEPARTMENT_ROOT, {"id": department_id}, event)
        return
    parent = get(store, "department", parent_id)
    subtree = {row["id"] for row in store.run(q.DEPARTMENT_SUBTREE, {"id": department_id})}
    if parent_id in subtree:
        template = (N_("A department cannot be moved under itself.") if parent_id == department_id else
                    N_("“%(code)s” cannot move under “%(parent)s”: that department is inside it."))
        raise OrgError(Problem(template, {"code": department["code"], "parent": parent["code"]}, "parent_id"))
    if not parent["active"]:
        raise OrgError(Problem(N_("The parent department “%(code)s” is inactive."), {"code": parent["code"]},
                               "parent_id"))
    if not audit.run_audited(store, q.MOVE_DEPARTMENT, aq.MOVE_DEPARTMENT,
                             {"id": department_id, "parent_id": parent_id}, event):
        # The tree changed between the check and the move (another admin): refuse rather than loop.
        raise OrgError(Problem(N_("The department tree changed meanwhile; reload and try again."),
                               field="parent_id"))


def deactivate_department(store: GraphStore, department_id: str, move_members_to: str | None = None, *,
                          event: Event = None) -> int:
    """Deactivate a department, first moving its active members to ``move_members_to`` when given.

    Refused while it has active members (and no target) or active sub-departments.
    Returns how many members were moved.
    """
    department = get(store, "department", department_id)
    moved = 0
    if move_members_to:
        if move_members_to == department_id:
            raise OrgError(Problem(N_("Members cannot be moved to the department being deactivated."),
                                   field="move_members_to"))
        target = get(store, "department", move_members_to)
        if not target["active"]:
            raise OrgError(Problem(N_("The target department “%(code)s” is inactive."), {"code": target["code"]},
                                   "move_members_to"))
        # One permission change per moved person: no row when nobody was moved.
        rows = store.run(q.MOVE_ACTIVE_MEMBERS, {"from_id": department_id, "to_id": move_members_to})
        moved = int(rows[0]["changed"]) if rows else 0
    blockers = store.run(q.DEPARTMENT_BLOCKERS, {"id": department_id})[0]
    problems = []
    if blockers["members"]:
        problems.append(Problem(
            N_("“%(code)s” still has %(count)s active member(s): move them to another department first."),
            {"code": department["code"], "count": blockers["members"]}, "move_members_to"))
    if blockers["children"]:
        problems.append(Problem(
            N_("“%(code)s” still has %(count)s active sub-department(s): move or deactivate them first."),
            {"code": department["code"], "count": blockers["children"]}))
    _raise_if(*problems)
    if not audit.run_audited(store, q.DEACTIVATE_DEPARTMENT, aq.DEACTIVATE_DEPARTMENT, {"id": department_id},
                             _moved(event, moved)):
        raise OrgError(Problem(N_("Members joined “%(code)s” meanwhile; reload and try again."),
                               {"code": department["code"]}))
    return moved


# -- people ----------------------------------------------------------------------------------------

def _person_fields(data: Mapping[str, object]) -> tuple[str, str]:
    name, email = clean(data.get("name")), clean(data.get("email")).lower()
    _raise_if(check_name(name), check_email(email))
    return name, email


def create_person(store: GraphStore, data: Mapping[str, object], roles: list[str] | None = None,
                  event: Event = None) -> str:
    """Create an active person (no password yet: they cannot sign in until one is set). Returns the id."""
    username = clean(data.get("username")).lower()
    roles = ["member"] if roles is None else roles
    _raise_if(check_username(username), check_roles(roles))
    name, email = _person_fields(data)
    problems = []
    if store.run(q.PERSON_BY_USERNAME, {"username": username}):
        problems.append(Problem(N_("User name “%(username)s” is already taken."), {"username": username},
                                "username"))
    if store.run(q.PERSON_BY_EMAIL, {"email": email}):
        problems.append(Problem(N_("E-mail address “%(email)s” is already used by another person."),
                                {"email": email}, "email"))
    _raise_if(*problems)
    person_id = new_id()
    if not audit.run_audited(store, q.PERSON_CREATE, aq.PERSON_CREATE, {
            "id": person_id, "username": username, "name": name, "email": email, "now": _now()},
            _on(event, person_id)):
        raise OrgError(Problem(N_("User name or e-mail address was taken meanwhile; try again.")))
    set_roles(store, person_id, roles)
    return person_id


def update_person(store: GraphStore, person_id: str, data: Mapping[str, object], event: Event = None) -> Row:
    """Change name and e-mail; returns the person as before."""
    before = get_person(store, person_id)
    name, email = _person_fields(data)
    if not audit.run_audited(store, q.PERSON_UPDATE, aq.PERSON_UPDATE,
                             {"id": person_id, "name": name, "email": email}, event):
        raise OrgError(Problem(N_("E-mail address “%(email)s” is already used by another person."),
                               {"email": email}, "email"))
    return before


def set_person_active(store: GraphStore, person_id: str, active: bool, event: Event = None) -> None:
    """Deactivate (or reactivate) a person: they keep memberships and history, they just stop counting."""
    get_person(store, person_id)
    audit.run_audited(store, q.PERSON_SET_ACTIVE, aq.PERSON_SET_ACTIVE, {"id": person_id, "active": active}, event)
    if not active:
        accounts.end_sessions(store, person_ids=[person_id])  # for good: reactivation revives no cookie


def set_roles(store: GraphStore, person_id: str, roles: list[str]) -> None:
    _raise_if(check_roles(roles))
    person = get_person(store, person_id)
    if set(person["roles"]) - set(roles):  # a removed role must not live on in an open session
        accounts.end_sessions(store, person_ids=[person_id])
    store.run(q.PERSON_CLEAR_ROLES, {"usernames": [person["username"]]})
    rows = [{"username": person["username"], "role": role} for role in sorted(set(roles))]
    if rows:
        store.run(q.PERSON_GRANT_ROLES, {"rows": rows})


def set_manager(store: GraphStore, person_id: str, manager_username: str | None) -> None:
    """Replace whom the person reports to (``None``/'' clears it); reporting cycles are refused."""
    person = get_person(store, person_id)
    manager_username = clean(manager_username).lower()
    if manager_username:
        found = store.run(q.PERSON_BY_USERNAME, {"username": manager_username})
        if not found:
            raise OrgError(Problem(N_("No person with user name “%(username)s”."), {"username": manager_username},
                                   "manager"))
        chain = {row["id"] for row in store.run(q.MANAGER_CHAIN, {"id": found[0]["id"]})}
        if person_id in chain:
            raise OrgError(Problem(N_("%(username)s cannot report to %(manager)s: that would be a reporting "
                                      "cycle."), {"username": person["username"], "manager": manager_username},
                                   "manager"))
    store.run(q.PERSON_CLEAR_MANAGERS, {"usernames": [person["username"]]})
    if manager_username:
        store.run(q.PERSON_LINK_MANAGERS, {"rows": [{"username": person["username"], "manager": manager_username}]})


# -- memberships -----------------------------------------------------------------------------------

def _target_kind(membership_kind: str) -> str:
    if membership_kind not in q.MEMBERSHIP_KINDS:
        raise OrgError(Problem(N_("Unknown membership kind “%(kind)s”."), {"kind": membership_kind}, "kind"))
    return "department" if membership_kind == "head" else membership_kind


def add_membership(store: GraphStore, person_id: str, membership_kind: str, code: str, event: Event = None) -> Row:
    """Link the person to the active department/position/project ``code``; returns the target."""
    target_kind = _target_kind(membership_kind)
    code = clean(code)
    _raise_if(check_code(code))
    person = get_person(store, person_id)
    target = by_code(store, target_kind, code)
    if target is None:
        raise OrgError(Problem(N_("No %(kind)s with code “%(code)s”."), {"kind": target_kind, "code": code}, "code"))
    if not target["active"]:
        raise OrgError(Problem(N_("%(kind)s “%(code)s” is inactive."), {"kind": target_kind, "code": code}, "code"))
    if not person["active"]:
        raise OrgError(Problem(N_("%(username)s is inactive; reactivate them first."),
                               {"username": person["username"]}))
    if event is not None:
        event = replace(event, detail={**dict(event.detail or {}), "code": target["code"],  # type: ignore[arg-type]
                                       "target_id": target["id"]})
    audit.run_audited(store, q.MEMBERSHIPS[membership_kind].add, aq.ADD_MEMBERSHIP[membership_kind],
                      {"person_id": person_id, "target_id": target["id"]}, event)
    return target


def remove_membership(store: GraphStore, person_id: str, membership_kind: str, target_id: str,
                      event: Event = None) -> bool:
    _target_kind(membership_kind)
    get_person(store, person_id)
    # The statement answers with the new permission version only when it removed something.
    statement, audited = q.MEMBERSHIPS[membership_kind].remove, aq.REMOVE_MEMBERSHIP[membership_kind]
    return bool(audit.run_audited(store, statement, audited, {"person_id": person_id, "target_id": target_id}, event))
