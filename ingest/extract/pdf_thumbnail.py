"""The first page of a PDF as a small PNG (runs inside the isolated child: pdfium is native code reading a
hostile file). The render is bounded by the thumbnail's size, and by the pixel budget for pages of absurd
proportions, whatever the page claims."""

from __future__ import annotations

import math
from pathlib import Path

from ingest.extract.limits import Limits
from ingest.extract.model import Extraction, ExtractionFailure
from ingest.filetypes import FileKind


def render_first_page(path: Path, target: Path, size: int, limits: Limits, password: str | None = None) -> Extraction:
    """Write the first page of the PDF at ``path`` to ``target`` (PNG, longest side ``size`` px at most)."""
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(str(path), password=password)
    except pdfium.PdfiumError as exc:
        raise ExtractionFailure("corrupt", f"the PDF cannot be rendered: {exc}") from exc
    try:
        if len(document) == 0:
            raise ExtractionFailure("empty", "the PDF has no page")
        page = document[0]
        width, height = page.get_size()  # points
        scale = size / max(width, height, 1.0)
        scale = min(scale, math.sqrt(limits.max_pixels / max(width * height, 1.0)))
        image = page.render(scale=scale, may_draw_forms=False).to_pil()
        image.thumbnail((size, size))
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        image.save(target, format="PNG", optimize=True)
    finally:
        document.close()
    return Extraction(FileKind.PDF, FileKind.PDF.mime, "ok", None, [], {"thumbnail": str(target)})
