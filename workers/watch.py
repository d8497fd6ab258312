"""The watch folder (like Paperless-ngx's consumption directory).

Files dropped into ``HUITONG_WATCH_DIR`` (sub-folders included) are uploaded for
``HUITONG_WATCH_OWNER`` through the same pipeline as a web upload, placed by the optional mapping
rules file (``HUITONG_WATCH_MAPPING``, the format of ``huitong ingest --mapping``, matched against the
path inside the watch folder), then moved to ``done/`` - or to ``failed/`` beside a ``.reason.txt``
that says why. A beat task scans every few seconds.

Partial writes are never picked up: names starting with ``.`` or ending in ``.part``, ``.tmp``,
``.crdownload`` or ``~`` are ignored (copy under such a name, then rename), and any other file only
once its size and modification time have not changed for ``HUITONG_WATCH_STABLE_SECONDS``. A file is
claimed by renaming it into ``.processing/`` first (atomic within one file system), so two workers
scanning at once never ingest it twice; a claim left by a worker that died is returned to the folder
after :data:`STALE_CLAIM_SECONDS` and ingested again (the owner's duplicate check then makes it the
same document).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from graph.actor import Actor
from graph.errors import DomainError
from graph.store import GraphStore
from graph.usecases import Context, actor_by_username, is_active
from ingest import usecases
from ingest.mapping import MappingError, MappingRules, Placement, load_rules
from settings import Settings

log = logging.getLogger("huitong.watch")

DONE, FAILED, CLAIMED = "done", "failed", ".processing"
IGNORED_SUFFIXES = (".part", ".tmp", ".crdownload", "~", ".reason.txt")
STALE_CLAIM_SECONDS = 15 * 60
FALLBACK_DOMAIN, FALLBACK_ACCESS = "general", "internal"
MAX_PER_SCAN = 200


@dataclass(frozen=True)
class Outcome:
    path: str
    ok: bool
    document_id: str | None = None
    reason: str | None = None


def _candidates(root: Path, now: float, stable_seconds: float) -> list[Path]:
    found = []
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        if here == root:
            dirs[:] = [d for d in dirs if d not in (DONE, FAILED)]
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith(".") or name.endswith(IGNORED_SUFFIXES):
                continue
            path = here / name
            with contextlib.suppress(FileNotFoundError):
                info = path.stat()
                if now - info.st_mtime >= stable_seconds and now - info.st_ctime >= stable_seconds:
                    found.append(path)
    return found


def _stable(path: Path, stable_seconds: float) -> bool:
    """Size and time unchanged across a short look: a writer that appends slowly keeps moving them."""
    first = path.stat()
    time.sleep(min(0.2, stable_seconds))
    second = path.stat()
    return (first.st_size, first.st_mtime_ns) == (second.st_size, second.st_mtime_ns)


def _unique(target: Path) -> Path:
    if not target.exists():
        return target
    stem, suffix = target.name.split(".", 1) if "." in target.name else (target.name, "")
    return target.with_name(f"{stem}-{uuid.uuid4().hex[:8]}{'.' + suffix if suffix else ''}")


def _move(source: Path, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    target = _unique(target)
    os.replace(source, target)
    return target


def _return_stale_claims(root: Path, now: float) -> None:
    claims = root / CLAIMED
    if not claims.is_dir():
        return
    for claim in claims.iterdir():
        with contextlib.suppress(OSError):
            if now - claim.stat().st_mtime < STALE_CLAIM_SECONDS:
                continue
            for path in [p for p in claim.rglob("*") if p.is_file()]:
                _move(path, root / path.relative_to(claim))
            shutil.rmtree(claim, ignore_errors=True)


def celery_enqueue(version_id: str) -> str | None:
    """The extraction of an upload, queued for the workers (as the web door does)."""
    from workers.tasks import enqueue_extraction

    return enqueue_extraction(version_id)


def ingest_file(store: GraphStore, settings: Settings, claimed: Path, relative: str, owner: Actor,
                rules: MappingRules | None, *, enqueue: usecases.Enqueue | None = celery_enqueue) -> Outcome:
    """Upload one claimed file for the owner through the upload use case, placed by the rules; a refusal
    becomes the reason (its code and the technical cause)."""
    fallback = Placement(FALLBACK_DOMAIN, FALLBACK_ACCESS)
    placement = rules.place(relative, fallback) if rules is not None else fallback
    try:
        done = usecases.upload(Context(store, settings), owner, usecases.Upload(claimed, claimed.name),
                               domain=placement.domain, access=placement.access, shares=placement.shares,
                               note=f"watch folder: {relative}", enqueue=enqueue)
    except DomainError as error:
        detail = error.params.get("reason") or ", ".join(f"{k}={v}" for k, v in error.params.items())
        return Outcome(relative, False, reason=f"{error.code}: {detail}" if detail else error.code)
    except OSError as error:
        return Outcome(relative, False, reason=str(error) or type(error).__name__)
    return Outcome(relative, True, document_id=done.document_id)


def scan(store: GraphStore, settings: Settings, *, now: float | None = None,
         enqueue: usecases.Enqueue | None = celery_enqueue) -> dict[str, int]:
    """One pass over the watch folder; returns figures for the log (empty when the folder is off)."""
    if settings.watch_dir is None:
        return {}
    root = settings.watch_dir.resolve()
    root.mkdir(parents=True, exist_ok=True)
    now = time.time() if now is None else now
    _return_stale_claims(root, now)
    owner = actor_by_username(store, settings.watch_owner, door="worker") if settings.watch_owner.strip() else None
    if owner is None or not is_active(store, owner):
        log.warning("watch folder %s: owner %r is not an active user; nothing ingested", root, settings.watch_owner)
        return {"waiting": len(_candidates(root, now, settings.watch_stable_seconds)), "ingested": 0, "failed": 0}
    rules = None
    if settings.watch_mapping is not None:
        try:
            rules = load_rules(settings.watch_mapping)
        except (MappingError, OSError) as error:
            log.warning("watch folder: mapping file unusable, nothing ingested: %s", error)
            return {"ingested": 0, "failed": 0}
    figures = {"ingested": 0, "failed": 0}
    for path in _candidates(root, now, settings.watch_stable_seconds)[:MAX_PER_SCAN]:
        relative = path.relative_to(root).as_posix()
        with contextlib.suppress(FileNotFoundError):
            if not _stable(path, settings.watch_stable_seconds):
                continue
            claim = root / CLAIMED / uuid.uuid4().hex
            claimed = claim / relative
            claimed.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.rename(path, claimed)  # the atomic claim: a second scanner's rename finds nothing
            except FileNotFoundError:
                shutil.rmtree(claim, ignore_errors=True)
                continue
            outcome = ingest_file(store, settings, claimed, relative, owner, rules, enqueue=enqueue)
            if outcome.ok:
                _move(claimed, root / DONE / relative)
                figures["ingested"] += 1
            else:
                moved = _move(claimed, root / FAILED / relative)
                reason = moved.with_name(moved.name + ".reason.txt")
                reason.write_text(json.dumps({"file": relative, "reason": outcome.reason,
                                              "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())},
                                             ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
                figures["failed"] += 1
                log.info("watch folder: %s failed: %s", relative, outcome.reason)
            shutil.rmtree(claim, ignore_errors=True)
    return figures
