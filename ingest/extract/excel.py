"""XLSX: one section per sheet (ref = sheet name), rows as tab-separated lines."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, BinaryIO

import openpyxl

from ingest.extract.meta import core_properties
from ingest.extract.model import Extraction, SectionBuilder, finish
from ingest.extract.ooxml import check_package
from ingest.filetypes import FileKind


def extract_xlsx(path: Path) -> Extraction:
    app = check_package(path, "xl/workbook.xml")
    app.pop("pages", None)
    # Opened as a stream: openpyxl refuses a path whose name does not end in .xlsx, and stored blobs
    # are named by their hash. read_only streams rows instead of building every cell object;
    # data_only gives the cached results of formulas, which is what a reader of the sheet sees.
    with path.open("rb") as stream:
        return _read(stream, app)


def _read(stream: BinaryIO, app: dict[str, Any]) -> Extraction:
    workbook = openpyxl.load_workbook(stream, read_only=True, data_only=True)
    try:
        builder = SectionBuilder()
        names = workbook.sheetnames
        for sheet in workbook.worksheets:
            if builder.full:
                break
            builder.start(sheet.title)
            if not hasattr(sheet, "iter_rows"):
                continue  # chart sheets hold no cells
            for row in sheet.iter_rows(values_only=True):
                line = "\t".join(cell_text(v) for v in row).rstrip("\t")
                if line.strip():
                    builder.add(line)
                if builder.full:
                    break
        metadata: dict[str, Any] = {**core_properties(workbook.properties), **app}
        metadata["sheets"] = len(names)
        metadata["sheet_names"] = names
    finally:
        workbook.close()
    return finish(FileKind.XLSX, builder, metadata, "every sheet is empty")


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date().isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return " ".join(str(value).split())
