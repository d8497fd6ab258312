"""Images: metadata (size, format, EXIF author/camera/dates; never the GPS position) and OCR'd text.

EXIF GPS tags are never read, so a photo's location is neither stored nor shown.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from pathlib import Path
from typing import Any

from PIL import Image

from ingest.extract.limits import Limits
from ingest.extract.model import Extraction, ExtractionFailure
from ingest.extract.scans import check_pixels, ocr_image
from ingest.filetypes import FileKind

try:  # HEIC/HEIF photos (iPhones) through the maintained pillow-heif plugin
    from pillow_heif import register_heif_opener
except ImportError:  # pragma: no cover - a pinned requirement
    register_heif_opener = None
else:
    register_heif_opener()

_EXIF_TEXT = {0x010E: "title", 0x013B: "author", 0x010F: "camera_make", 0x0110: "camera_model", 0x0131: "software"}
_EXIF_MODIFIED, _EXIF_IFD, _EXIF_ORIGINAL = 0x0132, 0x8769, 0x9003


def extract_image(path: Path, kind: FileKind, limits: Limits | None = None) -> Extraction:
    limits = limits or Limits(ocr=False)
    try:
        with Image.open(path) as img:
            check_pixels(img.width, img.height, limits)
            metadata: dict[str, Any] = {
                "width": img.width,
                "height": img.height,
                "format": img.format,
                "mode": img.mode,
                "frames": getattr(img, "n_frames", 1),
                **_exif(img),
            }
    except Image.DecompressionBombError as exc:
        raise ExtractionFailure("unsupported", f"the image is too large to open safely: {exc}",
                                "extract.image_too_large", limit=limits.max_pixels // 1_000_000) from exc
    # Opening reads only the header; verify() walks the data and catches truncated files.
    with Image.open(path) as img:
        img.verify()
    sections = []
    if limits.ocr:
        with Image.open(path) as img:
            sections, metadata["ocr"] = ocr_image(img, limits)
    metadata = {k: v for k, v in metadata.items() if v not in (None, "")}
    return Extraction(kind, kind.mime, "ok", None, sections, metadata)


def _exif(img: Image.Image) -> dict[str, Any]:
    try:
        exif = img.getexif()
    except Exception:  # damaged EXIF must not cost the image
        return {}
    out: dict[str, Any] = {}
    for tag, key in _EXIF_TEXT.items():
        value = exif.get(tag)
        if isinstance(value, str) and value.strip("\x00 "):
            out[key] = value.strip("\x00 ")
    out["modified"] = _exif_date(exif.get(_EXIF_MODIFIED))
    with contextlib.suppress(Exception):
        out["created"] = _exif_date(exif.get_ifd(_EXIF_IFD).get(_EXIF_ORIGINAL))
    return out


def _exif_date(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return dt.datetime.strptime(value.strip("\x00 "), "%Y:%m:%d %H:%M:%S").isoformat()
    except ValueError:
        return None
