"""The audit trail records what it used to miss: refusals on objects that exist (while the person gets the neutral
answer), run comments, thumbnail reads; logins and throttles are covered in test_auth.py."""

from __future__ import annotations

import io

import pytest
from flask import Flask
from PIL import Image
from web_support import PASSWORD, client_from, new_person, random_address, sign_in
from workflow_support import FORMS, NOW, Org

from graph import documents as docs
from graph.actor import Actor
from graph.audit import AuditFilter, list_events
from graph.demo_org import load_demo_org
from graph.errors import ObjectMissing
from graph.falkordb_backend import FalkorStore
from graph.workflows import runs, templates, usecases
from ingest import uploads
from settings import Settings


def _events(store: FalkorStore, **where: str) -> list[dict]:
    return list_events(store, AuditFilter(**where), limit=50)


def test_a_refusal_on_an_existing_document_is_recorded_a_missing_one_is_not(
        app: Flask, demo: FalkorStore, settings: Settings) -> None:
    owner, stranger = new_person(demo), new_person(demo)
    secret = uploads.upload(demo, settings, io.BytesIO(b"owner only " * 40), "private.txt", owner.id, "finance",
                             "secret", enqueue=None, client="test").document_id
    client = client_from(app, random_address())
    assert sign_in(client, stranger.username, PASSWORD).status_code == 302
    answer = client.get(f"/documents/{secret}")
    assert answer.status_code in (403, 404)
    refused = _events(demo, action="access.refused", target_id=secret)
    assert len(refused) == 1 and refused[0]["actor_id"] == stranger.id and '"mode": "read"' in refused[0]["detail"]
    with pytest.raises(docs.NotFound):
        docs.require_read(demo, stranger.id, "no-such-document")
    assert not _events(demo, action="access.refused", target_id="no-such-document")


def test_thumbnail_reads_are_recorded(app: Flask, demo: FalkorStore, settings: Settings,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    owner = new_person(demo)
    png = io.BytesIO()
    Image.new("RGB", (40, 30), "teal").save(png, format="PNG")
    document_id = uploads.upload(demo, settings, io.BytesIO(png.getvalue()), "picture.png", owner.id, "finance",
                                  "internal", enqueue=None, client="test").document_id
    client = client_from(app, random_address())
    assert sign_in(client, owner.username, PASSWORD).status_code == 302
    assert client.get(f"/documents/{document_id}/thumbnail").status_code == 200
    reads = _events(demo, action="document.thumbnail", target_id=document_id)
    assert len(reads) == 1 and reads[0]["actor_id"] == owner.id


def test_run_comments_and_refused_comments_are_recorded(fresh_store: FalkorStore) -> None:
    load_demo_org(fresh_store, "pw")
    templates.install_templates(fresh_store, now=NOW)
    org = Org()
    initiator, outsider = org.staff("RND-PLT"), org.staff("MKT-BRD")
    run_id = runs.start_run(fresh_store, "expense", initiator, FORMS["expense"], now=NOW)
    comment_id = usecases.comment(fresh_store, Actor(initiator), run_id, "请尽快审批", now=NOW + 1)
    recorded = _events(fresh_store, action="workflow.comment", target_id=run_id)
    assert len(recorded) == 1 and recorded[0]["actor_id"] == initiator and comment_id in recorded[0]["detail"]
    with pytest.raises(ObjectMissing):
        usecases.comment(fresh_store, Actor(outsider), run_id, "我也想看看", now=NOW + 2)
    refused = _events(fresh_store, action="access.refused", target_id=run_id)
    assert len(refused) == 1 and refused[0]["actor_id"] == outsider
