"""Org sync from LDAP / Active Directory: directory users → people, groups → departments (a mapping file).

The directory is read into the same rows an org import file holds (:class:`graph.org_files.Source`) and goes
through the same planner and writer (:func:`graph.org_io.plan_import` / :func:`graph.org_io.apply_plan`): the
same checks, the same "nothing written when a row is bad", the same session ending for people deactivated,
and the dry run's ``access_changes`` (graph/org_impact.py). Only members of a mapped group are synced.

The people a sync has brought in are remembered in ``DATA_DIR/ldap_sync.json`` (0600); one of them no longer
found in a mapped group, or disabled in the directory, is deactivated at the next sync (their sessions end
then). People never seen in the directory (local accounts, the admin) are never touched.

Mapping file (YAML or JSON)::

    departments:                      # group DN -> department code, or {code, name, parent}
      "cn=sales,ou=groups,dc=example,dc=org": SALES
      "cn=hr,ou=groups,dc=example,dc=org": {code: HR, name: 人力资源部}
    groups: {filter: "(objectClass=groupOfNames)", member_attribute: member}
    users:
      filter: "(objectClass=inetOrgPerson)"
      username: uid                   # default: HUITONG_LDAP_LINK_ATTRIBUTE
      name: cn
      email: mail
      position: title                 # optional: its value (or positions[value]) is a position code
      disabled: {attribute: employeeType, values: [disabled]}   # AD's userAccountControl is always read
    positions: {"Engineer": ENG}      # optional
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from graph import audit, org
from graph.org_export import Snapshot, snapshot
from graph.org_files import Source, SourceRow
from graph.org_io import ImportPlan, apply_plan, plan_import
from graph.store import GraphStore
from ingest.ldap_directory import Directory, Entry, is_disabled
from settings import Settings

STATE_FILE = "ldap_sync.json"


class MappingError(ValueError):
    """The mapping file is missing, unreadable or malformed (the message names the problem)."""


@dataclass(frozen=True)
class Department:
    code: str
    name: str = ""
    parent: str | None = None


@dataclass(frozen=True)
class Mapping:
    departments: dict[str, Department]  # lower-cased group DN -> department
    group_filter: str = "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)(objectClass=group))"
    member_attribute: str = "member"
    user_filter: str = "(|(objectClass=inetOrgPerson)(objectClass=user))"
    username: str = "uid"
    name: str = "cn"
    email: str = "mail"
    position: str = ""
    disabled_attribute: str = ""
    disabled_values: tuple[str, ...] = ()
    positions: dict[str, str] = field(default_factory=dict)

    def user_attributes(self) -> list[str]:
        wanted = {self.username, self.name, self.email, "userAccountControl"}
        wanted |= {a for a in (self.position, self.disabled_attribute) if a}
        return sorted(wanted)


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise MappingError(f"{what} must be a non-empty text")
    return value.strip()


def _department(dn: str, value: Any) -> Department:
    if isinstance(value, str):
        return Department(_text(value, f"departments[{dn!r}]"))
    if isinstance(value, dict):
        parent = value.get("parent")
        return Department(_text(value.get("code"), f"departments[{dn!r}].code"), str(value.get("name") or ""),
                          None if parent is None else str(parent))
    raise MappingError(f"departments[{dn!r}] must be a code or {{code, name, parent}}")


def load_mapping(path: Path, settings: Settings) -> Mapping:
    """Read and check a mapping file (YAML or JSON; JSON is YAML)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise MappingError(f"cannot read the mapping file {path}: {error}") from None
    if not isinstance(data, dict) or not isinstance(data.get("departments"), dict) or not data["departments"]:
        raise MappingError("the mapping file needs a non-empty `departments` table (group DN -> department code)")
    users, groups = data.get("users") or {}, data.get("groups") or {}
    positions = data.get("positions") or {}
    if not all(isinstance(part, dict) for part in (users, groups, positions)):
        raise MappingError("`users`, `groups` and `positions` must be tables")
    disabled = users.get("disabled") or {}
    defaults = Mapping(departments={})
    link = settings.ldap_link_attribute if "@" not in settings.ldap_link_attribute else "uid"
    return Mapping(
        departments={dn.strip().lower(): _department(dn, value) for dn, value in data["departments"].items()},
        group_filter=str(groups.get("filter") or defaults.group_filter),
        member_attribute=str(groups.get("member_attribute") or defaults.member_attribute),
        user_filter=str(users.get("filter") or defaults.user_filter),
        username=str(users.get("username") or link), name=str(users.get("name") or defaults.name),
        email=str(users.get("email") or defaults.email), position=str(users.get("position") or ""),
        disabled_attribute=str(disabled.get("attribute") or ""),
        disabled_values=tuple(str(v) for v in disabled.get("values") or ()),
        positions={str(k): str(v) for k, v in positions.items()},
    )


