"""Reading organisation files: ``<sheet>.csv`` files (UTF-8 or GB18030) and XLSX workbooks.

Every bad file or header is collected as a :class:`RowProblem` with the line the user sees, so an
import reports all of them at once (the format is documented in docs/org-import.md).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl

from graph.org import N_, Problem

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
