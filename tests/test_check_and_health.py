"""``huitong check`` and ``/healthz`` tell the truth about graph, broker, index and model."""

from __future__ import annotations

import json
import os
import shutil

from helpers import run_cli

from graph import EmbeddedServer
from graph.falkordb_backend import FalkorStore


def test_check_json_shape(store: FalkorStore) -> None:
    result = run_cli("check", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert {k: report[k] for k in ("graph", "broker", "index", "model")} == dict.fromkeys(
        ("graph", "broker", "index", "model"), "ok"
    )
    assert report["counts"] == store.counts()


def test_check_reports_a_bad_model(store: FalkorStore) -> None:
    result = run_cli("check", "--json", env={"HUITONG_EMBEDDING_MODEL": "/nonexistent/model"})
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["model"] == "error" and "model" in report["errors"]


def test_check_reports_a_stopped_graph(tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    empty = tmp_path_factory.mktemp("nograph")
    result = run_cli("check", "--json", env={"HUITONG_DATA_DIR": str(empty)})
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["graph"] == "error" and report["broker"] == "error"


def test_healthz_is_public_and_says_ok(client, graph_server: EmbeddedServer) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json
    workers = body.pop("workers")
    body.pop("index_build")  # a background build's progress, if this data directory ever had one
    assert body == {"graph": "ok", "broker": "ok", "index": "ok"}
    # Reported, not judged: the page answers 200 whether or not a worker is alive.
    assert set(workers) == {"alive", "queue_depth", "oldest_waiting_seconds"}
    assert isinstance(workers["alive"], int) and isinstance(workers["queue_depth"], int)
    assert "secret" not in response.get_data(as_text=True).lower()


def test_healthz_shows_a_running_index_build(client, settings) -> None:  # type: ignore[no-untyped-def]
    from embeddings import builder

    folder = settings.data_dir / "search" / builder.PROGRESS_DIR
    gone = builder.BuildProgress("multilingual-e5-small", 30_000, rows_done=10_000, started=1.0)
    folder.mkdir(parents=True, exist_ok=True)  # a build whose process died before the end
    (folder / "999999999.json").write_text(json.dumps({**gone.as_dict(), "pid": 999_999_999, "updated": 4.0}))
    try:
        body = client.get("/healthz").json
        assert body["index_build"]["interrupted"] and not body["index_build"]["running"]
        assert body["index_build"]["done"] == 10_000 and body["index_build"]["seconds"] == 3.0
        mine = builder.BuildProgress("multilingual-e5-small", 30_000, rows_done=20_000, started=2.0,
                                     path=folder / f"{os.getpid()}.json")  # this process: running
        mine.publish()
        build = client.get("/healthz").json["index_build"]
        assert {k: build[k] for k in ("running", "done", "total", "share_done", "processes", "interrupted")} == {
            "running": True, "done": 20_000, "total": 30_000, "share_done": 0.6667, "processes": 1,
            "interrupted": False}
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    assert client.get("/healthz").json["index_build"] is None
