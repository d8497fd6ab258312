"""Thumbnails of image and PDF documents, kept in the data directory.

Images are made with Pillow (bounded decodes) on the worker when a version is processed, or on first
request; the first page of a PDF is rendered by pdfium in the extractors' bounded child, on the worker
only (:func:`prepare`): the web process serves a PDF's thumbnail when it is there, never renders one.
Thumbnails are keyed by the content hash, so every version (and every document sharing the same
bytes) shares one file, and a cached thumbnail is never stale. Files are written atomically.
"""

from __future__ import annotations

import logging
import os
import struct
import tempfile
import zlib
from contextlib import suppress
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from ingest import images
from ingest.blobstore import BlobStore
from ingest.extract import isolated
from ingest.extract.limits import Limits
from ingest.filetypes import Category, FileKind
from settings import Settings

log = logging.getLogger(__name__)

SIZE = 320
IMAGE_KINDS = frozenset(k.value for k in FileKind if k.category is Category.IMAGE)


class ThumbnailError(ValueError):
    """The image cannot be read (damaged, unknown format or absurdly large)."""


class ThumbnailBusy(ThumbnailError):
    """Every decode slot of this process stayed busy: try again shortly (not a property of the image)."""


def thumbnail_path(settings: Settings, sha256: str, size: int = SIZE) -> Path:
    BlobStore.from_settings(settings).path(sha256)  # validates the hash before it becomes a path
    return settings.data_dir / "thumbnails" / sha256[:2] / f"{sha256}-{size}.png"


def thumbnail(settings: Settings, sha256: str, size: int = SIZE) -> Path:
    """The PNG thumbnail of the blob ``sha256`` (made now if it is not cached yet)."""
    target = thumbnail_path(settings, sha256, size)
    if target.is_file():
        return target
    source = BlobStore.from_settings(settings).path(sha256)
    try:
        picture = images.preview(source, size)  # bounded: pixel cap, shrink-on-load, few decodes at once
        if picture.mode not in ("RGB", "RGBA", "L", "LA"):
            picture = picture.convert("RGBA")
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".png")
        try:
            with os.fdopen(fd, "wb") as out:
                picture.save(out, format="PNG", optimize=True)
            os.replace(name, target)
        except BaseException:
            with suppress(FileNotFoundError):
                os.unlink(name)
            raise
    except images.ImageBusy as error:
        raise ThumbnailBusy(str(error)) from None
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError, ValueError, SyntaxError,
            zlib.error, struct.error) as error:
        raise ThumbnailError(f"no thumbnail: {error}") from None
    return target


def cached(settings: Settings, sha256: str, size: int = SIZE) -> Path | None:
    """The thumbnail of the blob when it has been made already (what the web serves for a PDF)."""
    target = thumbnail_path(settings, sha256, size)
    return target if target.is_file() else None


def pdf_thumbnail(settings: Settings, sha256: str, size: int = SIZE) -> Path:
    """The PNG of the first page of the PDF blob ``sha256``, rendered in the bounded extractor child."""
    target = thumbnail_path(settings, sha256, size)
    if target.is_file():
        return target
    source = BlobStore.from_settings(settings).path(sha256)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".png")  # 0600, like every file at rest
    os.close(fd)
    try:
        done = isolated.run({"op": "pdf_thumbnail", "path": str(source), "target": name, "size": size},
                            FileKind.PDF, Limits.from_settings(settings))
        if done.status != "ok" or not os.path.getsize(name):
            raise ThumbnailError(f"no thumbnail: {done.reason}")
        os.replace(name, target)
    finally:
        with suppress(FileNotFoundError):
            os.unlink(name)
    return target


def prepare(settings: Settings, kind: str | None, sha256: str) -> Path | None:
    """The worker's step after a version is processed: make its thumbnail if its kind has one. A file that
    cannot be pictured keeps the placeholder icon of its type; that is no failure of the version."""
    try:
        if kind == FileKind.PDF.value:
            return pdf_thumbnail(settings, sha256)
        if kind in IMAGE_KINDS:
            return thumbnail(settings, sha256)
    except ThumbnailError as error:
        log.info("no thumbnail for %s (%s): %s", sha256[:12], kind, error)
    except Exception:  # a picture is a nicety: whatever goes wrong, the processed version stands
        log.warning("thumbnail of %s (%s) not made", sha256[:12], kind, exc_info=True)
    return None
