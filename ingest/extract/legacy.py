"""Legacy binary office formats: Word/PowerPoint/Excel 97-2003, Kingsoft WPS/ET, Microsoft Works.

Spreadsheets (.xls/.et) are read with xlrd. Word-processor files and presentations are converted by
LibreOffice (headless) into .docx/.pptx and read by the OOXML extractors, so they keep their headings,
tables and slides. ``bench/ocr_bench.py --legacy`` measured this against antiword/catdoc/catppt on the
109 shared legacy files (README). Runs in the isolated child process (``isolated.py``): LibreOffice and
xlrd parse hostile binary structures.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import struct
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import olefile

from ingest.extract.excel import cell_text
from ingest.extract.model import Extraction, ExtractionFailure, SectionBuilder, finish
from ingest.extract.powerpoint import extract_pptx
from ingest.extract.word import extract_docx
from ingest.filetypes import LEGACY_KINDS, FileKind

__all__ = ["LEGACY_KINDS", "extract_legacy", "soffice"]

_CONVERT_TO = {FileKind.DOC: ("docx", extract_docx), FileKind.WPS: ("docx", extract_docx),
               FileKind.PPT: ("pptx", extract_pptx)}
_FIB_FLAGS, _F_ENCRYPTED = 0x0A, 0x0100
_PROFILE_SLOTS = 8
# LibreOffice's own limit: the isolated child's wall clock is the real bound; this only keeps a
# stuck converter from outliving a child that was not killed (it always is).
_SOFFICE_TIMEOUT_S = 3600


def extract_legacy(path: Path, kind: FileKind, workdir: Path | None = None) -> Extraction:
    streams = _protection(path)
    if kind in (FileKind.XLS, FileKind.ET):
        result = _spreadsheet(path, kind)
    else:
        with _workdir(workdir) as folder:
            result = _converted(path, kind, folder)
    result.metadata = {**_summary(path), **result.metadata, "ole_streams": streams}
    return result


@contextlib.contextmanager
def _workdir(given: Path | None) -> Iterator[Path]:
    if given is not None:
        yield given
        return
    with tempfile.TemporaryDirectory(prefix="ht-legacy-") as folder:
        yield Path(folder)


def _protection(path: Path) -> int:
    """Refuse password-protected and rights-managed (DRM) files with a clear reason; returns the number
    of streams (a hint of embedded objects)."""
    try:
        ole = olefile.OleFileIO(str(path))
    except Exception as exc:
        raise ExtractionFailure("corrupt", f"the compound file is damaged: {exc}", "extract.corrupt") from exc
    with ole:
        names = ["/".join(entry) for entry in ole.listdir(streams=True, storages=True)]
        if any(name.startswith(("\x06DataSpaces", "\tDRM")) for name in names):
            raise ExtractionFailure("encrypted", "the document is protected by rights management (DRM)",
                                    "extract.drm")
        if "EncryptedSummary" in names or "EncryptedPackage" in names:
            raise ExtractionFailure("encrypted", "the document is password-protected", "extract.password")
        if "WordDocument" in names:
            head = ole.openstream("WordDocument").read(_FIB_FLAGS + 2)
            if len(head) >= _FIB_FLAGS + 2 and struct.unpack_from("<H", head, _FIB_FLAGS)[0] & _F_ENCRYPTED:
                raise ExtractionFailure("encrypted", "the document is password-protected", "extract.password")
    return len(names)


def _summary(path: Path) -> dict[str, Any]:
    """Title, author and dates from the file's SummaryInformation stream, when it has a readable one."""
    try:
        with olefile.OleFileIO(str(path)) as ole:
            meta = ole.get_metadata()
    except Exception:  # metadata is garnish: a damaged property set must not cost the text
        return {}
    out: dict[str, Any] = {}
    for key, attr in (("title", "title"), ("author", "author"), ("last_modified_by", "last_saved_by")):
        value = getattr(meta, attr, None)
        if isinstance(value, bytes):
            value = value.decode("gb18030" if getattr(meta, "codepage", None) == 936 else "cp1252", "replace")
        if isinstance(value, str) and value.strip("\x00 "):
            out[key] = value.strip("\x00 ")
    for key, attr in (("created", "create_time"), ("modified", "last_saved_time")):
        value = getattr(meta, attr, None)
        if value is not None and hasattr(value, "isoformat") and value.year > 1980:
            out[key] = value.isoformat()
    return out


