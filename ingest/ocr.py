"""Optical character recognition of images and scanned pages, Chinese and English, offline.

Two engines sit behind one function: RapidOCR (PP-OCRv4 detection + recognition ONNX models that ship
inside the ``rapidocr-onnxruntime`` wheel) and Tesseract (Debian ``tesseract-ocr`` with ``chi_sim`` +
``eng``). ``bench/ocr_bench.py`` measures both; the default is chosen from its figures (README).

OCR runs only in the child process of ``ingest.extract.isolated`` (bounded in time and memory), never in
a worker directly: a hostile image must not take the worker down with it.
"""

from __future__ import annotations

import itertools
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from PIL import Image, ImageOps

ENGINES = ("rapidocr", "tesseract")
# Longest side handed to the detector: small print on a full page needs the resolution, and beyond
# this the detector's cost grows faster than what it finds.
_MAX_SIDE = 3200
# The detector needs the page at least half as tall as it is wide (see ``_tall_enough``).
_MIN_ASPECT = 0.5
# Pages (lines) whose text is mostly Latin letters are read again by Tesseract (see ``recognise``).
_LATIN_PAGE, _LATIN_LINE = 0.9, 0.6
_CJK = r"\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef"
_SPACE_IN_CJK = re.compile(rf"(?<=[{_CJK}])[ \t]+(?=[{_CJK}])")


class OcrUnavailable(RuntimeError):
    """The configured engine is not installed on this machine."""


@dataclass(frozen=True, slots=True)
class Line:
    """One recognised line and its box on the image (pixels)."""

    x0: float
    y0: float
    x1: float
    y1: float
    text: str

    @property
    def height(self) -> float:
        return self.y1 - self.y0


def recognise(image: Image.Image, engine: str = "rapidocr") -> str:
    """The text of ``image`` in reading order (columns one after the other), lines joined by newlines."""
    image = _prepared(image)
    if engine == "tesseract":
        return _tesseract(image)
    if engine != "rapidocr":
        raise ValueError(f"unknown OCR engine {engine!r}")
    lines = reading_order(_rapidocr_lines(image))
    text = "\n".join(line.text for line in lines)
    if shutil.which("tesseract") is None:
        return text
    # PP-OCR's Chinese recogniser drops most spaces between English words (English CER 12% in
    # bench/ocr_bench.py, words glued together for search); Tesseract reads Latin text near perfectly but
    # Chinese poorly. A Latin page goes to Tesseract whole; on a mixed page, only its Latin lines do.
    if latin_share(text) >= _LATIN_PAGE:
        return _tesseract(image)
    return "\n".join(_latin_line(image, line) if latin_share(line.text) >= _LATIN_LINE else line.text
                     for line in lines)


def _latin_line(image: Image.Image, line: Line) -> str:
    import pytesseract

    pad = 0.3 * line.height
    box = (max(0, int(line.x0 - pad)), max(0, int(line.y0 - pad)),
           min(image.width, int(line.x1 + pad)), min(image.height, int(line.y1 + pad)))
    read = " ".join(pytesseract.image_to_string(image.crop(box), lang="eng", config="--psm 7").split())
    return read or line.text


def latin_share(text: str) -> float:
    """Share of Latin letters among the visible characters."""
    visible = [ch for ch in text if not ch.isspace()]
    return sum(ch.isascii() and ch.isalpha() for ch in visible) / len(visible) if visible else 0.0


def available(engine: str) -> bool:
    if engine == "tesseract":
        return shutil.which("tesseract") is not None
    try:
        import rapidocr_onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def _prepared(image: Image.Image) -> Image.Image:
    image = ImageOps.exif_transpose(image)  # photos from phones are stored sideways with an EXIF turn
    if image.mode not in ("RGB", "L"):
        image = _flatten(image)
    longest = max(image.size)
    if longest > _MAX_SIDE:
        scale = _MAX_SIDE / longest
        image = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))))
    return image


def _flatten(image: Image.Image) -> Image.Image:
    """RGB on a white background: transparent text images would otherwise read as black on black."""
    rgba = image.convert("RGBA")
    background = Image.new("RGB", rgba.size, (255, 255, 255))
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background


# -- RapidOCR ------------------------------------------------------------------------------------------------


@cache
def _rapidocr() -> Callable[..., Any]:
    try:
        from rapidocr_onnxruntime import RapidOCR
    except ImportError as exc:  # pragma: no cover - the wheel is a pinned requirement
        raise OcrUnavailable("rapidocr-onnxruntime is not installed") from exc
    return RapidOCR(max_side_len=_MAX_SIDE)


def _rapidocr_lines(image: Image.Image) -> list[Line]:
    found, _ = _rapidocr()(_tall_enough(image))
    lines = []
    for box, text, _score in found or []:
        xs, ys = [p[0] for p in box], [p[1] for p in box]
        if text.strip():
            lines.append(Line(min(xs), min(ys), max(xs), max(ys), text.strip()))
    return lines


