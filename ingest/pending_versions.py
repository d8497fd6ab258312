"""Uploads held back because their base version was stale: the uploader chooses to add them anyway or cancel.

The bytes are already in the blob store (content-addressed); a small record under
``<data_dir>/pending_versions/<token>.json`` (0600) says whose upload it is, for which document, on
which base. The token is random and only its uploader may use it: holding a hash is never enough to
attach stored bytes to a document. Records older than ``MAX_AGE_S`` are ignored and swept.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from settings import Settings

MAX_AGE_S = 7 * 24 * 3600
_TOKEN_CHARS = frozenset("0123456789abcdef")


@dataclass(frozen=True)
class PendingVersion:
    token: str
    person_id: str
    document_id: str
    sha256: str
    filename: str
    kind: str
    note: str
    base: int
    current: int
    created_at: float


def _root(settings: Settings) -> Path:
    return settings.data_dir / "pending_versions"


def _path(settings: Settings, token: str) -> Path | None:
    if len(token) != 32 or not set(token) <= _TOKEN_CHARS:  # never a path from outside
        return None
    return _root(settings) / f"{token}.json"


def hold(settings: Settings, *, person_id: str, document_id: str, sha256: str, filename: str, kind: str,
         note: str, base: int, current: int) -> PendingVersion:
    """Keep an upload refused for its stale base; returns the record with its token."""
    pending = PendingVersion(secrets.token_hex(16), person_id, document_id, sha256, filename, kind, note, base,
                             current, time.time())
    root = _root(settings)
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = root / f"{pending.token}.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(asdict(pending), fh)
    return pending


def load(settings: Settings, token: str, person_id: str, document_id: str) -> PendingVersion | None:
    """The held upload of ``token`` if it belongs to this person and document and is not too old."""
    path = _path(settings, token)
    if path is None or not path.is_file():
        return None
    try:
        pending = PendingVersion(**json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None
    if pending.person_id != person_id or pending.document_id != document_id:
        return None
    if time.time() - pending.created_at > MAX_AGE_S:
        return None
    return pending


def drop(settings: Settings, token: str) -> None:
    path = _path(settings, token)
    if path is not None:
        path.unlink(missing_ok=True)


def held_hashes(settings: Settings) -> set[str]:
    """Blob hashes held by records still usable (the blob collector must keep them); sweeps expired ones."""
    root = _root(settings)
    if not root.is_dir():
        return set()
    hashes: set[str] = set()
    now = time.time()
    for path in root.glob("*.json"):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if now - float(record.get("created_at", 0)) > MAX_AGE_S:
            path.unlink(missing_ok=True)
            continue
        hashes.add(str(record.get("sha256")))
    return hashes
