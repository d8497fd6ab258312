"""Tell what a file is from its content; the file name is only a hint.

Uploads arrive with whatever name the sender gave them, so the bytes decide. Binary formats are
recognised by their magic numbers (the ``filetype`` library plus our own checks for PDF, OOXML zip
containers and OLE2 compound files); text formats are recognised by decoding a sample and sniffing
it, and only among text kinds does the extension get the last word (a ``.md`` file is Markdown even
when it looks like plain text).
"""

from __future__ import annotations

import codecs
import csv
import re
import struct
import zipfile
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path, PurePath

import filetype

from ingest.olesniff import ole_streams
from ingest.textsniff import HEAD_SIZE, _decode_prefix, guess_encoding, looks_like_text


class Category(StrEnum):
    DOCUMENT = "document"
    SPREADSHEET = "spreadsheet"
    PRESENTATION = "presentation"
    TEXT = "text"
    IMAGE = "image"
    AUDIO = "audio"
    VIDEO = "video"


class FileKind(StrEnum):
    PDF = "pdf"
    DOCX = "docx"
    XLSX = "xlsx"
    PPTX = "pptx"
    TXT = "txt"
    MD = "md"
    HTML = "html"
    CSV = "csv"
    PNG = "png"
    JPEG = "jpeg"
    GIF = "gif"
    WEBP = "webp"
    TIFF = "tiff"
    MP3 = "mp3"
    WAV = "wav"
    OGG = "ogg"
    FLAC = "flac"
    M4A = "m4a"
    MP4 = "mp4"
    MOV = "mov"
    WEBM = "webm"
    MKV = "mkv"
    AVI = "avi"
    BMP = "bmp"
    HEIC = "heic"
    # Legacy binary Office formats (OLE2 compound files), read in an isolated child process.
    DOC = "doc"
    XLS = "xls"
    PPT = "ppt"
    # Kingsoft WPS Writer / Microsoft Works documents and Kingsoft ET spreadsheets.
    WPS = "wps"
    ET = "et"

    @property
    def mime(self) -> str:
        return _INFO[self].mime

    @property
    def category(self) -> Category:
        return _INFO[self].category

    @property
    def supported(self) -> bool:
        """Every kind we recognise is read now (legacy Office too); kept for the callers that ask."""
        return True

    @property
    def has_text(self) -> bool:
        """False for kinds we only read metadata from (images, audio, video)."""
        return self.category not in (Category.IMAGE, Category.AUDIO, Category.VIDEO)


@dataclass(frozen=True, slots=True)
class _KindInfo:
    mime: str
    category: Category
    extensions: tuple[str, ...]
    # Kinds of one family share a container or are all plain text; the name may pick among them.
    family: str | None = None


