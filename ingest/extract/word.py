"""DOCX: sections delimited by headings (ref = heading path), tables as tab-separated rows."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docx
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml.ns import qn
from docx.table import Table
from docx.text.paragraph import Paragraph

from ingest.extract.meta import core_properties
from ingest.extract.model import Extraction, SectionBuilder, finish
from ingest.extract.ooxml import check_package
from ingest.filetypes import FileKind

_HEADING_STYLE = re.compile(r"^(?:heading|标题)\s*(\d)$", re.IGNORECASE)
_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"


def extract_docx(path: Path) -> Extraction:
    app = check_package(path, "word/document.xml")
    document = docx.Document(str(path))
    builder = SectionBuilder(default_ref="body")
    styles = _paragraph_style_names(document)
    for block in _blocks(document.element.body, document):
        if builder.full:
            break
        if isinstance(block, Table):
            builder.add(table_text(block))
            continue
        level = _heading_level(block, styles)
        text = paragraph_text(block)
        if level is not None:
            builder.heading(level, text)
        else:
            builder.add(text)
    metadata: dict[str, Any] = {**core_properties(document.core_properties), **app}
    metadata["tables"] = len(document.tables)
    return finish(FileKind.DOCX, builder, metadata, "the document has no text")


def _blocks(container: Any, parent: Any) -> Iterator[Paragraph | Table]:
    """Paragraphs and tables in reading order, including those inside content controls (w:sdt),
    which python-docx's own iteration skips."""
    for child in container.iterchildren():
        if child.tag == qn("w:p"):
            yield Paragraph(child, parent)
        elif child.tag == qn("w:tbl"):
            yield Table(child, parent)
        elif child.tag == qn("w:sdt"):
            content = child.find(qn("w:sdtContent"))
            if content is not None:
                yield from _blocks(content, parent)


def _paragraph_style_names(document: Any) -> tuple[dict[str, str], str]:
    """Style id -> name, and the default paragraph style's name, read once per document: python-docx's
    ``paragraph.style`` searches the styles part for every paragraph (most of a DOCX's extraction time)."""
    names: dict[str, str] = {}
    default = ""
    try:
        for style in document.styles:
            if style.style_id:
                names[style.style_id] = style.name or ""
        fallback = document.styles.default(WD_STYLE_TYPE.PARAGRAPH)
        default = (fallback.name or "") if fallback is not None else ""
    except (KeyError, ValueError, AttributeError):
        pass
    return names, default


def _heading_level(paragraph: Paragraph, styles: tuple[dict[str, str], str]) -> int | None:
    names, default = styles
    style = paragraph._p.find(f"{qn('w:pPr')}/{qn('w:pStyle')}")
    style_id = style.get(qn("w:val")) if style is not None else None
    name = names.get(style_id, default) if style_id else default  # unknown ids fall back, as in Word
    if name == "Title":
        return 1
    match = _HEADING_STYLE.match(name or "")
    if match:
        return int(match.group(1)) + 1
    # Documents from other editors mark headings by outline level instead of style name.
    outline = paragraph._p.find(f"{qn('w:pPr')}/{qn('w:outlineLvl')}")
    if outline is not None and (value := outline.get(qn("w:val"), "")).isdigit() and int(value) < 9:
        return int(value) + 2
    return None


def paragraph_text(paragraph: Paragraph) -> str:
    text = paragraph.text
    # Text boxes hang inside runs; python-docx does not read them. Office stores each twice
    # (DrawingML and a VML fallback): read only the first.
    boxes = [
        "".join(t.text or "" for t in box.iter(qn("w:t")))
        for box in paragraph._p.iter(qn("w:txbxContent"))
        if not any(a.tag == _FALLBACK for a in box.iterancestors())
    ]
    return "\n".join([text, *filter(None, boxes)]) if boxes else text


def table_text(table: Table) -> str:
    lines = []
    for row in table.rows:
        cells = []
        seen: set[int] = set()
        for cell in row.cells:
            # A merged cell is returned once per grid column it spans: keep it once.
            if id(cell._tc) in seen:
                continue
            seen.add(id(cell._tc))
            parts = [paragraph_text(p) for p in cell.paragraphs]
            parts += [table_text(t) for t in cell.tables]
            cells.append(" ".join(" ".join(parts).split()))
        if any(cells):
            lines.append("\t".join(cells).rstrip("\t"))
    return "\n".join(lines)
