"""The upload pipeline with real files from the shared data: type from content, size limit,
extraction statuses, text kept outside the graph, diff, audited reads."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from documents_helpers import People

from graph import audit, document_rows
from graph.actor import Actor
from graph.cypher import cypher
from graph.errors import InvalidInput, ObjectMissing
from graph.falkordb_backend import FalkorStore
from graph.queries import documents as q
from graph.usecases import Context
from ingest import index_registry, processing, uploads
from ingest import usecases as files
from ingest.textstore import TextStore
from settings import Settings, load_settings

MENTION_COUNT = cypher(
    "test.pipeline_mention_count",
    "MATCH (d:Document {id: $id})-[m:MENTIONS]->() RETURN count(m) AS count",
)
TEXT_PROPERTIES = cypher(
    "test.pipeline_text_properties",
    "MATCH (d:Document {id: $id})-[:HAS_VERSION]->(v:Version) RETURN keys(d) AS doc_keys, keys(v) AS version_keys",
)


@pytest.fixture(scope="module")
def owner(org: FalkorStore) -> str:
    return People(org).one("RND-PLT")["id"]


def _blob_files(settings: Settings) -> set[Path]:
    root = settings.data_dir / "blobs"
    return {p for p in root.rglob("*") if p.is_file() and "tmp" not in p.relative_to(root).parts} if root.exists() \
        else set()


def _zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "not an office document")
    return out.getvalue()


REAL_FILES = [
    # path under files/, expected status, expected kind, a phrase of the text (None: no text)
    ("cjk/stress009.docx", "ok", "docx", "固态硬盘"),
    ("cjk/chinese-tables.pdf", "ok", "pdf", "盐城"),
    ("cjk/stress020.xlsx", "ok", "xlsx", None),
    ("cjk/with_japanese.pptx", "ok", "pptx", None),
    ("pdf/001-trivial/minimal-document.pdf", "ok", "pdf", None),
    ("pdf/005-libreoffice-writer-password/libreoffice-writer-password.pdf", "encrypted", "pdf", None),
    ("docx/features/steps/test_files/tbl-having-applied-style.docx", "ok", "docx", "foobar"),
    ("docx/features/steps/test_files/doc-default.docx", "empty", "docx", None),
]


@pytest.mark.parametrize(("relative", "status", "kind", "phrase"), REAL_FILES, ids=[r[0] for r in REAL_FILES])
def test_real_files_go_through_upload_and_extraction(org: FalkorStore, settings: Settings, owner: str,
                                                     shared_data: Path, relative: str, status: str, kind: str,
                                                     phrase: str | None) -> None:
    path = shared_data / "files" / relative
    if not path.exists():
        pytest.skip(f"{relative} not in the shared data")
    result = uploads.upload(org, settings, path, path.name, owner, "rnd", "internal", (), "real file", enqueue=None)
    assert result.kind == kind and result.size == path.stat().st_size
    assert document_rows.get_document(org, result.document_id)["status"] == "pending"
    done = processing.process_version_now(org, settings, result.version_id, index=False)
    doc = document_rows.get_document(org, result.document_id)
    assert done.status == status == doc["status"]
    stored = TextStore.from_settings(settings).load(result.version_id)
    assert stored is not None and stored.status == status
    if status == "ok":
        assert stored.text.strip() and doc.get("status_reason") is None
    else:
        assert doc["status_reason"] and not stored.sections  # stored, with a reason, never a crash
    if phrase:
        assert phrase in stored.text
    if kind == "pdf" and status == "ok":
        assert doc["pages"] >= 1
    # the text lives in data_dir/text, never in the graph
    keys = org.run(TEXT_PROPERTIES, {"id": result.document_id})[0]
    assert not {"text", "sections", "content"} & (set(keys["doc_keys"]) | set(keys["version_keys"]))


def test_legacy_xls_is_accepted_and_extracted(org: FalkorStore, settings: Settings, owner: str,
                                              shared_data: Path) -> None:
    path = shared_data / "files" / "cjk" / "chinese-provinces.xls"
    if not path.exists():
        pytest.skip("shared data absent")
    result = uploads.upload(org, settings, path, path.name, owner, "general", "internal", enqueue=None)
    assert result.kind == "xls"
    done = processing.process_version_now(org, settings, result.version_id, index=False)
    assert done.status == "ok"
    stored = TextStore.from_settings(settings).load(result.version_id)
    assert stored is not None and "北京市" in stored.text


@pytest.mark.parametrize(("name", "data", "message"), [
    ("report.docx", b"%PDF-1.4\n1 0 obj << >> endobj\n", "named as DOCX but its content is a PDF"),
    ("photo.png", b"just some text pretending to be an image\n", "named as PNG"),
    ("tool.exe", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(range(256)) * 4, "not a supported"),
    ("archive.zip", _zip(), "zip archive"),
    ("empty.bin", b"", "empty"),
])
def test_unsupported_and_mismatched_uploads_are_refused(org: FalkorStore, settings: Settings, owner: str, name: str,
                                                        data: bytes, message: str) -> None:
    before_nodes, before_blobs = org.counts(), _blob_files(settings)
    with pytest.raises(uploads.UploadRejected, match=message):
        uploads.upload(org, settings, data, name, owner, "general", "internal", enqueue=None)
    assert org.counts() == before_nodes and _blob_files(settings) == before_blobs


def test_size_limit(org: FalkorStore, settings: Settings, owner: str) -> None:
    small = load_settings(data_dir=settings.data_dir, max_upload_mb=1)
    before = org.counts()
    with pytest.raises(uploads.UploadRejected, match="upload limit of 1 MiB"):
        uploads.upload(org, small, b"a" * (1024 * 1024 + 1), "big.txt", owner, "general", "internal", enqueue=None)
    assert org.counts() == before


def test_empty_and_corrupt_files_are_stored_with_a_reason(org: FalkorStore, settings: Settings, owner: str,
                                                          shared_data: Path) -> None:
    empty = uploads.upload(org, settings, b"", "todo.txt", owner, "general", "internal", enqueue=None)
    assert processing.process_version_now(org, settings, empty.version_id, index=False).status == "empty"
    whole = (shared_data / "files" / "cjk" / "stress009.docx").read_bytes()
    broken = uploads.upload(org, settings, whole[: len(whole) // 2], "broken.docx", owner, "rnd", "internal",
                             enqueue=None)
    done = processing.process_version_now(org, settings, broken.version_id, index=False)
    assert done.status == "corrupt" and done.reason
    assert document_rows.get_document(org, broken.document_id)["status_reason"] == done.reason


def test_diff_between_versions_is_escaped(org: FalkorStore, settings: Settings, owner: str) -> None:
    v1 = uploads.upload(org, settings, "第一条 付款：30%预付\n第二条 交付：30天\n".encode(), "terms.txt", owner,
                         "legal", "internal", enqueue=None)
    v2 = uploads.upload(org, settings, "第一条 付款：50%预付\n第二条 交付：30天\n<script>alert(1)</script>\n".encode(),
                         "terms.txt", owner, document_id=v1.document_id, enqueue=None)
    ctx, actor = Context(org, settings), Actor(owner, address="127.0.0.1")
    with pytest.raises(InvalidInput) as refused:
        files.diff(ctx, actor, v1.document_id, v1.version_id, v2.version_id)
    assert refused.value.code == "version.not_extracted"
    for version in (v1, v2):
        processing.process_version_now(org, settings, version.version_id, index=False)
    diff = files.diff(ctx, actor, v1.document_id, v1.version_id, v2.version_id)
    assert "-第一条 付款：30%预付" in diff.unified and "+第一条 付款：50%预付" in diff.unified
    assert (diff.added, diff.removed) == (2, 1)
    assert "<script>" not in diff.html and "&lt;script&gt;" in diff.html
    assert "v1 terms.txt" in diff.html and "v2 terms.txt" in diff.html
    events = audit.list_events(org, audit.AuditFilter(action="document.diff", target_id=v1.document_id))
    assert len(events) == 1 and events[0]["actor_id"] == owner


def test_reads_are_permission_checked_and_audited(org: FalkorStore, settings: Settings, owner: str) -> None:
    people = People(org)
    outsider = people.one("HR-PAY")
    result = uploads.upload(org, settings, "研发路线图 2026".encode(), "roadmap.txt", owner, "rnd", "confidential",
                             enqueue=None)
    processing.process_version_now(org, settings, result.version_id, index=False)
    ctx, actor = Context(org, settings), Actor(owner, address="127.0.0.1")
    download = files.download(ctx, actor, result.document_id)
    assert download.path.read_bytes() == "研发路线图 2026".encode() and download.filename == "roadmap.txt"
    assert files.text(ctx, actor, result.document_id).text == "研发路线图 2026"
    for read in (files.download, files.text):
        with pytest.raises(ObjectMissing):  # a document the outsider may not read does not exist for them
            read(ctx, Actor(outsider["id"]), result.document_id)
    with pytest.raises(ObjectMissing):
        files.download(ctx, actor, result.document_id, "no-such-version")
    actions = [e["action"] for e in audit.list_events(org, audit.AuditFilter(target_id=result.document_id))]
    # the download is audited; the text preview is part of the page already audited as one view
    assert actions.count("document.download") == 1 and actions.count("document.read") == 0
    event = audit.list_events(org, audit.AuditFilter(action="document.download", target_id=result.document_id))[0]
    assert event["client"] == "127.0.0.1" and json.loads(event["detail"])["number"] == 1


def test_processing_twice_changes_nothing(org: FalkorStore, settings: Settings, owner: str) -> None:
    people = People(org)
    named = people.one("MKT-DIG")
    result = uploads.upload(org, settings, f"Campaign review with {named['name']} and Marketing.".encode(),
                             "review.txt", owner, "marketing", "internal", enqueue=None)
    first = processing.process_version_now(org, settings, result.version_id, index=False)
    text_path = TextStore.from_settings(settings).path(result.version_id)
    saved = text_path.read_bytes()
    second = processing.process_version_now(org, settings, result.version_id, index=False)
    assert first.mentions == second.mentions >= 2
    assert org.run(MENTION_COUNT, {"id": result.document_id})[0]["count"] == first.mentions
    assert text_path.read_bytes() == saved
    doc = document_rows.get_document(org, result.document_id)
    assert doc["status"] == "ok" and doc["revision"] == 1


def test_old_version_processed_late_does_not_touch_the_document(org: FalkorStore, settings: Settings,
                                                                owner: str) -> None:
    v1 = uploads.upload(org, settings, b"", "late.txt", owner, "general", "internal", enqueue=None)
    v2 = uploads.upload(org, settings, b"final text", "late.txt", owner, document_id=v1.document_id, enqueue=None)
    processing.process_version_now(org, settings, v2.version_id, index=False)
    late = processing.process_version_now(org, settings, v1.version_id, index=False)  # a slow worker finishing last
    assert late.status == "empty" and not late.current
    assert document_rows.get_document(org, v1.document_id)["status"] == "ok"


def test_upload_is_indexed_and_searchable(org: FalkorStore, settings: Settings, owner: str) -> None:
    text = "Quarterly hydrogen electrolyser procurement review: membrane suppliers, lead times and warranty terms."
    result = uploads.upload(org, settings, text.encode(), "electrolyser.md", owner, "procurement", "internal",
                             enqueue=None)
    done = processing.process_version_now(org, settings, result.version_id)
    assert done.chunks and done.chunks >= 1
    version = document_rows.get_version(org, result.version_id)["version"]
    assert version["indexed_at"] and version["chunks"] == done.chunks
    found = index_registry.search_index(settings).search("electrolyser membrane suppliers", {result.document_id},
                                                   facet_fields=("kind", "domain"))
    assert [h.document_id for h in found.hits] == [result.document_id]
    assert found.hits[0].metadata["domain"] == "procurement" and found.hits[0].metadata["owner_id"] == owner
    # a metadata edit refreshes the facets without re-embedding
    files.edit_details(Context(org, settings), Actor(owner), result.document_id, 1, domain="rnd")
    found = index_registry.search_index(settings).search("electrolyser", {result.document_id})
    assert found.hits[0].metadata["domain"] == "rnd"


def test_document_rows_carry_no_engine_ids(org: FalkorStore, settings: Settings, owner: str) -> None:
    result = uploads.upload(org, settings, b"ids", "ids.txt", owner, "general", "internal", enqueue=None)
    row = org.run(q.GET_DOCUMENT, {"id": result.document_id})[0]["document"]
    assert row["id"] == result.document_id and all(isinstance(v, str | int | float | bool) for v in row.values())


def test_versions_processed_together_are_indexed_together(org: FalkorStore, settings: Settings, owner: str) -> None:
    """Several uploads processed in one call: their chunks are embedded in one go, each document is searchable
    with its own chunk count, and one without text is left out of the index."""
    texts = {"turbine.md": "Offshore turbine gearbox inspection schedule and spare bearing stock.",
             "payroll.md": "二〇二六年度薪酬调整方案：研发中心绩效奖金发放时间表。",
             "blank.txt": "   \n"}
    made = {name: uploads.upload(org, settings, body.encode(), name, owner, "rnd", "internal", enqueue=None)
               for name, body in texts.items()}
    done = processing.process_versions_now(org, settings, [u.version_id for u in made.values()])
    results = {name: done[u.version_id] for name, u in made.items()}
    assert all(not isinstance(r, Exception) for r in results.values()), results
    assert results["turbine.md"].chunks == 1 and results["payroll.md"].chunks == 1  # type: ignore[union-attr]
    assert results["blank.txt"].chunks is None  # type: ignore[union-attr]
    index = index_registry.search_index(settings)
    ids = {u.document_id for u in made.values()}
    for query, name in (("gearbox bearing inspection", "turbine.md"), ("薪酬调整 绩效奖金", "payroll.md")):
        hits = index.search(query, ids).hits
        assert hits and hits[0].document_id == made[name].document_id
        assert document_rows.get_version(org, made[name].version_id)["version"]["chunks"] == 1
