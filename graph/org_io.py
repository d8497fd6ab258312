"""Bulk import and export of the organisation as CSV files or one XLSX workbook.

The format (documented in docs/org-import.md) has one table per kind — departments,
positions, projects, people, memberships — keyed by natural keys (codes and user names),
never by internal ids. Importing is two steps: :func:`plan_import` reads the files and the
current graph and says what would change and what is wrong with EVERY bad row, writing
nothing; :func:`apply_plan` writes a plan without problems. Applying the same files again
changes nothing. :func:`export_org` writes the same format, so export -> import -> export
gives the same files.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.cell import WriteOnlyCell

from graph import org
from graph.org import N_, Problem
from graph.queries import org_admin as q
from graph.store import GraphStore

SHEETS: tuple[str, ...] = ("departments", "positions", "projects", "people", "memberships")
# sheet -> columns, required ones first (export writes them all, in this order)
COLUMNS: dict[str, tuple[str, ...]] = {
    "departments": ("code", "name", "name_en", "parent_code", "active"),
    "positions": ("code", "name", "name_en", "active"),
    "projects": ("code", "name", "name_en", "active"),
    "people": ("username", "name", "email", "active", "roles", "manager"),
    "memberships": ("username", "kind", "code"),
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "departments": ("code", "name"), "positions": ("code", "name"), "projects": ("code", "name"),
    "people": ("username", "name", "email"), "memberships": ("username", "kind", "code"),
}
CODED_SHEETS: dict[str, str] = {"departments": "department", "positions": "position", "projects": "project"}
TRUE_WORDS = {"true", "yes", "y", "1", "是", "有效", "启用"}
FALSE_WORDS = {"false", "no", "n", "0", "否", "无效", "停用"}
ROLE_SEPARATORS = (";", ",", "；", "，")
BATCH = 1000
ACTIONS: tuple[str, ...] = ("create", "update", "move", "remove", "unchanged")


# -- reading files ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SourceRow:
    sheet: str
    file: str
    line: int
    values: dict[str, str]


@dataclass(frozen=True)
class RowProblem:
    """A bad row (or a bad file when ``line`` is 0 or the header line)."""

    file: str
    line: int
    problem: Problem

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.problem}"

    def as_json(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "reason": str(self.problem)}


@dataclass
class Source:
    """Rows per sheet, which columns each sheet has, and problems found while reading."""

    rows: dict[str, list[SourceRow]] = field(default_factory=lambda: {sheet: [] for sheet in SHEETS})
    columns: dict[str, set[str]] = field(default_factory=lambda: {sheet: set() for sheet in SHEETS})
    problems: list[RowProblem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _cell(value: object) -> str:
    """A spreadsheet cell as text: 1001.0 -> '1001', True -> 'true', None -> ''."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value).strip()


def _add_table(source: Source, sheet: str, name: str, table: Iterable[tuple[int, list[str]]]) -> None:
    """Header row then data rows (line numbers as the user sees them) into ``source``."""
    rows = iter(table)
    header_line, header = next(rows, (1, []))
    header = [h.strip().lower() for h in header]
    while header and not header[-1]:
        header.pop()
    missing = [c for c in REQUIRED[sheet] if c not in header]
    unknown = [h for h in header if h and h not in COLUMNS[sheet]]
    repeated = sorted({h for h in header if h and header.count(h) > 1})
    if missing:
        source.problems.append(RowProblem(name, header_line, Problem(
            N_("Missing column(s) %(columns)s for %(sheet)s."), {"columns": ", ".join(missing), "sheet": sheet})))
    if unknown:
        source.problems.append(RowProblem(name, header_line, Problem(
            N_("Unknown column(s) %(columns)s (expected %(expected)s)."),
            {"columns": ", ".join(unknown), "expected": ", ".join(COLUMNS[sheet])})))
    if repeated or "" in header:
        source.problems.append(RowProblem(name, header_line, Problem(
            N_("Every column needs one distinct name in the header row."))))
    if missing or unknown or repeated or "" in header:
        return
    source.columns[sheet] |= set(header)
    for line, cells in rows:
        cells = [_cell(c) for c in cells]
        if not any(cells):
            continue
        if len(cells) > len(header) and any(cells[len(header):]):
            source.problems.append(RowProblem(name, line, Problem(
                N_("The row has more cells than the header has columns."))))
            continue
        values = {column: (cells[i] if i < len(cells) else "") for i, column in enumerate(header)}
        source.rows[sheet].append(SourceRow(sheet, name, line, values))