_C = Category
_INFO: dict[FileKind, _KindInfo] = {
    FileKind.PDF: _KindInfo("application/pdf", _C.DOCUMENT, (".pdf",)),
    FileKind.DOCX: _KindInfo(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        _C.DOCUMENT,
        (".docx", ".docm", ".dotx", ".dotm"),
    ),
    FileKind.XLSX: _KindInfo(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        _C.SPREADSHEET,
        (".xlsx", ".xlsm", ".xltx", ".xltm"),
    ),
    FileKind.PPTX: _KindInfo(
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        _C.PRESENTATION,
        (".pptx", ".pptm", ".potx", ".ppsx"),
    ),
    FileKind.TXT: _KindInfo("text/plain", _C.TEXT, (".txt", ".text", ".log"), "text"),
    FileKind.MD: _KindInfo("text/markdown", _C.TEXT, (".md", ".markdown", ".mdown"), "text"),
    FileKind.HTML: _KindInfo("text/html", _C.TEXT, (".html", ".htm", ".xhtml"), "text"),
    FileKind.CSV: _KindInfo("text/csv", _C.TEXT, (".csv", ".tsv"), "text"),
    FileKind.PNG: _KindInfo("image/png", _C.IMAGE, (".png",)),
    FileKind.JPEG: _KindInfo("image/jpeg", _C.IMAGE, (".jpg", ".jpeg", ".jpe", ".jfif")),
    FileKind.GIF: _KindInfo("image/gif", _C.IMAGE, (".gif",)),
    FileKind.WEBP: _KindInfo("image/webp", _C.IMAGE, (".webp",)),
    FileKind.TIFF: _KindInfo("image/tiff", _C.IMAGE, (".tif", ".tiff")),
    FileKind.MP3: _KindInfo("audio/mpeg", _C.AUDIO, (".mp3",)),
    FileKind.WAV: _KindInfo("audio/wav", _C.AUDIO, (".wav",)),
    FileKind.OGG: _KindInfo("audio/ogg", _C.AUDIO, (".ogg", ".oga", ".opus", ".ogv")),
    FileKind.FLAC: _KindInfo("audio/flac", _C.AUDIO, (".flac",)),
    FileKind.M4A: _KindInfo("audio/mp4", _C.AUDIO, (".m4a",), "isobmff"),
    FileKind.MP4: _KindInfo("video/mp4", _C.VIDEO, (".mp4", ".m4v"), "isobmff"),
    FileKind.MOV: _KindInfo("video/quicktime", _C.VIDEO, (".mov",), "isobmff"),
    FileKind.WEBM: _KindInfo("video/webm", _C.VIDEO, (".webm",), "matroska"),
    FileKind.MKV: _KindInfo("video/x-matroska", _C.VIDEO, (".mkv",), "matroska"),
    FileKind.AVI: _KindInfo("video/x-msvideo", _C.VIDEO, (".avi",)),
    FileKind.BMP: _KindInfo("image/bmp", _C.IMAGE, (".bmp", ".dib")),
    FileKind.HEIC: _KindInfo("image/heic", _C.IMAGE, (".heic", ".heif")),
    # Kingsoft saves Word-format files as .wps and Excel-format ones as .et: one family each.
    FileKind.DOC: _KindInfo("application/msword", _C.DOCUMENT, (".doc", ".dot"), "ole-word"),
    FileKind.XLS: _KindInfo("application/vnd.ms-excel", _C.SPREADSHEET, (".xls", ".xlt"), "ole-sheet"),
    FileKind.PPT: _KindInfo("application/vnd.ms-powerpoint", _C.PRESENTATION, (".ppt", ".pps", ".pot", ".dps")),
    FileKind.WPS: _KindInfo("application/vnd.ms-works", _C.DOCUMENT, (".wps",), "ole-word"),
    FileKind.ET: _KindInfo("application/vnd.ms-excel", _C.SPREADSHEET, (".et", ".ett"), "ole-sheet"),
}
_LEGACY = frozenset({FileKind.DOC, FileKind.XLS, FileKind.PPT, FileKind.WPS, FileKind.ET})
LEGACY_KINDS = _LEGACY
_BY_EXTENSION = {ext: kind for kind, info in _INFO.items() for ext in info.extensions}
TEXT_KINDS = frozenset(k for k, info in _INFO.items() if info.family == "text")
OOXML_KINDS = frozenset({FileKind.DOCX, FileKind.XLSX, FileKind.PPTX})

# filetype's names for the kinds we support (it calls them by extension).
_FROM_FILETYPE = {
    "png": FileKind.PNG,
    "apng": FileKind.PNG,
    "jpg": FileKind.JPEG,
    "gif": FileKind.GIF,
    "webp": FileKind.WEBP,
    "tif": FileKind.TIFF,
    "mp3": FileKind.MP3,
    "wav": FileKind.WAV,
    "ogg": FileKind.OGG,
    "flac": FileKind.FLAC,
    "m4a": FileKind.M4A,
    "mp4": FileKind.MP4,
    "m4v": FileKind.MP4,
    "mov": FileKind.MOV,
    "webm": FileKind.WEBM,
    "mkv": FileKind.MKV,
    "avi": FileKind.AVI,
    "bmp": FileKind.BMP,
    "heic": FileKind.HEIC,
}

