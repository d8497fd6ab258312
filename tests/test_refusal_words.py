"""Refusals the platform words itself, in the reader's language: a failed CSRF check (flask-wtf's English
reason is never shown) and a thumbnail whose decode slots are all busy (503 with Retry-After, not 404)."""

from __future__ import annotations

import html
from collections.abc import Iterator

import pytest
from document_pages_support import api_upload, login, make_png, serving, text
from documents_helpers import People
from flask import Flask

from graph import document_rows
from graph.falkordb_backend import FalkorStore
from ingest import images, thumbnails
from settings import Settings


@pytest.fixture
def site(app: Flask, org: FalkorStore, settings: Settings) -> Iterator[Flask]:
    with serving(app, org, settings):
        yield app


@pytest.mark.parametrize(("language", "expected"), [("zh_CN", "表单缺少安全令牌。"),
                                                    ("en", "The form's security token is missing.")])
def test_csrf_refusal_is_worded_for_the_reader(site: Flask, org: FalkorStore, people: People, language: str,
                                               expected: str) -> None:
    client = login(site, org, people.one("FIN-ACC", 1)["id"], language)
    page = client.post("/account/password", data={"current": "x", "new": "y"})
    assert page.status_code == 400
    body = html.unescape(text(page))
    assert expected in body and "The CSRF token" not in body
    htmx = client.post("/account/password", data={}, headers={"HX-Request": "true"})
    assert htmx.status_code == 400 and htmx.get_json() == {"error": "csrf", "detail": expected}


def test_busy_thumbnail_answers_503_with_retry_after(site: Flask, org: FalkorStore, people: People, settings: Settings,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    client = login(site, org, people.one("FIN-ACC", 2)["id"], "zh_CN")
    answer = api_upload(client, [(make_png(640, 480), "busy.png")], title="busy")
    assert answer.status_code == 201, text(answer)
    doc_id = answer.get_json()["results"][0]["document_id"]
    # the worker made the thumbnail while processing: drop it, so this request has to decode the image
    thumbnails.thumbnail_path(settings, document_rows.get_document(org, doc_id)["sha256"]).unlink(missing_ok=True)
    monkeypatch.setattr(images, "WAIT_SECONDS", 0.2)
    held = [images._slots.acquire(timeout=1) for _ in range(images.DECODES)]
    try:
        assert all(held)
        busy = client.get(f"/documents/{doc_id}/thumbnail")
    finally:
        for _ in held:
            images._slots.release()
    assert busy.status_code == 503 and busy.headers["Retry-After"].isdigit()
    assert "当前正在生成的图片过多" in text(busy)
    assert client.get(f"/documents/{doc_id}/thumbnail").status_code == 200  # a slot is free again
