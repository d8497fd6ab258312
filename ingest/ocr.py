"""Optical character recognition of images and scanned pages, Chinese and English, offline.

Two engines sit behind one function: RapidOCR (PP-OCRv4 detection + recognition ONNX models that ship
inside the ``rapidocr-onnxruntime`` wheel) and Tesseract (Debian ``tesseract-ocr`` with ``chi_sim`` +
``eng``). ``bench/ocr_bench.py`` measures both; the default is chosen from its figures (README).

OCR runs only in the child process of ``ingest.extract.isolated`` (bounded in time and memory), never in
a worker directly: a hostile image must not take the worker down with it.
"""

from __future__ import annotations

import itertools
import math
import re
import shutil
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
from PIL import Image, ImageOps

ENGINES = ("rapidocr", "tesseract")
# Longest side handed to the detector: small print on a full page needs the resolution, and beyond
# this the detector's cost grows faster than what it finds.
_MAX_SIDE = 3200
# The detector needs the page at least half as tall as it is wide (see ``_tall_enough``).
_MIN_ASPECT = 0.5
# Pages (lines) whose text is mostly Latin letters are read again by Tesseract (see ``recognise``).
_LATIN_PAGE, _LATIN_LINE = 0.9, 0.6
# Recogniser input: a line box wider than this many times its height is read in pieces (see ``_pieces``);
# pieces below this confidence are dropped, as the engine drops whole lines; a gap of this many box heights
# at a cut is a space between words.
_MAX_RATIO, _MIN_SCORE, _SPACE_GAP = 10, 0.5, 0.25
_USE_CLS = False
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
    lines = _rapidocr_lines(image)
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
def _rapidocr() -> Any:  # the engine object of an untyped library
    try:
        from rapidocr_onnxruntime import RapidOCR
    except ImportError as exc:  # pragma: no cover - the wheel is a pinned requirement
        raise OcrUnavailable("rapidocr-onnxruntime is not installed") from exc
    return RapidOCR(max_side_len=_MAX_SIDE)


def _rapidocr_lines(image: Image.Image) -> list[Line]:
    """Detection on the whole page, then recognition of each line box, long boxes in pieces.

    The engine's own pipeline hands every box whole to the recogniser, which squeezes it to 48 px high; a
    full-width line of small print becomes a strip 60-100 characters long, far beyond the ~320 px strips the
    PP-OCRv4 recogniser was trained on, and it drops or invents characters along it (see ``_pieces``)."""
    engine = _rapidocr()
    page = np.asarray(_tall_enough(image).convert("RGB"))[:, :, ::-1].copy()  # BGR, as the engine reads
    found, _ = engine(page, use_rec=False, use_cls=False)
    if not found:
        return []
    boxes = [np.asarray(box, dtype=np.float32) for box in found]
    crops = engine.get_crop_img_list(page, boxes)
    pieces: list[np.ndarray] = []
    owners: list[tuple[int, bool]] = []  # (line number, a space before this piece)
    for number, crop in enumerate(crops):
        for spaced, piece in _pieces(crop):
            pieces.append(piece)
            owners.append((number, spaced))
    if _USE_CLS:
        pieces, _, _ = engine.text_cls(pieces)
    read, _ = engine.text_rec(pieces)
    texts: list[str] = [""] * len(crops)
    for (number, spaced), result in zip(owners, read, strict=True):
        text, score = result[0], float(result[1])
        if score >= _MIN_SCORE and text.strip():
            texts[number] += (" " if spaced and texts[number] else "") + text.strip()
    kept = [(box, text) for box, text in zip(boxes, texts, strict=True) if text.strip()]
    return _ordered([box for box, _ in kept], [text for _, text in kept])


def _ordered(boxes: list[np.ndarray], texts: list[str]) -> list[Line]:
    """Lines (boxes on the image) in reading order, judged on the page turned straight.

    On a page photographed or scanned 1-2 degrees askew, the upright box around a full-width line is twice
    as tall as the line and overlaps its neighbours: read upright, lines interleave (a two-degree page read
    at 10 % CER). Turned back by the lines' median slant, each box is as tall as its line again."""
    slants = [math.atan2(b[1, 1] - b[0, 1], b[1, 0] - b[0, 0]) for b in boxes
              if np.linalg.norm(b[1] - b[0]) > 2 * np.linalg.norm(b[3] - b[0])]  # long lines tell the slant
    slant = float(np.median(slants)) if slants else 0.0
    turn = np.array([[math.cos(slant), -math.sin(slant)], [math.sin(slant), math.cos(slant)]], dtype=np.float32)
    straight = []
    for number, box in enumerate(boxes):
        points = box @ turn  # each point turned by -slant
        (x0, y0), (x1, y1) = points.min(axis=0).tolist(), points.max(axis=0).tolist()
        straight.append(Line(x0, y0, x1, y1, str(number)))
    order = [int(line.text) for line in reading_order(straight)]
    lines = []
    for number in order:
        xs, ys = boxes[number][:, 0], boxes[number][:, 1]
        lines.append(Line(float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max()), texts[number]))
    return lines


def _pieces(crop: np.ndarray) -> list[tuple[bool, np.ndarray]]:
    """``crop`` cut at the emptiest columns (gaps between characters) into pieces at most ``_MAX_RATIO``
    times as wide as high; each with whether it follows a gap wide enough to be a space between words."""
    height, width = crop.shape[:2]
    count = math.ceil(width / (_MAX_RATIO * max(height, 1)))
    if count <= 1:
        return [(False, crop)]
    # A column between characters is flat (background only), one through a glyph is not: the spread of its
    # grey levels finds the gaps whatever the colours (dark on light, light on dark).
    columns = crop.mean(axis=2).std(axis=0)
    cuts, spaces = [0], [False]
    for k in range(1, count):
        target = k * width // count
        lo, hi = max(cuts[-1] + height, target - height), min(width - height, target + height)
        cut = lo + int(np.argmin(columns[lo:hi])) if hi > lo else target
        empty = columns <= columns[cut] + 0.1 * (float(np.percentile(columns, 90)) - columns[cut]) + 1e-6
        left = right = cut  # the run of empty columns around the cut: its width tells a space
        while left > 0 and empty[left - 1]:
            left -= 1
        while right < width - 1 and empty[right + 1]:
            right += 1
        cuts.append(cut)
        spaces.append(right - left >= _SPACE_GAP * height)
    cuts.append(width)
    return [(spaced, crop[:, a:b]) for spaced, a, b in zip(spaces, cuts, cuts[1:], strict=False) if b - a > 1]


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
