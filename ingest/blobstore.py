"""Content-addressed storage of uploaded bytes: one file per distinct SHA-256, stored once.

Blobs live under ``<data_dir>/blobs/ab/cd/<sha256>``. A blob is written to a temporary file in the
same file system while its hash is computed, then renamed into place, so readers never see a
partial blob and a crash leaves at most a stray temporary file (removed by ``sweep_temp``). The
same bytes uploaded twice (by anyone, for any document) share one file.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from graph.private_files import READ_ONLY_MODE
from settings import Settings

CHUNK = 1024 * 1024
FSYNC_THREADS = 16
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class BlobTooLarge(ValueError):
    """The upload exceeds the configured size limit (nothing was stored)."""

    def __init__(self, limit_bytes: int) -> None:
        super().__init__(f"the file is larger than the upload limit of {limit_bytes // (1024 * 1024)} MiB")
        self.limit_bytes = limit_bytes


@dataclass(frozen=True)
class Blob:
    sha256: str
    size: int
    path: Path
    created: bool  # False when the same bytes were already stored


@dataclass
class StagedBlob:
    """Bytes hashed into a temporary file, not yet part of the store: ``commit`` or ``discard`` it."""

    store: BlobStore
    temp_path: Path
    sha256: str
    size: int
    stored: bool = False  # ``temp_path`` is the blob itself, already in the store (see ``BlobStore.adopt``)
    synced: bool = True  # the temporary file's bytes are on disk (see ``stage(..., sync=False)``)

    def commit(self) -> Blob:
        return self.store._commit(self)

    def discard(self) -> None:
        if self.stored:
            return  # a stored blob is shared by every document holding these bytes
        with suppress(FileNotFoundError):
            self.temp_path.unlink()

    def __enter__(self) -> StagedBlob:
        return self

    def __exit__(self, *exc: object) -> None:
        self.discard()  # a committed blob's temp file is already gone


class BlobStore:
    def __init__(self, root: Path, max_bytes: int | None = None) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes
        self._tmp = self.root / "tmp"

    @classmethod
    def from_settings(cls, settings: Settings) -> BlobStore:
        return cls(settings.data_dir / "blobs", settings.max_upload_mb * 1024 * 1024)

    def path(self, sha256: str) -> Path:
        """Where the blob with this hash lives (whether or not it exists)."""
        if not isinstance(sha256, str) or not _SHA256.match(sha256):
            raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def open(self, sha256: str) -> BinaryIO:
        return self.path(sha256).open("rb")

    def read(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()

    # -- writing ---------------------------------------------------------------------------

    def stage(self, source: bytes | Path | BinaryIO, *, sync: bool = True) -> StagedBlob:
        """Copy ``source`` to a temporary file while hashing it; raises ``BlobTooLarge`` past the limit.

        ``sync=False`` leaves the flush to disk to the commit: ``commit_all`` then flushes many files side by
        side, which costs about one flush instead of one each."""
        if isinstance(source, bytes | bytearray | memoryview):
            return self._stage_chunks([bytes(source)], sync)
        if isinstance(source, str | Path):
            with Path(source).open("rb") as fh:
                return self._stage_chunks(iter(lambda: fh.read(CHUNK), b""), sync)
        return self._stage_chunks(iter(lambda: source.read(CHUNK), b""), sync)

    def adopt(self, sha256: str) -> StagedBlob:
        """A blob already in the store, staged without copying or hashing it again (bulk ingestion
        stores every member before it decides what each one becomes). Raises ``FileNotFoundError``
        when it is missing and ``BlobTooLarge`` past this store's limit, as ``stage`` would."""
        path = self.path(sha256)
        size = path.stat().st_size
        if self.max_bytes is not None and size > self.max_bytes:
            raise BlobTooLarge(self.max_bytes)
        return StagedBlob(self, path, sha256, size, stored=True)

    def put(self, source: bytes | Path | BinaryIO) -> Blob:
        """Store ``source`` (bytes, a path or a binary stream); returns the blob, new or already there."""
        with self.stage(source) as staged:
            return staged.commit()

    def commit_all(self, staged: list[StagedBlob]) -> list[Blob | OSError]:
        """Commit many staged blobs with their flushes to disk done side by side (bulk ingestion). As with
        ``commit`` one by one, every file's bytes are on disk before it is renamed into place, and the renames
        are on disk when this returns. A blob that cannot be committed gets its error in its place."""
        unsynced = [s.temp_path for s in staged if not s.synced and not s.stored]
        failed = _fsync_all(unsynced)
        results: list[Blob | OSError] = []
        for item in staged:
            if item.temp_path in failed:
                item.discard()
                results.append(failed[item.temp_path])
                continue
            item.synced = True
            try:
                results.append(self._commit(item, sync_dir=False))
            except OSError as error:
                item.discard()
                results.append(error)
        _fsync_all({b.path.parent for b in results if isinstance(b, Blob) and b.created}, directories=True)
        return results

    def _stage_chunks(self, chunks: Iterable[bytes], sync: bool = True) -> StagedBlob:
        digest = hashlib.sha256()
        size = 0
        try:
            fd, name = tempfile.mkstemp(dir=self._tmp, prefix="up-")
        except FileNotFoundError:  # the first blob (a mkdir per blob costs more than the rest of staging)
            self._tmp.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(dir=self._tmp, prefix="up-")
        temp = Path(name)
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in chunks:
                    size += len(chunk)
                    if self.max_bytes is not None and size > self.max_bytes:
                        raise BlobTooLarge(self.max_bytes)
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                if sync:
                    os.fsync(out.fileno())
        except BaseException:
            with suppress(FileNotFoundError):
                temp.unlink()
            raise
        return StagedBlob(self, temp, digest.hexdigest(), size, synced=sync)

    def _commit(self, staged: StagedBlob, *, sync_dir: bool = True) -> Blob:
        target = self.path(staged.sha256)
        if staged.stored:
            return Blob(staged.sha256, staged.size, target, created=False)
        if target.is_file() and target.stat().st_size == staged.size:
            staged.discard()
            return Blob(staged.sha256, staged.size, target, created=False)
        if not staged.synced:  # never rename bytes into place before they are on disk
            _fsync_path(staged.temp_path)
            staged.synced = True
        # Blobs are never modified after they are written, and only the platform's account reads them.
        os.chmod(staged.temp_path, READ_ONLY_MODE)
        try:
            os.replace(staged.temp_path, target)
        except FileNotFoundError:  # the first blob of its fan-out folder
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staged.temp_path, target)
        if sync_dir:
            _fsync_dir(target.parent)
        return Blob(staged.sha256, staged.size, target, created=True)

    def sweep_temp(self, older_than_seconds: float = 3600) -> int:
        """Remove temporary files left by interrupted uploads; returns how many."""
        if not self._tmp.is_dir():
            return 0
        cutoff = time.time() - older_than_seconds
        removed = 0
        for path in self._tmp.iterdir():
            with suppress(FileNotFoundError):
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
        return removed


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_all(paths: Iterable[Path], *, directories: bool = False) -> dict[Path, OSError]:
    """fsync many files (or directories) from a few threads at once: the file system then writes them out in
    one journal commit or a few, where one after the other each waits for its own (~4 ms here)."""
    paths = list(paths)
    if not paths:
        return {}
    sync = _fsync_dir if directories else _fsync_path
    failed: dict[Path, OSError] = {}

    def run(path: Path) -> None:
        try:
            sync(path)
        except OSError as error:
            failed[path] = error

    list(_fsync_pool().map(run, paths))
    return failed


_pool: tuple[int, ThreadPoolExecutor] | None = None
_pool_guard = threading.Lock()


def _fsync_pool() -> ThreadPoolExecutor:
    """One pool per process, kept: starting threads for every batch cost more than the flushes they wait on."""
    global _pool
    with _pool_guard:
        if _pool is None or _pool[0] != os.getpid():  # threads do not survive a fork
            _pool = (os.getpid(), ThreadPoolExecutor(max_workers=FSYNC_THREADS, thread_name_prefix="blob-fsync"))
        return _pool[1]


def _fsync_dir(directory: Path) -> None:
    # Makes the rename itself durable; not every platform allows opening a directory.
    with suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
