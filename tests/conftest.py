"""Session fixtures: the real embedded graph server, real Celery worker, the real web app.

The environment is set before any project module is imported, so every process the tests
start (CLI, worker, web) reads the same settings.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_DATA_DIR = Path(tempfile.mkdtemp(prefix="ht-test-"))
os.environ["HUITONG_DATA_DIR"] = str(_DATA_DIR)
os.environ["HUITONG_GRAPH"] = "embedded"
os.environ["HUITONG_ADMIN_PASSWORD"] = "admin-test-password"
os.environ.setdefault("HUITONG_SECRET_KEY", "test-secret-key")
os.environ.pop("HUITONG_BROKER_URL", None)

from helpers import shared_data_dir  # noqa: E402

from graph import EmbeddedServer, embedded_server, open_store  # noqa: E402
from graph.falkordb_backend import FalkorStore  # noqa: E402
from settings import Settings, load_settings  # noqa: E402


@pytest.fixture(scope="session")
def shared_data() -> Path:
    path = shared_data_dir()
    if not path.is_dir():
        pytest.skip(f"shared evaluation data not found at {path} (set HUITONG_SHARED_DATA)")
    return path


@pytest.fixture(scope="session")
def settings() -> Settings:
    return load_settings()


@pytest.fixture(scope="session")
def graph_server(settings: Settings) -> Iterator[EmbeddedServer]:
    server = embedded_server(settings)
    server.ensure_running()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def store(settings: Settings, graph_server: EmbeddedServer) -> Iterator[FalkorStore]:
    """The platform's graph (the one the CLI and web app see)."""
    graph = open_store(settings)
    graph.ensure_schema()
    yield graph  # type: ignore[misc]
    graph.close()


@pytest.fixture
def fresh_store(settings: Settings, graph_server: EmbeddedServer) -> Iterator[FalkorStore]:
    """An empty graph of its own on the shared server (isolation without a restart)."""
    graph = FalkorStore(graph_server, f"t_{uuid.uuid4().hex[:12]}")
    graph.ensure_schema()
    yield graph
    graph.drop_all()
    graph.close()


@pytest.fixture(scope="session")
def celery_worker(graph_server: EmbeddedServer) -> Iterator[subprocess.Popen[bytes]]:
    """A real Celery worker process on the embedded broker."""
    log = open(_DATA_DIR / "worker.log", "wb")  # noqa: SIM115 - closed at teardown
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker", "--concurrency", "2",
         "--loglevel", "INFO", "--without-mingle", "--without-gossip"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )
    yield process
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


@pytest.fixture(scope="session")
def app(settings: Settings, store: FalkorStore):  # type: ignore[no-untyped-def]
    from webapp import create_app

    application = create_app(settings)
    application.config.update(TESTING=True)
    return application


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture(scope="session")
def demo(store: FalkorStore) -> FalkorStore:
    """The demo organisation in the platform's graph (the one the app serves)."""
    from graph.demo_org import load_demo_org

    load_demo_org(store, os.environ["HUITONG_ADMIN_PASSWORD"])
    return store


# -- one graph with the demo organisation per test module (documents, pipeline, ingestion tests) ----------


@pytest.fixture(scope="module")
def org(graph_server: EmbeddedServer) -> Iterator[FalkorStore]:
    """A graph of this test module's own, holding the demo organisation."""
    from documents_helpers import org_graph

    with org_graph(graph_server) as graph:
        yield graph


@pytest.fixture(scope="module")
def people(org: FalkorStore):  # type: ignore[no-untyped-def]
    """Who is who in ``org`` (see ``documents_helpers.People``)."""
    from documents_helpers import People

    return People(org)


@pytest.fixture(scope="module")
def owner(org: FalkorStore) -> dict[str, str]:
    """A member of Finance in ``org``: the uploader of the module's documents."""
    from documents_helpers import People

    return People(org).one("FIN")
