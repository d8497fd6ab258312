"""Uploads processed by the REAL Celery worker (embedded broker), from the API and from the CLI."""

from __future__ import annotations

import json
import subprocess
import time
import uuid
import zipfile
from pathlib import Path

import pytest
from helpers import run_cli, wait_until

from graph import document_rows
from graph.actor import Actor
from graph.falkordb_backend import FalkorStore
from graph.queries import org
from graph.usecases import Context
from graph.usecases import documents as cases
from ingest import index_registry, uploads
from ingest.textstore import TextStore
from settings import Settings
from workers.tasks import enqueue_extraction

WORKER_TIMEOUT = 240  # the worker loads the embedding model on its first indexing task


def _person(store: FalkorStore) -> tuple[str, str]:
    username = f"uploader.{uuid.uuid4().hex[:8]}"
    person_id = f"person-{username}"
    store.run(org.UPSERT_PEOPLE, {"rows": [{"id": person_id, "username": username, "name": "Upload Tester",
                                            "email": f"{username}@huitong.example", "now": 0,
                                            "password_hash": None}]})
    return person_id, username


def _settled(store: FalkorStore, document_id: str) -> str | None:
    doc = document_rows.get_document(store, document_id)
    return doc["status"] if doc and doc["status"] != "pending" else None


@pytest.mark.slow
def test_worker_extracts_an_uploaded_docx(store: FalkorStore, settings: Settings, shared_data: Path,
                                          celery_worker: subprocess.Popen[bytes]) -> None:
    path = shared_data / "files" / "cjk" / "stress009.docx"
    person_id, _ = _person(store)
    started = time.perf_counter()
    result = uploads.upload(store, settings, path, path.name, person_id, "rnd", "internal", (), "via worker",
                             enqueue=enqueue_extraction)  # the door gives the queue: ingest never imports workers
    upload_ms = (time.perf_counter() - started) * 1000
    assert result.task_id and document_rows.get_document(store, result.document_id)["status"] == "pending"
    assert upload_ms < 5000, f"upload took {upload_ms:.0f} ms: it must not wait for extraction"
    status = wait_until(lambda: _settled(store, result.document_id), timeout=WORKER_TIMEOUT, interval=0.2)
    assert status == "ok", f"worker did not finish (status {status}); see worker.log"
    doc = document_rows.get_document(store, result.document_id)
    assert doc["title"] == "NANDrive 微型固态硬盘设计方案" and doc["title_source"] == "extracted"
    stored = TextStore.from_settings(settings).load(result.version_id)
    assert stored is not None and "固态硬盘" in stored.text
    # "ok" comes with the extraction; the version is searchable once it carries indexed_at
    indexed = wait_until(lambda: document_rows.get_version(store, result.version_id)["version"].get("indexed_at"),
                         timeout=WORKER_TIMEOUT, interval=0.2)
    assert indexed
    hits = index_registry.search_index(settings).search("固态硬盘", {result.document_id}).hits
    assert hits and hits[0].document_id == result.document_id


@pytest.mark.slow
def test_cli_upload_queues_and_reports(store: FalkorStore, settings: Settings, shared_data: Path, tmp_path: Path,
                                       celery_worker: subprocess.Popen[bytes]) -> None:
    path = shared_data / "files" / "cjk" / "chinese-tables.pdf"
    _, username = _person(store)
    reader_id, reader = _person(store)
    done = run_cli("upload", str(path), "--as", username, "--domain", "finance", "--access", "confidential",
                   "--share", f"person:{reader}", "--note", "prospectus tables", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["created"] and report["kind"] == "pdf" and report["task_id"] and report["status"] == "pending"
    status = wait_until(lambda: _settled(store, report["document_id"]), timeout=WORKER_TIMEOUT, interval=0.2)
    assert status == "ok"
    assert cases.open_document(Context(store), Actor(reader_id), report["document_id"])["access"] == "confidential"
    second = run_cli("upload", str(path), "--as", username, "--document", report["document_id"], "--json")
    assert json.loads(second.stdout.strip().splitlines()[-1])["unchanged"] is True
    archive = tmp_path / "bundle.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("readme.txt", "not a document")
    refused = run_cli("upload", str(archive), "--as", username)
    assert refused.returncode != 0 and "zip archive" in refused.stderr
    unknown = run_cli("upload", str(path), "--as", "nobody.here")
    assert unknown.returncode != 0 and "no user" in unknown.stderr
