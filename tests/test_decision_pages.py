"""Decision pages, the document page's knowledge panel, the search section and the duplicates report."""

from __future__ import annotations

import os
import re

import pytest
from flask import Flask
from knowledge_support import make_document
from web_support import csrf_token, login, new_person

from graph import permissions as perm
from graph.classification import ShareKind
from graph.demo_org import load_demo_org, node_id
from graph.falkordb_backend import FalkorStore
from ingest import dedupe
from webapp import services


@pytest.fixture
def world(app: Flask, fresh_store: FalkorStore, monkeypatch: pytest.MonkeyPatch) -> dict:
    load_demo_org(fresh_store, os.environ["HUITONG_ADMIN_PASSWORD"])
    monkeypatch.setitem(app.extensions.setdefault(services.STORES, {}), os.getpid(), fresh_store)
    owner, reader, stranger = (new_person(fresh_store) for _ in range(3))
    shared = make_document(fresh_store, owner.id, "合同范本 shared", access="secret")
    perm.share(fresh_store, owner.id, shared[0], ShareKind.PERSON, reader.id)
    private = make_document(fresh_store, owner.id, "董事会决议 private", access="secret")
    clients = {name: login(app, fresh_store, person.id) for name, person in
               (("owner", owner), ("reader", reader), ("stranger", stranger))}
    return {"store": fresh_store, "clients": clients, "reader": reader, "shared": shared, "private": private}


def record(world: dict, **form: object):  # type: ignore[no-untyped-def]
    client = world["clients"]["owner"]
    return client.post("/decisions", data={**form, "csrf_token": csrf_token(client, "/decisions")})


def test_lineage_pages_never_show_an_unreadable_document(world: dict) -> None:
    shared, private = world["shared"], world["private"]
    hidden = record(world, title="签约 A 公司", based_on=[shared[1], private[1]])
    assert hidden.status_code == 302
    hidden_id = hidden.headers["Location"].rsplit("/", 1)[1]
    page = world["clients"]["owner"].get(f"/decisions/{hidden_id}").get_data(as_text=True)
    assert "合同范本 shared" in page and "董事会决议 private" in page
    document_page = world["clients"]["owner"].get(f"/documents/{shared[0]}").get_data(as_text=True)
    assert f'hx-get="/documents/{shared[0]}/knowledge"' in document_page  # the page loads the panel

    reader = world["clients"]["reader"]
    assert reader.get(f"/decisions/{hidden_id}").status_code == 404
    panel = reader.get(f"/documents/{shared[0]}/knowledge").get_data(as_text=True)
    assert "签约 A 公司" not in panel and "1 more decision(s) you may not see" in panel
    assert world["clients"]["stranger"].get(f"/documents/{shared[0]}/knowledge").status_code == 404

    seen = record(world, title="续签 B 公司", based_on=[shared[1], private[1]],
                  participants=world["reader"].username, affects="FIN")
    seen_id = seen.headers["Location"].rsplit("/", 1)[1]
    page = reader.get(f"/decisions/{seen_id}").get_data(as_text=True)
    assert "合同范本 shared" in page and "董事会决议" not in page and "1 more document(s) you may not read" in page
    panel = reader.get(f"/documents/{shared[0]}/knowledge").get_data(as_text=True)
    assert "续签 B 公司" in panel and "Record a decision based on this version (v1)" in panel
    found = reader.get("/decisions/search?q=公司").get_data(as_text=True)
    assert "续签 B 公司" in found and "签约 A 公司" not in found
    assert "续签 B 公司" in reader.get("/decisions").get_data(as_text=True)


def test_bad_input_is_a_clear_error(world: dict) -> None:
    response = record(world, title="  ", based_on=[world["shared"][1]])
    assert response.status_code == 422 and "A title is required" in response.get_data(as_text=True)
    response = record(world, title="会议", decided_on="yesterday")
    assert response.status_code == 422 and "is not a date" in response.get_data(as_text=True)
    stranger = world["clients"]["stranger"]
    refused = stranger.post("/decisions", data={"title": "越权", "based_on": world["private"][1],
                                                "csrf_token": csrf_token(stranger, "/decisions")})
    assert refused.status_code == 404


def test_copies_notice_and_the_managers_report(world: dict, app: Flask) -> None:
    store, shared = world["store"], world["shared"]
    other_owner = new_person(store)
    copy = make_document(store, other_owner.id, "合同范本 副本", access="secret", content="合同范本 shared".encode())
    text = "甲方与乙方经友好协商，就货物采购事宜达成如下协议，双方共同遵守。" * 3
    dedupe.link(store, [(shared[0], shared[1], text), (copy[0], copy[1], text)])
    panel = world["clients"]["reader"].get(f"/documents/{shared[0]}/knowledge").get_data(as_text=True)
    assert "1 more cop(ies) you may not read" in panel and "副本" not in panel
    assert world["clients"]["owner"].get("/manage/duplicates").status_code == 403
    admin = login(app, store, node_id("person", "admin"))
    report = admin.get("/manage/duplicates").get_data(as_text=True)
    assert re.search(r"<td>1</td>", report)

