"""Extraction throughput per format over the shared files: pages/s, MB/s, files/s.

Usage: .venv/bin/python bench/extract_bench.py [--repeat 3] [--data PATH]
Each file is extracted ``--repeat`` times (the first pass warms imports and caches, all passes are
timed). The last line printed is one JSON object of the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ingest.extract import extract

GROUPS = {"pdf": ("files/pdf", "*.pdf"), "docx": ("files/docx", "*.docx"), "cjk": ("files/cjk", "*")}


def _pages(metadata: dict) -> int:
    """Pages where the format has them (PDF pages, DOCX app.xml pages, slides, sheets), else 1."""
    for key in ("pages", "slides", "sheets"):
        if isinstance(metadata.get(key), int):
            return metadata[key]
    return 1


def bench_group(files: list[Path], repeat: int) -> dict:
    size = sum(p.stat().st_size for p in files)
    pages = chars = 0
    statuses: dict[str, int] = {}
    failures: dict[str, str] = {}
    start = time.perf_counter()
    for run in range(repeat):
        for path in files:
            result = extract(path)
            if run == 0:
                pages += _pages(result.metadata)
                chars += len(result.text)
                statuses[result.status] = statuses.get(result.status, 0) + 1
                if result.status in ("corrupt", "unsupported", "encrypted"):
                    failures[path.name] = f"{result.status}: {result.reason}"
    elapsed = time.perf_counter() - start
    return {
        "files": len(files),
        "repeat": repeat,
        "seconds": round(elapsed, 3),
        "pages": pages,
        "megabytes": round(size / 1e6, 3),
        "files_per_s": round(len(files) * repeat / elapsed, 1),
        "pages_per_s": round(pages * repeat / elapsed, 1),
        "mb_per_s": round(size * repeat / 1e6 / elapsed, 2),
        "chars_per_s": round(chars * repeat / elapsed),
        "statuses": statuses,
        "not_extracted": failures,
    }


def main() -> int:
    default = os.environ.get("HUITONG_SHARED_DATA") or Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data", type=Path, default=Path(default))
    args = parser.parse_args()
    if not (args.data / "files").is_dir():
        print(json.dumps({"error": f"shared data not found at {args.data}"}))
        return 1
    figures: dict[str, dict] = {}
    for name, (folder, pattern) in GROUPS.items():
        files = sorted(p for p in (args.data / folder).rglob(pattern) if p.is_file() and p.suffix != ".json")
        figures[name] = bench_group(files, args.repeat)
        f = figures[name]
        print(
            f"{name:5} {f['files']:3} files x{f['repeat']}  {f['seconds']:7.2f} s  {f['pages_per_s']:7.1f} pages/s  "
            f"{f['mb_per_s']:6.2f} MB/s  {f['files_per_s']:7.1f} files/s  statuses {f['statuses']}"
        )
        for file, why in f["not_extracted"].items():
            print(f"      not extracted: {file}: {why}")
    print(json.dumps(figures, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
