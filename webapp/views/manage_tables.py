"""The tables of the manager pages: their columns, how cells read, and CSV / XLSX export of the same rows.

Exports are for the reader: headers in their language with the unit, durations in hours and rates in
per cent as plain numbers (a spreadsheet can still compute with them), names instead of keys, and the
file stamped in the organisation's time zone. Text cells that a spreadsheet would run as a formula
(leading ``=``, ``+``, ``-``, ``@``) are written with a leading apostrophe (:func:`ingest.cells.safe_cell`).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Response, g
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from ingest.cells import safe_cell
from webapp.downloads import content_disposition
from webapp.ui import zone
from webapp.views.manage_words import hours, reasons_text

FORMATS = ("csv", "xlsx")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Column:
    key: str
    label: Any  # a lazy translation
    kind: str = "text"  # text | int | number | duration (seconds, read in hours) | rate | ids | period | reasons


_FIGURES = (
    Column("count", _l("Tasks"), "int"), Column("open_now", _l("Open now"), "int"),
    Column("median_wait_s", _l("Median waiting"), "duration"), Column("p90_wait_s", _l("P90 waiting"), "duration"),
    Column("median_processing_s", _l("Median processing"), "duration"),
    Column("p90_processing_s", _l("P90 processing"), "duration"),
    Column("median_handling_s", _l("Median handling"), "duration"),
    Column("p90_handling_s", _l("P90 handling"), "duration"),
    Column("queue_avg", _l("Queue (average)"), "number"),
    Column("arrival_per_day", _l("Arrivals / day"), "number"),
    Column("throughput_per_day", _l("Throughput / day"), "number"),
    Column("breach_rate", _l("SLA breach"), "rate"), Column("rework_rate", _l("Rework"), "rate"),
    Column("load", _l("Load (tasks held)"), "number"),
)

TABLES: dict[str, tuple[Column, ...]] = {
    "workflows": (Column("workflow_name", _l("Workflow")), Column("runs", _l("Runs"), "int"), *_FIGURES),
    "steps": (Column("workflow_name", _l("Workflow")), Column("step_name", _l("Step")),
              *_FIGURES, Column("evidence", _l("Slowest tasks"), "ids")),
    "departments": (Column("rank", _l("Rank"), "int"), Column("department", _l("Department")),
                    Column("people", _l("People"), "int"), *_FIGURES, Column("evidence", _l("Slowest tasks"), "ids")),
    "people": (Column("person", _l("Person")), Column("department", _l("Department")), *_FIGURES),
    "handoffs": (Column("from", _l("From")), Column("to", _l("To")), Column("count", _l("Handoffs"), "int"),
                 Column("median_delay_s", _l("Median delay"), "duration")),
    "top_bottlenecks": (Column("rank", _l("Rank"), "int"), Column("workflow_name", _l("Workflow")),
                        Column("step_name", _l("Step")),
                        Column("load", _l("Load (tasks held)"), "number"), Column("count", _l("Tasks"), "int"),
                        Column("median_handling_s", _l("Median handling"), "duration"),
                        Column("breach_rate", _l("SLA breach"), "rate"), Column("reasons", _l("Why"), "reasons"),
                        Column("evidence", _l("Slowest tasks"), "ids")),
    "bridges": (Column("label", _l("Person")), Column("department", _l("Department")),
                Column("betweenness", _l("Bridging score"), "number")),
    "dashboard": (Column("department", _l("Department")), Column("period", _l("Period"), "period"),
                  Column("active", _l("Active tasks"), "int"), Column("completed", _l("Completed"), "int"),
                  Column("completion_rate", _l("Completion rate"), "rate"),
                  Column("avg_handling_s", _l("Average handling"), "duration"),
                  Column("documents_shared", _l("Documents shared"), "int"),
                  Column("comments", _l("Comments"), "int"),
                  Column("sharing_events", _l("Information sharing"), "int")),
    "dashboard_totals": (Column("department", _l("Department")), Column("active", _l("Active tasks"), "int"),
                         Column("completed", _l("Completed"), "int"),
                         Column("completion_rate", _l("Completion rate"), "rate"),
                         Column("avg_handling_s", _l("Average handling"), "duration"),
                         Column("documents_shared", _l("Documents shared"), "int"),
                         Column("comments", _l("Comments"), "int"),
                         Column("sharing_events", _l("Information sharing"), "int")),
}


UNITS = {"duration": _l("hours"), "rate": "%"}


def header(column: Column) -> str:
    """A column's heading in the reader's language, with the unit its cells are written in."""
    unit = UNITS.get(column.kind)
    return f"{column.label} ({unit})" if unit else str(column.label)


def show(value: Any, kind: str) -> str:
    """A cell as the page shows it."""
    if kind == "reasons":
        return reasons_text(value) or "—"
    if value is None or value == "":
        return "—"
    if kind == "duration":
        return _hour_format() % {"n": f"{hours(value):,}"}
    if kind == "rate":
        return f"{float(value):.1%}"
    if kind == "number":
        return f"{float(value):,.2f}"
    if kind == "int":
        return f"{int(value):,}"
    return str(value)


def _hour_format() -> str:
    """The reader's "%(n)s h", looked up once per request: a page of tables shows hundreds of durations, and
    each translation look-up walks Flask-Babel's context."""
    if "hour_format" not in g:
        g.hour_format = _("%(n)s h")
    return str(g.hour_format)


def _raw(value: Any, kind: str) -> Any:
    if kind == "reasons":
        return safe_cell(reasons_text(value))
    if value is None:
        return ""
    if kind == "ids":
        return " ".join(str(v) for v in value)
    if kind == "duration":
        return hours(value)
    if kind == "rate":
        return round(float(value) * 100, 1)
    return safe_cell(value)


def matrix(rows: list[dict[str, Any]], name: str) -> tuple[list[str], list[list[Any]]]:
    columns = TABLES[name]
    return [header(c) for c in columns], [[_raw(row.get(c.key), c.kind) for c in columns] for row in rows]


def export(name: str, rows: list[dict[str, Any]], fmt: str) -> Response:
    """The rows of table ``name`` as a CSV (UTF-8 with BOM, for spreadsheet programs) or XLSX download."""
    heading_row, body = matrix(rows, name)
    stamp = datetime.now(zone()).strftime("%Y%m%d-%H%M")
    filename = f"huitong-{name}-{stamp}.{fmt}"
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(heading_row)
        writer.writerows(body)
        data: bytes = ("\ufeff" + out.getvalue()).encode("utf-8")
        mimetype = "text/csv; charset=utf-8"
    else:
        book = Workbook(write_only=True)
        sheet = book.create_sheet(name[:31])
        bold = Font(bold=True)
        heading = []
        for text in heading_row:
            cell = WriteOnlyCell(sheet, value=text)
            cell.font = bold
            heading.append(cell)
        sheet.append(heading)
        for row in body:
            sheet.append(row)
        buffer = io.BytesIO()
        book.save(buffer)
        data, mimetype = buffer.getvalue(), XLSX_TYPE
    return Response(data, mimetype=mimetype, headers={"Content-Disposition": content_disposition(filename)})
