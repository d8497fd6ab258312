"""Bounded image decoding: a pixel cap, shrink-on-load, and at most a few decodes at once per process.

A full decode costs width × height × 4 bytes whatever the file size: a 12000×12000 PNG of a few MB
becomes 576 MB in memory (four requests at once: 2.3 GB). So every decode goes through here:
- JPEG uses ``draft`` (the decoder itself scales by 1/2..1/8: the full image never exists);
- 8-bit non-interlaced PNG is decoded in bands of rows: the zlib stream is read incrementally and
  each band is handed to Pillow as a small PNG of its own (prefixed with the previous band's last
  row, unfiltered, so "up"/"average"/"paeth" filters see the right neighbours), reduced and
  pasted into a small canvas — memory is a band plus the reduced picture;
- anything else is decoded whole only below :data:`MAX_DECODE_PIXELS`;
- :data:`DECODES` bounds concurrent decodes per process (a semaphore), so N requests for huge
  images queue instead of multiplying the peak.
"""

from __future__ import annotations

import io
import math
import struct
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from PIL import Image, ImageOps, UnidentifiedImageError

MAX_DECODE_PIXELS = 25_000_000  # whole decodes: RGBA 100 MB, 200 MB with an EXIF-rotated copy
MAX_STREAM_PIXELS = 400_000_000  # banded PNG decodes: memory is bounded, this bounds the CPU time
DECODES = 2  # concurrent decodes per process
WAIT_SECONDS = 30.0
BAND_BYTES = 4 * 1024 * 1024  # raw bytes per band of a streamed PNG
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
_ORIENTATION = {2: [Image.Transpose.FLIP_LEFT_RIGHT], 3: [Image.Transpose.ROTATE_180],
                4: [Image.Transpose.FLIP_TOP_BOTTOM], 5: [Image.Transpose.TRANSPOSE],
                6: [Image.Transpose.ROTATE_270], 7: [Image.Transpose.TRANSVERSE], 8: [Image.Transpose.ROTATE_90]}

_slots = threading.BoundedSemaphore(DECODES)


class ImageTooLarge(ValueError):
    """More pixels than this process decodes."""


class ImageBusy(RuntimeError):
    """Every decode slot stayed taken for :data:`WAIT_SECONDS`."""


@contextmanager
def decode_slot(timeout: float | None = None) -> Iterator[None]:
    """Hold one of the process's few decode slots for the duration of the block."""
    if not _slots.acquire(timeout=WAIT_SECONDS if timeout is None else timeout):
        raise ImageBusy("too many images are being decoded; try again")
    try:
        yield
    finally:
        _slots.release()


def preview(path: Path, size: int) -> Image.Image:
    """The image at ``path`` scaled to fit ``size``×``size`` (first frame, EXIF orientation applied).

    Raises :class:`ImageTooLarge`, :class:`ImageBusy`, or Pillow's errors for damaged files.
    """
    with decode_slot(), Image.open(path) as image:
        width, height = image.size
        if image.format == "PNG" and width * height > MAX_DECODE_PIXELS and _streamable_png(path):
            if width * height > MAX_STREAM_PIXELS:
                raise ImageTooLarge(f"{width}×{height} pixels is more than {MAX_STREAM_PIXELS} to decode")
            orientation = _png_orientation(image)
            with open(path, "rb") as handle:
                picture = _banded_png(handle, size)
            for method in _ORIENTATION.get(orientation, []):
                picture = picture.transpose(method)
        else:
            image.seek(0)  # first frame of animations and multi-page TIFFs
            image.draft("RGB", (size * 2, size * 2))  # JPEG: decode at 1/2..1/8 scale; others ignore it
            if image.width * image.height > MAX_DECODE_PIXELS:
                raise ImageTooLarge(f"{width}×{height} pixels is more than {MAX_DECODE_PIXELS} to decode")
            picture = ImageOps.exif_transpose(image)
        picture.thumbnail((size, size))
        return picture


def _png_orientation(image: Image.Image) -> int:
    """EXIF orientation of a PNG from an eXIf chunk before the pixels (``getexif()`` would decode them all)."""
    raw = image.info.get("exif")
    if not raw:
        return 1
    exif = Image.Exif()
    exif.load(raw)
    return int(exif.get(0x0112) or 1)


