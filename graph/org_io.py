"""Bulk import of the organisation from CSV files or one XLSX workbook.

The format (documented in docs/org-import.md) has one table per kind — departments,
positions, projects, people, memberships — keyed by natural keys (codes and user names),
never by internal ids. Importing is two steps: :func:`plan_import` reads the files and the
current graph and says what would change and what is wrong with EVERY bad row, writing
nothing; :func:`apply_plan` writes a plan without problems. Applying the same files again
changes nothing. Reading files lives in :mod:`graph.org_files`, the snapshot and export in
:mod:`graph.org_export` (re-exported here: callers keep using ``org_io``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from graph import accounts, org, org_impact
from graph.org import N_, Problem
from graph.org_export import CODED_SHEETS, Snapshot, csv_bytes, export_org, snapshot, write_export, xlsx_bytes
from graph.org_files import (
    COLUMNS,
    REQUIRED,
    SHEETS,
    RowProblem,
    Source,
    SourceRow,
    read_csv,
    read_files,
    read_paths,
    read_xlsx,
)
from graph.queries import org_admin as q
from graph.store import GraphStore

__all__ = [
    "ACTIONS", "CODED_SHEETS", "COLUMNS", "REQUIRED", "SHEETS", "Change", "ImportPlan", "RowProblem", "Snapshot",
    "Source", "SourceRow", "apply_plan", "csv_bytes", "export_org", "plan_import", "read_csv", "read_files",
    "read_paths", "read_xlsx", "report_lines", "snapshot", "write_export", "xlsx_bytes",
]

TRUE_WORDS = {"true", "yes", "y", "1", "是", "有效", "启用"}
FALSE_WORDS = {"false", "no", "n", "0", "否", "无效", "停用"}
ROLE_SEPARATORS = (";", ",", "；", "，")
BATCH = 1000
ACTIONS: tuple[str, ...] = ("create", "update", "move", "remove", "unchanged")


# -- planning -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Change:
    sheet: str
    action: str
    key: str
    detail: str = ""

    def as_json(self) -> dict[str, str]:
        return {"sheet": self.sheet, "action": self.action, "key": self.key, "detail": self.detail}


@dataclass
class ImportPlan:
    """What an import would do. Nothing is written unless :func:`apply_plan` is called on a plan without problems."""

    problems: list[RowProblem] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    counts: dict[str, Counter[str]] = field(default_factory=lambda: {sheet: Counter() for sheet in SHEETS})
    notes: list[str] = field(default_factory=list)
    # what apply_plan writes
    coded_rows: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {s: [] for s in CODED_SHEETS})
    detach_parents: list[str] = field(default_factory=list)
    link_parents: list[dict[str, str]] = field(default_factory=list)
    people_rows: list[dict[str, Any]] = field(default_factory=list)
    end_sessions: list[str] = field(default_factory=list)  # usernames deactivated or stripped of a role
    role_rows: dict[str, tuple[str, ...]] = field(default_factory=dict)
    manager_rows: dict[str, str] = field(default_factory=dict)
    add_memberships: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    remove_memberships: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    # who would gain or lose access to how many documents (graph.org_impact), for a plan without problems
    access_changes: list[dict[str, Any]] | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def has_changes(self) -> bool:
        return bool(self.changes)

    def change(self, sheet: str, action: str, key: str, detail: str = "") -> None:
        self.counts[sheet][action] += 1
        if action != "unchanged":
            self.changes.append(Change(sheet, action, key, detail))

    def summary(self) -> dict[str, dict[str, int]]:
        return {sheet: {action: self.counts[sheet][action] for action in ACTIONS} for sheet in SHEETS}

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "summary": self.summary(), "problems": [p.as_json() for p in self.problems],
                "changes": [c.as_json() for c in self.changes], "notes": self.notes,
                "access_changes": self.access_changes or []}


def _flag(text: str) -> bool | None:
    lowered = text.strip().lower()
    if lowered in TRUE_WORDS:
        return True
    if lowered in FALSE_WORDS:
        return False
    return None


def _roles(text: str) -> list[str]:
    for separator in ROLE_SEPARATORS[1:]:
        text = text.replace(separator, ROLE_SEPARATORS[0])
    return sorted({part.strip().lower() for part in text.split(ROLE_SEPARATORS[0]) if part.strip()})


def _where(row: SourceRow) -> str:
    return f"{row.file}:{row.line}"


def _first_cycle(start: str, parent_of: Mapping[str, str]) -> list[str] | None:
    """The loop reached by following parents from ``start``, or None if the walk ends at a root."""
    seen: list[str] = []
    current = start
    while current:
        if current in seen:
            return [*seen[seen.index(current):], current]
        seen.append(current)
        current = parent_of.get(current, "")
    return None


class _Planner:
    def __init__(self, snap: Snapshot, source: Source, now: int) -> None:
        self.snap = snap
        self.source = source
        self.now = now
        self.plan = ImportPlan(problems=list(source.problems), notes=list(source.notes))
        # final state, for the checks that span sheets
        self.final_coded: dict[str, dict[str, dict[str, Any]]] = {s: dict(v) for s, v in snap.coded.items()}
        self.final_people: dict[str, dict[str, Any]] = dict(snap.people)
        self.rows_by_key: dict[tuple[str, str], SourceRow] = {}

    def bad(self, row: SourceRow, template: str, **params: Any) -> None:
        self.plan.problems.append(RowProblem(row.file, row.line, Problem(template, params)))

    def _unique(self, row: SourceRow, sheet: str, key: str) -> bool:
        first = self.rows_by_key.get((sheet, key))
        if first is not None:
            self.bad(row, N_("“%(key)s” appears twice (first at %(first)s)."), key=key, first=_where(first))
            return False
        self.rows_by_key[(sheet, key)] = row
        return True

    def _active(self, row: SourceRow, existing: Mapping[str, Any] | None) -> bool | None:
        if "active" not in row.values or not row.values["active"]:
            return existing["active"] if existing else True
        flag = _flag(row.values["active"])
        if flag is None:
            self.bad(row, N_("active must be true or false, not “%(value)s”."), value=row.values["active"])
        return flag

    # departments, positions, projects
    def coded(self, sheet: str) -> None:
        current = self.snap.coded[sheet]
        for row in self.source.rows[sheet]:
            values = row.values
            code, name, name_en = values["code"], values["name"], values.get("name_en", "")
            problems = [org.check_code(code), org.check_name(name), org.check_name(name_en, "name_en", required=False)]
            found = [p for p in problems if p]
            for problem in found:
                self.plan.problems.append(RowProblem(row.file, row.line, problem))
            if found or not self._unique(row, sheet, code):
                continue
            existing = current.get(code)
            active = self._active(row, existing)
            if active is None:
                continue
            record = {
                "id": existing["id"] if existing else org.new_id(), "code": code, "name": name,
                "name_en": name_en if "name_en" in values else (existing or {}).get("name_en", ""),
                "active": active, "parent_code": (existing or {}).get("parent_code", ""),
            }
            if sheet == "departments" and "parent_code" in values:
                record["parent_code"] = values["parent_code"]
            self.final_coded[sheet][code] = record
            self._coded_change(sheet, existing, record)

    def _coded_change(self, sheet: str, existing: Mapping[str, Any] | None, record: dict[str, Any]) -> None:
        fields = ("name", "name_en", "active")
        stored = {**record, "name_en": record["name_en"] or None, "now": self.now}
        if existing is None:
            self.plan.change(sheet, "create", record["code"], record["name"])
            self.plan.coded_rows[sheet].append(stored)
            return
        changed = [f"{f}: {existing[f]!s} → {record[f]!s}" for f in fields if existing[f] != record[f]]
        if changed:
            self.plan.change(sheet, "update", record["code"], "; ".join(changed))
            self.plan.coded_rows[sheet].append(stored)
        if existing["parent_code"] != record["parent_code"]:
            self.plan.change(sheet, "move", record["code"],
                             f"{existing['parent_code'] or '—'} → {record['parent_code'] or '—'}")
        elif not changed:
            self.plan.change(sheet, "unchanged", record["code"])

    def parents(self) -> None:
        departments = self.final_coded["departments"]
        parent_of = {code: record["parent_code"] for code, record in departments.items()}
        cyclic: set[str] = set()
        for row in self.source.rows["departments"]:
            code = row.values["code"]
            if self.rows_by_key.get(("departments", code)) is not row or "parent_code" not in row.values:
                continue
            parent = row.values["parent_code"]
            if parent and parent not in departments:
                self.bad(row, N_("Unknown parent department “%(parent)s”."), parent=parent)
                parent_of[code] = ""  # reported; keep it out of the cycle check
                continue
            cycle = _first_cycle(code, parent_of)
            if cycle and code in cycle:
                cyclic.add(code)
                self.bad(row, N_("Parent “%(parent)s” makes a cycle: %(cycle)s."), parent=parent,
                         cycle=" → ".join(cycle))
        previous = self.snap.coded["departments"]
        for code, record in departments.items():
            before = previous.get(code)
            if code in cyclic or (before is not None and before["parent_code"] == record["parent_code"]):
                continue
            if before is not None and before["parent_code"]:
                self.plan.detach_parents.append(code)
            if record["parent_code"]:
                self.plan.link_parents.append({"code": code, "parent_code": record["parent_code"]})

    # people
    def people(self) -> None:
        rows = self.source.rows["people"]
        for row in rows:
            values = row.values
            username, name, email = values["username"].lower(), values["name"], values["email"].lower()
            found = [p for p in (org.check_username(username), org.check_name(name), org.check_email(email)) if p]
            roles = _roles(values.get("roles", ""))
            if "roles" in values:
                found += [p for p in [org.check_roles(roles)] if p]
            for problem in found:
                self.plan.problems.append(RowProblem(row.file, row.line, problem))
            if found or not self._unique(row, "people", username):
                continue
            existing = self.snap.people.get(username)
            active = self._active(row, existing)
            if active is None:
                continue
            default_roles = ("member",) if existing is None else existing["roles"]
            self.final_people[username] = {
                "id": existing["id"] if existing else org.new_id(), "username": username, "name": name,
                "email": email, "active": active,
                "roles": tuple(roles) if "roles" in values else default_roles,
                "manager": values["manager"].lower() if "manager" in values else (existing or {}).get("manager", ""),
            }
        self._people_cross_checks(rows)
        for row in rows:
            username = row.values["username"].lower()
            if self.rows_by_key.get(("people", username)) is row:
                self._person_change(self.snap.people.get(username), self.final_people[username])

    def _people_cross_checks(self, rows: list[SourceRow]) -> None:
        owners: dict[str, list[str]] = {}
        for username, record in self.final_people.items():
            owners.setdefault(record["email"], []).append(username)
        managers = {u: r["manager"] for u, r in self.final_people.items()}
        for row in rows:
            username = row.values["username"].lower()
            if self.rows_by_key.get(("people", username)) is not row:
                continue
            record = self.final_people[username]
            others = [u for u in owners.get(record["email"], []) if u != username]
            if others:
                self.bad(row, N_("E-mail address “%(email)s” is also used by %(others)s."), email=record["email"],
                         others=", ".join(sorted(others)))
            manager = record["manager"]
            if manager and manager not in self.final_people:
                self.bad(row, N_("Unknown manager “%(manager)s”."), manager=manager)
                managers[username] = ""
                continue
            cycle = _first_cycle(username, managers)
            if cycle and username in cycle:
                self.bad(row, N_("Manager “%(manager)s” makes a reporting cycle: %(cycle)s."), manager=manager,
                         cycle=" → ".join(cycle))

    def _person_change(self, existing: Mapping[str, Any] | None, record: dict[str, Any]) -> None:
        username = record["username"]
        if existing is None:
            self.plan.change("people", "create", username, record["name"])
        else:
            fields = ("name", "email", "active", "roles", "manager")
            changed = [f"{f}: {_show(existing[f])} → {_show(record[f])}" for f in fields if existing[f] != record[f]]
            if not changed:
                self.plan.change("people", "unchanged", username)
                return
            self.plan.change("people", "update", username, "; ".join(changed))
        self.plan.people_rows.append({key: record[key] for key in ("id", "username", "name", "email", "active")}
                                     | {"now": self.now})
        if existing is None or existing["roles"] != record["roles"]:
            self.plan.role_rows[username] = record["roles"]
        if existing is not None and (not record["active"] or set(existing["roles"]) - set(record["roles"])):
            self.plan.end_sessions.append(username)
        if existing is None or existing["manager"] != record["manager"]:
            self.plan.manager_rows[username] = record["manager"]

    # memberships
    def memberships(self) -> set[tuple[str, str, str]]:
        wanted: dict[tuple[str, str], dict[str, SourceRow]] = {}
        for row in self.source.rows["memberships"]:
            username, kind, code = row.values["username"].lower(), row.values["kind"].lower(), row.values["code"]
            if kind not in q.MEMBERSHIP_KINDS:
                self.bad(row, N_("Unknown membership kind “%(kind)s” (use %(kinds)s)."), kind=kind,
                         kinds=", ".join(q.MEMBERSHIP_KINDS))
                continue
            if username not in self.final_people:
                self.bad(row, N_("Unknown person “%(username)s”."), username=username)
                continue
            target_sheet = "departments" if kind == "head" else f"{kind}s"
            if code not in self.final_coded[target_sheet]:
                self.bad(row, N_("Unknown %(kind)s “%(code)s”."), kind=target_sheet[:-1], code=code)
                continue
            group = wanted.setdefault((username, kind), {})
            if code in group:
                self.bad(row, N_("“%(key)s” appears twice (first at %(first)s)."), key=f"{username} {kind} {code}",
                         first=_where(group[code]))
                continue
            group[code] = row
        final = {m for m in self.snap.memberships if (m[0], m[1]) not in wanted}
        held: dict[tuple[str, str], set[str]] = {}  # indexed once: a scan per person was quadratic
        for username, kind, code in self.snap.memberships:
            held.setdefault((username, kind), set()).add(code)
        for (username, kind), group in sorted(wanted.items()):
            current = held.get((username, kind), set())
            for code in sorted(group):
                final.add((username, kind, code))
                action = "unchanged" if code in current else "create"
                self.plan.change("memberships", action, f"{username} {kind} {code}")
                if action == "create":
                    self.plan.add_memberships.setdefault(kind, []).append({"username": username, "code": code})
            for code in sorted(current - set(group)):
                self.plan.change("memberships", "remove", f"{username} {kind} {code}")
                self.plan.remove_memberships.setdefault(kind, []).append({"username": username, "code": code})
        self._inactive_departments(final, wanted)
        return final

    def _inactive_departments(self, final: set[tuple[str, str, str]],
                              wanted: Mapping[tuple[str, str], Mapping[str, SourceRow]]) -> None:
        """The rule of :func:`graph.org.deactivate_department`, on the state the import would leave."""
        departments = self.final_coded["departments"]
        members: Counter[str] = Counter()
        for username, kind, code in final:
            if kind != "department" or not self.final_people[username]["active"]:
                continue
            members[code] += 1
            if not departments[code]["active"]:
                row = wanted.get((username, kind), {}).get(code)
                if row is not None:
                    self.bad(row, N_("Department “%(code)s” is inactive."), code=code)
        children: Counter[str] = Counter(r["parent_code"] for r in departments.values() if r["active"])
        for row in self.source.rows["departments"]:
            code = row.values["code"]
            record = departments.get(code)
            if self.rows_by_key.get(("departments", code)) is not row or record is None or record["active"]:
                continue
            if members[code]:
                self.bad(row, N_("“%(code)s” would be inactive with %(count)s active member(s)."), code=code,
                         count=members[code])
            if children[code]:
                self.bad(row, N_("“%(code)s” would be inactive with %(count)s active sub-department(s)."),
                         code=code, count=children[code])


def _show(value: object) -> str:
    if isinstance(value, tuple):
        return ";".join(value) or "—"
    return str(value) if value not in ("", None) else "—"


def plan_import(store: GraphStore, source: Source, *, now: int = 0, impact: bool = True) -> ImportPlan:
    """Compare the files with the graph: every change and every bad row, nothing written.

    With ``impact`` a clean plan also says who would gain or lose access to how many documents.
    """
    planner = _Planner(snapshot(store), source, now or org._now())
    for sheet in CODED_SHEETS:
        planner.coded(sheet)
    planner.parents()
    planner.people()
    final = planner.memberships()
    planner.plan.problems.sort(key=lambda p: (p.file, p.line))
    if impact and planner.plan.ok:
        after = Snapshot(planner.final_coded, planner.final_people, final)
        planner.plan.access_changes = org_impact.compare(store, planner.snap, after).as_json()
    return planner.plan


def report_lines(plan: ImportPlan, *, applied: bool) -> list[str]:
    """The plan as text for a terminal."""
    lines = [f"{sheet:12} " + "  ".join(f"{action} {count}" for action, count in counts.items())
             for sheet, counts in plan.summary().items()]
    lines += [f"  {c.action:9} {c.sheet}: {c.key}" + (f"  ({c.detail})" if c.detail else "") for c in plan.changes]
    lines += [f"note: {note}" for note in plan.notes]
    lines += [f"  access  {c['username']}: +{c['gained']} / -{c['lost']} document(s)"
              for c in plan.access_changes or []]
    lines += [f"ERROR {problem}" for problem in plan.problems]
    if plan.problems:
        lines.append(f"{len(plan.problems)} problem(s): nothing was written")
    elif applied:
        lines.append(f"applied {len(plan.changes)} change(s)")
    else:
        lines.append(f"dry run: {len(plan.changes)} change(s) would be applied")
    return lines


def _batches(rows: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(rows), BATCH):
        yield rows[start:start + BATCH]


def apply_plan(store: GraphStore, plan: ImportPlan) -> dict[str, dict[str, int]]:
    """Write a plan without problems; returns its summary. Raises ValueError on a plan with problems."""
    if not plan.ok:
        raise ValueError(f"the import has {len(plan.problems)} problem(s); nothing was written")

    def run(statement: Any, key: str, rows: list[Any]) -> None:
        for batch in _batches(rows):
            store.run(statement, {key: batch})

    for sheet, kind in CODED_SHEETS.items():
        run(q.CODED[kind].import_upsert, "rows", plan.coded_rows[sheet])
    run(q.IMPORT_DETACH_PARENTS, "codes", plan.detach_parents)
    run(q.IMPORT_LINK_PARENTS, "rows", plan.link_parents)
    run(q.PEOPLE_IMPORT_UPSERT, "rows", plan.people_rows)
    for batch in _batches(plan.end_sessions):
        accounts.end_sessions(store, usernames=batch)
    run(q.PERSON_CLEAR_ROLES, "usernames", sorted(plan.role_rows))
    run(q.PERSON_GRANT_ROLES, "rows", [{"username": u, "role": r} for u, roles in sorted(plan.role_rows.items())
                                       for r in roles])
    run(q.PERSON_CLEAR_MANAGERS, "usernames", sorted(plan.manager_rows))
    run(q.PERSON_LINK_MANAGERS, "rows", [{"username": u, "manager": m} for u, m in sorted(plan.manager_rows.items())
                                         if m])
    for kind, rows in plan.remove_memberships.items():
        run(q.MEMBERSHIPS[kind].import_remove, "rows", rows)
    for kind, rows in plan.add_memberships.items():
        run(q.MEMBERSHIPS[kind].import_add, "rows", rows)
    return plan.summary()
