"""What a PDF thumbnail adds to processing: the first page rendered in the bounded extractor child, beside the
extraction of the same file, and the bound on a page of absurd size.

Usage: python bench/pdf_thumbnail_bench.py [--files 20]

Each of ``--files`` distinct text PDFs (3 A4 pages) is extracted (``ingest.extract.extract``, isolated child)
and then given its thumbnail (``ingest.thumbnails.pdf_thumbnail``, same resident child); the first file's
times include the child's start and are left out. A 14400×14400 pt page (200×200 inches, the PDF maximum)
shows the render stays within the thumbnail size. The last line is the JSON summary.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ["HUITONG_DATA_DIR"] = tempfile.mkdtemp(prefix="ht-bench-pdf-thumb-")


def _pdf(seed: int, size: tuple[float, float] = (595.0, 842.0), pages: int = 3) -> bytes:
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=size)
    for number in range(pages):
        for line in range(40):
            page.drawString(50, size[1] - 60 - line * 18, f"file {seed} page {number + 1} line {line}: "
                            "quarterly budget review for the finance department")
        page.showPage()
    page.save()
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=20)
    args = parser.parse_args()

    from PIL import Image

    from ingest import thumbnails
    from ingest.blobstore import BlobStore
    from ingest.extract import FileKind, extract
    from settings import load_settings

    settings = load_settings()
    blobs = BlobStore.from_settings(settings)
    extract_ms, thumb_ms = [], []
    for seed in range(args.files + 1):
        sha = blobs.put(_pdf(seed)).sha256
        start = time.perf_counter()
        extract(blobs.path(sha), FileKind.PDF)
        extracted = time.perf_counter()
        path = thumbnails.pdf_thumbnail(settings, sha)
        done = time.perf_counter()
        if seed:  # the first file starts the child
            extract_ms.append((extracted - start) * 1000)
            thumb_ms.append((done - extracted) * 1000)
    huge = blobs.put(_pdf(0, (14400.0, 14400.0), pages=1)).sha256
    start = time.perf_counter()
    huge_path = thumbnails.pdf_thumbnail(settings, huge)
    huge_ms = (time.perf_counter() - start) * 1000
    with Image.open(path) as small, Image.open(huge_path) as big:
        sizes = {"a4": list(small.size), "huge_page": list(big.size)}
    figures = {
        "files": args.files, "extract_ms_median": round(statistics.median(extract_ms), 1),
        "thumbnail_ms_median": round(statistics.median(thumb_ms), 1),
        "thumbnail_ms_p90": round(sorted(thumb_ms)[int(len(thumb_ms) * 0.9) - 1], 1),
        "thumbnail_vs_extract": round(statistics.median(thumb_ms) / statistics.median(extract_ms), 3),
        "huge_page_ms": round(huge_ms, 1), "png_px": sizes,
    }
    print(f"extract median {figures['extract_ms_median']} ms, thumbnail median {figures['thumbnail_ms_median']} ms "
          f"(x{figures['thumbnail_vs_extract']}); 14400 pt page: {figures['huge_page_ms']} ms -> {sizes['huge_page']}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
