"""Walk a zip or tar archive, or a folder, member by member, without trusting anything in it.

Archives come from anywhere: names may climb out of their folder (``../``, absolute paths, drive
letters), links may point at anything, a few kilobytes may inflate to gigabytes, archives may nest
without end and names may be in the sender's code page rather than UTF-8. The walker never writes
a member to a path taken from the archive: the caller reads each member as a stream. What is unsafe
becomes an :class:`Entry` carrying an ``error`` (the walk goes on), so every member is accounted
for; only an archive that cannot be read at all, or whose size or file count is over the limits,
raises :class:`ArchiveError`.

Paths are relative and ``/``-separated. Members of a nested archive are named below it:
``reports/2024.zip/q1/sales.xlsx``.
"""

from __future__ import annotations

import functools
import os
import re
import stat
import struct
import tarfile
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from ingest.reasons import Reason, Refusal

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB

ZIP_SUFFIXES = (".zip",)
TAR_SUFFIXES = (".tar", ".tgz", ".tar.gz", ".tbz2", ".tar.bz2", ".txz", ".tar.xz")
_DRIVE = re.compile(r"^[A-Za-z]:")
_UTF8_FLAG = 0x800
_ENCRYPTED_FLAG = 0x1
_UNICODE_PATH_EXTRA = 0x7075


class ArchiveError(Refusal):
    """The archive as a whole cannot be walked (unreadable, or over a limit); ``reason`` says why."""


@dataclass(frozen=True)
class Limits:
    """Bounds against archive bombs; sizes are uncompressed bytes."""

    max_files: int = 100_000
    max_total_bytes: int = 20 * GIB
    max_member_bytes: int = 200 * MIB
    max_ratio: float = 200.0  # uncompressed : compressed, per member (zip) or per archive stream (tar)
    ratio_floor_bytes: int = 4 * MIB  # below this, any ratio is fine (small text compresses very well)
    max_depth: int = 3  # archive levels opened, the outer one included

    def as_dict(self) -> dict[str, float | int]:
        return {"max_files": self.max_files, "max_total_bytes": self.max_total_bytes,
                "max_member_bytes": self.max_member_bytes, "max_ratio": self.max_ratio,
                "ratio_floor_bytes": self.ratio_floor_bytes, "max_depth": self.max_depth}

    @classmethod
    def from_dict(cls, values: dict[str, float | int] | None) -> Limits:
        known = {k: v for k, v in (values or {}).items() if k in cls.__dataclass_fields__}
        return cls(**known)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Entry:
    """One member: a file to read (``reason`` None) or one refused, with the reason."""

    path: str
    size: int
    reason: Reason | None = None
    opener: Callable[[], IO[bytes]] | None = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return self.reason is None

    @property
    def error(self) -> str | None:
        """The reason as an English sentence (None: readable)."""
        return None if self.reason is None else self.reason.text

    def open(self) -> IO[bytes]:
        """The member's bytes. Read it before the walk moves on: tar members are only readable in turn."""
        if self.opener is None:
            raise ArchiveError(self.reason or Reason.of("ingest.unreadable", detail=self.path))
        return self.opener()


class UnsafePath(Refusal):
    """A member name that could escape its folder; ``reason`` says how."""


def safe_path(name: str) -> str:
    """The member name as a clean relative path; raises :class:`UnsafePath` for names that could escape."""
    if "\x00" in name:
        raise UnsafePath(Reason.of("ingest.path_nul"))
    name = name.replace("\\", "/")
    if name.startswith("/") or _DRIVE.match(name):
        raise UnsafePath(Reason.of("ingest.path_absolute"))
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise UnsafePath(Reason.of("ingest.path_climbs"))
    if not parts:
        raise UnsafePath(Reason.of("ingest.path_empty"))
    return "/".join(parts)


def source_kind(path: Path, name: str | None = None) -> str:
    """``dir``, ``zip`` or ``tar``; raises :class:`ArchiveError` for anything else (naming the source ``name``,
    e.g. the uploaded file's own name, by default the path's)."""
    if path.is_dir():
        return "dir"
    if not path.is_file():
        raise ArchiveError(Reason.of("ingest.source_missing", name=name or path.name))
    if zipfile.is_zipfile(path):
        return "zip"
    with suppress(OSError, tarfile.TarError, EOFError, zlib.error):
        if tarfile.is_tarfile(path):
            return "tar"
    raise ArchiveError(Reason.of("ingest.not_archive", name=name or path.name))


