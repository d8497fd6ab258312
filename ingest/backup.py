"""``huitong backup FILE``: one archive holding a consistent snapshot of a running platform.

What goes in, in this order, and why the order makes it consistent while writes go on:

1. the graph server's point-in-time snapshot (:mod:`graph.rdb_snapshot`: every graph and the Celery
   queues at one instant T);
2. the search store (SQLite online backup API: a consistent copy, taken after T, so it holds at
   least every chunk of every document the graph at T calls indexed) and the index snapshot its
   pointer names (a speed-up only: the store is the truth and a reader catches up from it);
3. the files, all content-addressed or replaced atomically, copied after T: blobs, extracted text,
   thumbnails, ingestion reports, imported organisation files, and the generated secret key.

Every file the graph at T points at was written before the graph pointed at it, so it is in the
archive; files written after T come along as harmless extras (a blob nobody references yet, the
text of a version the snapshot still shows as pending - whose extraction task is in the snapshot's
queue and runs again after a restore). The snapshot is then loaded into a throwaway server that
counts its nodes and lists the blobs its versions reference; a referenced blob missing from the
archive fails the backup. The archive is a tar (zstd, or gzip for ``.tar.gz``/``.tgz``) whose
last member ``manifest.json`` records the format version, those counts and the size and SHA-256
of every member; :mod:`ingest.restore` checks all of it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sqlite3
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, BinaryIO

from settings import Settings

FORMAT = "huitong-backup"
VERSION = 1
MANIFEST = "manifest.json"
GRAPH_MEMBER = "graph/dump.rdb"
FILES_PREFIX = "files/"
SEARCH_STORE = "search/chunks.sqlite3"
# Trees of the data directory copied as they are (relative to it); temporary files are skipped.
TREES = ("blobs", "text", "thumbnails", "ingest/reports", "imports")
SINGLE_FILES = ("secret_key",)
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
GZIP_MAGIC = b"\x1f\x8b"
Echo = Callable[[str], None]


class BackupError(RuntimeError):
    """The backup could not be made (nothing is left at the target path)."""


@dataclass
class BackupResult:
    path: Path
    bytes: int
    seconds: float
    manifest: dict[str, Any] = field(default_factory=dict)


class _Hashing:
    """A file reader that hashes what passes through it (so every file is read once)."""

    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.digest.update(data)
        return data


def compression_of(path: Path) -> str:
    return "gzip" if path.name.endswith((".tar.gz", ".tgz")) else "zstd"


@contextlib.contextmanager
def _tar_writer(path: Path, compression: str) -> Iterator[tarfile.TarFile]:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as raw:
        if compression == "gzip":
            with tarfile.open(fileobj=raw, mode="w|gz", format=tarfile.PAX_FORMAT) as tar:
                yield tar
        else:
            import zstandard

            # Blobs are mostly already-compressed office files: a fast level costs little and gains little less.
            with zstandard.ZstdCompressor(level=3, threads=-1).stream_writer(raw, closefd=False) as packed, \
                    tarfile.open(fileobj=packed, mode="w|", format=tarfile.PAX_FORMAT) as tar:
                yield tar
        raw.flush()
        os.fsync(raw.fileno())


class _Archive:
    """The tar being written plus the manifest entry of every member."""

    def __init__(self, tar: tarfile.TarFile) -> None:
        self.tar = tar
        self.files: dict[str, list[Any]] = {}

    def add_file(self, name: str, path: Path) -> bool:
        """Add ``path`` as member ``name``; False when it vanished first (a pruned or replaced temporary file)."""
        try:
            handle = path.open("rb")
        except (FileNotFoundError, IsADirectoryError):
            return False
        with handle:
            size = os.fstat(handle.fileno()).st_size
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = size, 0o600, int(time.time())
            reader = _Hashing(handle)
            self.tar.addfile(info, reader)  # type: ignore[arg-type]
        self.files[name] = [size, reader.digest.hexdigest()]
        return True

    def add_bytes(self, name: str, data: bytes) -> None:
        info = tarfile.TarInfo(name)
        info.size, info.mode, info.mtime = len(data), 0o600, int(time.time())
        self.tar.addfile(info, _BytesReader(data))  # type: ignore[arg-type]


class _BytesReader:
    def __init__(self, data: bytes) -> None:
        self.data, self.offset = data, 0

    def read(self, size: int = -1) -> bytes:
        end = len(self.data) if size < 0 else self.offset + size
        chunk, self.offset = self.data[self.offset:end], min(end, len(self.data))
        return chunk


def _walk(root: Path) -> Iterator[Path]:
    """Regular files under ``root`` in a stable order, without temporary ones."""
    if not root.is_dir():
        return
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "tmp" and not d.startswith("."))
        for name in sorted(files):
            if not name.startswith("."):
                yield Path(folder) / name


def _copy_search_store(source: Path, target: Path) -> dict[str, int]:
    """A consistent copy of the chunk store through SQLite's online backup (readers and writers go on)."""
    if not source.is_file():
        return {"documents": 0, "chunks": 0}
    with contextlib.closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=60)) as src, \
            contextlib.closing(sqlite3.connect(target)) as dst:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file in the archive
        counts = {"documents": dst.execute("SELECT count(*) FROM documents").fetchone()[0],
                  "chunks": dst.execute("SELECT count(*) FROM chunks").fetchone()[0]}
    os.chmod(target, 0o600)
    return counts


