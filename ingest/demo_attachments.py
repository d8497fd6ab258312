"""Real files for the demo history's workflow runs whose start form requires one (invoices, contracts...).

Each such run gets a small generated document (Markdown, in the language of the demo) stored through
the workflow attachment path (:mod:`ingest.workflow_attachments`): owned by the run's initiator,
extracted, indexed, attached to the run's first task, readable by the run's participants. The
content is derived from the run, so a rerun stores nothing new (the same bytes of the same owner are
the same document) and runs that already have files are skipped.
"""

from __future__ import annotations

import hashlib
import io
import time
from dataclasses import dataclass
from typing import Any

from graph.actor import Actor
from graph.store import GraphStore
from graph.usecases import Context
from graph.workflows import usecases
from ingest import processing, workflow_attachments
from settings import Settings

BATCH = 200  # versions extracted (and indexed) together
# The newest runs (every open one among them) get files on a first start; older history stays without, so
# ``serve`` on a fresh data directory starts within seconds (each file is a full upload, extraction and index).
DEMO_RUNS = 200


@dataclass
class DemoFilesResult:
    runs: int = 0
    files: int = 0
    seconds: float = 0.0


def _content(run: dict[str, Any], field: dict[str, Any]) -> bytes:
    label = field.get("label") or {}
    zh, en = label.get("zh") or field["name"], label.get("en") or field["name"]
    number = int(hashlib.sha256(run["run_id"].encode()).hexdigest()[:6], 16)
    amount = 200 + number % 9_800
    text = (f"# {zh} {en}\n\n"
            f"- 流程 Run: {run['title']}\n"
            f"- 编号 Number: HT-{number:07d}\n"
            f"- 金额 Amount: {amount} 元 CNY\n\n"
            f"本文件为流程“{run['title']}”的{zh}，供审批人核对。\n\n"
            f"This {en.lower()} belongs to the run \"{run['title']}\" and is checked by its approvers.\n")
    return text.encode()


def attach_demo_files(store: GraphStore, settings: Settings, *, index: bool = True,
                      limit: int = DEMO_RUNS) -> DemoFilesResult:
    """Give the newest ``limit`` demo runs whose workflow requires a file (and that have none yet) a real one."""
    started = time.perf_counter()
    result = DemoFilesResult()
    pending: list[str] = []
    for run in usecases.runs_needing_files(store, limit=limit):
        actor = Actor(run["initiator_id"], door="cli", address="demo")
        posted = [workflow_attachments.PostedFile(f["name"], f"{f['name']}-{run['run_id'][:8]}.md",
                                                  io.BytesIO(_content(run, f))) for f in run["fields"]]
        files = workflow_attachments.store_files(Context(store, settings), actor, posted, enqueue=None)
        usecases.record_start_files(store, run, files, at=run["started_at"] or 0)
        pending += [ref["version_id"] for refs in files.values() for ref in refs]
        result.runs += 1
        result.files += len(posted)
        if len(pending) >= BATCH:
            processing.process_versions_now(store, settings, pending, index=index)
            pending = []
    if pending:
        processing.process_versions_now(store, settings, pending, index=index)
    result.seconds = time.perf_counter() - started
    return result