# -- spreadsheets ------------------------------------------------------------------------------------------


def _spreadsheet(path: Path, kind: FileKind) -> Extraction:
    import xlrd

    try:
        book = xlrd.open_workbook(str(path), on_demand=True)
    except xlrd.XLRDError as exc:
        if "encrypt" in str(exc).lower():
            raise ExtractionFailure("encrypted", "the workbook is password-protected", "extract.password") from exc
        raise ExtractionFailure("corrupt", f"the workbook cannot be read: {exc}", "extract.corrupt") from exc
    try:
        builder = SectionBuilder()
        names = book.sheet_names()
        for index, name in enumerate(names):
            if builder.full:
                break
            sheet = book.sheet_by_index(index)
            builder.start(name)
            for row in range(sheet.nrows):
                line = "\t".join(_xls_cell(book, cell) for cell in sheet.row(row)).rstrip("\t")
                if line.strip():
                    builder.add(line)
                if builder.full:
                    break
            book.unload_sheet(index)
    finally:
        book.release_resources()
    return finish(kind, builder, {"sheets": len(names), "sheet_names": names}, "every sheet is empty")


def _xls_cell(book: Any, cell: Any) -> str:
    import xlrd

    if cell.ctype == xlrd.XL_CELL_DATE:
        with contextlib.suppress(ValueError, OverflowError, xlrd.xldate.XLDateError):
            return cell_text(xlrd.xldate_as_datetime(cell.value, book.datemode))
    if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK, xlrd.XL_CELL_ERROR):
        return ""
    if cell.ctype == xlrd.XL_CELL_BOOLEAN:
        return "TRUE" if cell.value else "FALSE"
    return cell_text(cell.value)


# -- documents and presentations through LibreOffice -------------------------------------------------------


def soffice() -> str | None:
    """The LibreOffice program, or None when it is not installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def _converted(path: Path, kind: FileKind, workdir: Path) -> Extraction:
    program = soffice()
    if program is None:
        raise ExtractionFailure("unsupported", "LibreOffice is not installed on this server, so "
                                f"{kind.value.upper()} files cannot be read", "extract.converter_missing",
                                format=kind.value.upper())
    target, reader = _CONVERT_TO[kind]
    source = workdir / f"source.{kind.value}"
    with contextlib.suppress(FileExistsError):
        source.symlink_to(path.resolve())
    out = workdir / "out"
    out.mkdir(exist_ok=True)
    with _profile() as profile:
        run = subprocess.run(  # noqa: S603 - fixed argv: the installed LibreOffice on a file of ours, no shell
            [program, "--headless", "--norestore", "--nolockcheck", "--nodefault", "--nologo",
             f"-env:UserInstallation={profile.as_uri()}", "--convert-to", target, "--outdir", str(out), str(source)],
            capture_output=True, timeout=_SOFFICE_TIMEOUT_S, check=False, cwd=workdir,
            env={**os.environ, "HOME": str(workdir)},
        )
    converted = out / f"source.{target}"
    if not converted.is_file():
        said = (run.stderr or run.stdout).decode("utf-8", "replace").splitlines()
        # LibreOffice always warns that it found no Java (it needs none here): not a reason.
        detail = " ".join(line for line in said if "javaldx" not in line).strip()[-300:]
        raise ExtractionFailure("corrupt", f"LibreOffice could not read the file ({detail or run.returncode})",
                                "extract.corrupt")
    result = reader(converted)
    result.kind, result.mime = kind, kind.mime
    result.metadata.pop("pages", None)  # the converter's pagination, not the original's
    return result


@contextlib.contextmanager
def _profile() -> Iterator[Path]:
    """A LibreOffice user profile nobody else is using: one profile serves one process at a time, and a
    warm one saves about a second per file over a fresh one."""
    base = Path(tempfile.gettempdir())
    for slot in range(_PROFILE_SLOTS):
        folder = base / f"huitong-soffice-{os.getuid()}-{slot}"
        folder.mkdir(mode=0o700, exist_ok=True)
        if folder.is_symlink() or folder.stat().st_uid != os.getuid():
            continue  # not ours: never run LibreOffice on a profile someone else planted
        with open(folder.with_suffix(".lock"), "w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue
            yield folder
            return
    with tempfile.TemporaryDirectory(prefix="ht-soffice-") as fresh:
        yield Path(fresh)
