"""Documents in the graph: creation, sharing, optimistic concurrency, versions, browsing, related
knowledge, provenance. Real embedded FalkorDB, real pipeline (extraction run synchronously)."""

from __future__ import annotations

import threading

import pytest
from documents_helpers import EDGES, VERSION_CHAIN, People

from graph import audit, document_rows, permissions
from graph import documents as docs
from graph.actor import Actor
from graph.errors import InvalidInput, NotPermitted, ObjectMissing
from graph.falkordb_backend import FalkorStore
from graph.mentions import Matcher
from graph.usecases import Context, provenance
from graph.usecases import browse as listing
from graph.usecases import documents as cases
from graph.usecases.browse import BrowseFilter as Filter
from ingest import processing, uploads
from ingest import usecases as files
from ingest.blobstore import BlobStore
from settings import Settings

DAY = 24 * 3600 * 1000


def _upload(org: FalkorStore, settings: Settings, owner: str, text: str, name: str = "note.txt",
            domain: str = "finance", access: str = "internal", shares: tuple[str, ...] = (), **kw: object):  # type: ignore[no-untyped-def]
    return uploads.upload(org, settings, text.encode(), name, owner, domain, access, shares, "", enqueue=None,
                           **kw)  # type: ignore[arg-type]


def test_upload_creates_document_version_owner_and_shares(org: FalkorStore, settings: Settings,
                                                           people: People) -> None:
    owner, colleague = people.of("FIN-ACC", 2)
    outsider = people.one("RND-MOB")
    result = _upload(org, settings, owner["id"], "月度结账说明\n请于每月5日前提交。", "结账说明.txt",
                     shares=("department:FIN",))
    assert result.created and result.number == 1 and not result.unchanged
    doc = document_rows.get_document(org, result.document_id)
    assert doc is not None
    assert (doc["title"], doc["title_source"], doc["status"], doc["revision"]) == ("结账说明", "filename", "pending", 1)
    assert (doc["kind"], doc["domain"], doc["data_type"], doc["access"]) == ("txt", "finance", "unstructured",
                                                                            "internal")
    assert doc["owner_id"] == owner["id"] and doc["current_version_id"] == result.version_id
    edges = {(e["type"], e["label"]) for e in org.run(EDGES, {"id": result.document_id})}
    assert {("HAS_VERSION", "Version"), ("CURRENT", "Version"), ("SHARED_WITH", "Department")} <= edges
    # the colleague reads through the department share, the outsider does not
    seen = cases.open_document(Context(org), Actor(colleague["id"]), result.document_id)
    assert not seen["can_edit"] and "Finance" in seen["access_reason"]
    with pytest.raises(ObjectMissing):  # not readable: the same answer as a missing document
        cases.open_document(Context(org), Actor(outsider["id"]), result.document_id)
    assert result.document_id in permissions.readable_document_ids(org, colleague["id"])
    assert result.document_id not in permissions.readable_document_ids(org, outsider["id"])


def test_stale_edit_raises_conflict_and_loses_nothing(org: FalkorStore, settings: Settings, people: People) -> None:
    owner = people.one("LEGAL")
    editor = people.one("LEGAL", 1)
    result = _upload(org, settings, owner["id"], "合同模板 v1", "合同模板.txt", domain="legal",
                     shares=(f"person:{editor['username']}:edit",))
    revision = document_rows.get_document(org, result.document_id)["revision"]  # both editors open the form here
    saved = docs.update_metadata(org, owner["id"], result.document_id, revision, title="标准采购合同模板")
    assert saved == revision + 1
    with pytest.raises(docs.Conflict, match="changed") as caught:
        docs.update_metadata(org, editor["id"], result.document_id, revision, domain="procurement")
    assert caught.value.current == revision + 1
    doc = document_rows.get_document(org, result.document_id)
    assert (doc["title"], doc["domain"], doc["revision"]) == ("标准采购合同模板", "legal", revision + 1)
    # the second editor reloads and saves again: both edits are kept
    docs.update_metadata(org, editor["id"], result.document_id, doc["revision"], domain="procurement")
    doc = document_rows.get_document(org, result.document_id)
    assert (doc["title"], doc["domain"], doc["revision"]) == ("标准采购合同模板", "procurement", revision + 2)


