"""Search through the web app and the CLI: JSON API, results page, live results, "why", "more like this",
errors and empty states; ``huitong search``/``reindex``/``check``. Real app, real graph, real index.

Also home of the ``search_docs`` fixture the browser test imports.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from helpers import run_cli
from web_support import client_from, random_address, sign_in

from graph import accounts
from graph import permissions as perm
from graph.actor import Actor
from graph.falkordb_backend import FalkorStore
from graph.usecases import Context
from ingest import processing, uploads
from ingest import search as service
from settings import Settings

PASSWORD = "search test password"
SECRET_WORD = "qzvaultword"


@dataclass(frozen=True)
class SearchDocs:
    member_id: str
    member_username: str
    password: str
    readable: dict[str, str]  # title -> document id, readable by the member
    hidden: dict[str, str]  # title -> document id, not readable by the member


def _member(store: FalkorStore, department: str) -> dict:
    # the second such member: the browser tests' demo user is the first, with a password of its own
    return [p for p in accounts.list_people(store)
            if p["roles"] == ["member"] and p["active"] is not False and p["departments"][:1] == [department]][1]


def _put(store: FalkorStore, settings: Settings, owner_id: str, title: str, text: str, access: str,
         shares: list[str]) -> str:
    uploaded = uploads.upload(store, settings, text.encode(), f"{uuid.uuid4().hex[:8]}.md", owner_id, "finance",
                               access, shares, title=title, enqueue=None)
    if not uploaded.unchanged:
        done = processing.process_version_now(store, settings, uploaded.version_id)
        assert done.status == "ok" and done.chunks
    return uploaded.document_id


@pytest.fixture(scope="session")
def search_docs(demo: FalkorStore, settings: Settings) -> SearchDocs:
    """A Finance accountant with a known password, documents they can read, and documents they cannot."""
    member, outsider = _member(demo, "FIN-ACC"), _member(demo, "HR-REC")
    accounts.set_password(demo, member["id"], PASSWORD)
    readable = {
        "差旅费报销制度": _put(demo, settings, member["id"], "差旅费报销制度",
                         "# 差旅费报销制度\n\n员工出差产生的交通费、住宿费凭发票报销。"
                         "报销申请须在出差结束后十五日内提交财务部审核。超过标准的住宿费需部门负责人审批。",
                         "internal", ["department:FIN"]),
        "Annual budget planning guide": _put(demo, settings, member["id"], "Annual budget planning guide",
                                             "# Annual budget planning guide\n\nEach department submits its budget "
                                             "forecast for the next fiscal year. Finance consolidates the budget "
                                             "and reviews capital expenditure.", "internal", ["department:FIN-ACC"]),
        "Holiday calendar": _put(demo, settings, outsider["id"], "Holiday calendar",
                                 "# Holiday calendar\n\nPublic holidays and office closures for the coming year; "
                                 "the budget for the year-end party is approved.", "public", []),
        "Escaping <check>": _put(demo, settings, member["id"], "Escaping <check>",
                                 "# Invoice notes\n\nThe invoice template says <script>alert('x')</script> & "
                                 "qzescapeword must render as text.", "internal", []),
    }
    hidden = {
        "Budget freeze memo": _put(demo, settings, outsider["id"], "Budget freeze memo",
                                   f"# Budget freeze memo\n\nHiring and budget freeze, {SECRET_WORD}, do not "
                                   "circulate beyond recruiting.", "confidential", ["person:" + outsider["username"]]),
        "招聘计划": _put(demo, settings, outsider["id"], "招聘计划",
                     f"# 招聘计划\n\n明年招聘预算与差旅费报销安排 {SECRET_WORD}，仅限招聘组。", "internal",
                     ["department:HR-REC"]),
    }
    for document_id in readable.values():
        assert perm.can_read(demo, member["id"], document_id).allowed
    for document_id in hidden.values():
        assert not perm.can_read(demo, member["id"], document_id).allowed
    return SearchDocs(member["id"], member["username"], PASSWORD, readable, hidden)


@pytest.fixture
def member_client(app: Flask, search_docs: SearchDocs) -> FlaskClient:
    client = client_from(app, random_address())
    assert sign_in(client, search_docs.member_username, search_docs.password).status_code == 302
    return client


def _readable_only(store: FalkorStore, person_id: str, ids: list[str]) -> None:
    for document_id in ids:
        assert perm.can_read(store, person_id, document_id).allowed, document_id


# -- JSON API -----------------------------------------------------------------------------------------------


def test_api_needs_login(app: Flask) -> None:
    response = client_from(app, random_address()).get("/api/v1/search?q=budget")
    assert response.status_code == 401 and response.mimetype == "application/problem+json"
    assert response.get_json(force=True)["code"] == "auth.required"


def test_api_finds_readable_documents_in_both_languages(member_client: FlaskClient, search_docs: SearchDocs,
                                                        demo: FalkorStore) -> None:
    english = member_client.get("/api/v1/search?q=budget+forecast&k=5").json
    assert english["results"][0]["document_id"] == search_docs.readable["Annual budget planning guide"]
    chinese = member_client.get("/api/v1/search", query_string={"q": "差旅费报销", "k": 5}).json
    assert chinese["results"][0]["document_id"] == search_docs.readable["差旅费报销制度"]
    first = chinese["results"][0]
    assert set(first) >= {"document_id", "title", "score", "snippet", "snippet_html", "page", "url"}
    assert "<mark>" in first["snippet_html"] and "<mark>" not in first["snippet"]
    for body in (english, chinese):
        ids = [r["document_id"] for r in body["results"]]
        assert not set(ids) & set(search_docs.hidden.values())
        _readable_only(demo, search_docs.member_id, ids)
        assert sum(f["count"] for f in body["facets"]["kind"]) == body["total"]


def test_api_never_reveals_an_unreadable_document(member_client: FlaskClient, search_docs: SearchDocs) -> None:
    body = member_client.get(f"/api/v1/search?q={SECRET_WORD}&mode=keyword").json
    assert body["total"] == 0 and body["results"] == []
    assert all(values == [] for name, values in body["facets"].items())
    assert SECRET_WORD not in json.dumps(body).replace(f'"query": "{SECRET_WORD}"', "")


def test_api_filters_sort_and_pages(member_client: FlaskClient, search_docs: SearchDocs) -> None:
    everything = member_client.get("/api/v1/search?q=budget&k=2").json
    assert everything["pages"] == -(-everything["total"] // 2) and len(everything["results"]) <= 2
    second = member_client.get("/api/v1/search?q=budget&k=2&page=2").json
    assert not {r["document_id"] for r in second["results"]} & {r["document_id"] for r in everything["results"]}
    public = member_client.get("/api/v1/search?q=budget&access=public").json
    assert public["total"] >= 1 and all(r["access"] == "public" for r in public["results"])
    assert search_docs.readable["Holiday calendar"] in {r["document_id"] for r in public["results"]}
    recent = member_client.get("/api/v1/search?q=budget&time=7d&sort=date").json
    stamps = [r["updated_at"] for r in recent["results"]]
    assert stamps == sorted(stamps, reverse=True) and recent["total"] >= 2
    assert member_client.get("/api/v1/search?q=budget&time=older&uploader=nobody").json["total"] == 0


@pytest.mark.parametrize(("query", "message"), [
    ("", "type something"), ("q=budget&k=0", "k must be between"), ("q=budget&k=abc", "整数"),
    ("q=budget&sort=size", "sort must be"), ("q=budget&time=1y", "time must be"), ("q=budget&page=0", "page"),
    ("q=budget&mode=fuzzy", "mode must be"), ("q=" + "x" * 501, "too long"),
])
def test_api_bad_input_is_a_clear_400(member_client: FlaskClient, query: str, message: str) -> None:
    response = member_client.get("/api/v1/search?" + query)
    body = response.get_json(force=True)
    assert response.status_code == 400 and message in body.get("detail", "") + body.get("message", "")


# -- pages and fragments --------------------------------------------------------------------------------------


def test_results_page_escapes_highlights_and_offers_facets(member_client: FlaskClient,
                                                          search_docs: SearchDocs) -> None:
    page = member_client.get("/search?q=qzescapeword")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<mark>qzescapeword</mark>" in html
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html
    assert "Escaping &lt;check&gt;" in html  # titles are escaped too
    assert 'data-facet="kind"' in html and 'data-facet="uploader"' in html
    assert "/search/why/" in html and 'hx-trigger="toggle once"' in html
    budget = member_client.get("/search?q=budget&access=public").get_data(as_text=True)
    selected = re.search(r'<a href="([^"]*)" aria-current="true" class="selected"\s+data-value="public"', budget)
    assert selected and "access=public" not in selected.group(1)  # a selected facet links to switching it off


def test_results_page_empty_states_and_errors(member_client: FlaskClient) -> None:
    blank = member_client.get("/search")
    assert blank.status_code == 200 and 'name="q"' in blank.get_data(as_text=True)
    nothing = member_client.get(f"/search?q={SECRET_WORD}&mode=keyword")
    assert nothing.status_code == 200 and 'class="empty"' in nothing.get_data(as_text=True)
    bad = member_client.get("/search?q=budget&sort=size")
    assert bad.status_code == 400 and "sort must be" in bad.get_data(as_text=True)


def test_search_box_on_every_page_for_signed_in_people(app: Flask, member_client: FlaskClient) -> None:
    home = member_client.get("/").get_data(as_text=True)
    assert 'id="site-search-q"' in home
    assert 'hx-trigger="keyup changed delay:300ms, input changed delay:300ms, search"' in home
    login = client_from(app, random_address()).get("/login").get_data(as_text=True)
    assert 'id="site-search-q"' not in login


def test_live_results_fragment(member_client: FlaskClient, search_docs: SearchDocs) -> None:
    assert member_client.get("/search/live?q=").get_data(as_text=True) == ""
    live = member_client.get("/search/live", query_string={"q": "差旅费报销"}).get_data(as_text=True)
    assert search_docs.readable["差旅费报销制度"] in live and "<mark>" in live
    assert not any(document_id in live for document_id in search_docs.hidden.values())
    # meaning-based neighbours of a word nobody readable contains may show, but never the hidden documents
    unrelated = member_client.get(f"/search/live?q={SECRET_WORD}").get_data(as_text=True)
    assert "<mark>" not in unrelated and not any(d in unrelated for d in search_docs.hidden.values())
    assert "too long" in member_client.get("/search/live?q=" + "x" * 501).get_data(as_text=True)


def test_why_can_i_see_this(member_client: FlaskClient, search_docs: SearchDocs) -> None:
    shared = member_client.get(f"/search/why/{search_docs.readable['Annual budget planning guide']}",
                               headers={"Accept-Language": "en"})
    assert shared.status_code == 200 and "own" in shared.get_data(as_text=True)
    public = member_client.get(f"/search/why/{search_docs.readable['Holiday calendar']}")
    assert public.status_code == 200 and "公开" in public.get_data(as_text=True)
    assert member_client.get(f"/search/why/{search_docs.hidden['招聘计划']}").status_code == 404
    assert member_client.get("/search/why/no-such-document").status_code == 404


def test_more_like_this_fragment(member_client: FlaskClient, search_docs: SearchDocs, demo: FalkorStore) -> None:
    source = search_docs.readable["差旅费报销制度"]
    fragment = member_client.get(f"/documents/{source}/similar")
    html = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "search-similar" in html
    linked = re.findall(r'href="/documents/([^"/]+)"', html)
    assert source not in linked  # only documents close in meaning are listed (none may be)
    assert not set(linked) & set(search_docs.hidden.values())
    _readable_only(demo, search_docs.member_id, linked)
    assert member_client.get(f"/documents/{search_docs.hidden['招聘计划']}/similar").status_code == 404


# -- command line ----------------------------------------------------------------------------------------------


@pytest.mark.slow  # a subprocess that loads the model
def test_cli_search_as_a_user(search_docs: SearchDocs) -> None:
    result = run_cli("search", "差旅费报销", "--as", search_docs.member_username, "--k", "3", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert rows and len(rows) <= 3 and set(rows[0]) == {"document_id", "title", "score", "snippet", "page"}
    assert rows[0]["document_id"] == search_docs.readable["差旅费报销制度"]
    assert not {r["document_id"] for r in rows} & set(search_docs.hidden.values())
    unknown = run_cli("search", "budget", "--as", "no.such.user")
    assert unknown.returncode != 0 and "no user" in unknown.stderr


def test_drift_and_reindex(fresh_store: FalkorStore, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from graph import org
    from settings import load_settings
    from webapp import search_maintenance as maintenance

    own = load_settings(data_dir=tmp_path / "data")
    owner = org.create_person(fresh_store, {"username": "drift.owner", "name": "Drift", "email": "d@x.test"})
    uploaded = uploads.upload(fresh_store, own, b"# Drift\n\nNot yet indexed text about drift.", "drift.md", owner,
                               "general", "internal", [], enqueue=None)
    processing.process_version_now(fresh_store, own, uploaded.version_id, index=False)
    service.engine(own).add_document("gone-from-graph", "v1", [("orphan text", "body")], {"title": "orphan"})
    found = maintenance.drift(fresh_store, own)
    assert found.missing == [uploaded.document_id] and found.orphans == ["gone-from-graph"]
    report = maintenance.reindex(fresh_store, own)
    assert report.documents == 1 and report.chunks >= 1 and report.removed == 1
    assert report.drift_after.clean and maintenance.drift(fresh_store, own).clean
    outcome = service.search(Context(fresh_store, own), Actor(owner), service.Query("drift", mode="keyword"))
    assert [r.document_id for r in outcome.results] == [uploaded.document_id]


def test_check_reports_index_drift(store: FalkorStore) -> None:
    result = run_cli("check", "--json")
    report = json.loads(result.stdout)
    assert set(report["index_drift"]) >= {"missing", "orphans"}