def _streamable_png(path: Path) -> bool:
    """8-bit, non-interlaced, of a colour type whose rows Pillow hands back byte for byte."""
    with open(path, "rb") as handle:
        head = handle.read(29)
    return (len(head) == 29 and head[:8] == _PNG_SIGNATURE and head[12:16] == b"IHDR" and head[24] == 8
            and head[25] in _PNG_CHANNELS and head[28] == 0)


def _chunks(handle: BinaryIO) -> Iterator[tuple[bytes, int]]:
    """(type, length) of each chunk; the caller reads exactly ``length`` data bytes (CRC is skipped here)."""
    if handle.read(8) != _PNG_SIGNATURE:
        raise UnidentifiedImageError("not a PNG")
    while True:
        head = handle.read(8)
        if len(head) < 8:
            return
        length, kind = struct.unpack(">I4s", head)
        start = handle.tell()
        yield kind, length
        handle.seek(start + length + 4)
        if kind == b"IEND":
            return


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _raw_rows(handle: BinaryIO, row_bytes: int, band_rows: int) -> Iterator[bytes]:
    """Filtered scanlines, ``band_rows`` at a time, inflated incrementally from the IDAT stream."""
    inflater = zlib.decompressobj()
    pending = bytearray()
    want = row_bytes * band_rows
    for kind, length in _chunks(handle):
        if kind != b"IDAT":
            continue
        remaining = length
        while remaining:
            data = handle.read(min(remaining, 1 << 20))
            if not data:
                raise OSError("truncated PNG")
            remaining -= len(data)
            while data:
                # max_length: a tiny, highly compressible stream must not inflate all at once.
                pending += inflater.decompress(data, max(1, want - len(pending)))
                data = inflater.unconsumed_tail
                while len(pending) >= want:
                    yield bytes(pending[:want])
                    del pending[:want]
    pending += inflater.flush()
    while pending:
        yield bytes(pending[:want])
        del pending[:want]


def _png_meta(handle: BinaryIO) -> dict[bytes, bytes]:
    """IHDR, PLTE and tRNS: every chunk a band needs, all of which come before the first IDAT."""
    meta: dict[bytes, bytes] = {}
    for kind, length in _chunks(handle):
        if kind == b"IDAT":
            break
        if kind in (b"IHDR", b"PLTE", b"tRNS"):
            meta[kind] = handle.read(length)
    handle.seek(0)
    return meta


def _banded_png(handle: BinaryIO, size: int) -> Image.Image:
    meta = _png_meta(handle)
    width, height, _depth, color_type = struct.unpack(">IIBB", meta[b"IHDR"][:10])
    channels = _PNG_CHANNELS[color_type]
    row_bytes = 1 + width * channels
    factor = max(1, math.floor(max(width, height) / (size * 2)))
    band_rows = max(factor, (BAND_BYTES // row_bytes) // factor * factor)
    has_alpha = color_type in (3, 4, 6) or b"tRNS" in meta
    canvas = Image.new("RGBA" if has_alpha else "RGB", (-(-width // factor), -(-height // factor)))
    previous: bytes | None = None
    done = 0
    for band in _raw_rows(handle, row_bytes, band_rows):
        count = len(band) // row_bytes
        if count == 0:
            break
        prefix = b"\x00" + previous if previous is not None else b""
        header = struct.pack(">IIBBBBB", width, count + (1 if prefix else 0), 8, color_type, 0, 0, 0)
        body = _chunk(b"IHDR", header) + b"".join(_chunk(k, meta[k]) for k in (b"PLTE", b"tRNS") if k in meta)
        png = _PNG_SIGNATURE + body + _chunk(b"IDAT", zlib.compress(prefix + band[:count * row_bytes], 0))
        with Image.open(io.BytesIO(png + _chunk(b"IEND", b""))) as decoded:
            decoded.load()
            piece: Image.Image = decoded.crop((0, 1, width, decoded.height)) if prefix else decoded
            previous = piece.crop((0, count - 1, width, count)).tobytes()
            converted = piece.convert(canvas.mode)
        canvas.paste(converted.reduce(factor), (0, done // factor))
        done += count
        if done >= height:
            break
    return canvas
