"""Small helpers shared by the extractors for metadata values."""

from __future__ import annotations

import datetime as dt
from typing import Any


def iso(value: Any) -> str | None:
    """ISO 8601 text of a date/datetime, or None."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return None


def core_properties(props: Any) -> dict[str, Any]:
    """Title/author/dates of OOXML core properties (python-docx, python-pptx and openpyxl agree
    on these names except openpyxl's ``creator``)."""
    out: dict[str, Any] = {}
    for key, attrs in (
        ("title", ("title",)),
        ("author", ("author", "creator")),
        ("subject", ("subject",)),
        ("keywords", ("keywords",)),
        ("last_modified_by", ("last_modified_by", "lastModifiedBy")),
    ):
        for attr in attrs:
            value = getattr(props, attr, None)
            if isinstance(value, str) and value.strip():
                out[key] = value.strip()
                break
    out["created"] = iso(getattr(props, "created", None))
    out["modified"] = iso(getattr(props, "modified", None))
    return {k: v for k, v in out.items() if v}
