"""Large catch-ups built aside, in a background thread, while search answers from the current indexes.

A web process that starts on a big store without a recent snapshot, or that falls far behind (a bulk import,
a restored backup), used to apply every new row under the search lock: at 1M chunks the HNSW inserts alone take
minutes, and every search waited for them. Now a catch-up larger than ``BACKGROUND_ROWS`` is built on a separate
copy of the state (loaded from the last snapshot), in steps of ``STEP_ROWS`` rows with progress; searches go on
against the previous state meanwhile, and the finished state is saved as a snapshot and swapped in under the
lock in one assignment. The price is a second copy of the indexes in memory during the build.

The build runs in a web process, so its progress is also written to ``search/builds/<pid>.json`` at the start,
after every step and at the end: ``huitong check --json`` and ``/healthz`` read it from there (``index_build``).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from embeddings.snapshot import Snapshot
from embeddings.store import NewRow, Watermark

log = logging.getLogger(__name__)

BACKGROUND_ROWS = 20_000  # a catch-up of more rows than this is built aside (~6 s of HNSW inserts at 1M)
STEP_ROWS = 10_000  # rows read, embedded if needed and indexed per step of a build (progress moves per step)
PROGRESS_DIR = "builds"  # under the index's folder: one file per process that built aside


@dataclass
class BuildProgress:
    model: str
    rows_total: int  # rows to add when the build started (more may arrive meanwhile)
    rows_done: int = 0
    started: float = 0.0  # epoch seconds
    finished: float | None = None
    error: str | None = None
    path: Path | None = field(default=None, repr=False)  # where ``publish`` writes it (None: nowhere)

    def as_dict(self) -> dict[str, object]:
        out = asdict(self)
        out.pop("path")
        out["running"] = self.finished is None
        out["share_done"] = round(min(1.0, self.rows_done / self.rows_total), 4) if self.rows_total else 1.0
        return out

    def publish(self) -> None:
        """Write the progress for other processes (atomically: a reader sees the previous or the new figures)."""
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.parent / f".tmp-{uuid.uuid4().hex[:8]}"
            tmp.write_text(json.dumps({**self.as_dict(), "pid": os.getpid(), "updated": time.time()}), "utf-8")
            os.replace(tmp, self.path)
        except OSError as error:  # progress is a report: the build goes on without it
            log.warning("cannot write the index build progress to %s: %s", self.path, error)


class BackgroundBuild:
    """At most one build at a time; its result is taken once by the thread that swaps it in."""

    def __init__(self, progress_dir: Path | None = None) -> None:
        self.progress_dir = progress_dir  # where progress is published for other processes (None: not published)
        self.progress: BuildProgress | None = None
        self._thread: threading.Thread | None = None
        self._result: Snapshot | None = None
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, model: str, rows_total: int, work: Callable[[BuildProgress], Snapshot]) -> None:
        with self._lock:
            if self.running:
                return
            path = None
            if self.progress_dir is not None:
                _forget_dead(self.progress_dir)
                path = self.progress_dir / f"{os.getpid()}.json"
            progress = self.progress = BuildProgress(model, rows_total, started=time.time(), path=path)
            progress.publish()
            self._result = None

            def run() -> None:
                try:
                    result = work(progress)
                except Exception as error:  # reported in the progress; the next refresh starts over
                    log.exception("background index build failed")
                    progress.error = f"{type(error).__name__}: {error}"
                    result = None
                with self._lock:
                    self._result = result
                    progress.finished = time.time()
                progress.publish()

            self._thread = threading.Thread(target=run, name="search-index-build", daemon=True)
            self._thread.start()
        log.info("building the search index aside: %d rows", rows_total)

    def wait(self) -> None:
        thread = self._thread
        if thread is not None:
            thread.join()

    def take(self, model: str) -> Snapshot | None:
        """The finished build's state, once, if it was built for ``model`` (a model switch voids it)."""
        with self._lock:
            result, self._result = self._result, None
            progress = self.progress
        if result is None or progress is None or progress.model != model:
            return None
        return result


def build_in_steps(
    progress: BuildProgress,
    state: Snapshot,
    changes: Callable[[Watermark, int], tuple[Watermark, list[NewRow], list[int]]],
    index_rows: Callable[[Snapshot, list[NewRow]], None],
    save: Callable[[Snapshot], Path],
) -> Snapshot:
    """Catch ``state`` up with the store ``STEP_ROWS`` rows at a time, then save it as a snapshot (the next
    process starts from it)."""
    while True:
        mark, rows, removed = changes(state.watermark, STEP_ROWS)
        if rows:
            index_rows(state, rows)
        state.catalog.remove(removed)
        state.watermark = mark
        progress.rows_done += len(rows)
        progress.publish()
        if len(rows) < STEP_ROWS:
            break
    save(state)
    return state


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another account's process: alive
        return True
    return True


def _published(folder: Path) -> list[dict[str, object]]:
    found = []
    for path in folder.glob("*.json"):
        try:
            item = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):  # removed or replaced while we looked
            continue
        if isinstance(item, dict):
            found.append(item)
    return found


def _forget_dead(folder: Path) -> None:
    """Drop the files of processes that are gone (their builds ended with them, or were reported)."""
    for item in _published(folder):
        pid = item.get("pid")
        if isinstance(pid, int) and pid != os.getpid() and not _alive(pid):
            (folder / f"{pid}.json").unlink(missing_ok=True)


def _number(value: object) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


def read_progress(index_root: Path) -> dict[str, object] | None:
    """What ``huitong check`` and ``/healthz`` say as ``index_build`` (read-only; None when no process of this
    data directory built aside): while builds run, the least advanced one (search waits for none, but that one
    is furthest from serving the new rows); otherwise the latest one. A build whose process died before the
    end is reported as ``interrupted`` (the next process starts over from the last snapshot)."""
    builds = _published(Path(index_root) / PROGRESS_DIR)
    if not builds:
        return None
    for item in builds:
        pid = item.get("pid")
        item["running"] = bool(item.get("running")) and isinstance(pid, int) and _alive(pid)
    running = [item for item in builds if item["running"]]
    if running:
        item = min(running, key=lambda b: _number(b.get("share_done")))
    else:
        item = max(builds, key=lambda b: _number(b.get("updated")))
    finished = item.get("finished")
    # a running build's time so far; an interrupted one's until its last step
    end = _number(finished) if finished is not None else time.time() if running else _number(item.get("updated"))
    return {
        "running": bool(running), "done": item.get("rows_done"), "total": item.get("rows_total"),
        "share_done": item.get("share_done"), "model": item.get("model"), "started": item.get("started"),
        "finished": finished, "seconds": round(end - _number(item.get("started")), 1), "error": item.get("error"),
        "interrupted": not running and finished is None, "processes": len(running),
    }