def _add_index_snapshots(archive: _Archive, search_dir: Path) -> int:
    """The published index snapshot of each model (pointer + folder); a snapshot pruned meanwhile is left out."""
    added = 0
    for pointer in sorted(search_dir.glob("CURRENT-*")) if search_dir.is_dir() else []:
        with contextlib.suppress(FileNotFoundError):
            name = pointer.read_text(encoding="utf-8").strip()
            folder = search_dir / name
            members = {f"{FILES_PREFIX}search/{name}/{p.name}": p for p in sorted(folder.iterdir()) if p.is_file()}
            staged: dict[str, list[Any]] = {}
            for member, path in members.items():
                if not archive.add_file(member, path):
                    break
                staged[member] = archive.files[member]
            else:
                archive.add_file(f"{FILES_PREFIX}search/{pointer.name}", pointer)
                added += 1
                continue
            # Incomplete: forget its members in the manifest so a restore drops them (the store rebuilds the index).
            for member in staged:
                archive.files.pop(member, None)
    return added


def _graph_part(settings: Settings, work: Path, archive: _Archive, echo: Echo) -> dict[str, Any]:
    if settings.graph != "embedded":
        return {"included": False, "engine": settings.graph,
                "note": "Neo4j: dump the database with neo4j-admin alongside this archive (see README)"}
    from graph import embedded_server
    from graph import rdb_snapshot as rdb

    server = embedded_server(settings)
    if not server.status().running:
        server.ensure_running()
    rdb_path = work / "dump.rdb"
    at = rdb.take(server, rdb_path)
    echo("graph snapshot taken; counting what it holds")
    facts = rdb.inspect(rdb_path)
    archive.add_file(GRAPH_MEMBER, rdb_path)
    counts = facts.graphs.get(settings.graph_name, {})
    return {"included": True, "engine": "embedded", "name": settings.graph_name, "snapshot_at": at,
            "keys": facts.keys, "counts": counts, "nodes": sum(counts.values()), "graphs": facts.graphs,
            "_hashes": facts.version_hashes.get(settings.graph_name, [])}


def backup(settings: Settings, target: Path, *, echo: Echo = lambda _: None) -> BackupResult:
    """Write the archive to ``target`` (written beside it, then renamed: a failed backup leaves nothing)."""
    started = time.monotonic()
    target = target.resolve()
    if target.is_dir():
        raise BackupError(f"{target} is a directory; name the archive file")
    data = settings.data_dir.resolve()
    if target.is_relative_to(data):
        raise BackupError("the archive must not be written inside the data directory it backs up")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.part")
    # The snapshot is moved out of the server's directory: same file system as the data, so no copy.
    work = Path(tempfile.mkdtemp(prefix=".backup-", dir=data))
    try:
        with _tar_writer(partial, compression_of(target)) as tar:
            archive = _Archive(tar)
            graph = _graph_part(settings, work, archive, echo)
            search = _copy_search_store(data / SEARCH_STORE, work / "chunks.sqlite3")
            if (work / "chunks.sqlite3").exists():
                archive.add_file(FILES_PREFIX + SEARCH_STORE, work / "chunks.sqlite3")
            search["index_snapshots"] = _add_index_snapshots(archive, data / "search")
            echo("search store copied; copying files")
            for tree in TREES:
                for path in _walk(data / tree):
                    archive.add_file(FILES_PREFIX + path.relative_to(data).as_posix(), path)
            for name in SINGLE_FILES:
                archive.add_file(FILES_PREFIX + name, data / name)
            blobs = {name.rsplit("/", 1)[-1]: entry for name, entry in archive.files.items()
                     if name.startswith(FILES_PREFIX + "blobs/")}
            missing = sorted(set(graph.pop("_hashes", [])) - blobs.keys())
            if missing:
                raise BackupError(f"{len(missing)} blobs referenced by the graph are missing from the data "
                                  f"directory (first: {missing[0]})")
            manifest = {
                "format": FORMAT, "version": VERSION, "created_at": int(time.time() * 1000),
                "graph": graph, "search": search,
                "blobs": {"count": len(blobs), "bytes": sum(e[0] for e in blobs.values())},
                "files": archive.files,
            }
            archive.add_bytes(MANIFEST, json.dumps(manifest, ensure_ascii=False, sort_keys=True).encode())
        os.replace(partial, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return BackupResult(target, target.stat().st_size, time.monotonic() - started, manifest)


def open_archive(path: Path) -> tuple[IO[bytes], tarfile.TarFile]:
    """A streaming reader of a backup archive, whatever its compression (told by its first bytes)."""
    raw = path.open("rb")
    magic = raw.read(4)
    raw.seek(0)
    if magic.startswith(ZSTD_MAGIC):
        import zstandard

        stream: IO[bytes] = zstandard.ZstdDecompressor().stream_reader(raw, closefd=True)  # type: ignore[assignment]
        return stream, tarfile.open(fileobj=stream, mode="r|")
    if magic.startswith(GZIP_MAGIC):
        return raw, tarfile.open(fileobj=raw, mode="r|gz")
    raw.close()
    raise BackupError(f"{path} is not a Huitong backup (neither zstd nor gzip)")
