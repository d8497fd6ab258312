"""TXT and Markdown: plain text in line blocks, Markdown split at its headings."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ingest.extract.charset import decode, read_bytes
from ingest.extract.model import Extraction, SectionBuilder, finish
from ingest.filetypes import FileKind

# Plain text has no structure to follow; blocks of this many lines keep citations useful.
LINES_PER_SECTION = 200


def read_text(path: Path) -> tuple[str, dict[str, Any]]:
    data, cut = read_bytes(path)
    text, encoding = decode(data)
    return text, {"encoding": encoding, "truncated": cut or None}


def extract_txt(path: Path) -> Extraction:
    text, metadata = read_text(path)
    builder = SectionBuilder()
    lines = text.split("\n")
    for start in range(0, len(lines), LINES_PER_SECTION):
        if builder.full:
            break
        block = lines[start : start + LINES_PER_SECTION]
        builder.start(f"lines {start + 1}-{start + len(block)}")
        builder.add("\n".join(block))
    metadata["lines"] = len(lines)
    return finish(FileKind.TXT, builder, metadata, "the file holds only whitespace")


_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")


def extract_md(path: Path) -> Extraction:
    text, metadata = read_text(path)
    builder = SectionBuilder(default_ref="body")
    lines = text.split("\n")
    fence: str | None = None
    title: str | None = None
    for i, line in enumerate(lines):
        if builder.full:
            break
        if (match := _FENCE.match(line)) and (fence is None or match.group(1) == fence):
            fence = match.group(1) if fence is None else None
        elif fence is None and (match := _ATX.match(line)):
            builder.heading(len(match.group(1)), match.group(2) or "")
            title = title or (match.group(2) if len(match.group(1)) == 1 else None)
            continue
        elif fence is None and _is_setext_title(lines, i):
            continue  # the underline below makes this line a heading; it is added there
        elif fence is None and i > 0 and _SETEXT.match(line) and _is_setext_title(lines, i - 1):
            builder.heading(1 if line.strip().startswith("=") else 2, lines[i - 1])
            title = title or (lines[i - 1].strip() if line.strip().startswith("=") else None)
            continue
        builder.add(line)
    metadata["title"] = title
    return finish(FileKind.MD, builder, metadata, "the file holds only whitespace")


def _is_setext_title(lines: list[str], i: int) -> bool:
    return (
        i + 1 < len(lines)
        and bool(lines[i].strip())
        and not _ATX.match(lines[i])
        and bool(_SETEXT.match(lines[i + 1]))
        and not _SETEXT.match(lines[i])
    )
