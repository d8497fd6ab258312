"""Trash and retention on the real graph, index and files: a trashed document is found by nobody's search (keyword
and dense), browse, related or duplicate panels, and is a 404 to everyone but on the trash page; owners and
administrators trash and restore, only administrators hold; the purge keeps held documents and shared blobs."""

from __future__ import annotations

from pathlib import Path

import pytest
from documents_helpers import People, org_graph
from knowledge_support import actor

from graph import audit, document_rows, permissions, trash
from graph.errors import NotPermitted, ObjectMissing, StateConflict
from graph.queries import trash as tq
from graph.usecases import Context, actor_by_username
from graph.usecases import browse as listing
from graph.usecases import documents as cases
from graph.usecases.browse import BrowseFilter
from ingest import processing, retention, uploads
from ingest import search as service
from ingest.blobstore import BlobStore
from ingest.textstore import TextStore
from settings import load_settings

WORD = "qzbudgetplanalpha"
TEXT = f"{WORD} 年度预算方案：差旅费用标准与报销流程。{WORD} travel budget policy."


@pytest.fixture(scope="module")
def world(graph_server, tmp_path_factory):  # type: ignore[no-untyped-def]
    settings = load_settings(data_dir=tmp_path_factory.mktemp("trash") / "data")
    with org_graph(graph_server) as store:
        people = People(store)
        owner, colleague = people.of("FIN-ACC", 2)
        other_owner = people.one("HR")
        admin = actor_by_username(store, "admin")
        assert admin is not None
        admin_id = admin.person_id
        yield {"store": store, "settings": settings, "owner": owner, "colleague": colleague,
               "other_owner": other_owner, "admin": admin_id}


def _upload(w: dict, owner_id: str, text: str, name: str, shares: tuple[str, ...] = ("department:FIN",)) -> str:
    made = uploads.upload(w["store"], w["settings"], text.encode(), name, owner_id, "finance", "internal", shares,
                           enqueue=None)
    done = processing.process_version_now(w["store"], w["settings"], made.version_id)
    assert done.status == "ok" and done.chunks
    return made.document_id


def _found(w: dict, person_id: str, text: str, mode: str) -> set[str]:
    outcome = service.search(Context(w["store"], w["settings"]), actor(w["store"], person_id),
                             service.Query(text, per_page=50, mode=mode))
    return {r.document_id for r in outcome.results}


def test_trashed_document_is_found_by_nobodys_search_and_restore_brings_it_back(world: dict) -> None:
    w, store = world, world["store"]
    document_id = _upload(w, w["owner"]["id"], TEXT, "budget.txt")
    everyone = [w["owner"]["id"], w["colleague"]["id"], w["admin"]]
    for person in everyone:
        assert document_id in _found(w, person, WORD, "keyword")
        assert document_id in _found(w, person, "差旅费用报销", "dense")
    ctx = Context(store, w["settings"])
    with pytest.raises(NotPermitted):  # a reader may not trash it
        trash.trash(ctx, actor(store, w["colleague"]["id"]), document_id)
    with pytest.raises(ObjectMissing):  # someone who cannot read it: missing
        trash.trash(ctx, actor(store, w["other_owner"]["id"]), document_id)

    trash.trash(ctx, actor(store, w["owner"]["id"]), document_id)
    for person in everyone:  # at once, for everyone, in every mode, counts included
        for mode in ("keyword", "dense", "hybrid"):
            assert document_id not in _found(w, person, WORD, mode)
        outcome = service.search(ctx, actor(store, person), service.Query(WORD, per_page=50, mode="keyword"))
        assert outcome.total == 0 and all(f.count == 0 for values in outcome.facets.values() for f in values
                                          if f.value == "finance")
        assert document_id not in permissions.readable_document_ids(store, person)
        with pytest.raises(ObjectMissing):
            cases.open_document(ctx, actor(store, person), document_id)
        assert listing.browse(ctx, actor(store, person), BrowseFilter(text="budget")).total == 0
    # the trash page: the owner's (and every trashed document for an admin), nobody else's
    assert [r["id"] for r in trash.trashed(ctx, actor(store, w["owner"]["id"]))] == [document_id]
    assert document_id in [r["id"] for r in trash.trashed(ctx, actor(store, w["admin"]), everyone=True)]
    assert trash.trashed(ctx, actor(store, w["colleague"]["id"])) == []
    with pytest.raises(NotPermitted):
        trash.trashed(ctx, actor(store, w["colleague"]["id"]), everyone=True)
    with pytest.raises(ObjectMissing):  # restore: owner or admin only, a reader gets the 404
        trash.restore(ctx, actor(store, w["colleague"]["id"]), document_id)
    with pytest.raises(ObjectMissing):  # trashing it again: it is missing to everyone but the trash page
        trash.trash(ctx, actor(store, w["admin"]), document_id)

    trash.restore(ctx, actor(store, w["admin"]), document_id)
    with pytest.raises(StateConflict):  # not in the trash any more
        trash.restore(ctx, actor(store, w["owner"]["id"]), document_id)
    for person in everyone:
        assert document_id in _found(w, person, WORD, "keyword")
        assert document_id in _found(w, person, "差旅费用报销", "dense")
    actions = [e["action"] for e in audit.list_events(store, audit.AuditFilter(target_id=document_id), limit=50)]
    assert "document.trash" in actions and "document.restore" in actions