def walk(source: Path, limits: Limits | None = None, workdir: Path | None = None, *,
         name: str | None = None) -> Iterator[Entry]:
    """Every member of the archive or folder at ``source`` (called ``name``, by default the path's), in a stable
    order (archive order, folders sorted)."""
    limits = limits or Limits()
    budget = _Budget(limits)
    kind = source_kind(source, name)
    if kind == "dir":
        yield from _walk_dir(source, budget, workdir)
    else:
        yield from _walk_archive(source, kind, "", 1, budget, workdir, top=True)


# -- budget ------------------------------------------------------------------------------------------------


@dataclass
class _Budget:
    limits: Limits
    files: int = 0
    bytes: int = 0

    def check_archive(self, files: int, declared_bytes: int) -> Reason | None:
        """Why an archive with this many members and bytes may not be unpacked (None: it may)."""
        if self.files + files > self.limits.max_files:
            return Reason.of("ingest.too_many_files", files=files, limit=self.limits.max_files)
        if self.bytes + declared_bytes > self.limits.max_total_bytes:
            return Reason.of("ingest.archive_too_large", size=_size(declared_bytes),
                             limit=_size(self.limits.max_total_bytes))
        return None

    def take(self, size: int) -> Reason | None:
        """Count one member; why it may not be read (None: it may)."""
        self.files += 1
        if self.files > self.limits.max_files:
            return Reason.of("ingest.file_limit", limit=self.limits.max_files)
        if size > self.limits.max_member_bytes:
            return Reason.of("ingest.too_large", size=_size(size), limit=_size(self.limits.max_member_bytes))
        if self.bytes + size > self.limits.max_total_bytes:
            return Reason.of("ingest.total_limit", limit=_size(self.limits.max_total_bytes))
        self.bytes += size
        return None

    def ratio_refusal(self, size: int, compressed: int) -> Reason | None:
        if size <= self.limits.ratio_floor_bytes:
            return None
        ratio = size / max(compressed, 1)
        if ratio > self.limits.max_ratio:
            return Reason.of("ingest.ratio", ratio=f"{ratio:.0f}", limit=f"{self.limits.max_ratio:.0f}")
        return None