def _decode(data: bytes) -> str | None:
    # Excel on Chinese Windows saves CSV as GB18030 (GBK); everything else is UTF-8, maybe with a BOM.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def _sheet_for(name: str) -> str | None:
    stem = name.strip().lower()
    return stem if stem in SHEETS else None


def read_csv(source: Source, name: str, data: bytes) -> None:
    sheet = _sheet_for(Path(name).stem)
    if sheet is None:
        source.problems.append(RowProblem(name, 0, Problem(
            N_("Cannot tell what this file holds: name it one of %(names)s."),
            {"names": ", ".join(f"{s}.csv" for s in SHEETS)})))
        return
    text = _decode(data)
    if text is None:
        source.problems.append(RowProblem(name, 0, Problem(N_("The file is neither UTF-8 nor GB18030 text."))))
        return
    reader = csv.reader(io.StringIO(text, newline=""))

    def table() -> Iterator[tuple[int, list[str]]]:
        start = 1
        for cells in reader:
            yield start, cells  # the line where the record starts, even if a quoted cell spans lines
            start = reader.line_num + 1

    try:
        _add_table(source, sheet, name, table())
    except csv.Error as error:
        source.problems.append(RowProblem(name, reader.line_num, Problem(
            N_("Broken CSV: %(error)s."), {"error": str(error)})))


def read_xlsx(source: Source, name: str, data: bytes) -> None:
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many types for a bad file
        source.problems.append(RowProblem(name, 0, Problem(
            N_("Not a readable XLSX workbook: %(error)s."), {"error": str(error) or type(error).__name__})))
        return
    try:
        for worksheet in workbook.worksheets:
            sheet = _sheet_for(worksheet.title)
            if sheet is None:
                source.notes.append(f"{name}: sheet “{worksheet.title}” ignored")
                continue
            table = ((i, [_cell(c) for c in row]) for i, row in enumerate(worksheet.iter_rows(values_only=True), 1))
            _add_table(source, sheet, f"{name}[{worksheet.title}]", table)
    finally:
        workbook.close()


def read_files(files: Iterable[tuple[str, bytes]]) -> Source:
    """Read (file name, content) pairs: ``<sheet>.csv`` files and/or XLSX workbooks with sheets named so."""
    source = Source()
    for name, data in files:
        suffix = Path(name).suffix.lower()
        if suffix == ".csv":
            read_csv(source, name, data)
        elif suffix == ".xlsx":
            read_xlsx(source, name, data)
        else:
            source.problems.append(RowProblem(name, 0, Problem(N_("Only .csv and .xlsx files can be imported."))))
    return source


def read_paths(paths: Iterable[Path]) -> Source:
    """Files and directories (their ``*.csv`` and ``*.xlsx``) from disk."""
    files: list[tuple[str, bytes]] = []
    for path in paths:
        if path.is_dir():
            members = sorted(p for p in path.iterdir() if p.suffix.lower() in (".csv", ".xlsx") and p.is_file())
            files.extend((p.name, p.read_bytes()) for p in members)
        else:
            files.append((path.name, path.read_bytes()))
    return read_files(files)


# -- the current graph ------------------------------------------------------------------------------------

@dataclass
class Snapshot:
    """The organisation as natural keys: what import compares with and export writes."""

    coded: dict[str, dict[str, dict[str, Any]]]  # sheet -> code -> record
    people: dict[str, dict[str, Any]]  # username -> record
    memberships: set[tuple[str, str, str]]  # (username, kind, code)


