"""Live document updates over SSE: a browser showing a document (or a listing containing it) hears
about new versions, status and metadata changes; a person who may not read it hears nothing."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest
from document_pages_support import api_upload, login, make_docx, serving, text, token
from documents_helpers import People
from flask import Flask
from web_support import SSE

from graph import document_rows
from graph.falkordb_backend import FalkorStore
from settings import Settings


@pytest.fixture
def site(app: Flask, org: FalkorStore, settings: Settings) -> Iterator[Flask]:
    app.config.update(HUITONG_SSE_HEARTBEAT=0.2, HUITONG_SSE_MAX_SECONDS=30)
    with serving(app, org, settings):
        yield app
    app.config.pop("HUITONG_SSE_HEARTBEAT")
    app.config.pop("HUITONG_SSE_MAX_SECONDS")


def _payloads(heard: list[tuple[str, str]], event: str) -> list[dict]:
    return [json.loads(data) for name, data in heard if name == event]


def test_document_stream_reaches_readers_only(site: Flask, org: FalkorStore) -> None:
    people = People(org)
    owner, reader = people.of("FIN-ACC", 2)
    outsider = people.one("MKT-BRD")
    owner_client = login(site, org, owner["id"])
    made = api_upload(owner_client, [(make_docx("v1 text"), "live.docx")], share="department:FIN-ACC")
    doc_id = made.get_json()["results"][0]["document_id"]

    assert site.test_client().get(f"/documents/{doc_id}/events").status_code in (302, 401)
    stranger_client = login(site, org, outsider["id"])
    refused = SSE(stranger_client, f"/documents/{doc_id}/events")
    assert refused.status == 404  # the same answer as a missing document
    watching = SSE(login(site, org, reader["id"]), f"/documents/{doc_id}/events")
    # The outsider's listing asks for the document too: the stream leaves out what they cannot read.
    listing = SSE(stranger_client, f"/documents/live?id={doc_id}")
    try:
        assert ("ready", "{}") in watching.events(10, until="ready")
        assert ("ready", "{}") in listing.events(10, until="ready")
        response = owner_client.post(f"/documents/{doc_id}/versions", data={
            "csrf_token": token(owner_client), "note": "second",
            "file": (io.BytesIO(make_docx("v2 text")), "live-v2.docx")},
            content_type="multipart/form-data", headers={"Accept": "application/json"})
        assert response.status_code == 201, text(response)
        version_id = response.get_json()["results"][0]["version_id"]
        heard = watching.events(10, until="document-version")
        heard += watching.events(3)
        changes = _payloads(heard, "document-version") + _payloads(heard, "document-status")
        # the status event comes from the background step (run in the request here), then the version event
        assert {"id": doc_id, "what": "version", "version_id": version_id, "number": 2} in changes
        assert any(c["what"] == "status" and c["status"] == "ok" and c["version_id"] == version_id for c in changes)
        saved = owner_client.post(f"/documents/{doc_id}/metadata", data={
            "csrf_token": token(owner_client), "title": "Live title", "domain": "finance", "access": "internal",
            "revision": document_rows.get_document(org, doc_id)["revision"]})
        assert saved.status_code == 303
        heard = watching.events(10, until="document-metadata")
        assert any(c["what"] == "metadata" for c in _payloads(heard, "document-metadata"))
        assert [e for e in listing.events(1.5) if e[0] != "ready"] == []
    finally:
        watching.close()
        listing.close()
        refused.close()


def test_listing_hears_new_documents_of_its_reader(site: Flask, org: FalkorStore) -> None:
    people = People(org)
    owner, colleague = people.of("HR", 2)
    outsider = people.one("RND-MOB")
    mine = SSE(login(site, org, colleague["id"]), "/documents/live")
    other = SSE(login(site, org, outsider["id"]), "/documents/live")
    try:
        assert ("ready", "{}") in mine.events(10, until="ready")
        assert ("ready", "{}") in other.events(10, until="ready")
        made = api_upload(login(site, org, owner["id"]), [(make_docx("招聘"), "new-hire.docx")], domain="hr",
                          share="department:HR")
        doc_id = made.get_json()["results"][0]["document_id"]
        assert {"id": doc_id} in _payloads(mine.events(10, until="documents"), "documents")
        assert [e for e in other.events(1.5) if e[0] != "ready"] == []
    finally:
        mine.close()
        other.close()


def test_pages_connect_their_streams(site: Flask, org: FalkorStore) -> None:
    person = People(org).one("FIN-TRS")
    client = login(site, org, person["id"])
    doc_id = api_upload(client, [(make_docx("x"), "connect.docx")]).get_json()["results"][0]["document_id"]
    page = text(client.get(f"/documents/{doc_id}"))
    assert f'sse-connect="/documents/{doc_id}/events"' in page
    # each part reloads on the kinds of change that alter it, not on every event of the document
    assert 'id="doc-comments" class="doc-part" ' in page
    comments_part = page.split('id="doc-comments"')[1].split(">")[0]
    assert 'hx-trigger="sse:document-comment"' in comments_part
    summary_part = page.split('id="doc-summary"')[1].split(">")[0]
    assert "sse:document-metadata" in summary_part and "sse:document-comment" not in summary_part
    listing = text(client.get("/documents?tab=mine"))
    assert f"/documents/live?id={doc_id}" in listing and "sse:documents" in listing
