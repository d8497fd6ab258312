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

import re
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graph import accounts
from graph.queries import org_admin as q
from graph.store import GraphStore, Row

KINDS: tuple[str, ...] = tuple(q.CODED_KINDS)
MEMBERSHIP_KINDS: tuple[str, ...] = tuple(q.MEMBERSHIP_KINDS)
ROLES: tuple[str, ...] = ("member", "manager", "admin")
STATUSES: tuple[str, ...] = ("active", "inactive", "all")

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,39}$")
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.\-]{1,63}$")
# Deliberately plain: one @, no spaces, a dot in the domain. Deliverability is the mail server's job.
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s.]{2,}$")
MAX_NAME = 120
# A leading = + - @ makes spreadsheets run the cell as a formula; exports open in spreadsheets.
FORMULA_START = ("=", "+", "-", "@")


def N_(message: str) -> str:  # the gettext convention: mark now, translate later
    """Mark a message for extraction; it is translated where it is shown."""
    return message


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a request: a message template, its values, and the field it concerns."""

    template: str
    params: Mapping[str, Any] = field(default_factory=dict)
    field: str | None = None

    def __str__(self) -> str:
        return self.template % dict(self.params) if self.params else self.template


class OrgError(ValueError):
    """A refused change; ``problems`` says why, field by field."""

    def __init__(self, *problems: Problem) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in problems))

    def by_field(self) -> dict[str | None, list[Problem]]:
        grouped: dict[str | None, list[Problem]] = {}
        for problem in self.problems:
            grouped.setdefault(problem.field, []).append(problem)
        return grouped


class NotFound(OrgError):
    """The department, person, position or project does not exist."""


def _now() -> int:
    return int(time.time() * 1000)


def new_id() -> str:
    return str(uuid.uuid4())


# -- validation shared with the bulk import ------------------------------------------------------

def clean(value: object) -> str:
    """A form or cell value as stripped text ('' for missing)."""
    return "" if value is None else str(value).strip()


def check_code(code: str, field_name: str = "code") -> Problem | None:
    if not code:
        return Problem(N_("A code is required."), field=field_name)
    if not CODE_RE.match(code):
        return Problem(N_("Code “%(code)s” is not valid: use 1–40 letters, digits, “-”, “_” or “.”."),
                       {"code": code}, field_name)
    return None


def check_name(name: str, field_name: str = "name", *, required: bool = True) -> Problem | None:
    if not name:
        return Problem(N_("A name is required."), field=field_name) if required else None
    if len(name) > MAX_NAME:
        return Problem(N_("The name is longer than %(max)s characters."), {"max": MAX_NAME}, field_name)
    if name.startswith(FORMULA_START):
        return Problem(N_("A name must not start with “=”, “+”, “-” or “@”."), field=field_name)
    return None


def check_username(username: str) -> Problem | None:
    if not username:
        return Problem(N_("A user name is required."), field="username")
    if not USERNAME_RE.match(username):
        return Problem(N_("User name “%(username)s” is not valid: use 2–64 lower-case letters, digits, “.”, "
                          "“-” or “_”."), {"username": username}, "username")
    return None


def check_email(email: str) -> Problem | None:
    if not email:
        return Problem(N_("An e-mail address is required."), field="email")
    if not EMAIL_RE.match(email) or email.startswith(FORMULA_START):
        return Problem(N_("“%(email)s” is not a valid e-mail address."), {"email": email}, "email")
    return None


def check_roles(roles: list[str]) -> Problem | None:
    unknown = sorted(set(roles) - set(ROLES))
    if unknown:
        return Problem(N_("Unknown role(s): %(roles)s (known: %(known)s)."),
                       {"roles": ", ".join(unknown), "known": ", ".join(ROLES)}, "roles")
    return None


def _raise_if(*problems: Problem | None) -> None:
    found = [p for p in problems if p is not None]
    if found:
        raise OrgError(*found)


def _kind(kind: str) -> q.CodedStatements:
    if kind not in q.CODED:
        raise ValueError(f"unknown kind {kind!r}")
    return q.CODED[kind]


# -- reading -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Page:
    """One page of a search: rows, total matches, page number (1-based) and size."""

    rows: list[Row]
    total: int
    page: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))


def _search_params(query: str, status: str, page: int, size: int) -> dict[str, Any]:
    return {"q": query.strip().lower(), "status": status if status in STATUSES else "active",
            "skip": (max(page, 1) - 1) * size, "limit": size}


def search(store: GraphStore, kind: str, query: str = "", *, status: str = "active", page: int = 1,
           size: int = 20) -> Page:
    """Departments, positions or projects whose code or names contain ``query`` (case-insensitive)."""
    statements = _kind(kind)
    params = _search_params(query, status, page, size)
    rows = store.run(statements.search, params)
    total = store.run(statements.count, {"q": params["q"], "status": params["status"]})[0]["total"]
    return Page(rows, total, max(page, 1), size)


def search_people(store: GraphStore, query: str = "", *, status: str = "active", page: int = 1,
                  size: int = 20) -> Page:
    params = _search_params(query, status, page, size)
    rows = store.run(q.PEOPLE_SEARCH, params)
    total = store.run(q.PEOPLE_COUNT, {"q": params["q"], "status": params["status"]})[0]["total"]
    return Page(rows, total, max(page, 1), size)


def get(store: GraphStore, kind: str, entity_id: str) -> Row:
    rows = store.run(_kind(kind).get, {"id": entity_id})
    if not rows:
        raise NotFound(Problem(N_("No such %(kind)s."), {"kind": kind}))
    return rows[0]


def by_code(store: GraphStore, kind: str, code: str) -> Row | None:
    rows = store.run(_kind(kind).by_code, {"code": code})
    return rows[0] if rows else None


@dataclass
class DeptNode:
    """A department in the tree, with its children (sorted by code)."""

    row: Row
    children: list[DeptNode] = field(default_factory=list)
    depth: int = 0


def department_tree(store: GraphStore) -> tuple[list[DeptNode], dict[str, DeptNode]]:
    """The roots of the department forest and every node by id."""
    rows = store.run(q.DEPARTMENT_TREE)
    nodes = {row["id"]: DeptNode(row) for row in rows}
    roots: list[DeptNode] = []
    for node in nodes.values():  # rows come sorted by code, so children lists are sorted too
        parent = nodes.get(node.row["parent_id"] or "")
        (parent.children if parent else roots).append(node)

    def set_depth(node: DeptNode, depth: int) -> None:
        node.depth = depth
        for child in node.children:
            set_depth(child, depth + 1)

    for root in roots:
        set_depth(root, 0)
    return roots, nodes


def department_path(nodes: Mapping[str, DeptNode], department_id: str) -> list[Row]:
    """The department and its ancestors, root first."""
    path: list[Row] = []
    seen: set[str] = set()
    current = nodes.get(department_id)
    while current is not None and current.row["id"] not in seen:
        seen.add(current.row["id"])
        path.append(current.row)
        current = nodes.get(current.row["parent_id"] or "")
    return path[::-1]


def get_person(store: GraphStore, person_id: str) -> Row:
    rows = store.run(q.PERSON_GET, {"id": person_id})
    if not rows:
        raise NotFound(Problem(N_("No such person.")))
    return rows[0]


def memberships(store: GraphStore, person_id: str) -> list[Row]:
    """The person's departments, headships, positions and projects, each with its ``kind``."""
    kinds = {(rel, label): kind for kind, (rel, label) in q.MEMBERSHIP_KINDS.items()}
    rows = store.run(q.PERSON_MEMBERSHIPS, {"id": person_id})
    return [{**row, "kind": kinds[(row["rel"], row["label"])]} for row in rows
            if (row["rel"], row["label"]) in kinds]