def snapshot(store: GraphStore) -> Snapshot:
    coded: dict[str, dict[str, dict[str, Any]]] = {}
    for sheet, kind in CODED_SHEETS.items():
        statement = q.DEPARTMENT_TREE if kind == "department" else q.CODED[kind].export
        coded[sheet] = {row["code"]: {
            "id": row["id"], "code": row["code"], "name": row["name"], "name_en": row["name_en"] or "",
            "active": bool(row["active"]), "parent_code": row.get("parent_code") or "",
        } for row in store.run(statement)}
    people = {row["username"]: {
        "id": row["id"], "username": row["username"], "name": row["name"], "email": row["email"] or "",
        "active": bool(row["active"]), "roles": tuple(sorted(set(row["roles"]))),
        "manager": min(row["managers"]) if row["managers"] else "",
    } for row in store.run(q.PEOPLE_EXPORT)}
    kinds = {(rel, label): kind for kind, (rel, label) in q.MEMBERSHIP_KINDS.items()}
    memberships = {(row["username"], kinds[(row["rel"], row["label"])], row["code"])
                   for row in store.run(q.MEMBERSHIPS_EXPORT) if (row["rel"], row["label"]) in kinds}
    return Snapshot(coded, people, memberships)


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
    role_rows: dict[str, tuple[str, ...]] = field(default_factory=dict)
    manager_rows: dict[str, str] = field(default_factory=dict)
    add_memberships: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    remove_memberships: dict[str, list[dict[str, str]]] = field(default_factory=dict)

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
                "changes": [c.as_json() for c in self.changes], "notes": self.notes}


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
        for (username, kind), group in sorted(wanted.items()):
            current = {m[2] for m in self.snap.memberships if m[0] == username and m[1] == kind}
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


def plan_import(store: GraphStore, source: Source, *, now: int = 0) -> ImportPlan:
    """Compare the files with the graph: every change and every bad row, nothing written."""
    planner = _Planner(snapshot(store), source, now or org._now())
    for sheet in CODED_SHEETS:
        planner.coded(sheet)
    planner.parents()
    planner.people()
    planner.memberships()
    planner.plan.problems.sort(key=lambda p: (p.file, p.line))
    return planner.plan


def report_lines(plan: ImportPlan, *, applied: bool) -> list[str]:
    """The plan as text for a terminal."""
    lines = [f"{sheet:12} " + "  ".join(f"{action} {count}" for action, count in counts.items())
             for sheet, counts in plan.summary().items()]
    lines += [f"  {c.action:9} {c.sheet}: {c.key}" + (f"  ({c.detail})" if c.detail else "") for c in plan.changes]
    lines += [f"note: {note}" for note in plan.notes]
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


# -- export -------------------------------------------------------------------------------------------------

def export_org(store: GraphStore) -> dict[str, list[dict[str, str]]]:
    """Every sheet as rows of text cells, sorted by natural key (so two exports of one graph are equal)."""
    snap = snapshot(store)
    sheets: dict[str, list[dict[str, str]]] = {}
    for sheet in CODED_SHEETS:
        sheets[sheet] = [{column: _text(record[column]) for column in COLUMNS[sheet]}
                         for _, record in sorted(snap.coded[sheet].items())]
    sheets["people"] = [{column: _text(record[column]) for column in COLUMNS["people"]}
                        for _, record in sorted(snap.people.items())]
    sheets["memberships"] = [{"username": u, "kind": k, "code": c} for u, k, c in sorted(snap.memberships)]
    return sheets


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ";".join(value)
    return "" if value is None else str(value)


def csv_bytes(rows: list[dict[str, str]], sheet: str) -> bytes:
    """One sheet as UTF-8 CSV with a BOM (so spreadsheet programs read Chinese correctly)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS[sheet], lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


def xlsx_bytes(sheets: Mapping[str, list[dict[str, str]]]) -> bytes:
    workbook = openpyxl.Workbook(write_only=True)
    for sheet in SHEETS:
        worksheet = workbook.create_sheet(sheet)
        worksheet.append(list(COLUMNS[sheet]))
        for row in sheets[sheet]:
            worksheet.append([_text_cell(worksheet, row[c]) for c in COLUMNS[sheet]])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _text_cell(worksheet: Any, value: str) -> WriteOnlyCell:
    # Forced to text: openpyxl would otherwise store a value starting with "=" as a formula.
    cell = WriteOnlyCell(worksheet, value=value)
    cell.data_type = "s"
    return cell


def write_export(store: GraphStore, target: Path) -> list[Path]:
    """Export to ``target``: an ``.xlsx`` file, or a directory that receives one CSV per sheet."""
    sheets = export_org(store)
    if target.suffix.lower() == ".xlsx":
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(xlsx_bytes(sheets))
        return [target]
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for sheet in SHEETS:
        path = target / f"{sheet}.csv"
        path.write_bytes(csv_bytes(sheets[sheet], sheet))
        written.append(path)
    return written