class FileTypeError(ValueError):
    """Base of the detection errors; ``str(err)`` is a message fit for the uploader."""


class UnsupportedFile(FileTypeError):
    """The content is recognised (or not at all) but Huitong cannot extract it."""

    def __init__(self, reason: str, kind: FileKind | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind


class MismatchedFile(FileTypeError):
    """The file name promises one format and the content is another."""

    def __init__(self, filename: str, named_as: FileKind, content: str) -> None:
        super().__init__(
            f"{PurePath(filename).name!r} is named as {named_as.value.upper()} but its content is {content}"
        )
        self.filename = filename
        self.named_as = named_as
        self.content = content


def kind_from_name(filename: str | None) -> FileKind | None:
    """The kind a file name suggests, or None when the extension is missing or unknown."""
    if not filename:
        return None
    return _BY_EXTENSION.get(PurePath(filename).suffix.lower())


def detect(data_head: bytes, filename: str | None = None) -> FileKind:
    """Kind of a file from its first bytes (``HEAD_SIZE`` is plenty), the name as a hint.

    Raises ``MismatchedFile`` when the name says another format than the content, and
    ``UnsupportedFile`` when the content is something we do not extract (legacy Office,
    archives, executables, unknown binary, empty).
    """
    hint = kind_from_name(filename)
    found = _sniff_binary(data_head, hint)
    if found is None:
        if not data_head:
            if hint in TEXT_KINDS:
                return hint
            raise UnsupportedFile("the file is empty", hint)
        found = _sniff_text(data_head, hint)
    if found is None:
        _raise_unknown(filename, hint, "unrecognised binary data")
    return _settle(found, filename, hint)


def detect_file(path: Path, filename: str | None = None) -> FileKind:
    """Like ``detect`` but may read the whole file: a zip container is identified by its
    ``[Content_Types].xml`` even when the head holds no telling part name."""
    name = filename if filename is not None else path.name
    with path.open("rb") as fh:
        head = fh.read(HEAD_SIZE)
    if head.startswith(_ZIP_MAGIC):
        return _settle(_sniff_zip_file(path, head, kind_from_name(name)), name, kind_from_name(name))
    if head.startswith(_OLE_MAGIC):
        # The directory of a large compound file often lies past the head: read it properly.
        streams = ole_streams(path)
        if streams is not None:
            return _settle(_sniff_ole_streams(streams, kind_from_name(name)), name, kind_from_name(name))
    return detect(head, name)


@dataclass(frozen=True, slots=True)
class _Found:
    """What the content is: a kind of ours, or only a description of a foreign format."""

    kind: FileKind | None
    label: str
    advice: str | None = None


def _settle(found: _Found, filename: str | None, hint: FileKind | None) -> FileKind:
    kind = found.kind
    if hint is not None and not _compatible(hint, kind):
        raise MismatchedFile(filename or "", hint, found.label)
    if kind is None:
        advice = f"; {found.advice}" if found.advice else ""
        raise UnsupportedFile(f"the content is {found.label}, which is not a supported format{advice}")
    if hint is not None and _INFO[hint].family is not None and _INFO[hint].family == _INFO[kind].family:
        return hint
    return kind


def _raise_unknown(filename: str | None, hint: FileKind | None, label: str) -> None:
    if hint is not None:
        raise MismatchedFile(filename or "", hint, label)
    raise UnsupportedFile(f"the content is {label}, not a supported document format")


def _compatible(hint: FileKind, kind: FileKind | None) -> bool:
    if kind is None:
        return False
    if hint == kind:
        return True
    family = _INFO[hint].family
    return family is not None and family == _INFO[kind].family


def _article(label: str) -> str:
    return f"an {label}" if label[:1].lower() in "aeiou" else f"a {label}"


# --- binary formats -------------------------------------------------------------------------

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def _sniff_binary(head: bytes, hint: FileKind | None) -> _Found | None:
    if not head:
        return None
    # Readers accept junk before the header within the first KiB, and so do we.
    if b"%PDF-" in head[:1024]:
        return _Found(FileKind.PDF, "a PDF document")
    if head.startswith(_ZIP_MAGIC):
        return _sniff_zip_head(head, hint)
    if head.startswith(_OLE_MAGIC):
        return _sniff_ole(head, hint)
    # A UTF-16 BOM (FF FE) could pass for an MPEG frame sync in filetype's eyes: text first.
    if head.startswith(_UTF16_BOMS) or head.startswith(codecs.BOM_UTF8):
        return None
    guessed = filetype.guess(head)
    if guessed is None:
        return None
    kind = _FROM_FILETYPE.get(guessed.extension)
    if kind is not None:
        return _Found(kind, _article(f"{kind.value.upper()} {kind.category.value}"))
    if guessed.extension in ("doc", "xls", "ppt", "docx", "xlsx", "pptx", "zip", "pdf"):
        return None  # already handled by our own checks above; filetype matched something partial
    return _Found(None, _article(f"{guessed.extension.upper()} file ({guessed.mime})"))


# Part names that mark an OOXML package as one kind or another.
_OOXML_MAIN_PARTS = (
    (b"word/", FileKind.DOCX),
    (b"xl/", FileKind.XLSX),
    (b"ppt/", FileKind.PPTX),
)
_ZIP_FOREIGN = {
    b"application/vnd.oasis.opendocument.text": ("an OpenDocument text (.odt)", "save it as .docx or PDF"),
    b"application/vnd.oasis.opendocument.spreadsheet": ("an OpenDocument spreadsheet (.ods)", "save it as .xlsx"),
    b"application/vnd.oasis.opendocument.presentation": ("an OpenDocument presentation (.odp)", "save it as .pptx"),
    b"application/epub+zip": ("an EPUB e-book", None),
}


def _zip_entry_names(head: bytes) -> list[bytes]:
    """Names of the zip entries whose local headers lie in ``head``."""
    names = []
    pos = 0
    while (pos := head.find(_ZIP_MAGIC, pos)) != -1 and pos + 30 <= len(head):
        name_len = struct.unpack_from("<H", head, pos + 26)[0]
        names.append(head[pos + 30 : pos + 30 + name_len])
        pos += 30
    return names


def _sniff_zip_head(head: bytes, hint: FileKind | None) -> _Found:
    names = _zip_entry_names(head)
    if names and names[0] == b"mimetype":
        for mime, (label, advice) in _ZIP_FOREIGN.items():
            if head[38 : 38 + len(mime)] == mime:
                return _Found(None, label, advice)
    for name in names:
        for prefix, kind in _OOXML_MAIN_PARTS:
            if name.startswith(prefix):
                return _Found(kind, _article(f"{kind.value.upper()} file"))
    # An OOXML package whose telling parts lie beyond the head: trust the name among OOXML kinds.
    if any(n in (b"[Content_Types].xml", b"_rels/.rels") for n in names) and hint in OOXML_KINDS:
        return _Found(hint, _article(f"{hint.value.upper()} file"))
    return _Found(None, "a zip archive")


_CONTENT_TYPE_KINDS = (
    ("wordprocessingml", FileKind.DOCX),
    ("ms-word", FileKind.DOCX),
    ("spreadsheetml", FileKind.XLSX),
    ("ms-excel", FileKind.XLSX),
    ("presentationml", FileKind.PPTX),
    ("ms-powerpoint", FileKind.PPTX),
)


def _sniff_zip_file(path: Path, head: bytes, hint: FileKind | None) -> _Found:
    found = _sniff_zip_head(head, hint)
    try:
        with zipfile.ZipFile(path) as zf:
            if "[Content_Types].xml" not in zf.namelist():
                return found if found.kind is None else _Found(None, "a zip archive")
            info = zf.getinfo("[Content_Types].xml")
            if info.file_size > 4 * 1024 * 1024:
                return _Found(None, "a zip archive with an oversized [Content_Types].xml")
            types = zf.read(info).decode("utf-8", "replace")
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, ValueError):
        return found  # a damaged container: the extractor will say what is wrong with it
    main = re.search(r'PartName="/(?:word/document|xl/workbook|ppt/presentation)\.xml"\s+ContentType="([^"]+)"', types)
    content_type = main.group(1) if main else types
    for marker, kind in _CONTENT_TYPE_KINDS:
        if marker in content_type:
            return _Found(kind, _article(f"{kind.value.upper()} file"))
    return _Found(None, "a zip archive")