def _tall_enough(image: Image.Image) -> Image.Image:
    """The image padded below to at least ``_MIN_ASPECT`` of its width in height, in its background colour.

    The detector scales the short side of a wide, short strip (a few lines of text across a page) up to
    its working size and the long side down to ``_MAX_SIDE``: the text ends up squashed and most lines
    go unseen (3 of 8 lines of 14 px print in bench/ocr_bench.py; CER 10.6 %, 0.3 % once padded). The
    padding adds no text and keeps the boxes' coordinates (it is added below)."""
    height = int(image.width * _MIN_ASPECT)
    if image.height >= height:
        return image
    bottom = image.crop((0, image.height - 1, image.width, image.height))
    colour = sorted(bottom.getdata())[image.width // 2]  # the usual colour of the last row: the background
    padded = Image.new(image.mode, (image.width, height), colour)
    padded.paste(image, (0, 0))
    return padded


def reading_order(lines: list[Line]) -> list[Line]:
    """Lines in the order a person reads them.

    Columns first: an empty vertical band across the whole group splits it into columns, read left to
    right. Otherwise the group is cut into blocks at gaps clearly wider than its line spacing (a title
    over two columns, paragraphs), each block ordered the same way; what is left is read row by row.
    """
    if len(lines) <= 1:
        return list(lines)
    height = sorted(line.height for line in lines)[len(lines) // 2]
    return _order(lines, max(height, 1.0))


def _order(lines: list[Line], height: float) -> list[Line]:
    if len(lines) <= 1:
        return list(lines)
    columns = _split(lines, height, horizontal=False)
    if len(columns) > 1:
        return [line for column in columns for line in _order(column, height)]
    rows = _split(lines, height, horizontal=True)
    if len(rows) > 1:
        gaps = sorted(min(ln.y0 for ln in b) - max(ln.y1 for ln in a) for a, b in itertools.pairwise(rows))
        wide = max(0.8 * height, 1.5 * gaps[len(gaps) // 2])
        blocks: list[list[Line]] = [list(rows[0])]
        for above, below in itertools.pairwise(rows):
            if min(ln.y0 for ln in below) - max(ln.y1 for ln in above) > wide:
                blocks.append([])
            blocks[-1].extend(below)
        if len(blocks) > 1:
            return [line for block in blocks for line in _order(block, height)]
    return _rows(lines, height)


def _split(lines: list[Line], height: float, horizontal: bool) -> list[list[Line]]:
    """Groups of lines separated by an empty band across the whole group: rows when ``horizontal``
    (any gap will do: lines do not overlap vertically), columns otherwise (a gap wider than about one
    character, so that words of one line stay together)."""
    start = (lambda ln: ln.y0) if horizontal else (lambda ln: ln.x0)
    end = (lambda ln: ln.y1) if horizontal else (lambda ln: ln.x1)
    # Boxes of neighbouring lines touch or overlap a little; a gap must be real.
    min_gap = 0.1 * height if horizontal else 1.2 * height
    ordered = sorted(lines, key=start)
    groups: list[list[Line]] = [[ordered[0]]]
    reach = end(ordered[0])
    for line in ordered[1:]:
        if start(line) - reach > min_gap:
            groups.append([line])
        else:
            groups[-1].append(line)
        reach = max(reach, end(line))
    return groups


def _rows(lines: list[Line], height: float) -> list[Line]:
    """Lines that overlap vertically form one row, read left to right."""
    ordered = sorted(lines, key=lambda ln: (ln.y0 + ln.y1) / 2)
    rows: list[list[Line]] = []
    for line in ordered:
        middle = (line.y0 + line.y1) / 2
        if rows and abs(middle - (rows[-1][0].y0 + rows[-1][0].y1) / 2) < 0.5 * height:
            rows[-1].append(line)
        else:
            rows.append([line])
    return [line for row in rows for line in sorted(row, key=lambda ln: ln.x0)]


# -- Tesseract -----------------------------------------------------------------------------------------------


def _tesseract(image: Image.Image) -> str:
    if shutil.which("tesseract") is None:
        raise OcrUnavailable("tesseract is not installed (Debian packages tesseract-ocr, tesseract-ocr-chi-sim)")
    import pytesseract

    # chi_sim first: mixed pages are mostly Chinese here; eng second still reads Latin words well.
    text = pytesseract.image_to_string(image, lang="chi_sim+eng", config="--psm 3")
    return _SPACE_IN_CJK.sub("", text)


def tidy(text: str) -> str:
    """Blank lines collapsed and spaces between Chinese characters removed (an artefact of OCR)."""
    lines = [_SPACE_IN_CJK.sub("", line).strip() for line in text.splitlines()]
    return "\n".join(line for line in lines if line)
