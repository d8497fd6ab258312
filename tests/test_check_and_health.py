"""``huitong check`` and ``/healthz`` tell the truth about graph, broker, index and model."""

from __future__ import annotations

import json

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
    assert body == {"graph": "ok", "broker": "ok", "index": "ok"}
    # Reported, not judged: the page answers 200 whether or not a worker is alive.
    assert set(workers) == {"alive", "queue_depth", "oldest_waiting_seconds"}
    assert isinstance(workers["alive"], int) and isinstance(workers["queue_depth"], int)
    assert "secret" not in response.get_data(as_text=True).lower()
