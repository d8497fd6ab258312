"""Ingest jobs run in this process (batches called directly) on a graph of their own: outcomes,
dedup, versions, mapping, reports, idempotency and recovery from an interrupted batch."""

from __future__ import annotations

import csv
import io
import json
import uuid
import zipfile
from pathlib import Path

import pytest
from documents_helpers import People
from test_ingest_support import GBK_NAME, Expected, check_first_run, mixed_archive

from graph import document_rows
from graph.cypher import cypher
from graph.errors import GraphUnavailable
from graph.falkordb_backend import FalkorStore
from graph.queries import ingest_jobs as q
from ingest import jobs
from ingest.archive import ArchiveError
from ingest.mapping import MappingError, parse_rules
from settings import Settings

SHARED_WITH = cypher(
    "test.ingest_shared_with",
    "MATCH (d:Document {id: $id})-[:SHARED_WITH]->(t) RETURN labels(t)[0] AS label, t.code AS code",
)
NODE_COUNT = cypher("test.ingest_node_count", "MATCH (n) WHERE $label IN labels(n) RETURN count(n) AS n")

RULES = """
rules:
  - path: 财务
    department: FIN
    domain: finance
    access: confidential
  - path: "**/*.pdf"
    domain: legal
"""


def _options(**overrides: object) -> jobs.JobOptions:
    base = {"domain": "general", "access": "internal", "index": False, "batch_files": 4,
            "rules": parse_rules(RULES.encode(), "rules.yaml")}
    return jobs.JobOptions(**{**base, **overrides})  # type: ignore[arg-type]


def run_inline(store: FalkorStore, settings: Settings, path: Path, actor_id: str, options: jobs.JobOptions,
               **kwargs: object) -> dict:
    started = jobs.start_job(store, settings, path, actor_id, options, **kwargs)  # type: ignore[arg-type]
    queued: list[list[str]] = []
    jobs.plan_job(store, settings, started.id, lambda job_id, ids, queue: queued.append(ids))
    for ids in queued:
        jobs.run_batch(store, settings, started.id, ids)
    return jobs.summary(store, started.id)


def _files(store: FalkorStore, job_id: str) -> dict[str, dict]:
    return {f["path"]: f for f in jobs.iter_files(store, job_id)}


def _count(store: FalkorStore, label: str) -> int:
    return store.run(NODE_COUNT, {"label": label})[0]["n"]


def _check_first_run(store: FalkorStore, summary: dict, expected: Expected) -> dict[str, dict]:
    check_first_run(summary, expected)
    return _files(store, summary["job"])


def test_mixed_archive_outcomes_mapping_and_reports(org: FalkorStore, owner: dict, settings: Settings,
                                                    tmp_path: Path) -> None:
    path = tmp_path / "share-drive.zip"
    expected = mixed_archive(path, tag=uuid.uuid4().hex[:8])
    summary = run_inline(org, settings, path, owner["id"], _options())
    files = _check_first_run(org, summary, expected)

    # GBK name decoded; nested members found below their archive; damaged PDF stored but unreadable
    assert files[GBK_NAME]["outcome"] == "ingested" and files[GBK_NAME]["extraction"] == "ok"
    assert files["nested/inner.zip/deeper/b.md"]["extraction"] == "ok"
    assert files["broken/damaged.pdf"]["extraction"] == "corrupt"
    # same bytes at two paths: one document, two locations
    readme, copy = files["研发/readme.txt"], files["dup/copy-of-readme.txt"]
    assert copy["outcome"] == "duplicate" and copy["document_id"] == readme["document_id"]
    locations = org.run(q.DOCUMENT_LOCATIONS, {"document_id": readme["document_id"]})
    assert [row["path"] for row in locations] == ["dup/copy-of-readme.txt", "研发/readme.txt"]
    # mapping: the finance folder is confidential, in the finance domain and shared with FIN; PDFs go to legal
    budget = document_rows.get_document(org, files["财务/2024/报表.xlsx"]["document_id"])
    assert (budget["domain"], budget["access"]) == ("finance", "confidential")
    assert {"code": "FIN", "label": "Department"} in org.run(SHARED_WITH, {"id": budget["id"]})
    contract = document_rows.get_document(org, files["legal/contract.pdf"]["document_id"])
    assert (contract["domain"], contract["access"]) == ("legal", "internal")
    assert files["legal/contract.pdf"]["rule"] == 2 and files["研发/readme.txt"].get("rule") is None
    # the reports list every file with its outcome
    csv_path, json_path = jobs.report_paths(settings, summary["job"])
    rows = list(csv.DictReader(io.StringIO(csv_path.read_text(encoding="utf-8-sig"))))
    assert len(rows) == expected.files and {r["path"] for r in rows} == set(files)
    report = json.loads(json_path.read_text(encoding="utf-8"))
    assert report["summary"]["ingested"] == len(expected.stored) and len(report["files"]) == expected.files


