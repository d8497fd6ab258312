"""Pickers instead of codes: the search behind them (only the living organisation), the combobox in the
forms that used to take typed codes, and the share preview that shows errors and keeps tokens out of URLs."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from document_pages_support import api_upload, login, make_docx, serving, text, token
from documents_helpers import People
from flask import Flask

from graph import org as org_records
from graph.falkordb_backend import FalkorStore
from settings import Settings


@pytest.fixture
def site(app: Flask, org: FalkorStore, settings: Settings) -> Iterator[Flask]:
    with serving(app, org, settings):
        yield app


def values(page: str) -> list[str]:
    return re.findall(r'data-value="([^"]+)"', page)


def test_people_and_departments_are_found_by_name_and_the_inactive_are_not(site: Flask, org: FalkorStore,
                                                                            people: People) -> None:
    client = login(site, org, people.one("FIN-ACC")["id"], language="zh-CN")
    someone, gone = people.of("MKT-BRD", 2)
    found = text(client.get(f"/pick/person?q={someone['name'][:2]}"))
    assert someone["username"] in values(found) and 'role="option"' in found
    org_records.set_person_active(org, gone["id"], False)
    try:
        assert gone["username"] not in values(text(client.get(f"/pick/person?q={gone['username']}")))
    finally:
        org_records.set_person_active(org, gone["id"], True)
    departments = text(client.get("/pick/department?q=fin-acc"))
    assert values(departments)[:1] == ["FIN-ACC"] and "picker-hint" in departments  # its place in the tree
    assert "FIN" in values(text(client.get("/pick/department?code=fin&field=code")))  # the form field's own name
    shares = values(text(client.get("/pick/share?share=person:x, project:erp&field=share&multiple=1")))
    assert shares and all(v.startswith("project:") for v in shares)
    unknown = client.get("/pick/passwords?q=a")
    assert unknown.status_code == 404 and "passwords" in text(unknown)
    assert "未找到" in text(client.get("/pick/position?q=zzzz-nothing"))


def test_forms_offer_pickers_and_the_share_preview_shows_errors(site: Flask, org: FalkorStore,
                                                                people: People) -> None:
    owner = people.one("FIN-ACC", 1)
    client = login(site, org, owner["id"])
    response = api_upload(client, [(make_docx("预算"), "budget.docx")])
    doc_id = response.get_json()["results"][0]["document_id"]
    page = text(client.get(f"/documents/{doc_id}"))
    assert 'role="combobox"' in page and 'data-picker-kind-from="kind"' in page
    assert f'hx-post="/documents/{doc_id}/share-preview"' in page and "share-preview?" not in page
    bad = client.post(f"/documents/{doc_id}/share-preview", data={"csrf_token": token(client), "kind": "department",
                                                                   "code": "NOPE"}, headers={"HX-Request": "true"})
    assert bad.status_code == 200 and 'role="alert"' in text(bad) and "NOPE" in text(bad)  # htmx swaps it in
    good = client.post(f"/documents/{doc_id}/share-preview", data={"csrf_token": token(client), "kind": "department",
                                                                    "code": "MKT-BRD"}, headers={"HX-Request": "true"})
    assert good.status_code == 200 and 'role="alert"' not in text(good)
    refused = client.post(f"/documents/{doc_id}/share-preview", data={"kind": "department", "code": "MKT-BRD"})
    assert refused.status_code in (400, 403)  # a POST without its token is refused
    upload_page = text(client.get("/documents/upload"))
    assert 'data-picker-kind="share"' in upload_page and "data-picker-multiple" in upload_page
