"""OCR accuracy and speed of both engines side by side, and what the legacy Office files yield.

OCR: pages are rendered here from real text (Chinese paragraphs of the shared CMRC 2018 set, English
abstracts of the shared Cranfield set) with Noto Sans CJK and DejaVu Sans at 10-28 px: clean, with
noise (slight rotation, blur, Gaussian noise, JPEG artefacts), and two-column pages under a title.
Character error rate = edit distance / reference length, after NFKC (full-width punctuation is the
same character to a reader); Chinese ignores whitespace, English compares single-spaced text.
Both engines read the same images in the same run, in this process (model loading timed apart).

Legacy (``--legacy``): every file of ``files/legacy/`` through ``extract`` (the isolated child with
LibreOffice/xlrd) with the time per file and the reason of every file without text, and, for the
choice, how many yield text with Debian's antiword/catdoc/catppt/xls2csv instead.

Usage: .venv/bin/python bench/ocr_bench.py [--pages 2] [--engines rapidocr,tesseract] [--legacy] [--no-ocr]
The last line printed is one JSON object of the figures.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import shutil
import subprocess
import sys
import time
import unicodedata
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ingest import ocr
from ingest.extract import extract
from ingest.extract.limits import Limits

CJK_FONT = ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2)  # index 2: Simplified Chinese
LATIN_FONT = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 0)
SIZES = (10, 12, 14, 18, 22, 28)
NOISY_SIZES = (14, 18, 22, 28)
WIDTH, MARGIN, LINES = 1240, 40, 8
# Issue 14's targets: clean Chinese at 14 px and up, Chinese with noise (14 px and up), clean English.
TARGETS = {"cer_zh_clean_ge14": 0.03, "cer_zh_noisy": 0.08, "cer_en_clean": 0.02, "cer_en_clean_ge14": 0.02}


def _shared() -> Path:
    return Path(os.environ.get("HUITONG_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def _texts(path: Path, field: str, count: int, seed: int) -> list[str]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = [r for r in rows if len(r[field]) > 300]
    return [" ".join(r[field].split()) for r in random.Random(seed).sample(rows, count)]


def _font(spec: tuple[str, int], size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(spec[0], size, index=spec[1])


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: int, lines: int, words: bool) -> list[str]:
    out: list[str] = []
    units = text.split(" ") if words else list(text)
    joiner = " " if words else ""
    current = ""
    for unit in units:
        candidate = f"{current}{joiner}{unit}" if current else unit
        if font.getlength(candidate) > width and current:
            out.append(current)
            if len(out) == lines:
                return out
            current = unit
        else:
            current = candidate
    if current and len(out) < lines:
        out.append(current)
    return out


def _draw(draw: ImageDraw.ImageDraw, lines: list[str], font: ImageFont.FreeTypeFont, x: int, y: int,
          size: int) -> int:
    for line in lines:
        draw.text((x, y), line, font=font, fill=0)
        y += int(size * 1.7)
    return y


def render_page(text: str, lang: str, size: int) -> tuple[Image.Image, str]:
    font = _font(CJK_FONT if lang == "zh" else LATIN_FONT, size)
    lines = _wrap(text, font, WIDTH - 2 * MARGIN, LINES, words=lang == "en")
    image = Image.new("L", (WIDTH, 2 * MARGIN + int(size * 1.7) * len(lines)), 255)
    _draw(ImageDraw.Draw(image), lines, font, MARGIN, MARGIN, size)
    return image, ("" if lang == "zh" else " ").join(lines)


def render_columns(title: str, left: str, right: str, lang: str, size: int = 18) -> tuple[Image.Image, str]:
    """A title over two columns; the reference reads the left column, then the right one."""
    font = _font(CJK_FONT if lang == "zh" else LATIN_FONT, size)
    big = _font(CJK_FONT if lang == "zh" else LATIN_FONT, int(size * 1.5))
    column = (WIDTH - 2 * MARGIN - 60) // 2
    words = lang == "en"
    title_lines = _wrap(title, big, WIDTH - 2 * MARGIN, 1, words)
    cols = [_wrap(t, font, column, 14, words) for t in (left, right)]
    image = Image.new("L", (WIDTH, 3 * MARGIN + int(size * 2.5) + int(size * 1.7) * 14), 255)
    draw = ImageDraw.Draw(image)
    top = _draw(draw, title_lines, big, MARGIN, MARGIN, int(size * 1.5)) + size
    _draw(draw, cols[0], font, MARGIN, top, size)
    _draw(draw, cols[1], font, MARGIN + column + 60, top, size)
    sep = " " if words else ""
    return image, sep.join(title_lines + cols[0] + cols[1])


def degrade(image: Image.Image, seed: int) -> Image.Image:
    """A photographed or scanned look: slight rotation, blur, sensor noise, JPEG artefacts."""
    rng = random.Random(seed)
    image = image.rotate(rng.uniform(-1.5, 1.5), resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)
    image = image.filter(ImageFilter.GaussianBlur(radius=0.8))
    pixels = np.asarray(image, dtype=np.float32)
    pixels += np.random.default_rng(seed).normal(0, 12, pixels.shape)
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=70)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("L")


def _edits(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def _normal(text: str, lang: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    return "".join(text.split()) if lang == "zh" else " ".join(text.split())


def cer(reference: str, hypothesis: str, lang: str) -> tuple[int, int]:
    ref, hyp = _normal(reference, lang), _normal(hypothesis, lang)
    return _edits(ref, hyp), len(ref)


def _cases(pages: int) -> list[dict[str, Any]]:
    data = _shared() / "retrieval"
    zh = _texts(data / "cmrc2018-trial-zh" / "corpus.jsonl", "text", pages * (len(SIZES) + len(NOISY_SIZES) + 3), 14)
    en = _texts(data / "cranfield" / "corpus.jsonl", "text", pages * (len(SIZES) + len(NOISY_SIZES) + 3), 14)
    cases = []
    for lang, texts in (("zh", zh), ("en", en)):
        pool = iter(texts)
        for size in SIZES:
            for _ in range(pages):
                image, ref = render_page(next(pool), lang, size)
                cases.append({"group": f"{lang}_clean", "size": size, "image": image, "ref": ref, "lang": lang})
        for size in NOISY_SIZES:
            for n in range(pages):
                image, ref = render_page(next(pool), lang, size)
                cases.append({"group": f"{lang}_noisy", "size": size, "image": degrade(image, size * 31 + n),
                              "ref": ref, "lang": lang})
        for _ in range(pages):
            title = next(pool)[:24] if lang == "zh" else " ".join(next(pool).split()[:6])
            image, ref = render_columns(title, next(pool), next(pool), lang)
            cases.append({"group": f"{lang}_columns", "size": 18, "image": image, "ref": ref, "lang": lang})
    return cases


def bench_engine(engine: str, cases: list[dict[str, Any]]) -> dict[str, Any]:
    start = time.perf_counter()
    ocr.recognise(Image.new("L", (200, 60), 255), engine)  # loads the models
    load = time.perf_counter() - start
    totals: dict[str, list[int]] = {}
    start = time.perf_counter()
    for case in cases:
        edits, length = cer(case["ref"], ocr.tidy(ocr.recognise(case["image"], engine)), case["lang"])
        keys = [case["group"], f"{case['group']}_{case['size']}px"]
        if case["group"].endswith("_clean") and case["size"] >= 14:
            keys.append(f"{case['group']}_ge14")
        for key in keys:
            totals.setdefault(key, [0, 0])
            totals[key][0] += edits
            totals[key][1] += length
    elapsed = time.perf_counter() - start
    out: dict[str, Any] = {f"cer_{k}": round(e / max(n, 1), 4) for k, (e, n) in sorted(totals.items())}
    out.update(pages=len(cases), seconds=round(elapsed, 1), pages_per_s=round(len(cases) / elapsed, 3),
               model_load_s=round(load, 2))
    out["targets_met"] = {key: out[key] <= target for key, target in TARGETS.items() if key in out}
    return out


# -- legacy formats --------------------------------------------------------------------------------------------

_CLI = {".doc": ("antiword", "catdoc"), ".wps": ("catdoc",), ".ppt": ("catppt",), ".xls": ("xls2csv",)}


def bench_legacy(folder: Path) -> dict[str, Any]:
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in _CLI)
    limits = Limits.from_settings(__import__("settings").load_settings())
    rows, reasons, times = [], {}, []
    yielded: dict[str, list[int]] = {}
    for path in files:
        start = time.perf_counter()
        result = extract(path, limits=limits)
        seconds = time.perf_counter() - start
        times.append(seconds)
        chars = len("".join(result.text.split()))
        counts = yielded.setdefault(path.suffix.lower(), [0, 0])
        counts[1] += 1
        if chars:
            counts[0] += 1
        else:
            code = result.metadata.get("reason_code") or result.status
            reasons[path.name] = f"{result.status} [{code}]: {result.reason}"
        rows.append(f"{path.name:48s} {result.status:11s} {chars:7d} chars {seconds:6.2f} s")
        print(rows[-1], flush=True)
    times.sort()
    return {
        "files": len(files), "with_text": sum(c[0] for c in yielded.values()),
        "with_text_by_ext": {ext: f"{c[0]}/{c[1]}" for ext, c in sorted(yielded.items())},
        "seconds_per_file_mean": round(sum(times) / len(times), 2),
        "seconds_per_file_p50": round(times[len(times) // 2], 2), "seconds_per_file_max": round(times[-1], 2),
        "without_text": reasons, "cli_tools_with_text": _cli_tools(files),
    }


def _cli_tools(files: list[Path]) -> dict[str, str]:
    """How many files Debian's small converters get text out of (the alternative to LibreOffice)."""
    found: dict[str, list[int]] = {}
    for path in files:
        for tool in _CLI[path.suffix.lower()]:
            if shutil.which(tool) is None:
                continue
            try:
                run = subprocess.run([tool, str(path)], capture_output=True, timeout=30, check=False)
                chars = len("".join(run.stdout.decode("utf-8", "replace").split()))
            except subprocess.TimeoutExpired:
                chars = 0
            counts = found.setdefault(f"{tool}{path.suffix.lower()}", [0, 0])
            counts[0] += chars > 20
            counts[1] += 1
    return {k: f"{v[0]}/{v[1]}" for k, v in sorted(found.items())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=2, help="pages per condition and size")
    parser.add_argument("--engines", default=",".join(ocr.ENGINES))
    parser.add_argument("--legacy", action="store_true", help="also run the legacy-formats report")
    parser.add_argument("--no-ocr", action="store_true", help="skip the OCR part")
    args = parser.parse_args()
    figures: dict[str, Any] = {"pages_per_condition": args.pages, "load_before": round(os.getloadavg()[0], 2)}
    if not args.no_ocr:
        cases = _cases(args.pages)
        for engine in args.engines.split(","):
            if not ocr.available(engine):
                figures[engine] = "not installed"
                continue
            figures[engine] = bench_engine(engine, cases)
            print(engine, json.dumps(figures[engine], ensure_ascii=False), flush=True)
        engines = [e for e in args.engines.split(",") if isinstance(figures.get(e), dict)]
        if len(engines) == 2:
            a, b = (figures[e] for e in engines)
            figures["speed_ratio"] = {f"{engines[0]}_over_{engines[1]}": round(a["pages_per_s"] / b["pages_per_s"], 2)}
    if args.legacy:
        figures["legacy"] = bench_legacy(_shared() / "files" / "legacy")
    figures["load_after"] = round(os.getloadavg()[0], 2)
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