_OLE_STREAMS = (
    ("EncryptedPackage", None),
    ("WordDocument", FileKind.DOC),
    ("Workbook", FileKind.XLS),
    ("Book", FileKind.XLS),
    ("PowerPoint Document", FileKind.PPT),
    # Microsoft Works word processor: CONTENTS (Works 2000+) or MM/MN0 (Works 3/4).
    ("CONTENTS", FileKind.WPS),
    ("MN0", FileKind.WPS),
)


def _sniff_ole(head: bytes, hint: FileKind | None) -> _Found:
    """Legacy Office files and password-protected OOXML both live in OLE2 compound files;
    the directory's stream names (UTF-16LE) tell them apart."""
    return _sniff_ole_streams({s for s, _ in _OLE_STREAMS if s.encode("utf-16-le") in head}, hint)


def _sniff_ole_streams(streams: set[str], hint: FileKind | None) -> _Found:
    for stream, kind in _OLE_STREAMS:
        if stream in streams:
            if kind is None:
                if hint in OOXML_KINDS:
                    # Encrypted OOXML: the extractor reports it as "encrypted", not "unsupported".
                    return _Found(hint, _article(f"password-protected {hint.value.upper()} file"))
                return _Found(None, "a password-protected Office document")
            return _Found(kind, _article(f"legacy {kind.value.upper()} file"))
    if hint in _LEGACY:
        return _Found(hint, _article(f"legacy {hint.value.upper()} file"))
    return _Found(None, "an OLE2 compound file (legacy Office or similar)")