def _size(n: int) -> str:
    """A size with its binary unit (the units read the same in every language)."""
    for unit, scale in (("GiB", GIB), ("MiB", MIB), ("KiB", KIB)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


# -- folders -------------------------------------------------------------------------------------------------


def _walk_dir(root: Path, budget: _Budget, workdir: Path | None) -> Iterator[Entry]:
    root = root.resolve()
    for folder, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(folder)
        dirnames.sort()
        for name in [d for d in dirnames if (here / d).is_symlink()]:
            dirnames.remove(name)  # never descended: a link may lead out of the folder or round in a loop
            budget.files += 1
            yield Entry(_rel(here / name, root), 0, Reason.of("ingest.link_folder"))
        for name in sorted(filenames):
            path = here / name
            rel = _rel(path, root)
            target = path.resolve() if path.is_symlink() else path
            if path.is_symlink() and not _inside(target, root):
                budget.files += 1
                yield Entry(rel, 0, Reason.of("ingest.link_outside"))
                continue
            try:
                info = target.stat()
            except OSError as error:
                budget.files += 1
                yield Entry(rel, 0, Reason.of("ingest.unreadable", detail=str(error.strerror or error)))
                continue
            if not stat.S_ISREG(info.st_mode):
                budget.files += 1
                yield Entry(rel, 0, Reason.of("ingest.not_regular"))
                continue
            yield from _member(rel, info.st_size, _file_opener(target), 0, budget, workdir)


def _rel(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
    except ValueError:
        return False
    return True


# -- archives ------------------------------------------------------------------------------------------------


def _file_opener(path: Path) -> Callable[[], IO[bytes]]:
    return lambda: path.open("rb")


def _member(path: str, size: int, opener: Callable[[], IO[bytes]], depth: int, budget: _Budget,
            workdir: Path | None, compressed: int | None = None) -> Iterator[Entry]:
    """One regular file found at ``depth``: yielded as is, or unpacked when it is itself an archive."""
    nested = _archive_suffix(path)
    if nested is None:
        refusal = budget.take(size) or (budget.ratio_refusal(size, compressed) if compressed is not None else None)
        yield Entry(path, size, refusal, None if refusal else opener)
        return
    if compressed is not None and (refusal := budget.ratio_refusal(size, compressed)):
        budget.files += 1
        yield Entry(path, size, refusal)
        return
    if depth + 1 > budget.limits.max_depth:
        budget.files += 1
        yield Entry(path, size, Reason.of("ingest.too_deep", limit=budget.limits.max_depth))
        return
    if size > budget.limits.max_total_bytes - budget.bytes:
        budget.files += 1
        yield Entry(path, size, Reason.of("ingest.nested_too_large", limit=_size(budget.limits.max_total_bytes)))
        return
    yield from _unpack_nested(path, size, opener, nested, depth + 1, budget, workdir)


def _archive_suffix(path: str) -> str | None:
    lower = path.lower()
    if lower.endswith(ZIP_SUFFIXES):
        return "zip"
    if lower.endswith(TAR_SUFFIXES):
        return "tar"
    return None


def _unpack_nested(path: str, size: int, opener: Callable[[], IO[bytes]], kind: str, depth: int, budget: _Budget,
                   workdir: Path | None) -> Iterator[Entry]:
    if workdir is not None:
        workdir.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix="ht-nested-", suffix=".archive", dir=workdir)
    temp = Path(name)
    try:
        try:
            with os.fdopen(fd, "wb") as out, opener() as stream:
                # The declared size bounds the copy: a lying header cannot make us write more.
                copied = _copy_bounded(stream, out, size)
        except Exception as error:  # a broken member must not end the walk of the rest
            budget.files += 1
            yield Entry(path, size, Reason.failure("ingest.nested_unreadable", error))
            return
        if copied > size:
            budget.files += 1
            yield Entry(path, size, Reason.of("ingest.nested_longer"))
            return
        try:
            actual = source_kind(temp)
        except ArchiveError:
            actual = None
        if actual != kind:
            budget.files += 1
            yield Entry(path, size, Reason.of("ingest.not_that_archive", format=kind))
            return
        yield from _walk_archive(temp, kind, path + "/", depth, budget, workdir, top=False)
    finally:
        with suppress(FileNotFoundError):
            temp.unlink()


def _copy_bounded(stream: IO[bytes], out: IO[bytes], limit: int) -> int:
    copied = 0
    while chunk := stream.read(MIB):
        copied += len(chunk)
        if copied > limit:
            return copied
        out.write(chunk)
    return copied


def _walk_archive(path: Path, kind: str, prefix: str, depth: int, budget: _Budget, workdir: Path | None,
                  *, top: bool) -> Iterator[Entry]:
    walker = _walk_zip if kind == "zip" else _walk_tar
    label = prefix.rstrip("/") or path.name
    seen = 0
    try:
        for entry in walker(path, prefix, depth, budget, workdir, top):
            seen += 1
            yield entry
    except ArchiveError:
        if top and not seen:
            raise
        budget.files += 1
        yield Entry(label, 0, Reason.of("ingest.over_limits") if not seen else
                    Reason.of("ingest.over_limits_after", seen=seen))
    except (zipfile.BadZipFile, tarfile.TarError, OSError, EOFError, zlib.error) as error:
        if top and not seen:
            raise ArchiveError(Reason.failure("ingest.damaged", error)) from None
        budget.files += 1
        # What was read so far stands; the damage itself is reported as one failed entry.
        yield Entry(label, 0, Reason.failure("ingest.damaged_after", error, seen=seen))


def _walk_zip(path: Path, prefix: str, depth: int, budget: _Budget, workdir: Path | None,
              top: bool) -> Iterator[Entry]:
    with zipfile.ZipFile(path) as archive:
        infos = [i for i in archive.infolist() if not i.is_dir()]
        refusal = budget.check_archive(len(infos), sum(i.file_size for i in infos))
        if refusal:
            if top:
                raise ArchiveError(refusal)
            budget.files += 1
            yield Entry(prefix.rstrip("/"), 0, refusal)
            return
        for info in infos:
            name = zip_member_name(info)
            try:
                rel = prefix + safe_path(name)
            except UnsafePath as error:
                budget.files += 1
                yield Entry(prefix + name, info.file_size, error.reason)
                continue
            if stat.S_ISLNK(info.external_attr >> 16):
                budget.files += 1
                yield Entry(rel, info.file_size, Reason.of("ingest.link_inside"))
                continue
            if info.flag_bits & _ENCRYPTED_FLAG:
                budget.files += 1
                yield Entry(rel, info.file_size, Reason.of("ingest.encrypted_member"))
                continue
            yield from _member(rel, info.file_size, functools.partial(archive.open, info), depth, budget, workdir,
                               compressed=info.compress_size)


def zip_member_name(info: zipfile.ZipInfo) -> str:
    """The member's real name. Zips made on Chinese Windows store GBK names without the UTF-8 flag,
    which zipfile reads as cp437: recover the bytes and decode them as UTF-8 (tools that forget the
    flag), then GBK, keeping cp437 only when neither fits. The Info-ZIP Unicode path field wins."""
    if info.flag_bits & _UTF8_FLAG:
        return info.filename
    try:
        raw = info.filename.encode("cp437")
    except UnicodeEncodeError:
        return info.filename
    unicode_name = _unicode_path_field(info.extra, raw)
    if unicode_name is not None:
        return unicode_name
    if raw.isascii():
        return info.filename
    for encoding in ("utf-8", "gbk", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return info.filename


def _unicode_path_field(extra: bytes, raw_name: bytes) -> str | None:
    offset = 0
    while offset + 4 <= len(extra):
        tag, length = struct.unpack_from("<HH", extra, offset)
        data = extra[offset + 4: offset + 4 + length]
        offset += 4 + length
        if tag == _UNICODE_PATH_EXTRA and len(data) > 5 and data[0] == 1:
            (crc,) = struct.unpack_from("<I", data, 1)
            if crc == zlib.crc32(raw_name):  # the field describes this very name, not an older one
                with suppress(UnicodeDecodeError):
                    return data[5:].decode("utf-8")
    return None


def _walk_tar(path: Path, prefix: str, depth: int, budget: _Budget, workdir: Path | None,
              top: bool) -> Iterator[Entry]:
    compressed = path.stat().st_size
    inflated = 0
    with tarfile.open(path, "r:*") as archive:
        for member in archive:
            if member.isdir():
                continue
            name = tar_member_name(member.name)
            try:
                rel = prefix + safe_path(name)
            except UnsafePath as error:
                budget.files += 1
                yield Entry(prefix + name, member.size, error.reason)
                continue
            if member.issym() or member.islnk():
                budget.files += 1
                yield Entry(rel, 0, Reason.of("ingest.link_inside"))
                continue
            if not member.isfile():
                budget.files += 1
                yield Entry(rel, 0, Reason.of("ingest.not_regular"))
                continue
            inflated += member.size
            # Compression covers the whole tar stream, so the ratio is judged on everything so far.
            refusal = budget.ratio_refusal(inflated, compressed)
            if refusal:
                if top:
                    raise ArchiveError(refusal)
                budget.files += 1
                yield Entry(prefix.rstrip("/"), inflated, refusal)
                return
            opener = functools.partial(_tar_stream, archive, member)
            yield from _member(rel, member.size, opener, depth, budget, workdir)


def _tar_stream(archive: tarfile.TarFile, member: tarfile.TarInfo) -> IO[bytes]:
    stream = archive.extractfile(member)
    if stream is None:
        raise ArchiveError(Reason.of("ingest.not_regular"))
    return stream


def tar_member_name(name: str) -> str:
    """tarfile decodes names as UTF-8 with escapes; names written on Chinese Windows are GBK."""
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        raw = name.encode("utf-8", "surrogateescape")
    for encoding in ("gbk", "gb18030"):
        with suppress(UnicodeDecodeError):
            return raw.decode(encoding)
    return raw.decode("utf-8", "replace")


