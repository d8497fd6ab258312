"""``/admin/ingest`` through the Flask test client, with the REAL worker doing the job."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import uuid
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from helpers import wait_until
from test_ingest_support import check_first_run, mixed_archive
from web_support import csrf_token, new_person, random_address, sign_in

from graph.demo_org import load_demo_org
from graph.falkordb_backend import FalkorStore

BASE = "/admin/ingest"


def _browser(app: Flask) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = random_address()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def admin(app: Flask, store: FalkorStore) -> FlaskClient:
    load_demo_org(store, os.environ["HUITONG_ADMIN_PASSWORD"])
    client = _browser(app)
    assert sign_in(client, "admin", os.environ["HUITONG_ADMIN_PASSWORD"]).status_code == 302
    return client


def _post(client: FlaskClient, archive: bytes, name: str, **fields: object) -> object:
    data = {"csrf_token": csrf_token(client, BASE), "domain": "general", "access": "internal",
            "archive": (io.BytesIO(archive), name), **fields}
    return client.post(BASE, data=data, content_type="multipart/form-data")


@pytest.mark.slow
def test_admin_uploads_an_archive_and_watches_it_to_the_report(admin: FlaskClient, tmp_path: Path,
                                                               celery_worker: subprocess.Popen[bytes]) -> None:
    path = tmp_path / "网页上传.zip"
    expected = mixed_archive(path, tag=uuid.uuid4().hex[:8])
    rules = b"rules:\n  - path: \xe8\xb4\xa2\xe5\x8a\xa1\n    department: FIN\n    access: confidential\n"
    started = _post(admin, path.read_bytes(), path.name, mapping=(io.BytesIO(rules), "rules.yaml"))
    assert started.status_code == 302
    job_url = started.headers["Location"]
    job_id = job_url.rsplit("/", 1)[-1]
    page = admin.get(job_url).get_data(as_text=True)
    assert "网页上传.zip" in page and 'hx-trigger="every 1s"' in page

    def finished() -> dict | None:
        state = admin.get(f"{BASE}/{job_id}/progress", headers={"Accept": "application/json"}).get_json()
        return state if state["status"] == "done" else None

    state = wait_until(finished, timeout=240, interval=0.5)
    assert state, "the worker did not finish the job; see worker.log"
    assert state["total"] == expected.files and state["failed"] == len(expected.failed)
    fragment = admin.get(f"{BASE}/{job_id}/progress", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "hx-trigger" not in fragment  # polling stops once the job is done
    assert re.search(rf'data-field="ingested">\s*{len(expected.stored)}<', fragment)
    assert "encrypted" in fragment and "report.csv" in fragment

    report = admin.get(f"{BASE}/{job_id}/report.json")
    assert report.status_code == 200
    check_first_run(json.loads(report.get_data(as_text=True))["summary"], expected)
    rows = list(csv.DictReader(io.StringIO(admin.get(f"{BASE}/{job_id}/report.csv").get_data(as_text=True)
                                          .lstrip("\ufeff"))))
    assert len(rows) == expected.files
    assert {r["path"]: r["access"] for r in rows}["财务/2024/报表.xlsx"] == "confidential"
    assert job_id in admin.get(BASE).get_data(as_text=True)  # listed in the history


def test_refused_uploads_and_non_admins(admin: FlaskClient, app: Flask, store: FalkorStore) -> None:
    refused = _post(admin, b"not an archive at all", "x.zip")
    assert refused.status_code == 400 and "not a zip or tar" in refused.get_data(as_text=True)
    bad_rules = _post(admin, b"PK\x05\x06" + b"\0" * 18, "empty.zip",
                      mapping=(io.BytesIO(b"rules:\n  - path: a\n    department: NOPE\n"), "r.yaml"))
    assert bad_rules.status_code == 400 and "NOPE" in bad_rules.get_data(as_text=True)
    member = _browser(app)
    person = new_person(store)
    assert sign_in(member, person.username, "correct horse battery").status_code == 302
    assert member.get(BASE).status_code == 403
    assert admin.get(f"{BASE}/{uuid.uuid4()}").status_code == 404
