"""PDF: one section per page ("p. 3"), document-info metadata, password handling."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pypdf import PdfReader
from pypdf.errors import DependencyError, FileNotDecryptedError

from ingest.extract.meta import iso
from ingest.extract.model import Extraction, ExtractionFailure, SectionBuilder, finish
from ingest.filetypes import FileKind

log = logging.getLogger(__name__)

_MAX_WARNINGS = 20
_MAX_WARNING_CHARS = 200


def extract_pdf(path: Path, password: str | None) -> Extraction:
    with _pypdf_warnings() as warnings:
        reader = PdfReader(path, strict=False)
        encrypted = reader.is_encrypted
        if encrypted:
            _unlock(reader, password)
        pages = len(reader.pages)
        builder = SectionBuilder()
        failed: list[str] = []
        for number, page in enumerate(reader.pages, start=1):
            if builder.full:
                break
            builder.start(f"p. {number}")
            try:
                builder.add(page.extract_text() or "")
            except Exception as exc:  # one bad page must not cost the others
                failed.append(f"p. {number}: {type(exc).__name__}: {exc}")
        if failed and len(failed) == pages:
            raise ExtractionFailure("corrupt", f"no page could be read ({failed[0]})")
        metadata: dict[str, Any] = {"pages": pages, "encrypted": encrypted, **_info(reader)}
    if failed:
        metadata["page_errors"] = failed[:_MAX_WARNINGS]
    if warnings:
        metadata["warnings"] = warnings[:_MAX_WARNINGS]
    return finish(FileKind.PDF, builder, metadata, "no text layer (a scan or images only: needs OCR)")


def _unlock(reader: PdfReader, password: str | None) -> None:
    # Many PDFs are encrypted only to restrict printing/copying: the empty user password opens them.
    try:
        if reader.decrypt(""):
            return
        if password and reader.decrypt(password):
            return
    except DependencyError as exc:
        raise ExtractionFailure("encrypted", f"cannot decrypt this PDF: {exc}") from exc
    except FileNotDecryptedError:
        pass
    if password:
        raise ExtractionFailure("encrypted", "the PDF is password-protected and the given password is wrong")
    raise ExtractionFailure("encrypted", "the PDF is password-protected; a password is needed to open it")


_INFO_FIELDS = ("title", "author", "subject", "creator", "producer")


def _info(reader: PdfReader) -> dict[str, Any]:
    out: dict[str, Any] = {}
    # Metadata is optional garnish: damaged entries (see the "unreadable metadata" sample) must not
    # cost the text, so every field is read on its own.
    try:
        info = reader.metadata
    except Exception:
        return out
    if info is None:
        return out
    for key in _INFO_FIELDS:
        value = _read_field(info, key)
        # Some producers end strings with the NUL terminator of their C string.
        if isinstance(value, str) and (value := value.strip("\x00 \t\r\n")):
            out[key] = value
    for key, attr in (("created", "creation_date"), ("modified", "modification_date")):
        out[key] = iso(_read_field(info, attr))
    return out


def _read_field(info: object, attr: str) -> object:
    try:
        return getattr(info, attr)
    except Exception as exc:
        log.debug("unreadable PDF info field %s: %s", attr, exc)
        return None


class _ListHandler(logging.Handler):
    def __init__(self, sink: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()[:_MAX_WARNING_CHARS]
        if len(self.sink) < _MAX_WARNINGS and message not in self.sink:
            self.sink.append(message)


@contextmanager
def _pypdf_warnings() -> Iterator[list[str]]:
    """pypdf reports the damage it works around through logging; keep it with the result."""
    sink: list[str] = []
    logger = logging.getLogger("pypdf")
    handler = _ListHandler(sink)
    logger.addHandler(handler)
    try:
        yield sink
    finally:
        logger.removeHandler(handler)