def test_concurrent_edits_exactly_one_wins(org: FalkorStore, settings: Settings, people: People) -> None:
    owner = people.one("HR-PAY")
    result = _upload(org, settings, owner["id"], "薪酬调整通知", "薪酬.txt", domain="hr")
    revision = document_rows.get_document(org, result.document_id)["revision"]
    outcomes: list[str] = []
    barrier = threading.Barrier(8)

    def edit(n: int) -> None:
        barrier.wait()
        try:
            docs.update_metadata(org, owner["id"], result.document_id, revision, title=f"标题 {n}")
            outcomes.append(f"ok {n}")
        except docs.Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=edit, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [o for o in outcomes if o.startswith("ok")]
    assert len(winners) == 1 and outcomes.count("conflict") == 7
    doc = document_rows.get_document(org, result.document_id)
    assert doc["revision"] == revision + 1 and doc["title"] == "标题 " + winners[0].split()[1]


def test_access_level_change_is_owner_only_and_moves_permissions(org: FalkorStore, settings: Settings,
                                                                  people: People) -> None:
    owner, member = people.of("SALES-EAST", 2)
    editor = people.one("SALES-NORTH")
    result = _upload(org, settings, owner["id"], "East China pipeline", "pipeline.txt", domain="business",
                     shares=("department:SALES", f"person:{editor['username']}:edit"))
    revision = document_rows.get_document(org, result.document_id)["revision"]
    with pytest.raises(docs.Forbidden, match="owner"):
        docs.update_metadata(org, editor["id"], result.document_id, revision, access="secret")
    assert result.document_id in permissions.readable_document_ids(org, member["id"])
    docs.update_metadata(org, owner["id"], result.document_id, revision, access="secret")
    assert result.document_id not in permissions.readable_document_ids(org, member["id"])
    assert result.document_id in permissions.readable_document_ids(org, editor["id"])  # named people still count
    with pytest.raises(docs.DocumentError, match="unknown access level"):
        docs.update_metadata(org, owner["id"], result.document_id, revision + 1, access="top-secret")


def test_new_versions_chain_and_same_bytes_add_nothing(org: FalkorStore, settings: Settings, people: People) -> None:
    owner = people.one("RND-PLT")
    first = _upload(org, settings, owner["id"], "design v1\n", "design.md", domain="rnd")
    second = uploads.upload(org, settings, b"design v2\nmore\n", "design.md", owner["id"], note="second draft",
                             document_id=first.document_id, enqueue=None)
    third = uploads.upload(org, settings, b"design v3\n", "design.txt", owner["id"], document_id=first.document_id,
                            enqueue=None)
    again = uploads.upload(org, settings, b"design v3\n", "design-copy.txt", owner["id"],
                            document_id=first.document_id, enqueue=None)
    assert (second.number, third.number) == (2, 3) and not second.created
    assert again.unchanged and again.version_id == third.version_id
    versions = cases.versions(Context(org), Actor(owner["id"]), first.document_id)
    assert [v["number"] for v in versions] == [3, 2, 1]
    assert [v["current"] for v in versions] == [True, False, False]
    assert versions[1]["note"] == "second draft" and versions[0]["filename"] == "design.txt"
    assert [r["number"] for r in org.run(VERSION_CHAIN, {"id": third.version_id})] == [2, 1]
    doc = document_rows.get_document(org, first.document_id)
    assert (doc["version_count"], doc["kind"], doc["sha256"]) == (3, "txt", third.sha256)


def test_new_version_needs_edit_right(org: FalkorStore, settings: Settings, people: People) -> None:
    owner, reader = people.of("MKT-BRD", 2)
    first = _upload(org, settings, owner["id"], "brand book", "brand.txt", domain="marketing",
                    shares=("department:MKT",))
    with pytest.raises(docs.Forbidden):
        uploads.upload(org, settings, b"brand book v2", "brand.txt", reader["id"], document_id=first.document_id,
                        enqueue=None)
    assert len(cases.versions(Context(org), Actor(owner["id"]), first.document_id)) == 1


def test_same_bytes_two_owners_one_blob_and_own_reupload_is_the_same_document(
        org: FalkorStore, settings: Settings, people: People) -> None:
    a, b = people.one("PROC"), people.one("PROC", 1)
    text = "供应商名录 2026（共享文件）"
    first = _upload(org, settings, a["id"], text, "suppliers.txt", domain="procurement")
    second = _upload(org, settings, b["id"], text, "suppliers.txt", domain="procurement")
    again = _upload(org, settings, a["id"], text, "suppliers-copy.txt", domain="procurement")
    assert first.document_id != second.document_id and second.blob_reused
    assert again.unchanged and again.document_id == first.document_id
    blobs = BlobStore.from_settings(settings)
    assert blobs.exists(first.sha256) and first.sha256 == second.sha256


