"""PDF: one section per page ("p. 3"), document-info metadata, password handling, OCR of scanned pages."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pypdf import PdfReader
from pypdf.errors import DependencyError, FileNotDecryptedError

from ingest.extract.limits import Limits
from ingest.extract.meta import iso
from ingest.extract.model import MAX_TEXT_CHARS, Extraction, ExtractionFailure, SectionBuilder, finish
from ingest.filetypes import FileKind

log = logging.getLogger(__name__)

_MAX_WARNINGS = 20
_MAX_WARNING_CHARS = 200
# A page with less text than this is taken for a scan (a page number or a stray header is not a text layer).
_SCANNED_CHARS = 20


def extract_pdf(path: Path, password: str | None, limits: Limits | None = None) -> Extraction:
    limits = limits or Limits(ocr=False)
    with _pypdf_warnings() as warnings:
        reader = PdfReader(path, strict=False)
        encrypted = reader.is_encrypted
        if encrypted:
            _unlock(reader, password)
        pages = len(reader.pages)
        texts: dict[int, str] = {}
        failed: list[str] = []
        for number, page in enumerate(reader.pages, start=1):
            try:
                texts[number] = page.extract_text() or ""
            except Exception as exc:  # one bad page must not cost the others
                failed.append(f"p. {number}: {type(exc).__name__}: {exc}")
            if sum(map(len, texts.values())) > MAX_TEXT_CHARS:
                break
        if failed and len(failed) == pages:
            raise ExtractionFailure("corrupt", f"no page could be read ({failed[0]})")
        metadata: dict[str, Any] = {"pages": pages, "encrypted": encrypted, **_info(reader)}
    if failed:
        metadata["page_errors"] = failed[:_MAX_WARNINGS]
    if warnings:
        metadata["warnings"] = warnings[:_MAX_WARNINGS]
    scanned = [n for n in range(1, pages + 1) if n in texts and len("".join(texts[n].split())) < _SCANNED_CHARS]
    empty_reason = "no text layer (a scan or images only: needs OCR)"
    if scanned and limits.ocr:
        empty_reason = _ocr_into(path, password, scanned, texts, metadata, limits)
    builder = SectionBuilder()
    for number in sorted(texts):
        builder.start(f"p. {number}")
        builder.add(texts[number])
    return finish(FileKind.PDF, builder, metadata, empty_reason)


def _ocr_into(path: Path, password: str | None, scanned: list[int], texts: dict[int, str],
              metadata: dict[str, Any], limits: Limits) -> str:
    """OCR the pages without a text layer (in the isolated child unless this is it) and put their text in
    ``texts``; returns the reason to give when no page yields text."""
    if limits.isolate:
        from ingest.extract import isolated

        job = {"op": "ocr_pages", "path": str(path.resolve()), "pages": scanned, "password": password}
        found = isolated.run(job, FileKind.PDF, limits)
    else:
        from ingest.extract.scans import ocr_pdf_pages

        try:
            found = ocr_pdf_pages(path, scanned, limits, password)
        except ExtractionFailure as exc:
            found = Extraction(FileKind.PDF, FileKind.PDF.mime, exc.status, exc.reason, [], exc.metadata())
    if not found.ok:
        metadata.update({k: v for k, v in found.metadata.items() if k in ("reason_code", "reason_params")})
        return f"no text layer, and OCR failed: {found.reason}"
    for section in found.sections:
        texts[int(section.ref.removeprefix("p. "))] = section.text
    metadata["ocr"] = found.metadata.get("ocr", {})
    return "no text layer, and OCR found no text in the page images"


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
