"""Presentation helpers shared by the document pages: labels in the request's language, statuses, and
how the web door queues the background step of an upload."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l

from graph.classification import LEVELS, DataType, DomainCatalogue, effective_level
from ingest.filetypes import FileKind
from ingest.usecases import Enqueue
from webapp.i18n import current_language

CATALOGUE = DomainCatalogue()
STATUS_LABELS = {
    "pending": _l("waiting for extraction"), "indexing": _l("text extracted, being indexed"),
    "ok": _l("searchable"), "empty": _l("no text found"), "encrypted": _l("encrypted: text cannot be read"),
    "corrupt": _l("damaged file: text cannot be read"), "unsupported": _l("format without readable text"),
}
DATA_TYPE_LABELS = {DataType.STRUCTURED.value: _l("structured"), DataType.UNSTRUCTURED.value: _l("unstructured")}
IMAGE_KINDS = frozenset(k.value for k in FileKind if k.category.value == "image")
THUMBNAIL_KINDS = IMAGE_KINDS | {"pdf"}
# The placeholder icon (Bootstrap Icons) of a document without a thumbnail, by its kind or category.
KIND_ICONS = {"pdf": "file-earmark-pdf", "docx": "file-earmark-word", "doc": "file-earmark-word",
              "xlsx": "file-earmark-excel", "xls": "file-earmark-excel", "csv": "file-earmark-spreadsheet",
              "pptx": "file-earmark-ppt", "ppt": "file-earmark-ppt", "txt": "file-earmark-text",
              "md": "file-earmark-richtext", "html": "file-earmark-code"}
CATEGORY_ICONS = {"image": "file-earmark-image", "audio": "file-earmark-music", "video": "file-earmark-play"}
_CATEGORIES = {k.value: k.category.value for k in FileKind}


def kind_icon(kind: str | None) -> str:
    """The icon name of a file type (a generic file for an unknown one)."""
    kind = kind or ""
    return KIND_ICONS.get(kind) or CATEGORY_ICONS.get(_CATEGORIES.get(kind, ""), "file-earmark")


def lang() -> str:
    return "en" if current_language() == "en" else "zh"


def domain_label(code: str | None) -> str:
    if not code:
        return "—"
    try:
        return CATALOGUE.get(code).label(lang())
    except ValueError:
        return code


def level_label(level: str | None) -> str:
    return effective_level(level).label(lang()) if level else "—"


def domain_options() -> list[dict[str, str]]:
    return [{"id": d.code, "label": d.label(lang())} for d in CATALOGUE]


def level_options() -> list[dict[str, str]]:
    return [{"id": level.value, "label": level.label(lang())} for level in LEVELS]


def data_type_label(value: str | None) -> str:
    return str(DATA_TYPE_LABELS.get(value or "", value or "—"))


def display_status(document: dict[str, Any], version: dict[str, Any] | None = None) -> str:
    """pending / indexing / ok / empty / encrypted / corrupt / unsupported, from the graph's fields."""
    status = (version or document).get("status") or "pending"
    if status == "ok" and version is not None and not version.get("indexed_at"):
        return "indexing"
    return status


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


def enqueue() -> Enqueue:
    """How uploads reach the background step: Celery unless the app was given another runner (tests)."""
    configured = current_app.config.get("HUITONG_DOCUMENT_ENQUEUE")
    if configured is not None:
        return configured  # type: ignore[no-any-return]
    from workers.tasks import enqueue_extraction  # the web door queues; ingest never imports workers

    return enqueue_extraction