# -- reading the directory --------------------------------------------------------------------------------------

@dataclass
class DirectoryView:
    """Who is in which mapped group, as read from the directory."""

    users: dict[str, Entry]  # lower-cased DN -> user entry
    groups: dict[str, Entry]  # lower-cased DN -> mapped group entry
    member_of: dict[str, list[str]]  # lower-cased user DN (or memberUid) -> department codes


def read_directory(directory: Directory, mapping: Mapping) -> DirectoryView:
    groups = {g.dn.lower(): g for g in directory.entries(mapping.group_filter, [mapping.member_attribute, "cn"])
              if g.dn.lower() in mapping.departments}
    users = {u.dn.lower(): u for u in directory.entries(mapping.user_filter, mapping.user_attributes())}
    member_of: dict[str, list[str]] = {}
    for dn, group in sorted(groups.items()):
        for member in group.values(mapping.member_attribute):
            member_of.setdefault(member.strip().lower(), []).append(mapping.departments[dn].code)
    return DirectoryView(users, groups, member_of)


# -- building the import rows ------------------------------------------------------------------------------------

@dataclass
class SyncReport:
    """What a sync did (or, dry run, would do): the import plan plus what only a sync knows."""

    plan: ImportPlan
    dry_run: bool
    synced: list[str] = field(default_factory=list)  # usernames found in mapped groups
    deactivated: list[str] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)  # directory users that cannot be people
    notes: list[str] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)  # usernames of every directory user with a people row

    @property
    def ok(self) -> bool:
        return self.plan.ok

    def as_json(self) -> dict[str, Any]:
        return {**self.plan.as_json(), "dry_run": self.dry_run, "synced": len(self.synced),
                "deactivated": self.deactivated, "skipped": self.skipped}


class _Rows:
    def __init__(self) -> None:
        self.source = Source()
        self.line = 0

    def add(self, sheet: str, values: dict[str, str]) -> None:
        self.line += 1
        self.source.rows[sheet].append(SourceRow(sheet, f"ldap:{sheet}", self.line, values))
        self.source.columns[sheet] |= set(values)


def _linked(snap: Snapshot, value: str) -> str | None:
    """The username of the person a directory value links to (their user name or e-mail), if any."""
    value = value.strip().lower()
    if value in snap.people:
        return value
    return next((u for u, p in snap.people.items() if value and (p["email"] or "").lower() == value), None)


def _departments(rows: _Rows, snap: Snapshot, mapping: Mapping, view: DirectoryView) -> None:
    for dn, department in sorted(mapping.departments.items(), key=lambda item: item[1].code):
        existing = snap.coded["departments"].get(department.code)
        group = view.groups.get(dn)
        name = department.name or (existing or {}).get("name") or (group.first("cn") if group else "")
        if existing is not None and not department.name and department.parent is None:
            continue  # an existing department the mapping says nothing new about
        if not name:
            continue  # neither the mapping nor the directory names it: memberships to it will be reported
        values = {"code": department.code, "name": name}
        if department.parent is not None:
            values["parent_code"] = department.parent
        rows.add("departments", values)


