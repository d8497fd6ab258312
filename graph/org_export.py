"""The organisation as natural keys (codes and user names): what import compares with and export writes.

Export writes the import format, so export -> import -> export gives the same files.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.cell import WriteOnlyCell

from graph.org_files import COLUMNS, SHEETS
from graph.queries import org_admin as q
from graph.store import GraphStore

CODED_SHEETS: dict[str, str] = {"departments": "department", "positions": "position", "projects": "project"}


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
