"""OCR of image frames and of PDF pages without a text layer (runs inside the isolated child)."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

from PIL import Image, ImageSequence

from ingest import ocr
from ingest.extract.limits import Limits
from ingest.extract.model import Extraction, ExtractionFailure, Section
from ingest.filetypes import FileKind

# Scans are read at 200 dpi: small print (8-10 pt) is then ~25 px high, which both engines read well.
_RENDER_DPI = 200


def check_pixels(width: int, height: int, limits: Limits) -> None:
    """Refuse an image whose decoded size would exceed the pixel budget (a decompression bomb: a few
    KiB of PNG can claim gigabytes of pixels)."""
    if width * height > limits.max_pixels:
        megapixels = math.ceil(width * height / 1_000_000)
        raise ExtractionFailure(
            "unsupported",
            f"the image is too large to open safely ({width}×{height} px, {megapixels} megapixels; "
            f"the limit is {limits.max_pixels // 1_000_000})",
            "extract.image_too_large", width=width, height=height, megapixels=megapixels,
            limit=limits.max_pixels // 1_000_000,
        )


def ocr_image(image: Image.Image, limits: Limits) -> tuple[list[Section], dict[str, Any]]:
    """Sections of the recognised text of every frame (a multi-page TIFF is a scanned document: "p. N"),
    up to ``ocr_max_pages`` frames, and what to say about it in the metadata."""
    start = time.perf_counter()
    # Only TIFF frames are pages; the frames of an animated GIF/WebP repeat one picture.
    frames = getattr(image, "n_frames", 1) if image.format == "TIFF" else 1
    sections: list[Section] = []
    for number, frame in enumerate(ImageSequence.Iterator(image), start=1):
        if number > min(frames, limits.ocr_max_pages):
            break
        check_pixels(frame.width, frame.height, limits)
        text = ocr.tidy(ocr.recognise(frame.copy(), limits.ocr_engine))
        if text:
            sections.append(Section(text=text, ref=f"p. {number}" if frames > 1 else "image"))
    info = _info(limits, [s.ref for s in sections], start, skipped=max(0, frames - limits.ocr_max_pages))
    return sections, info


def ocr_pdf_pages(path: Path, pages: list[int], limits: Limits, password: str | None = None) -> Extraction:
    """The recognised text of the given PDF pages (numbered from 1), one section per page ("p. N")."""
    import pypdfium2 as pdfium

    start = time.perf_counter()
    try:
        document = pdfium.PdfDocument(str(path), password=password)
    except pdfium.PdfiumError as exc:
        raise ExtractionFailure("corrupt", f"the PDF cannot be rendered for OCR: {exc}") from exc
    sections = []
    try:
        for number in pages[: limits.ocr_max_pages]:
            page = document[number - 1]
            width, height = page.get_size()
            scale = _RENDER_DPI / 72
            # A page of absurd size is rendered smaller, never beyond the pixel budget.
            scale = min(scale, math.sqrt(limits.max_pixels / max(width * height, 1.0)))
            image = page.render(scale=scale, grayscale=True).to_pil()
            text = ocr.tidy(ocr.recognise(image, limits.ocr_engine))
            if text:
                sections.append(Section(text=text, ref=f"p. {number}"))
    finally:
        document.close()
    info = _info(limits, [s.ref for s in sections], start, skipped=max(0, len(pages) - limits.ocr_max_pages))
    return Extraction(FileKind.PDF, FileKind.PDF.mime, "ok", None, sections, {"ocr": info})


def _info(limits: Limits, refs: list[str], start: float, *, skipped: int) -> dict[str, Any]:
    info: dict[str, Any] = {"engine": limits.ocr_engine, "refs": refs,
                            "seconds": round(time.perf_counter() - start, 2)}
    if skipped:
        info["pages_not_read"] = skipped
    return info
