"""``huitong ingest`` end to end on REAL Celery workers: the mixed archive through the CLI, twice, and a
worker killed with SIGKILL in the middle of a job, then the rerun that completes it exactly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from helpers import ROOT, run_cli, wait_until
from test_ingest_support import check_first_run, many_files, mixed_archive

from graph import accounts
from graph.cypher import cypher
from graph.demo_org import load_demo_org
from graph.falkordb_backend import FalkorStore
from ingest import jobs

OWNED = cypher(
    "test.ingest_owned",
    """
    MATCH (p:Person {id: $id})-[:OWNS]->(d:Document)-[:HAS_VERSION]->(v:Version)
    RETURN count(DISTINCT d) AS documents, count(v) AS versions,
           sum(CASE WHEN v.status = 'pending' THEN 1 ELSE 0 END) AS pending
    """,
)
LOCATIONS = cypher(
    "test.ingest_locations_of",
    "MATCH (l:DocumentLocation {source: $source}) RETURN count(l) AS n",
)
CLI_TIMEOUT = 300


@pytest.fixture(scope="module")
def uploader(store: FalkorStore) -> dict[str, str]:
    load_demo_org(store, os.environ["HUITONG_ADMIN_PASSWORD"])  # idempotent: the FIN department for the rules
    username = f"ingest.{uuid.uuid4().hex[:8]}"
    person = accounts.create_person(store, username=username, name=f"导入 {username}", department_code="FIN",
                                    password="ingest-password-1", role="member")
    return {"id": person.id, "username": username}


def _summary(done: subprocess.CompletedProcess[str]) -> dict:
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_cli_ingests_the_mixed_archive_on_the_worker_and_a_rerun_adds_nothing(
        store: FalkorStore, uploader: dict, tmp_path: Path, celery_worker: subprocess.Popen[bytes]) -> None:
    archive = tmp_path / "部门共享盘.zip"
    expected = mixed_archive(archive, tag=uuid.uuid4().hex[:8])
    rules = tmp_path / "rules.csv"
    rules.write_text("pattern,department,domain,access,shares\n财务,FIN,finance,confidential,\n", encoding="gbk")
    args = ("ingest", str(archive), "--as", uploader["username"], "--mapping", str(rules), "--no-index", "--json")
    first = _summary(run_cli(*args, timeout=CLI_TIMEOUT))
    check_first_run(first, expected)
    assert Path(first["report"]["csv"]).is_file() and Path(first["report"]["json"]).is_file()
    owned = store.run(OWNED, {"id": uploader["id"]})[0]
    assert (owned["documents"], owned["versions"], owned["pending"]) == (len(expected.stored), len(expected.stored), 0)

    second = _summary(run_cli(*args, timeout=CLI_TIMEOUT))
    assert second["job"] != first["job"]
    assert (second["ingested"], second["duplicates"], second["versions"]) == (0, 0, 0)
    assert second["unchanged"] == len(expected.stored) + len(expected.duplicates)
    assert store.run(OWNED, {"id": uploader["id"]})[0] == owned

    refused = run_cli("ingest", str(archive), "--as", uploader["username"], "--domain", "nowhere")
    assert refused.returncode != 0 and "nowhere" in refused.stderr


def _start_worker(queue: str, log: Path) -> subprocess.Popen[bytes]:
    handle = log.open("ab")
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker", "-Q", queue, "--concurrency", "2",
             "-n", f"{queue}@%h", "--loglevel", "INFO", "--without-mingle", "--without-gossip"],
            cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True,
        )
    finally:
        handle.close()


@pytest.mark.slow
def test_a_worker_killed_mid_job_then_a_rerun_completes_it_exactly(
        store: FalkorStore, uploader: dict, tmp_path: Path) -> None:
    worker_log = tmp_path / "worker.log"
    folder = tmp_path / "archive-root"
    distinct, copies = many_files(folder, 160, uuid.uuid4().hex[:8])
    archive = tmp_path / "kill-test.tar.gz"
    subprocess.run(["tar", "-czf", str(archive), "-C", str(folder), "."], check=True)
    queue = f"ingest-kill-{uuid.uuid4().hex[:8]}"  # only this test's workers listen here
    args = ("ingest", str(archive), "--as", uploader["username"], "--no-index", "--queue", queue, "--json")
    before = store.run(OWNED, {"id": uploader["id"]})[0]

    queued = _summary(run_cli(*args, "--no-wait", timeout=CLI_TIMEOUT))
    job_id = queued["job"]
    worker = _start_worker(queue, worker_log)
    try:
        started = wait_until(lambda: jobs.progress(store, job_id).processed >= 24, timeout=120, interval=0.05)
        assert started, "the worker processed nothing; see " + str(worker_log)
        os.killpg(worker.pid, signal.SIGKILL)  # the worker and its pool, mid-job
        worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=30)
    at_kill = jobs.progress(store, job_id)
    assert 0 < at_kill.processed < at_kill.total, "the job must have been interrupted in the middle"
    assert not at_kill.finished

    worker = _start_worker(queue, worker_log)
    try:
        rerun = _summary(run_cli(*args, timeout=CLI_TIMEOUT))
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=30)
    assert rerun["job"] == job_id, "the rerun resumes the interrupted job"
    assert rerun["status"] == "done" and rerun["failed"] == []
    assert rerun["files"] == distinct + copies
    assert (rerun["ingested"], rerun["duplicates"], rerun["versions"], rerun["unchanged"]) == (distinct, copies, 0, 0)
    owned = store.run(OWNED, {"id": uploader["id"]})[0]
    assert owned["documents"] - before["documents"] == distinct  # no document twice
    assert owned["versions"] - before["versions"] == distinct and owned["pending"] == 0  # all extracted
    assert store.run(LOCATIONS, {"source": "kill-test.tar.gz"})[0]["n"] == distinct + copies
