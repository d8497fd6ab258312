"""``huitong restore FILE``: an archive of :mod:`ingest.backup` laid onto an EMPTY data directory.

Refusing a non-empty directory is the whole safety story: nothing of an existing platform is ever
overwritten or mixed with a backup. Members are written as they stream out of the archive (files
0600, folders 0700), each hashed on the way and checked against the manifest at the end; any
mismatch, unknown or unsafe member, or missing file undoes everything written. The graph snapshot
becomes the base of the server's AOF (see :func:`graph.rdb_snapshot.install`), then the server is
started once and its node counts compared with those the backup recorded.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from ingest.backup import FILES_PREFIX, FORMAT, GRAPH_MEMBER, MANIFEST, VERSION, BackupError, open_archive
from settings import Settings

CHUNK = 1024 * 1024


class RestoreRefused(BackupError):
    """The target is not an empty data directory, or the archive is not one we can restore."""


@dataclass
class RestoreResult:
    data_dir: Path
    files: int
    bytes: int
    seconds: float
    counts: dict[str, int] = field(default_factory=dict)
    manifest: dict[str, Any] = field(default_factory=dict)


def _check_empty(data_dir: Path) -> None:
    if data_dir.exists() and (not data_dir.is_dir() or any(data_dir.iterdir())):
        raise RestoreRefused(
            f"{data_dir} is not empty: restore only onto an empty data directory "
            "(point HUITONG_DATA_DIR at a new folder, or move the old one away first)")


def _destination(data_dir: Path, staging: Path, name: str) -> Path:
    """Where member ``name`` goes; anything but a plain relative path under our two prefixes is refused."""
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise RestoreRefused(f"unsafe path in archive: {name!r}")
    if name == GRAPH_MEMBER:
        return staging / "dump.rdb"
    # The graph server's own files come only from the snapshot, never as plain files.
    if name.startswith(FILES_PREFIX) and len(path.parts) > 1 and path.parts[1] != "graph":
        return data_dir.joinpath(*path.parts[1:])
    raise RestoreRefused(f"unexpected member in archive: {name!r}")


def _mkdirs(path: Path, root: Path) -> None:
    missing = []
    while not path.exists() and path != root:
        missing.append(path)
        path = path.parent
    for folder in reversed(missing):
        folder.mkdir(mode=0o700)


def _write(source: Any, target: Path) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    return size, digest.hexdigest()


def _verify(manifest: dict[str, Any], seen: dict[str, list[Any]]) -> None:
    if manifest.get("format") != FORMAT:
        raise RestoreRefused("the archive is not a Huitong backup (no manifest of ours)")
    if int(manifest.get("version", 0)) > VERSION:
        raise RestoreRefused(f"backup format version {manifest.get('version')} is newer than this Huitong "
                             f"understands ({VERSION}); restore with a newer release")
    expected: dict[str, list[Any]] = manifest.get("files", {})
    for name, entry in expected.items():
        if name not in seen:
            raise BackupError(f"archive incomplete: {name} is missing")
        if list(seen[name]) != list(entry):
            raise BackupError(f"archive damaged: {name} does not match its recorded size and SHA-256")
    extra = sorted(set(seen) - set(expected))
    if extra:
        raise BackupError(f"archive holds members its manifest does not list (first: {extra[0]})")
    for name, (_, sha256) in expected.items():
        if name.startswith(FILES_PREFIX + "blobs/") and name.rsplit("/", 1)[-1] != sha256:
            raise BackupError(f"blob {name} does not hold the content its name says")


def _extract(source: Path, data_dir: Path, staging: Path) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    stream, tar = open_archive(source)
    manifest: dict[str, Any] | None = None
    seen: dict[str, list[Any]] = {}
    with contextlib.closing(stream), tar:
        for member in tar:
            if not member.isfile():
                raise RestoreRefused(f"unexpected non-file member in archive: {member.name!r}")
            reader = tar.extractfile(member)
            if reader is None:
                raise RestoreRefused(f"unreadable member in archive: {member.name!r}")
            if member.name == MANIFEST:
                manifest = json.loads(reader.read().decode("utf-8"))
                continue
            target = _destination(data_dir, staging, member.name)
            _mkdirs(target.parent, data_dir)
            seen[member.name] = list(_write(reader, target))
    if manifest is None:
        raise BackupError("archive incomplete: it has no manifest (was the backup interrupted?)")
    return manifest, seen


def _check_graph(settings: Settings, manifest: dict[str, Any]) -> dict[str, int]:
    from graph import embedded_server
    from graph.falkordb_backend import FalkorStore

    server = embedded_server(settings)
    started = server.ensure_running()
    try:
        with contextlib.closing(FalkorStore(server, settings.graph_name)) as store:
            counts = store.counts()
    finally:
        if started:
            server.stop()
    recorded = {k: int(v) for k, v in manifest["graph"].get("counts", {}).items()}
    if counts != recorded:
        raise BackupError(f"restored graph does not hold what was backed up: {counts} != {recorded}")
    return counts


def restore(settings: Settings, source: Path, *, check: bool = True) -> RestoreResult:
    """Restore ``source`` into ``settings.data_dir``, which must be empty or absent."""
    started = time.monotonic()
    data_dir = settings.data_dir.resolve()
    _check_empty(data_dir)
    if not source.is_file():
        raise RestoreRefused(f"{source} is not a file")
    created = not data_dir.exists()
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(data_dir, 0o700)
    staging = data_dir / ".restore"
    staging.mkdir(mode=0o700)
    try:
        manifest, seen = _extract(source, data_dir, staging)
        _verify(manifest, seen)
        counts: dict[str, int] = {}
        if manifest["graph"].get("included"):
            if settings.graph != "embedded":
                raise RestoreRefused("this archive holds an embedded graph; set HUITONG_GRAPH=embedded to restore it")
            from graph import rdb_snapshot

            rdb_snapshot.install(staging / "dump.rdb", settings.graph_dir)
            if check:
                counts = _check_graph(settings, manifest)
        shutil.rmtree(staging)
    except BaseException:
        # The directory was empty: take back everything written, so a retry starts clean.
        _stop_server_quietly(settings)
        if created:
            shutil.rmtree(data_dir, ignore_errors=True)
        else:
            for child in data_dir.iterdir():
                shutil.rmtree(child, ignore_errors=True) if child.is_dir() else child.unlink(missing_ok=True)
        raise
    total = sum(int(entry[0]) for entry in seen.values())
    return RestoreResult(data_dir, len(seen), total, time.monotonic() - started, counts, manifest)


def _stop_server_quietly(settings: Settings) -> None:
    with contextlib.suppress(Exception):
        from graph import embedded_server

        embedded_server(settings).stop()
