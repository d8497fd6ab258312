"""``extract``: one entry point for every kind; bad files come back as a status, never raise."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from functools import partial
from pathlib import Path

from ingest.extract import isolated
from ingest.extract import limits as bounds
from ingest.extract.csvfile import extract_csv
from ingest.extract.excel import extract_xlsx
from ingest.extract.html import extract_html
from ingest.extract.image import extract_image
from ingest.extract.legacy import LEGACY_KINDS, extract_legacy
from ingest.extract.limits import Limits
from ingest.extract.media import extract_media
from ingest.extract.model import Extraction, ExtractionFailure
from ingest.extract.pdf import extract_pdf
from ingest.extract.plain import extract_md, extract_txt
from ingest.extract.powerpoint import extract_pptx
from ingest.extract.word import extract_docx
from ingest.filetypes import (
    Category,
    FileKind,
    MismatchedFile,
    UnsupportedFile,
    detect_file,
    kind_from_name,
)

log = logging.getLogger(__name__)

_MAX_REASON = 500

_EXTRACTORS: dict[FileKind, Callable[[Path], Extraction]] = {
    FileKind.DOCX: extract_docx,
    FileKind.XLSX: extract_xlsx,
    FileKind.PPTX: extract_pptx,
    FileKind.TXT: extract_txt,
    FileKind.MD: extract_md,
    FileKind.HTML: extract_html,
    FileKind.CSV: extract_csv,
}


def extract(
    path: Path, kind: FileKind | None = None, *, password: str | None = None, filename: str | None = None,
    limits: Limits | None = None,
) -> Extraction:
    """Text, structure and metadata of the file at ``path``.

    ``kind`` skips detection when the caller already knows it; ``filename`` is the name the file
    was uploaded under (default: ``path``'s), a hint for detection. ``password`` opens encrypted
    PDFs. ``limits`` bound OCR and the legacy formats (default: from the settings). Only an
    unreadable path raises (OSError); every problem of the content is reported through ``status``
    and ``reason`` (and ``metadata["reason_code"]`` where the reason has a code).
    """
    limits = limits or bounds.current()
    path = Path(path)
    name = filename if filename is not None else path.name
    size = path.stat().st_size
    if size == 0:
        hint = kind or kind_from_name(name)
        return Extraction(hint, hint.mime if hint else None, "empty", "the file is empty", [], {"size_bytes": 0})
    if kind is None:
        try:
            kind = detect_file(path, name)
        except MismatchedFile as exc:
            meta = {"size_bytes": size, "named_as": exc.named_as.value, "content": exc.content}
            return Extraction(None, None, "unsupported", str(exc), [], meta)
        except UnsupportedFile as exc:
            mime = exc.kind.mime if exc.kind else None
            return Extraction(exc.kind, mime, "unsupported", exc.reason, [], {"size_bytes": size})
    if _isolated(kind, limits):
        # absolute, not resolved: a view named after the upload (mutagen reads the extension) stays that name
        result = isolated.run({"op": "extract", "path": str(path.absolute()), "password": password}, kind, limits)
    else:
        result = extract_in_process(path, kind, password, limits)
    result.metadata["size_bytes"] = size
    return result


def _isolated(kind: FileKind, limits: Limits) -> bool:
    """Legacy formats, PDF and audio/video always, images when they are OCR'd: native code, or parsers of
    hostile binary structures (pypdf's content streams and cross-references, mutagen's boxes) that a
    crafted file can send into a loop or a huge allocation."""
    if not limits.isolate:
        return False
    return (kind in LEGACY_KINDS or kind is FileKind.PDF or kind.category in (Category.AUDIO, Category.VIDEO)
            or (limits.ocr and kind.category is Category.IMAGE))


def _extractor(kind: FileKind, password: str | None, limits: Limits,
               workdir: Path | None) -> Callable[[Path], Extraction] | None:
    if kind is FileKind.PDF:
        return partial(extract_pdf, password=password, limits=limits)
    if kind.category is Category.IMAGE:
        return partial(extract_image, kind=kind, limits=limits)
    if kind in LEGACY_KINDS:
        return partial(extract_legacy, kind=kind, workdir=workdir)
    if kind.category in (Category.AUDIO, Category.VIDEO):
        return partial(extract_media, kind=kind)
    return _EXTRACTORS.get(kind)


def extract_in_process(path: Path, kind: FileKind, password: str | None, limits: Limits,
                       workdir: Path | None = None) -> Extraction:
    """``extract`` of a known kind in this process (the isolated child's entry; ``workdir`` takes
    temporary files, default: a temporary folder of its own)."""
    extractor = _extractor(kind, password, limits, workdir)
    if extractor is None:
        reason = f"{kind.value.upper()} files are not supported for extraction"
        return Extraction(kind, kind.mime, "unsupported", reason, [], {})
    try:
        # Libraries warn about every oddity they tolerate (openpyxl styles, Pillow EXIF): noise here.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return extractor(path)
    except ExtractionFailure as exc:
        return Extraction(kind, kind.mime, exc.status, exc.reason, [], exc.metadata())
    except MemoryError:
        return isolated.failure(kind, "unsupported", "extract.too_costly",
                                f"reading the file needed more than the allowed memory ({limits.memory_mb} MiB)",
                                memory_mb=limits.memory_mb)
    except (Exception, RecursionError) as exc:
        log.info("extraction of %s as %s failed", path, kind.value, exc_info=True)
        reason = f"{type(exc).__name__}: {exc}"[:_MAX_REASON]
        return Extraction(kind, kind.mime, "corrupt", reason, [], {})