def test_same_archive_twice_adds_nothing_and_new_bytes_make_a_version(org: FalkorStore, owner: dict,
                                                                      settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "twice.zip"
    expected = mixed_archive(path, tag=uuid.uuid4().hex[:8])
    first = run_inline(org, settings, path, owner["id"], _options())
    _check_first_run(org, first, expected)
    before = {label: _count(org, label) for label in ("Document", "Version", "DocumentLocation")}
    blobs = sum(1 for p in (settings.data_dir / "blobs").rglob("*") if p.is_file())

    second = run_inline(org, settings, path, owner["id"], _options())
    assert second["job"] != first["job"]
    assert (second["ingested"], second["duplicates"], second["versions"]) == (0, 0, 0)
    assert second["unchanged"] == len(expected.stored) + len(expected.duplicates)
    assert len(second["failed"]) == len(expected.failed)
    assert {label: _count(org, label) for label in before} == before
    assert sum(1 for p in (settings.data_dir / "blobs").rglob("*") if p.is_file()) == blobs

    # the same source with one file changed: a new version of that path's document, nothing else
    changed = tmp_path / "changed.zip"
    with zipfile.ZipFile(path) as old, zipfile.ZipFile(changed, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            data = old.read(info) if not info.flag_bits & 0x1 else None
            if info.filename == "研发/readme.txt":
                data = b"readme, second edition\n"
            if data is not None:
                new.writestr(info, data)
    third = run_inline(org, settings, changed, owner["id"], _options(), source="twice.zip")
    assert (third["ingested"], third["versions"]) == (0, 1)
    files = _files(org, third["job"])
    version = document_rows.get_version(org, files["研发/readme.txt"]["version_id"])
    assert version["version"]["number"] == 2 and version["current"]
    assert files["dup/copy-of-readme.txt"]["outcome"] == "unchanged"


class _FailOnce:
    """The graph, except that writing one batch's outcomes fails once (as if the worker died right there)."""

    def __init__(self, store: FalkorStore) -> None:
        self.store = store
        self.armed = True

    def run(self, statement, params=None):  # type: ignore[no-untyped-def]
        if statement is q.SET_OUTCOMES and self.armed:
            self.armed = False
            raise GraphUnavailable("connection lost")
        return self.store.run(statement, params)

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self.store, name)


def test_an_interrupted_batch_rerun_counts_exactly(org: FalkorStore, owner: dict, settings: Settings,
                                                  tmp_path: Path) -> None:
    path = tmp_path / "interrupted.zip"
    expected = mixed_archive(path, tag=uuid.uuid4().hex[:8])
    started = jobs.start_job(org, settings, path, owner["id"], _options(batch_files=20))
    queued: list[list[str]] = []
    jobs.plan_job(org, settings, started.id, lambda job_id, ids, queue: queued.append(ids))
    assert len(queued) == 1
    documents = _count(org, "Document")
    with pytest.raises(GraphUnavailable):
        jobs.run_batch(_FailOnce(org), settings, started.id, queued[0])  # type: ignore[arg-type]
    assert _count(org, "Document") == documents + len(expected.stored)  # stored, but no outcome recorded
    # a rerun of the same source resumes the job and finishes it with exact counts
    again = jobs.start_job(org, settings, path, owner["id"], _options(batch_files=20))
    assert again.resumed and again.id == started.id
    requeued: list[list[str]] = []
    jobs.plan_job(org, settings, again.id, lambda job_id, ids, queue: requeued.append(ids))
    for ids in requeued + queued:  # the redelivered original batch as well: it must change nothing
        jobs.run_batch(org, settings, again.id, ids)
    _check_first_run(org, jobs.summary(org, again.id), expected)
    assert _count(org, "Document") == documents + len(expected.stored)


def test_bad_rules_and_sources_are_refused_before_anything_is_written(org: FalkorStore, owner: dict,
                                                                      settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "refused.zip"
    mixed_archive(path, tag="refused")
    jobs_before = _count(org, "IngestJob")
    rules = parse_rules(b"rules:\n  - path: x\n    department: NOPE\n  - path: y\n    access: secret\n"
                        b"    department: FIN\n", "bad.yaml")
    with pytest.raises(MappingError) as refused:
        jobs.start_job(org, settings, path, owner["id"], _options(rules=rules))
    assert "rule 1" in str(refused.value) and "NOPE" in str(refused.value)
    assert "rule 2" in str(refused.value) and "secret" in str(refused.value)
    with pytest.raises(MappingError, match="finanse"):
        jobs.start_job(org, settings, path, owner["id"], _options(domain="finanse", rules=None))
    not_archive = tmp_path / "notes.txt"
    not_archive.write_text("just text")
    with pytest.raises(ArchiveError, match="not a zip or tar"):
        jobs.start_job(org, settings, not_archive, owner["id"], _options())
    assert _count(org, "IngestJob") == jobs_before


def test_a_folder_source_and_another_users_copy(org: FalkorStore, owner: dict, settings: Settings,
                                                tmp_path: Path) -> None:
    folder = tmp_path / "共享"
    (folder / "a").mkdir(parents=True)
    (folder / "a" / "note.md").write_text(f"# 笔记 {uuid.uuid4()}\n", encoding="utf-8")
    (tmp_path / "outside.txt").write_text("outside")
    (folder / "a" / "escape.txt").symlink_to(tmp_path / "outside.txt")
    first = run_inline(org, settings, folder, owner["id"], _options())
    assert (first["files"], first["ingested"]) == (2, 1)
    assert first["failed"][0]["path"] == "a/escape.txt" and "outside" in first["failed"][0]["error"]
    # the same bytes ingested by someone else: their own document (dedup is per owner), the blob shared
    other = People(org).one("HR")
    second = run_inline(org, settings, folder, other["id"], _options(rules=None))
    assert second["ingested"] == 1 and second["duplicates"] == 0
    mine, theirs = (_files(org, s["job"])["a/note.md"] for s in (first, second))
    assert mine["document_id"] != theirs["document_id"] and mine["sha256"] == theirs["sha256"]


def test_a_job_is_visible_to_its_starter_and_admins_only(org: FalkorStore, settings: Settings, owner: dict[str, str],
                                                         tmp_path: Path) -> None:
    from graph import directory
    from graph.actor import Actor
    from graph.errors import ObjectMissing
    from ingest import job_usecases

    (tmp_path / "note.txt").write_text("可见性 visibility", encoding="utf-8")
    queued: list[str] = []
    starter = Actor(owner["id"], door="cli")
    started = job_usecases.start(org, settings, starter, tmp_path, _options(rules=None), source="visibility",
                                 enqueue_plan=queued.append)
    assert queued == [started.id]
    assert job_usecases.visible_job(org, starter, started.id)["id"] == started.id
    admin_id = directory.active_person_id(org, "admin")
    assert admin_id is not None
    assert job_usecases.progress(org, Actor(admin_id, roles=frozenset({"admin"})), started.id).job["id"] == started.id

    stranger = Actor(People(org).one("HR")["id"])
    refusals = []
    for job_id in (started.id, str(uuid.uuid4()), "not-an-id"):
        with pytest.raises(ObjectMissing) as refused:
            job_usecases.report(org, stranger, job_id, "csv")
        refusals.append((refused.value.code, refused.value.status))
    assert len(set(refusals)) == 1  # a stranger's job, an unknown id and a malformed one: the same answer
