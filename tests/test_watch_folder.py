"""The watch folder end to end: files dropped in a real folder are uploaded for the owner through the real
pipeline, placed by a mapping rules file, extracted by the real Celery worker, and moved to done/ or to
failed/ with a reason; partial and still-changing files are left alone; two scanners never take one file
twice."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from pathlib import Path

from helpers import wait_until

from graph import document_rows
from graph.falkordb_backend import FalkorStore
from settings import Settings, load_settings
from workers.watch import scan

RULES = """
rules:
  - path: 财务/**
    domain: finance
    access: internal
    department: {department}
"""


def _settings(base: Settings, root: Path, **more: object) -> Settings:
    return load_settings(data_dir=base.data_dir, watch_dir=root / "inbox", watch_owner="admin",
                         watch_stable_seconds=1, **more)


def test_dropped_files_are_ingested_placed_and_moved(demo: FalkorStore, settings: Settings,
                                                     celery_worker: subprocess.Popen[bytes], tmp_path: Path) -> None:
    code = _departments(demo)[0]
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES.format(department=code), encoding="utf-8")
    config = _settings(settings, tmp_path, watch_mapping=rules)
    inbox = config.watch_dir
    assert inbox is not None
    (inbox / "财务").mkdir(parents=True)
    stamp = time.time_ns()
    (inbox / "财务" / "budget.txt").write_text(f"Finance budget plan {stamp}: travel 3000, training 5000.\n")
    (inbox / "notes.md").write_text(f"# Weekly notes {stamp}\n\nThe watch folder picked this up.\n")
    (inbox / "empty.bin").write_bytes(b"")
    (inbox / "scan.pdf.part").write_bytes(b"%PDF-1.4 still being copied")
    (inbox / ".hidden.txt").write_text("editor lock file")
    time.sleep(1.2)  # the three files are now stable for longer than HUITONG_WATCH_STABLE_SECONDS
    (inbox / "fresh.txt").write_text(f"just written {stamp}\n")  # not yet

    figures = scan(demo, config)
    assert figures == {"ingested": 2, "failed": 1}
    assert sorted(p.relative_to(inbox).as_posix() for p in inbox.rglob("*") if p.is_file()) == [
        ".hidden.txt", "done/notes.md", "done/财务/budget.txt", "failed/empty.bin", "failed/empty.bin.reason.txt",
        "fresh.txt", "scan.pdf.part"]
    reason = json.loads((inbox / "failed" / "empty.bin.reason.txt").read_text(encoding="utf-8"))
    assert reason["file"] == "empty.bin" and "empty" in reason["reason"]

    from graph.queries import documents as doc_queries

    budget = _document_by_sha(demo, inbox / "done" / "财务" / "budget.txt")
    assert budget["owner_username"] == "admin" and budget["domain"] == "finance"
    shares = demo.run(doc_queries.SHARES_OF, {"id": budget["id"]})
    assert [(s["label"], s["code"]) for s in shares] == [("Department", code)]
    notes = _document_by_sha(demo, inbox / "done" / "notes.md")
    assert notes["domain"] == "general" and notes["access"] == "internal"
    # The real worker extracts what the watch folder uploaded.
    assert wait_until(lambda: (document_rows.get_document(demo, budget["id"]) or {}).get("status") == "ok", timeout=120)

    time.sleep(1.1)
    assert scan(demo, config) == {"ingested": 1, "failed": 0}
    assert (inbox / "done" / "fresh.txt").exists()


def _document_by_sha(store: FalkorStore, path: Path) -> dict:  # type: ignore[type-arg]
    import hashlib

    from graph.queries import documents as q

    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    rows = store.run(q.DOCUMENTS_BY_SHA, {"sha256": sha})
    assert rows, f"no document holds {path.name}"
    return document_rows.get_document(store, rows[0]["id"]) or {}


def _departments(store: FalkorStore) -> list[str]:
    from graph import accounts

    return [d["code"] for d in accounts.list_departments(store)]


def test_two_scanners_never_take_one_file_twice(demo: FalkorStore, settings: Settings, tmp_path: Path) -> None:
    config = _settings(settings, tmp_path)
    inbox = config.watch_dir
    assert inbox is not None
    inbox.mkdir(parents=True)
    for n in range(6):
        (inbox / f"race-{n}.txt").write_text(f"race {n} {time.time_ns()}\n")
    old = time.time() - 10
    for path in inbox.iterdir():
        os.utime(path, (old, old))
    time.sleep(1.1)
    results: list[dict[str, int]] = []
    second = FalkorStore(demo.server, demo.graph_name)
    threads = [threading.Thread(target=lambda s=s: results.append(scan(s, config, enqueue=None)))
               for s in (demo, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    second.close()
    assert sum(r["ingested"] for r in results) == 6
    assert sorted(p.name for p in (inbox / "done").iterdir()) == [f"race-{n}.txt" for n in range(6)]


def test_an_empty_variable_turns_the_watch_folder_off(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("HUITONG_WATCH_DIR", "")
    monkeypatch.setenv("HUITONG_WATCH_MAPPING", " ")
    config = load_settings()
    assert config.watch_dir is None and config.watch_mapping is None  # not Path("") (the current directory)