# -- departments, positions, projects --------------------------------------------------------------

def _coded_fields(data: Mapping[str, object]) -> tuple[str, str, str | None]:
    code, name, name_en = clean(data.get("code")), clean(data.get("name")), clean(data.get("name_en"))
    _raise_if(check_code(code), check_name(name), check_name(name_en, "name_en", required=False))
    return code, name, name_en or None


def _duplicate_code(kind: str, code: str) -> OrgError:
    return OrgError(Problem(N_("Code “%(code)s” is already used by another %(kind)s."),
                            {"code": code, "kind": kind}, "code"))


def create(store: GraphStore, kind: str, data: Mapping[str, object]) -> str:
    """Create a department, position or project; departments may name a ``parent_id``. Returns the new id."""
    statements = _kind(kind)
    code, name, name_en = _coded_fields(data)
    parent_id = clean(data.get("parent_id")) if kind == "department" else ""
    if parent_id:
        parent = get(store, "department", parent_id)
        if not parent["active"]:
            raise OrgError(Problem(N_("The parent department “%(code)s” is inactive."),
                                   {"code": parent["code"]}, "parent_id"))
    entity_id = new_id()
    created = store.run(statements.create, {"id": entity_id, "code": code, "name": name, "name_en": name_en,
                                            "now": _now()})
    if not created:
        raise _duplicate_code(kind, code)
    if parent_id:
        move_department(store, entity_id, parent_id)
    return entity_id