def _person(rows: _Rows, report: SyncReport, snap: Snapshot, mapping: Mapping, entry: Entry,
            codes: list[str], link_attribute: str) -> str | None:
    username = _linked(snap, entry.first(link_attribute)) or entry.first(mapping.username).lower()
    existing = snap.people.get(username)
    name = entry.first(mapping.name) or (existing or {}).get("name", "")
    email = (entry.first(mapping.email) or (existing or {}).get("email", "")).lower()
    problem = org.check_username(username) or org.check_name(name) or org.check_email(email)
    if problem is not None:
        report.skipped.append({"dn": entry.dn, "reason": str(problem)})
        return None
    disabled = is_disabled(entry, mapping.disabled_attribute, mapping.disabled_values)
    rows.add("people", {"username": username, "name": name, "email": email, "active": "false" if disabled else "true"})
    if disabled:
        if existing is not None and existing["active"]:
            report.deactivated.append(username)
        return None
    for code in sorted(set(codes)):
        rows.add("memberships", {"username": username, "kind": "department", "code": code})
    position = entry.first(mapping.position) if mapping.position else ""
    position = mapping.positions.get(position, position)
    if position and position in snap.coded["positions"]:
        rows.add("memberships", {"username": username, "kind": "position", "code": position})
    elif position:
        report.notes.append(f"{username}: unknown position “{position}” left out")
    return username


def _state_path(settings: Settings) -> Path:
    return settings.data_dir / STATE_FILE


def _read_state(settings: Settings) -> set[str]:
    try:
        return set(json.loads(_state_path(settings).read_text(encoding="utf-8")).get("usernames", []))
    except (OSError, ValueError, AttributeError):
        return set()


def _write_state(settings: Settings, usernames: set[str]) -> None:
    path = _state_path(settings)
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump({"usernames": sorted(usernames)}, handle)
    os.replace(temporary, path)


def build_source(store: GraphStore, settings: Settings, mapping: Mapping, view: DirectoryView,
                 report: SyncReport) -> Source:
    snap = snapshot(store)
    rows = _Rows()
    _departments(rows, snap, mapping, view)
    for dn, entry in sorted(view.users.items()):
        codes = view.member_of.get(dn, []) + view.member_of.get(entry.first(mapping.username).lower(), [])
        if not codes:
            continue
        username = _person(rows, report, snap, mapping, entry, codes, settings.ldap_link_attribute)
        if username is not None:
            report.synced.append(username)
    # Everyone with a row was seen (disabled ones too: deactivated above, not a second time below).
    seen = {row.values["username"] for row in rows.source.rows["people"]}
    report.seen = seen
    for username in sorted(_read_state(settings) - seen):
        existing = snap.people.get(username)
        if existing is None or not existing["active"]:
            continue
        report.deactivated.append(username)
        # Gone from every mapped group (or from the directory): the account stays, access ends.
        rows.add("people", {"username": username, "name": existing["name"], "email": existing["email"],
                            "active": "false"})
    return rows.source


def sync(store: GraphStore, settings: Settings, *, dry_run: bool = False, mapping: Mapping | None = None,
         client: str = "cli") -> SyncReport:
    """Read the directory and bring the org in line with it (dry run: say what would change, write nothing).

    Raises :class:`MappingError` or :class:`ingest.ldap_directory.DirectoryUnavailable`."""
    if mapping is None:
        if settings.ldap_sync_mapping is None:
            raise MappingError("HUITONG_LDAP_SYNC_MAPPING is not set")
        mapping = load_mapping(settings.ldap_sync_mapping, settings)
    view = read_directory(Directory(settings), mapping)
    report = SyncReport(ImportPlan(), dry_run)
    source = build_source(store, settings, mapping, view, report)
    report.plan = plan_import(store, source, impact=dry_run)
    report.plan.notes.extend(report.notes)
    if dry_run or not report.plan.ok:
        return report
    apply_plan(store, report.plan)
    _write_state(settings, _read_state(settings) | report.seen)
    audit.record(store, action="org.ldap_sync", client=client, detail={
        "summary": report.plan.summary(), "synced": len(report.synced),
        "deactivated": sorted(report.deactivated), "skipped": len(report.skipped),
    })
    return report
