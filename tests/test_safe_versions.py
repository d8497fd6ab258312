"""Safe versions: a new version names its base; a stale base is a 409 that keeps both files and offers the choice
(add anyway / cancel) and the diff. Real embedded FalkorDB, real files, real CLI subprocess."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from documents_helpers import People
from helpers import run_cli

from graph import document_rows
from graph import documents as docs
from graph.actor import Actor
from graph.errors import ObjectMissing, StateConflict
from graph.falkordb_backend import FalkorStore
from graph.usecases import Context
from graph.usecases import documents as cases
from ingest import pending_versions, uploads
from ingest import usecases as files
from ingest import version_conflicts as conflicts
from ingest.blobstore import BlobStore
from settings import Settings


def _shared_document(org: FalkorStore, settings: Settings, people: People) -> tuple[str, dict, dict]:
    owner, colleague = people.of("LEGAL", 2)
    first = files.upload(Context(org, settings), Actor(owner["id"]), files.Upload(b"clause 1\nclause 2\n", "c.txt"),
                         domain="legal", access="internal", shares=[f"person:{colleague['username']}:edit"])
    files.process(Context(org, settings), first.version_id)
    return first.document_id, owner, colleague


def test_two_uploads_on_one_base_second_gets_409_then_add_anyway(org: FalkorStore, settings: Settings,
                                                                 people: People) -> None:
    document_id, owner, colleague = _shared_document(org, settings, people)
    ctx = Context(org, settings)
    mine = files.upload(ctx, Actor(owner["id"]), files.Upload(b"clause 1\nclause 2 amended\n", "c.txt"),
                        document_id=document_id, base_version=1)
    assert mine.number == 2
    with pytest.raises(StateConflict) as refused:
        files.upload(ctx, Actor(colleague["id"]), files.Upload(b"clause 1\nclause 3 added\n", "c2.txt"),
                     document_id=document_id, base_version=1, note="mine")
    error = refused.value
    assert error.code == "version.stale_base" and error.status == 409
    assert (error.params["base"], error.params["current"], error.params["filename"]) == (1, 2, "c2.txt")
    # both files kept: the current version is the first uploader's, the refused bytes stay in the blob store
    assert document_rows.get_document(org, document_id)["current_number"] == 2
    token = str(error.params["pending"])
    pending = pending_versions.load(settings, token, colleague["id"], document_id)
    assert pending is not None
    assert BlobStore.from_settings(settings).read(pending.sha256) == b"clause 1\nclause 3 added\n"
    # the diff between the current version and the kept file (text extracted on demand)
    files.process(ctx, mine.version_id)
    diff = conflicts.diff(ctx, Actor(colleague["id"]), document_id, token)
    assert "+clause 3 added" in diff.unified and "-clause 2 amended" in diff.unified
    # only its uploader may use the token
    with pytest.raises(ObjectMissing):
        files.add_pending(ctx, Actor(owner["id"]), document_id, token)
    added = files.add_pending(ctx, Actor(colleague["id"]), document_id, token)
    assert added.number == 3 and not added.unchanged
    versions = cases.versions(ctx, Actor(owner["id"]), document_id)
    assert [(v["number"], v["note"]) for v in versions][:1] == [(3, "mine")]
    with pytest.raises(ObjectMissing):  # used once
        files.add_pending(ctx, Actor(colleague["id"]), document_id, token)


def test_cancel_forgets_the_kept_file_and_right_base_passes(org: FalkorStore, settings: Settings,
                                                           people: People) -> None:
    document_id, owner, colleague = _shared_document(org, settings, people)
    ctx = Context(org, settings)
    files.upload(ctx, Actor(owner["id"]), files.Upload(b"v2\n", "c.txt"), document_id=document_id, base_version=1)
    with pytest.raises(StateConflict) as refused:
        files.upload(ctx, Actor(colleague["id"]), files.Upload(b"v2 other\n", "c.txt"), document_id=document_id,
                     base_version=1)
    token = str(refused.value.params["pending"])
    conflicts.cancel(ctx, Actor(colleague["id"]), document_id, token)
    assert pending_versions.load(settings, token, colleague["id"], document_id) is None
    ok = files.upload(ctx, Actor(colleague["id"]), files.Upload(b"v3\n", "c.txt"), document_id=document_id,
                      base_version=2)
    assert ok.number == 3


def test_racing_uploads_on_one_base_make_exactly_one_version(org: FalkorStore, settings: Settings,
                                                             people: People) -> None:
    document_id, owner, colleague = _shared_document(org, settings, people)
    outcomes: list[object] = []

    def send(person: dict, content: bytes) -> None:
        try:
            outcomes.append(uploads.upload(org, settings, content, "c.txt", person["id"], document_id=document_id,
                                            enqueue=None, base_version=1))
        except docs.StaleBase as stale:
            outcomes.append(stale)

    threads = [threading.Thread(target=send, args=(p, f"race {i}\n".encode()))
               for i, p in enumerate([owner, colleague, owner, colleague])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stored = [o for o in outcomes if isinstance(o, uploads.UploadResult)]
    assert len(stored) == 1 and stored[0].number == 2
    assert sum(isinstance(o, docs.StaleBase) for o in outcomes) == 3
    assert document_rows.get_document(org, document_id)["current_number"] == 2


def test_cli_stale_base_exits_3_with_json(graph_server, settings: Settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from documents_helpers import org_graph

    with org_graph(graph_server) as store:
        people = People(store)
        owner = people.one("LEGAL")
        env = {"HUITONG_GRAPH_NAME": store.graph_name}
        first = tmp_path / "a.txt"
        first.write_text("one\n")
        made = run_cli("upload", str(first), "--as", owner["username"], "--json", env=env)
        assert made.returncode == 0, made.stderr
        document_id = json.loads(made.stdout)["document_id"]
        first.write_text("two\n")
        ok = run_cli("upload", str(first), "--as", owner["username"], "--document", document_id, "--base-version", "1",
                     "--json", env=env)
        assert ok.returncode == 0 and json.loads(ok.stdout)["number"] == 2
        first.write_text("three\n")
        stale = run_cli("upload", str(first), "--as", owner["username"], "--document", document_id,
                        "--base-version", "1", "--json", env=env)
        assert stale.returncode == 3, stale.stderr
        body = json.loads(stale.stdout)
        assert body["error"] == "version.stale_base" and (body["params"]["base"], body["params"]["current"]) == (1, 2)
        text = run_cli("upload", str(first), "--as", owner["username"], "--document", document_id,
                       "--base-version", "1", env=env)
        assert text.returncode == 3 and "version 2 became current" in text.stderr.lower()
