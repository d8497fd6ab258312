"""Thumbnails of image documents, made with Pillow on first request and kept in the data directory.

Thumbnails are keyed by the content hash, so every version (and every document sharing the same
bytes) shares one file, and a cached thumbnail is never stale. Files are written atomically.
"""

from __future__ import annotations

import os
import struct
import tempfile
import zlib
from contextlib import suppress
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from ingest import images
from ingest.blobstore import BlobStore
from settings import Settings

SIZE = 320


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
