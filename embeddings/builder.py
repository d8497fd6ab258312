"""Large catch-ups built aside, in a background thread, while search answers from the current indexes.

A web process that starts on a big store without a recent snapshot, or that falls far behind (a bulk import,
a restored backup), used to apply every new row under the search lock: at 1M chunks the HNSW inserts alone take
minutes, and every search waited for them. Now a catch-up larger than ``BACKGROUND_ROWS`` is built on a separate
copy of the state (loaded from the last snapshot), in steps of ``STEP_ROWS`` rows with progress; searches go on
against the previous state meanwhile, and the finished state is saved as a snapshot and swapped in under the
lock in one assignment. The price is a second copy of the indexes in memory during the build.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from embeddings.snapshot import Snapshot
from embeddings.store import NewRow, Watermark

log = logging.getLogger(__name__)

BACKGROUND_ROWS = 20_000  # a catch-up of more rows than this is built aside (~6 s of HNSW inserts at 1M)
STEP_ROWS = 10_000  # rows read, embedded if needed and indexed per step of a build (progress moves per step)


@dataclass
class BuildProgress:
    model: str
    rows_total: int  # rows to add when the build started (more may arrive meanwhile)
    rows_done: int = 0
    started: float = 0.0  # epoch seconds
    finished: float | None = None
    error: str | None = None

    def as_dict(self) -> dict[str, object]:
        out = asdict(self)
        out["running"] = self.finished is None
        out["share_done"] = round(min(1.0, self.rows_done / self.rows_total), 4) if self.rows_total else 1.0
        return out


class BackgroundBuild:
    """At most one build at a time; its result is taken once by the thread that swaps it in."""

    def __init__(self) -> None:
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
            progress = self.progress = BuildProgress(model, rows_total, started=time.time())
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
        if len(rows) < STEP_ROWS:
            break
    save(state)
    return state