def test_purge_respects_days_and_hold_and_keeps_shared_blobs(world: dict) -> None:
    w, store, settings = world, world["store"], world["settings"]
    ctx = Context(store, settings)
    shared_text = "qzsharedblob 共用的文件内容 identical bytes uploaded by two departments"
    first = _upload(w, w["owner"]["id"], shared_text, "a.txt")
    second = _upload(w, w["other_owner"]["id"], shared_text, "b.txt", shares=("department:HR",))
    held = _upload(w, w["owner"]["id"], "qzheldfile 诉讼保全的文件", "held.txt")
    sha = document_rows.get_document(store, first)["sha256"]
    assert document_rows.get_document(store, second)["sha256"] == sha
    first_version = document_rows.get_document(store, first)["current_version_id"]
    blobs = BlobStore.from_settings(settings)
    for document_id, owner in ((first, w["owner"]["id"]), (held, w["owner"]["id"])):
        trash.trash(ctx, actor(store, owner), document_id)
    with pytest.raises(NotPermitted):  # only administrators hold
        trash.set_legal_hold(ctx, actor(store, w["owner"]["id"]), held, True)
    trash.set_legal_hold(ctx, actor(store, w["admin"]), held, True)

    assert retention.purge_due(ctx).purged == []  # not yet past HUITONG_TRASH_DAYS
    now_settings = load_settings(data_dir=settings.data_dir, trash_days=0)
    report = retention.purge_due(Context(store, now_settings))
    assert report.purged == [first] and report.blobs_kept == 1 and report.blobs_deleted == 0
    assert document_rows.get_document(store, first) is None
    assert store.run(tq.SUBJECT, {"id": first, "person_id": "x"}) == []
    assert blobs.exists(sha)  # the other department's copy still holds the bytes
    assert TextStore.from_settings(settings).load(first_version) is None
    assert document_rows.get_document(store, held) is not None  # under legal hold: kept
    assert second in _found(w, w["other_owner"]["id"], "qzsharedblob", "keyword")

    trash.trash(ctx, actor(store, w["other_owner"]["id"]), second)
    trash.set_legal_hold(ctx, actor(store, w["admin"]), held, False)
    report = retention.purge_due(Context(store, now_settings))
    assert sorted(report.purged) == sorted([second, held]) and not blobs.exists(sha)
    actions = {e["action"] for e in audit.list_events(store, audit.AuditFilter(target_id=held), limit=50)}
    assert {"document.legal_hold", "document.legal_hold_cleared", "document.purge"} <= actions


def test_cli_delete_and_restore(world: dict, tmp_path: Path) -> None:
    from helpers import run_cli

    w, store = world, world["store"]
    document_id = _upload(w, w["owner"]["id"], "qzclitrash 命令行删除", "cli.txt")
    env = {"HUITONG_GRAPH_NAME": store.graph_name}
    refused = run_cli("doc", "delete", document_id, "--as", w["colleague"]["username"], "--json", env=env)
    assert refused.returncode == 1 and '"document.owner_only"' in refused.stdout
    done = run_cli("doc", "delete", document_id, "--as", w["owner"]["username"], "--json", env=env)
    assert done.returncode == 0, done.stderr
    shown = run_cli("doc", "show", document_id, "--as", w["owner"]["username"], "--json", env=env)
    assert shown.returncode == 1  # trashed: missing, even to its owner
    listed = run_cli("trash", "list", "--as", w["owner"]["username"], "--json", env=env)
    assert document_id in listed.stdout
    stranger = run_cli("doc", "restore", document_id, "--as", w["other_owner"]["username"], "--json", env=env)
    assert stranger.returncode == 1 and '"document.missing"' in stranger.stdout
    back = run_cli("doc", "restore", document_id, "--as", w["owner"]["username"], "--json", env=env)
    assert back.returncode == 0, back.stderr
    assert run_cli("doc", "show", document_id, "--as", w["owner"]["username"], "--json", env=env).returncode == 0


def test_a_trashed_copy_leaves_the_duplicates_report(world: dict) -> None:
    from graph import duplicates

    w, store = world, world["store"]
    ctx = Context(store, w["settings"])
    text = f"qzkeptcopy 同一份差旅制度，两个部门各存一份。{WORD} kept twice."
    first = _upload(w, w["owner"]["id"], text, "copy-a.txt")
    second = _upload(w, w["other_owner"]["id"], text, "copy-b.txt", shares=("department:HR",))
    admin = actor(store, w["admin"])
    before = duplicates.department_report(store, admin)["pairs"]
    assert before >= 1, "two owners keeping the same bytes are a duplicate pair"
    trash.trash(ctx, actor(store, w["owner"]["id"]), first)
    assert duplicates.department_report(store, actor(store, w["admin"]))["pairs"] == before - 1
    trash.restore(ctx, actor(store, w["owner"]["id"]), first)
    assert duplicates.department_report(store, actor(store, w["admin"]))["pairs"] == before
    assert second