def update(store: GraphStore, kind: str, entity_id: str, data: Mapping[str, object]) -> Row:
    """Change the code and names; returns the row as it was before (for the audit trail)."""
    statements = _kind(kind)
    before = get(store, kind, entity_id)
    code, name, name_en = _coded_fields(data)
    if not store.run(statements.update, {"id": entity_id, "code": code, "name": name, "name_en": name_en}):
        raise _duplicate_code(kind, code)
    return before


def set_active(store: GraphStore, kind: str, entity_id: str, active: bool) -> None:
    """(Re)activate or deactivate a position or project; departments go through :func:`deactivate_department`."""
    if kind == "department":
        if not active:
            deactivate_department(store, entity_id)
            return
        _reactivate_department(store, entity_id)
        return
    get(store, kind, entity_id)
    store.run(_kind(kind).set_active, {"id": entity_id, "active": active})


def _reactivate_department(store: GraphStore, department_id: str) -> None:
    _, nodes = department_tree(store)
    node = nodes.get(department_id)
    if node is None:
        raise NotFound(Problem(N_("No such %(kind)s."), {"kind": "department"}))
    parent = nodes.get(node.row["parent_id"] or "")
    if parent is not None and not parent.row["active"]:
        raise OrgError(Problem(N_("Reactivate the parent department “%(code)s” first."),
                               {"code": parent.row["code"]}))
    store.run(q.CODED["department"].set_active, {"id": department_id, "active": True})


def move_department(store: GraphStore, department_id: str, parent_id: str | None) -> None:
    """Put the department under ``parent_id`` (or make it a root): its PART_OF edge is replaced."""
    department = get(store, "department", department_id)
    if not parent_id:
        store.run(q.MAKE_DEPARTMENT_ROOT, {"id": department_id})
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
    if not store.run(q.MOVE_DEPARTMENT, {"id": department_id, "parent_id": parent_id}):
        # The tree changed between the check and the move (another admin): refuse rather than loop.
        raise OrgError(Problem(N_("The department tree changed meanwhile; reload and try again."),
                               field="parent_id"))


def deactivate_department(store: GraphStore, department_id: str, move_members_to: str | None = None) -> int:
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
    if not store.run(q.DEACTIVATE_DEPARTMENT, {"id": department_id}):
        raise OrgError(Problem(N_("Members joined “%(code)s” meanwhile; reload and try again."),
                               {"code": department["code"]}))
    return moved


# -- people ----------------------------------------------------------------------------------------

def _person_fields(data: Mapping[str, object]) -> tuple[str, str]:
    name, email = clean(data.get("name")), clean(data.get("email")).lower()
    _raise_if(check_name(name), check_email(email))
    return name, email


def create_person(store: GraphStore, data: Mapping[str, object], roles: list[str] | None = None) -> str:
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
    if not store.run(q.PERSON_CREATE, {"id": person_id, "username": username, "name": name, "email": email,
                                       "now": _now()}):
        raise OrgError(Problem(N_("User name or e-mail address was taken meanwhile; try again.")))
    set_roles(store, person_id, roles)
    return person_id


def update_person(store: GraphStore, person_id: str, data: Mapping[str, object]) -> Row:
    """Change name and e-mail; returns the person as before."""
    before = get_person(store, person_id)
    name, email = _person_fields(data)
    if not store.run(q.PERSON_UPDATE, {"id": person_id, "name": name, "email": email}):
        raise OrgError(Problem(N_("E-mail address “%(email)s” is already used by another person."),
                               {"email": email}, "email"))
    return before


def set_person_active(store: GraphStore, person_id: str, active: bool) -> None:
    """Deactivate (or reactivate) a person: they keep memberships and history, they just stop counting."""
    get_person(store, person_id)
    store.run(q.PERSON_SET_ACTIVE, {"id": person_id, "active": active})
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


def add_membership(store: GraphStore, person_id: str, membership_kind: str, code: str) -> Row:
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
    store.run(q.MEMBERSHIPS[membership_kind].add, {"person_id": person_id, "target_id": target["id"]})
    return target


def remove_membership(store: GraphStore, person_id: str, membership_kind: str, target_id: str) -> bool:
    _target_kind(membership_kind)
    get_person(store, person_id)
    # The statement answers with the new permission version only when it removed something.
    return bool(store.run(q.MEMBERSHIPS[membership_kind].remove, {"person_id": person_id, "target_id": target_id}))
