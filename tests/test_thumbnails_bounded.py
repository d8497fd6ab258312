"""Bounded image decoding: a huge PNG's thumbnail costs little memory (measured in a fresh process), the banded
decode gives the same picture as a full one, pixel caps refuse without allocating, and decodes queue."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from helpers import ROOT
from PIL import Image

from ingest import images, thumbnails
from ingest.blobstore import BlobStore
from settings import load_settings

HUGE_SIDE = 12000
MAX_ADDED_MB = 200


def write_huge_png(path: Path, side: int) -> None:
    """A side×side RGB PNG written row by row (a few MB on disk; 432 MB once decoded), every filter used."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    base = bytes((x * 7 // 3) % 256 for x in range(side * 3))
    compressor = zlib.compressobj(1)
    with open(path, "wb") as out:
        out.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)))
        for y in range(side):
            row = bytes([y % 5]) + (base if y % 5 == 0 else bytes([y % 7]) * (side * 3))
            data = compressor.compress(row)
            if data:
                out.write(chunk(b"IDAT", data))
        out.write(chunk(b"IDAT", compressor.flush()) + chunk(b"IEND", b""))


_CHILD = """
import json, sys
from pathlib import Path
from ingest import thumbnails
from ingest.blobstore import BlobStore
from settings import load_settings
from test_thumbnails_bounded import write_huge_png

def rss(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024

data = Path(sys.argv[1])
source = data / "huge.png"
write_huge_png(source, int(sys.argv[2]))
settings = load_settings(data_dir=data)
digest = BlobStore.from_settings(settings).put(source).sha256
source.unlink()
before = rss("VmRSS")
path = thumbnails.thumbnail(settings, digest)
print(json.dumps({"added_mb": rss("VmHWM") - before, "size": list(__import__("PIL.Image").Image.open(path).size)}))
"""


@pytest.mark.timeout(900)  # real processes on a shared 2-core machine: minutes under load
def test_a_huge_png_thumbnail_adds_at_most_200_mb(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'tests'}"}
    done = subprocess.run([sys.executable, "-c", _CHILD, str(tmp_path), str(HUGE_SIDE)], cwd=ROOT, capture_output=True,
                          text=True, timeout=600, env=env, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    assert measured["size"] == [thumbnails.SIZE, thumbnails.SIZE]
    assert measured["added_mb"] <= MAX_ADDED_MB, measured  # a full decode alone is 432 MB


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "LA", "P"])
def test_banded_decode_gives_the_same_picture(tmp_path: Path, mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(images, "MAX_DECODE_PIXELS", 1000)  # force the banded path on a small image
    monkeypatch.setattr(images, "BAND_BYTES", 20_000)  # many bands, so every band boundary is crossed
    y, x = np.mgrid[0:700, 0:900]
    channels = {"RGB": 3, "RGBA": 4, "L": 1, "LA": 2, "P": 3}[mode]
    array = np.stack([(x * (c + 2) + y * (5 - c) + (x * y) % 13) % 256 for c in range(channels)], axis=-1)
    picture = Image.fromarray(array.astype(np.uint8).squeeze(), {"P": "RGB"}.get(mode, mode))
    source = tmp_path / "picture.png"
    if mode == "P":
        picture.convert("P", palette=Image.Palette.ADAPTIVE).save(source, transparency=3)
    else:
        picture.save(source)
    banded = images.preview(source, 160)
    with Image.open(source) as whole:
        expected = whole.convert(banded.mode)
        expected.thumbnail((160, 160))
    assert banded.size == expected.size
    difference = np.abs(np.asarray(banded, dtype=int) - np.asarray(expected, dtype=int)).mean()
    assert difference < 1.5, difference


def test_pixel_cap_refuses_before_allocating(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    header = struct.pack("<2sIHHI", b"BM", 0, 0, 0, 54) + struct.pack("<IiiHHIIiiII", 40, 30000, 30000, 1, 24, 0, 0,
                                                                        2835, 2835, 0, 0)
    digest = BlobStore.from_settings(settings).put(header + b"\x00" * 1024).sha256  # claims 30000×30000
    with pytest.raises(thumbnails.ThumbnailError, match="pixels"):
        thumbnails.thumbnail(settings, digest)


def test_decodes_queue_and_give_up_when_every_slot_stays_busy(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings(data_dir=tmp_path)
    source = tmp_path / "small.png"
    Image.new("RGB", (64, 48), "red").save(source)
    digest = BlobStore.from_settings(settings).put(source).sha256
    monkeypatch.setattr(images, "WAIT_SECONDS", 0.2)
    held = [images._slots.acquire(timeout=1) for _ in range(images.DECODES)]
    try:
        assert all(held)
        with pytest.raises(thumbnails.ThumbnailBusy):
            thumbnails.thumbnail(settings, digest)
    finally:
        for _ in held:
            images._slots.release()
    assert Image.open(thumbnails.thumbnail(settings, digest)).size == (64, 48)
