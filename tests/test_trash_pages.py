"""In the browser (Flask test client on the real app and graph): the version conflict page (409, both files kept,
escaped diff, add anyway / cancel) and the trash (button, 404 for everyone, trash page, restore)."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from document_pages_support import api_upload, login, serving, text, token
from documents_helpers import People
from flask import Flask

from graph import document_rows
from graph.falkordb_backend import FalkorStore
from settings import Settings


@pytest.fixture
def site(app: Flask, org: FalkorStore, settings: Settings) -> Iterator[Flask]:
    with serving(app, org, settings):
        yield app


def _new_version(client, doc_id: str, content: bytes, name: str, base: int, json: bool = False):  # type: ignore[no-untyped-def]
    return client.post(f"/documents/{doc_id}/versions", data={
        "csrf_token": token(client), "base_version": str(base), "file": (io.BytesIO(content), name)},
        content_type="multipart/form-data", headers={"Accept": "application/json"} if json else {})


def test_stale_base_in_the_browser_keeps_both_files_and_offers_the_choice(site: Flask, org: FalkorStore,
                                                                           people: People) -> None:
    owner, colleague = people.of("LEGAL", 2)
    first, second = login(site, org, owner["id"]), login(site, org, colleague["id"])
    made = api_upload(first, [(b"line one\nline two\n", "terms.txt")], access="internal",
                      share=f"person:{colleague['username']}:edit").get_json()["results"][0]
    doc_id = made["document_id"]
    page = text(first.get(f"/documents/{doc_id}"))
    assert 'name="base_version" value="1"' in page  # the hidden field names the base
    assert _new_version(first, doc_id, b"line one\nline two changed\n", "terms.txt", 1).status_code == 303
    stale = _new_version(second, doc_id, b"line one\n<script>x</script> added\n", "mine.txt", 1, json=True)
    assert stale.status_code == 409
    result = stale.get_json()["results"][0]
    assert result["code"] == "stale_base" and (result["base"], result["current"]) == (1, 2)
    conflict = second.get(result["url"])
    body = text(conflict)
    assert conflict.status_code == 409 and "mine.txt" in body and "Add my file as a newer version anyway" in body
    assert "<script>x</script>" not in body and "&lt;script&gt;x&lt;/script&gt;" in body  # escaped diff
    assert first.get(result["url"]).status_code == 404  # only its uploader may use it
    # the form post (not JSON) redirects to the same page
    again = _new_version(second, doc_id, b"other edit\n", "other.txt", 1)
    assert again.status_code == 303 and "/versions/pending/" in again.headers["Location"]
    added = second.post(result["url"], data={"csrf_token": token(second), "choice": "add"})
    assert added.status_code == 303 and document_rows.get_document(org, doc_id)["current_number"] == 3
    cancelled = second.post(again.headers["Location"], data={"csrf_token": token(second), "choice": "cancel"})
    assert cancelled.status_code == 303 and document_rows.get_document(org, doc_id)["current_number"] == 3
    assert second.get(again.headers["Location"]).status_code == 404


def test_trash_button_page_and_restore(site: Flask, org: FalkorStore, people: People) -> None:
    owner, colleague = people.of("HR", 2)
    mine, theirs = login(site, org, owner["id"]), login(site, org, colleague["id"])
    made = api_upload(mine, [(b"qztrashpage notes\n", "notes.txt")], domain="hr",
                      share="department:HR").get_json()["results"][0]
    doc_id = made["document_id"]
    assert "Move to trash" in text(mine.get(f"/documents/{doc_id}"))
    assert "Move to trash" not in text(theirs.get(f"/documents/{doc_id}"))  # a reader sees no button
    assert theirs.post(f"/documents/{doc_id}/trash", data={"csrf_token": token(theirs)}).status_code == 403
    moved = mine.post(f"/documents/{doc_id}/trash", data={"csrf_token": token(mine)})
    assert moved.status_code == 303
    for client in (mine, theirs):
        assert client.get(f"/documents/{doc_id}").status_code == 404
    listing = text(mine.get("/trash"))
    assert "notes" in listing and f"/trash/{doc_id}/restore" in listing
    assert "notes" not in text(theirs.get("/trash"))
    assert theirs.post(f"/trash/{doc_id}/restore", data={"csrf_token": token(theirs)}).status_code == 404
    assert mine.post(f"/trash/{doc_id}/restore", data={"csrf_token": token(mine)}).status_code == 303
    assert theirs.get(f"/documents/{doc_id}").status_code == 200
    zh = login(site, org, owner["id"], language="zh")
    assert "回收站" in text(zh.get("/trash"))