def test_share_errors_are_clear_and_write_nothing(org: FalkorStore, settings: Settings, people: People) -> None:
    owner = people.one("GMO")
    before = org.counts().get("Document", 0)
    with pytest.raises(docs.DocumentError, match="KIND:CODE"):
        _upload(org, settings, owner["id"], "x", shares=("finance",))
    with pytest.raises(docs.NotFound, match="NOPE"):
        _upload(org, settings, owner["id"], "x", shares=("department:NOPE",))
    with pytest.raises(docs.DocumentError, match="secret document cannot be shared with a department"):
        _upload(org, settings, owner["id"], "x", access="secret", shares=("department:GMO",))
    with pytest.raises(docs.DocumentError, match="unknown business domain"):
        _upload(org, settings, owner["id"], "x", domain="astrology")
    assert org.counts().get("Document", 0) == before


def test_browse_filters_sorting_paging_and_scopes(org: FalkorStore, settings: Settings, people: People) -> None:
    owner, teammate = people.of("SALES-SOUTH", 2)
    now = docs.now_ms()
    made = []
    for n in range(7):
        made.append(_upload(
            org, settings, owner["id"] if n % 2 == 0 else teammate["id"], f"South report {n}",
            f"south-{n}.{'md' if n < 4 else 'txt'}", domain="business" if n < 5 else "marketing",
            shares=("department:SALES-SOUTH",), at=now - n * DAY, title=f"华南报告 {n}").document_id)
    viewer = people.one("SALES-SOUTH", 2)
    ctx, as_owner, as_viewer = Context(org), Actor(owner["id"]), Actor(viewer["id"])
    mine = listing.browse(ctx, as_owner, Filter(scope="mine", text="华南报告"), per_page=50)
    assert {r["id"] for r in mine.rows} == {made[n] for n in (0, 2, 4, 6)}
    page1 = listing.browse(ctx, as_viewer, Filter(text="华南报告"), sort="updated", per_page=3)
    page3 = listing.browse(ctx, as_viewer, Filter(text="华南报告"), sort="updated", page=3, per_page=3)
    assert page1.total == 7 and page1.pages == 3 and [r["id"] for r in page1.rows] == made[:3]
    assert [r["id"] for r in page3.rows] == made[6:]
    by_title = listing.browse(ctx, as_viewer, Filter(text="华南报告"), sort="title", per_page=10)
    assert [r["title"] for r in by_title.rows] == sorted(r["title"] for r in by_title.rows)
    kinds = listing.browse(ctx, as_viewer, Filter(text="华南报告", kind="md", domain="business"))
    assert {r["id"] for r in kinds.rows} == set(made[:4])
    window = Filter(text="华南报告", since=now - 3 * DAY, until=now - DAY + 1)
    assert {r["id"] for r in listing.browse(ctx, as_viewer, window).rows} == set(made[1:4])
    uploader = listing.browse(ctx, as_viewer, Filter(text="华南报告", owner_id=teammate["id"]))
    assert {r["owner_username"] for r in uploader.rows} == {teammate["username"]}
    assert listing.browse(ctx, as_viewer, Filter(scope="department", text="华南报告")).total == 7
    folder = Filter(department_id=docs.resolve_share(org, "department:SALES-SOUTH").target_id)
    assert listing.browse(ctx, as_viewer, folder).total >= 7
    recent = listing.browse(ctx, as_viewer, Filter(scope="recent", text="华南报告"))
    assert [r["id"] for r in recent.rows] == made  # all within 30 days, newest first
    outsider = people.one("RND-QA")
    assert listing.browse(Context(org), Actor(outsider["id"]), Filter(text="华南报告")).total == 0
    with pytest.raises(InvalidInput):
        listing.browse(ctx, as_viewer, sort="d.id; DROP")


def test_classification_tree_and_department_folders(org: FalkorStore, settings: Settings, people: People) -> None:
    owner = people.one("IT-INF")
    _upload(org, settings, owner["id"], "机房巡检记录", "机房.txt", domain="it", shares=("department:IT",))
    _upload(org, settings, owner["id"], "a,b\n1,2\n3,4\n", "资产.csv", domain="it", access="confidential",
            shares=("department:IT-INF",))
    tree = {d["domain"]: d for d in listing.classification_tree(Context(org), Actor(owner["id"]), Filter(scope="mine"))}
    it = tree["it"]
    types = {t["data_type"]: t for t in it["data_types"]}
    assert it["count"] == 2
    assert types["unstructured"]["levels"] == {"internal": 1} and types["structured"]["levels"] == {"confidential": 1}
    roots = listing.department_folders(Context(org), Actor(owner["id"]))
    assert [r["code"] for r in roots] == ["HQ"]
    it_folder = next(c for c in roots[0]["children"] if c["code"] == "IT")
    inf = next(c for c in it_folder["children"] if c["code"] == "IT-INF")
    assert it_folder["count"] >= 1 and inf["count"] >= 1 and it_folder["total"] >= it_folder["count"] + inf["count"]


