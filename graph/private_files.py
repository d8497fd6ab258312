"""Files at rest are private: the data directory is 0700 and everything the platform writes is 0600.

Documents, their extracted text, the search index and the graph's append-only log are company
data; another account on the same host must not read them. Rather than a ``chmod`` after every
write (forgotten once, leaked forever), every entry point sets the process umask to 077 before it
creates anything — CLI, web app factory, Celery worker/beat and the embedded graph server — so
files are born private. :func:`loose_entries` finds what predates this (or was copied in by hand)
so start-up and ``huitong check`` can warn.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from collections.abc import Callable
from pathlib import Path

PRIVATE_UMASK = 0o077
DIR_MODE = 0o700
FILE_MODE = 0o600
READ_ONLY_MODE = 0o400  # content-addressed blobs: never modified after they are written
SCAN_LIMIT = 20_000  # entries looked at by a start-up scan: enough to notice, cheap on a big store

log = logging.getLogger(__name__)


def apply_umask() -> int:
    """Make every file and directory this process creates from now on private; returns the previous umask."""
    return os.umask(PRIVATE_UMASK)


def secure_data_dir(data_dir: Path) -> Path:
    """Create the data directory 0700 (or tighten it to 0700 when we own it); returns it."""
    data_dir.mkdir(parents=True, exist_ok=True)
    info = data_dir.stat()
    if stat.S_IMODE(info.st_mode) & PRIVATE_UMASK and info.st_uid == os.geteuid():
        os.chmod(data_dir, DIR_MODE)
    return data_dir


def loose_entries(data_dir: Path, limit: int = SCAN_LIMIT) -> list[Path]:
    """Paths under ``data_dir`` (itself included) that group or others may read, write or enter.

    Stops after ``limit`` entries have been looked at; sockets are skipped (their directory guards them).
    """
    if not data_dir.exists():
        return []
    found: list[Path] = []
    seen = 0
    for path in _walk(data_dir):
        seen += 1
        if seen > limit:
            break
        try:
            mode = path.lstat().st_mode
        except OSError:  # removed while we looked (temporary files)
            continue
        if stat.S_ISSOCK(mode) or stat.S_ISLNK(mode):
            continue
        if stat.S_IMODE(mode) & PRIVATE_UMASK:
            found.append(path)
    return found


def _walk(root: Path):  # type: ignore[no-untyped-def]
    yield root
    for folder, dirs, files in os.walk(root):
        base = Path(folder)
        for name in dirs:
            yield base / name
        for name in files:
            yield base / name


def describe_loose(data_dir: Path, loose: list[Path]) -> str:
    shown = ", ".join(f"{p} ({stat.S_IMODE(p.lstat().st_mode):o})" for p in loose[:3] if p.exists())
    more = f" and {len(loose) - 3} more" if len(loose) > 3 else ""
    return (f"{len(loose)} path(s) under {data_dir} are readable by other accounts: {shown}{more}; "
            f"fix with: chmod -R go-rwx {data_dir}")


def secure_process(data_dir: Callable[[], Path], *errors: type[Exception]) -> None:
    """Private umask now, and a 0700 data directory when the settings name one (``errors``: what loading the
    settings may raise — the command itself reports unusable settings; check and start-up warn about files)."""
    apply_umask()
    with contextlib.suppress(OSError, *errors):
        secure_data_dir(data_dir())


def warn_if_loose(data_dir: Path) -> str | None:
    """Log a warning when the data directory holds files others may read; returns the warning text."""
    loose = loose_entries(data_dir)
    if not loose:
        return None
    message = describe_loose(data_dir, loose)
    log.warning("%s", message)
    return message


def start_private(data_dir: Path) -> str | None:
    """What every entry point runs first: private umask, a 0700 data directory, a warning about older files."""
    apply_umask()
    try:
        secure_data_dir(data_dir)
    except OSError as error:  # read-only or foreign data directory: the warning below says what is wrong
        log.warning("cannot secure the data directory %s: %s", data_dir, error)
    return warn_if_loose(data_dir)
