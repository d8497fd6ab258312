"""Spreadsheet cells that cannot run: text that starts like a formula gets a leading apostrophe.

Excel, LibreOffice and Sheets execute a CSV/XLSX cell that starts with ``=``, ``+``, ``-`` or ``@``
(and tab/CR variants of them): a file name or a login typed by a stranger must stay text in every
export (ingest reports, manager tables, the audit trail).
"""

from __future__ import annotations

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """``value`` unchanged unless it is text that a spreadsheet would read as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
