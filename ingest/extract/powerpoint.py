"""PPTX: one section per slide (ref "slide 2"), shape text, tables and speaker notes."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pptx
from pptx.enum.shapes import MSO_SHAPE_TYPE

from ingest.extract.meta import core_properties
from ingest.extract.model import Extraction, SectionBuilder, finish
from ingest.extract.ooxml import check_package
from ingest.filetypes import FileKind


def extract_pptx(path: Path) -> Extraction:
    app = check_package(path, "ppt/presentation.xml")
    presentation = pptx.Presentation(str(path))
    builder = SectionBuilder()
    slides = 0
    for number, slide in enumerate(presentation.slides, start=1):
        slides = number
        if builder.full:
            continue
        builder.start(f"slide {number}")
        for text in _shapes_text(slide.shapes):
            builder.add(text)
        if slide.has_notes_slide:
            notes = slide.notes_slide.notes_text_frame
            if notes is not None and notes.text.strip():
                builder.add("Notes: " + notes.text)
    metadata: dict[str, Any] = {**core_properties(presentation.core_properties), **app}
    metadata["slides"] = slides
    return finish(FileKind.PPTX, builder, metadata, "the slides hold no text")


def _shapes_text(shapes: Iterable[Any]) -> Iterable[str]:
    # Top-to-bottom, left-to-right is the order a reader takes; XML order is creation order.
    ordered = sorted(shapes, key=lambda s: ((s.top or 0), (s.left or 0)))
    for shape in ordered:
        if shape.shape_type == MSO_SHAPE_TYPE.GROUP:
            yield from _shapes_text(shape.shapes)
        elif getattr(shape, "has_table", False) and shape.has_table:
            yield "\n".join(
                "\t".join(" ".join(cell.text.split()) for cell in row.cells).rstrip("\t") for row in shape.table.rows
            )
        elif getattr(shape, "has_text_frame", False) and shape.has_text_frame:
            yield shape.text_frame.text
