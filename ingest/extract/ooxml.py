"""Checks every OOXML file passes before a library parses it: right container, no zip bomb."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

from ingest.extract.model import ExtractionFailure

# python-docx/openpyxl/python-pptx inflate whole XML parts in memory: refuse packages that would
# unpack to more than this, or that compress like a bomb does.
MAX_UNPACKED_BYTES = 1024 * 1024 * 1024
MAX_RATIO = 200
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def check_package(path: Path, main_part: str) -> dict[str, Any]:
    """Raise ExtractionFailure unless ``path`` is a sane OOXML zip holding ``main_part``.

    Returns what docProps/app.xml tells (pages, words, slides...) since the zip is open anyway.
    """
    with path.open("rb") as fh:
        magic = fh.read(8)
    if magic == _OLE_MAGIC:
        # Office writes password-protected OOXML as an OLE2 file holding an EncryptedPackage.
        raise ExtractionFailure(
            "encrypted", "the Office document is password-protected; remove the password and upload again"
        )
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            names = {i.filename for i in infos}
            unpacked = sum(i.file_size for i in infos)
            packed = sum(i.compress_size for i in infos) or 1
            if unpacked > MAX_UNPACKED_BYTES or (unpacked > 50 * 1024 * 1024 and unpacked / packed > MAX_RATIO):
                raise ExtractionFailure(
                    "unsupported", f"the package would unpack to {unpacked // (1024 * 1024)} MiB, over the safety limit"
                )
            if main_part not in names:
                raise ExtractionFailure("corrupt", f"the zip container has no {main_part} part")
            return _app_properties(zf, names)
    except zipfile.BadZipFile as exc:
        raise ExtractionFailure("corrupt", f"not a valid zip container: {exc}") from exc


_APP_FIELDS = {"Pages": "pages", "Words": "words", "Slides": "slides", "Application": "application"}


def _app_properties(zf: zipfile.ZipFile, names: set[str]) -> dict[str, Any]:
    if "docProps/app.xml" not in names or zf.getinfo("docProps/app.xml").file_size > 1024 * 1024:
        return {}
    xml = zf.read("docProps/app.xml").decode("utf-8", "replace")
    out: dict[str, Any] = {}
    for tag, key in _APP_FIELDS.items():
        match = re.search(rf"<(?:\w+:)?{tag}>([^<]*)</", xml)
        if match and match.group(1).strip():
            value = match.group(1).strip()
            out[key] = int(value) if value.isdigit() else value
    return out
