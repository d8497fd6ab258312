"""Memory of one thumbnail of a huge image: peak RSS added by ``ingest.thumbnails`` vs. a plain Pillow decode.

Usage: python bench/thumbnail_bench.py [--side 12000] [--concurrent 4]

Each measurement runs in a fresh subprocess: RSS is read just before the call (VmRSS) and the peak after
it (VmHWM), so imports do not count. ``bounded`` is the platform's path (banded PNG decode, pixel caps,
a per-process decode semaphore); ``plain`` is ``Image.open(...).thumbnail()`` as the code did before;
``bounded_concurrent`` makes N thumbnails of N distinct huge PNGs on N threads at once. The last line is
the JSON summary.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _make_png(path: Path, side: int, seed: int) -> None:
    """An RGB gradient with a fine texture: a few MB on disk (as an attacker would send), every PNG row filter."""
    import numpy as np
    from PIL import Image

    rows = []
    x = np.arange(side, dtype=np.int32)
    for start in range(0, side, 1000):  # built in strips so making the file stays light too
        y = np.arange(start, min(side, start + 1000), dtype=np.int32)[:, None]
        strip = np.stack([(x * 3 + y) // 47, (x + y * 2) // 53, (x * y) // 4099], axis=-1) % 256
        strip = strip + ((x ^ y) + seed & 3)[..., None]
        rows.append(np.clip(strip, 0, 255).astype(np.uint8))
    Image.fromarray(np.concatenate(rows)).save(path, compress_level=1)


def _rss_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(field)


def _child(mode: str, paths: list[str], data_dir: str) -> None:
    """Runs in the subprocess: one measurement, printed as JSON."""
    import threading

    from PIL import Image

    from ingest import thumbnails
    from ingest.blobstore import BlobStore
    from settings import load_settings

    settings = load_settings(data_dir=Path(data_dir))
    digests = [BlobStore.from_settings(settings).put(Path(p)).sha256 for p in paths] if mode != "plain" else []
    Image.MAX_IMAGE_PIXELS = None  # the plain path as it was: no cap in the way of the measurement

    def plain(path: str) -> None:
        with Image.open(path) as image:
            image.thumbnail((thumbnails.SIZE, thumbnails.SIZE))

    work = [lambda p=p: plain(p) for p in paths] if mode == "plain" else [
        lambda d=d: thumbnails.thumbnail(settings, d) for d in digests]
    before = _rss_kb("VmRSS")
    started, cpu_started = time.perf_counter(), time.process_time()
    threads = [threading.Thread(target=job) for job in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    peak = _rss_kb("VmHWM")
    print(json.dumps({"added_mb": round((peak - before) / 1024, 1), "seconds": round(elapsed, 2),
                      "cpu_s": round(cpu, 2)}))


def _measure(mode: str, paths: list[Path], data_dir: Path) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HUITONG_DATA_DIR": str(data_dir)}
    done = subprocess.run([sys.executable, __file__, "--child", mode, "--data", str(data_dir), *map(str, paths)],
                          capture_output=True, text=True, env=env, check=False, cwd=ROOT)
    if done.returncode:
        raise SystemExit(f"{mode} measurement failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _show(label: str, figures: dict[str, float]) -> None:
    print(f"{label:24} +{figures['added_mb']} MB RSS, {figures['seconds']} s ({figures['cpu_s']} s CPU)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--side", type=int, default=12000)
    parser.add_argument("--concurrent", type=int, default=4)
    parser.add_argument("--child")
    parser.add_argument("--data")
    parser.add_argument("paths", nargs="*")
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.paths, args.data)
        return
    with tempfile.TemporaryDirectory(prefix="ht-thumb-") as tmp:
        folder = Path(tmp)
        paths = []
        for n in range(max(1, args.concurrent)):
            path = folder / f"huge-{n}.png"
            subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, {str(ROOT)!r}); "
                            f"from bench.thumbnail_bench import _make_png; from pathlib import Path; "
                            f"_make_png(Path({str(path)!r}), {args.side}, {n})"], check=True, cwd=ROOT)
            paths.append(path)
        size_mb = paths[0].stat().st_size / 2**20
        print(f"{args.side}x{args.side} PNG, {size_mb:.1f} MB on disk")
        plain = _measure("plain", paths[:1], folder / "data-plain")
        _show("plain Pillow thumbnail", plain)
        bounded = _measure("bounded", paths[:1], folder / "data-1")
        _show("bounded thumbnail", bounded)
        many = _measure("bounded", paths, folder / "data-n")
        _show(f"{len(paths)} bounded at once", many)
    print(json.dumps({
        "side": args.side, "png_mb": round(size_mb, 1),
        "plain_added_mb": plain["added_mb"], "plain_s": plain["seconds"], "plain_cpu_s": plain["cpu_s"],
        "bounded_added_mb": bounded["added_mb"], "bounded_s": bounded["seconds"], "bounded_cpu_s": bounded["cpu_s"],
        "concurrent": len(paths), "bounded_concurrent_added_mb": many["added_mb"],
        "bounded_concurrent_s": many["seconds"],
        "memory_ratio_plain_over_bounded": round(plain["added_mb"] / max(bounded["added_mb"], 0.1), 1),
    }))


if __name__ == "__main__":
    main()