# --- text formats -----------------------------------------------------------------------------


def _sniff_text(head: bytes, hint: FileKind | None) -> _Found | None:
    encoding = guess_encoding(head)
    if encoding is None:
        return None
    sample = _decode_prefix(head, encoding)
    if not looks_like_text(sample):
        return None
    if hint in TEXT_KINDS:
        return _Found(hint, _article(f"{hint.value.upper()} text"))
    kind = _text_kind(sample)
    return _Found(kind, "plain text" if kind is FileKind.TXT else _article(f"{kind.value.upper()} text"))


_HTML_START = re.compile(
    r"\A\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)\b", re.IGNORECASE | re.DOTALL
)
_MD_MARKERS = re.compile(
    r"^(?:#{1,6}\s+\S|```|~~~|\s*[-*+]\s+\[[ xX]\]|\[[^\]]+\]\([^)]+\)|.*\]\(https?://)", re.MULTILINE
)


def _text_kind(sample: str) -> FileKind:
    if _HTML_START.match(sample) or re.search(r"<html[\s>]", sample[:2048], re.IGNORECASE):
        return FileKind.HTML
    if _looks_like_csv(sample):
        return FileKind.CSV
    if len(_MD_MARKERS.findall(sample)) >= 2:
        return FileKind.MD
    return FileKind.TXT


def _looks_like_csv(sample: str) -> bool:
    # The last line of a sample may be cut short: leave it out.
    lines = [ln for ln in sample.splitlines()[:50] if ln.strip()][:-1] or sample.splitlines()[:1]
    if len(lines) < 2:
        return False
    for delimiter in (",", "\t", ";", "|"):
        try:
            widths = [len(row) for row in csv.reader(lines, delimiter=delimiter)]
        except csv.Error:
            continue
        if widths[0] >= 2 and sum(w == widths[0] for w in widths) >= 0.9 * len(widths):
            return True
    return False


