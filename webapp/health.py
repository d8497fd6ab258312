"""The platform's health report, shared by ``huitong check`` and the web app."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from graph import GraphError, embedded_server, open_store
from settings import Settings
from workers.broker import broker_ok, worker_report


@dataclass
class HealthReport:
    checks: dict[str, tuple[bool, str]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    warnings: dict[str, str] = field(default_factory=dict)  # reported, but the platform still works
    drift: dict[str, object] | None = None
    workers: dict[str, object] | None = None
    embedding: dict[str, object] | None = None  # serving/configured model and re-embedding progress
    index_build: dict[str, object] | None = None  # the search index's background build (embeddings.builder)

    @property
    def healthy(self) -> bool:
        return all(ok for ok, _ in self.checks.values())

    def as_json(self) -> dict[str, object]:
        body: dict[str, object] = {name: "ok" if ok else "error" for name, (ok, _) in self.checks.items()}
        errors = {name: detail for name, (ok, detail) in self.checks.items() if not ok}
        if errors:
            body["errors"] = errors
        body["counts"] = self.counts
        if self.drift is not None:
            body["index_drift"] = self.drift
        if self.workers is not None:
            body["workers"] = self.workers
        if self.embedding is not None:
            body["embedding"] = self.embedding
        body["index_build"] = self.index_build
        if self.warnings:
            body["warnings"] = self.warnings
        return body


def index_health(settings: Settings) -> tuple[bool, str]:
    """The search index's storage is present and writable."""
    directory: Path = settings.data_dir / "search"
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        return False, str(error)
    if not os.access(directory, os.W_OK):
        return False, f"{directory} is not writable"
    return True, "ok"


def index_build(settings: Settings) -> dict[str, object] | None:
    """The search index's last background build, read from its progress files (no model, no index loaded):
    ``{running, done, total, share_done, ...}`` (see :func:`embeddings.builder.read_progress`), None if none."""
    from embeddings.builder import read_progress

    return read_progress(settings.data_dir / "search")


def model_health(settings: Settings) -> tuple[bool, str]:
    """The embedding model's files are available offline (loading it is left to the processes that embed)."""
    from embeddings.embedder import EmbedderError, resolve_model

    try:
        location = resolve_model(settings.embedding_model)
    except EmbedderError as error:
        return False, str(error)
    if not Path(location).is_dir():
        return False, f"model {settings.embedding_model!r} is not available offline"
    return True, location


def _index_drift(report: HealthReport, store: object, settings: Settings) -> None:
    """Graph and index disagree: search misses documents or holds some the graph lost (a warning: search works)."""
    import sqlite3

    from webapp.search_maintenance import drift

    try:
        found = drift(store, settings)  # type: ignore[arg-type]
    except (GraphError, sqlite3.Error) as error:
        report.warnings["index_drift"] = f"could not compare graph and index: {error}"
        return
    report.drift = found.as_json()
    if not found.clean:
        report.warnings["index_drift"] = found.describe()


def workers_or_none(settings: Settings) -> dict[str, object] | None:
    """The workers' report (see :func:`workers.broker.worker_report`), or None when the broker cannot say."""
    import redis

    try:
        return worker_report(settings)
    except (redis.RedisError, OSError):
        return None


def _workers(report: HealthReport, settings: Settings) -> None:
    """No live worker is a warning, not an error: pages still work, only background work waits."""
    report.workers = workers_or_none(settings)
    if report.workers is not None and not report.workers["alive"]:
        report.warnings["workers"] = f"no live worker; {report.workers['queue_depth']} task(s) waiting"


def check(settings: Settings) -> HealthReport:
    """Check graph, broker, search index and model without starting anything."""
    report = HealthReport()
    if settings.graph == "embedded":
        status = embedded_server(settings).status()
        if not status.running:
            report.checks["graph"] = (False, f"embedded graph server not running ({status.detail})")
    if "graph" not in report.checks:
        store = open_store(settings, start_embedded=False)
        try:
            store.ping()
            report.counts = store.counts()
            report.checks["graph"] = (True, "ok")
            _index_drift(report, store, settings)
        except GraphError as error:
            report.checks["graph"] = (False, str(error))
        finally:
            store.close()
    report.checks["broker"] = broker_ok(settings)
    if report.checks["broker"][0]:
        _workers(report, settings)
    report.checks["index"] = index_health(settings)
    report.checks["model"] = model_health(settings)
    _embedding_progress(report, settings)
    report.index_build = index_build(settings)
    _private_files(report, settings)
    return report


def _embedding_progress(report: HealthReport, settings: Settings) -> None:
    import sqlite3

    from webapp.search_maintenance import model_progress

    try:
        report.embedding = model_progress(settings)
    except (sqlite3.Error, OSError) as error:
        report.warnings["embedding"] = f"could not read the re-embedding progress: {error}"


def _private_files(report: HealthReport, settings: Settings) -> None:
    """Files others may read are a warning: the platform works, but company data is exposed on the host."""
    from graph.private_files import describe_loose, loose_entries

    loose = loose_entries(settings.data_dir)
    if loose:
        report.warnings["files"] = describe_loose(settings.data_dir, loose)