def test_mentions_and_related_knowledge_respect_permissions(org: FalkorStore, settings: Settings,
                                                            people: People) -> None:
    owner = people.one("FIN-TRS")
    named = people.one("HR-REC")
    outsider = people.one("RND-DATA")
    text = (f"资金计划评审会：{named['name']}出席，财务部与人力资源部确认付款节奏。\n"
            "The ERP upgrade touches FIN-TRS and Legal; IT reviews access.")
    main = _upload(org, settings, owner["id"], text, "资金计划.txt", shares=("department:FIN",))
    done = processing.process_version_now(org, settings, main.version_id, index=False)
    assert done.status == "ok" and done.mentions >= 4
    sibling = _upload(org, settings, owner["id"], f"资金日报，联系人 {named['name']}", "资金日报.txt",
                      shares=("department:FIN",))
    processing.process_version_now(org, settings, sibling.version_id, index=False)
    private = _upload(org, settings, outsider["id"], "finance notes of someone else", "private.txt")
    related = cases.related(Context(org), Actor(owner["id"]), main.document_id)
    assert named["id"] in {p["id"] for p in related.people}
    codes = {d["code"] for d in related.departments}
    assert {"FIN", "HR", "FIN-TRS", "LEGAL", "IT"} <= codes
    assert "ERP-2026" in {p["code"] for p in related.projects}
    same = [d["id"] for d in related.same_domain]
    assert same[0] == sibling.document_id  # shares a mentioned person: ranked first
    assert private.document_id not in same and main.document_id not in same
    with pytest.raises(ObjectMissing):
        cases.related(Context(org), Actor(outsider["id"]), main.document_id)


def test_matcher_rules() -> None:
    rows = [
        {"label": "Person", "id": "p1", "name": "王伟", "name_en": None, "code": None},
        {"label": "Person", "id": "p2", "name": "王伟", "name_en": None, "code": None},
        {"label": "Person", "id": "p3", "name": "丽", "name_en": None, "code": None},
        {"label": "Person", "id": "p4", "name": "Emma Hall", "name_en": None, "code": None},
        {"label": "Department", "id": "d1", "name": "IT部", "name_en": "IT", "code": "IT"},
        {"label": "Department", "id": "d2", "name": "财务部", "name_en": "Finance", "code": "FIN"},
        {"label": "Department", "id": "d3", "name": "会计组", "name_en": "Accounting", "code": "FIN-ACC"},
    ]
    found = {m.id: m for m in Matcher(rows).find(
        "王伟与美丽的同事讨论；it is an ITEM for IT and FIN-ACC. emma hall missed it, Emma Hall did not.")}
    assert found["p1"].ambiguous and found["p2"].ambiguous and found["p1"].count == 1
    assert "p3" not in found  # one-character Chinese names never match
    assert found["p4"].count == 1  # whole words, case as written
    assert found["d1"].count == 1  # "IT" but not "it" or "ITEM"
    assert found["d3"].count == 1 and "d2" not in found  # the longest code wins


def test_timeline_tells_who_did_what(org: FalkorStore, settings: Settings, people: People) -> None:
    owner = people.one("LEGAL", 2)
    reader = people.one("FIN-ACC", 1)
    result = _upload(org, settings, owner["id"], "保密协议", "nda.txt", domain="legal")
    processing.process_version_now(org, settings, result.version_id, index=False)
    docs.share(org, owner["id"], result.document_id, "department:FIN")
    revision = document_rows.get_document(org, result.document_id)["revision"]
    docs.update_metadata(org, owner["id"], result.document_id, revision,
                         title="保密协议（标准版）")
    files.download(Context(org, settings), Actor(reader["id"]), result.document_id)
    uploads.upload(org, settings, "保密协议 v2".encode(), "nda.txt", owner["id"], document_id=result.document_id,
                    enqueue=None)
    kinds = [e["kind"] for e in provenance.timeline(Context(org), Actor(owner["id"]), result.document_id)]
    assert kinds == ["uploaded", "extracted", "shared", "changed", "new_version"]  # changes only
    reads = provenance.reads(Context(org), Actor(owner["id"]), result.document_id)
    assert [(e["kind"], e["actor_id"]) for e in reads] == [("downloaded", reader["id"])]
    with pytest.raises(NotPermitted):  # who read it: the owner and administrators only
        provenance.reads(Context(org), Actor(reader["id"]), result.document_id)
    events = audit.list_events(org, audit.AuditFilter(target_kind="document", target_id=result.document_id))
    assert {e["action"] for e in events} >= {"document.upload", "document.share", "document.update",
                                             "document.download", "document.version"}
    assert next(e for e in events if e["action"] == "document.download")["actor_id"] == reader["id"]
