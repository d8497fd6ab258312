"""Reading text files in whatever encoding they came in."""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from ingest.extract.model import MAX_TEXT_BYTES, ExtractionFailure
from ingest.filetypes import guess_encoding, looks_like_text

# Labels that undersell what Chinese files really hold: GB18030 is their superset.
_UPGRADES = {"gb2312": "gb18030", "gbk": "gb18030", "cp936": "gb18030", "x-gbk": "gb18030", "hz-gb-2312": "gb18030"}


def read_bytes(path: Path) -> tuple[bytes, bool]:
    """The file's bytes up to MAX_TEXT_BYTES, and whether it was cut."""
    with path.open("rb") as fh:
        data = fh.read(MAX_TEXT_BYTES + 1)
    return data[:MAX_TEXT_BYTES], len(data) > MAX_TEXT_BYTES


def decode(data: bytes, declared: str | None = None) -> tuple[str, str]:
    """(text, codec) of ``data``: a BOM or valid UTF-8 beats a declared charset, which beats a guess."""
    encoding = guess_encoding(data)
    if declared and encoding not in ("utf-8", "utf-8-sig", "utf-16", "utf-32"):
        declared = _UPGRADES.get(declared.lower(), declared.lower())
        try:
            codecs.lookup(declared)
            encoding = declared
        except LookupError:
            pass
    if encoding is None:
        raise ExtractionFailure("corrupt", "the content is binary, not text in any known encoding")
    text = data.decode(encoding, errors="replace")
    if not looks_like_text(text[:100_000]):
        raise ExtractionFailure("corrupt", f"decoding as {encoding} gives binary garbage, not text")
    # Windows files end lines with CRLF; the sections should not carry the CRs.
    return text.replace("\r\n", "\n").replace("\r", "\n"), codecs.lookup(encoding).name


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


def declared_html_charset(data: bytes) -> str | None:
    match = _META_CHARSET.search(data[:4096])
    return match.group(1).decode("ascii") if match else None
