"""The document pages through the Flask test client, on the demo organisation in a graph of their own.

Uploads (page and JSON API, per-file errors, size limit, CSRF), the document page (why can I see
this, who can see this, share preview, sharing, optimistic edits, versions and diff, escaped text,
audited download, thumbnails, comments, provenance) and browsing (tabs, filters, tree, folders,
pages, empty states). Authorisation everywhere: no page, part, stream or listing shows a document
to somebody who may not read it.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from document_pages_support import api_upload, login, make_docx, make_png, serving, text, token
from documents_helpers import People
from flask import Flask
from PIL import Image

from graph import audit, document_rows
from graph.actor import Actor
from graph.falkordb_backend import FalkorStore
from graph.usecases import Context
from graph.usecases import documents as cases
from ingest.thumbnails import thumbnail_path
from settings import Settings


@pytest.fixture
def site(app: Flask, org: FalkorStore, settings: Settings) -> Iterator[Flask]:
    with serving(app, org, settings):
        yield app


def _zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "not an office document")
    return out.getvalue()


def _upload_one(client, content: bytes, name: str, **fields) -> dict:  # type: ignore[no-untyped-def]
    response = api_upload(client, [(content, name)], **fields)
    assert response.status_code == 201, text(response)
    return response.get_json()["results"][0]


def _count(store: FalkorStore) -> int:
    return store.counts().get("Document", 0)


# -- uploads -----------------------------------------------------------------------------------------

def test_upload_page_is_script_free_and_has_the_drop_zone(site: Flask, org: FalkorStore, people: People) -> None:
    page = text(login(site, org, people.one("FIN-ACC")["id"]).get("/documents/upload"))
    assert 'id="dropzone"' in page and 'data-api="/api/v1/documents"' in page and "upload.js" in page
    assert not re.search(r"<script(?![^>]*\bsrc=)", page) and " on" + "click=" not in page
    assert 'name="file" type="file" multiple' in page


def test_api_upload_answers_ids_and_per_file_errors(site: Flask, org: FalkorStore, people: People) -> None:
    client = login(site, org, people.one("FIN-ACC")["id"])
    before = _count(org)
    response = api_upload(client, [(make_docx("预算说明 alpha"), "预算.docx"), (_zip(), "archive.zip"),
                                   (make_docx("not a pdf"), "pretend.pdf"), (b"", "empty.bin")],
                          share="department:FIN-ACC")
    assert response.status_code == 201
    results = {r["filename"]: r for r in response.get_json()["results"]}
    good = results["预算.docx"]
    assert good["ok"] and good["created"] and good["number"] == 1 and good["url"] == f"/documents/{good['document_id']}"
    assert (results["archive.zip"]["code"], results["pretend.pdf"]["code"], results["empty.bin"]["code"]) == (
        "unsupported", "mismatched", "unsupported")
    assert "named as PDF" in results["pretend.pdf"]["detail"]
    assert _count(org) == before + 1  # the refused files wrote nothing; the good one was not lost
    doc = document_rows.get_document(org, good["document_id"])
    assert doc["status"] == "ok" and doc["kind"] == "docx"
    assert document_rows.get_version(org, good["version_id"])["version"]["number"] == 1
    all_bad = api_upload(client, [(_zip(), "a.zip")])
    assert all_bad.status_code == 422 and all_bad.get_json()["failed"] == 1
    nothing = client.post("/api/v1/documents", data={"csrf_token": token(client)},
                          headers={"Accept": "application/json"})
    assert nothing.status_code == 400 and nothing.get_json()["results"][0]["code"] == "no_file"
    bad_level = api_upload(client, [(make_docx("x"), "x.docx")], access="top-secret")
    assert bad_level.status_code == 422 and "access level" in bad_level.get_json()["results"][0]["detail"]


def test_too_large_no_csrf_and_anonymous_store_nothing(site: Flask, org: FalkorStore, people: People,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    client = login(site, org, people.one("FIN-ACC")["id"])
    before = _count(org)
    form_token = token(client)
    monkeypatch.setitem(site.config, "MAX_CONTENT_LENGTH", 4096)
    big = client.post("/api/v1/documents", data={"csrf_token": form_token, "domain": "finance",
                                                 "access": "internal", "file": (io.BytesIO(b"x" * 10_000), "a.txt")},
                      content_type="multipart/form-data")
    assert big.status_code == 413 and big.get_json()["results"][0]["code"] == "too_large"
    page = client.post("/documents/upload", data={"csrf_token": form_token, "file": (io.BytesIO(b"x" * 10_000),
                                                                                     "a.txt")})
    assert page.status_code == 413 and "larger than the limit" in text(page)
    monkeypatch.undo()
    no_csrf = client.post("/api/v1/documents", data={"domain": "finance", "access": "internal",
                                                     "file": (io.BytesIO(b"hello"), "a.txt")})
    assert no_csrf.status_code == 400
    anonymous = site.test_client().post("/api/v1/documents", data={"file": (io.BytesIO(b"hello"), "a.txt")})
    assert anonymous.status_code == 401
    assert _count(org) == before


def test_html_upload_form_reports_each_file(site: Flask, org: FalkorStore, people: People) -> None:
    client = login(site, org, people.one("FIN-ACC")["id"])
    response = client.post("/documents/upload", data={
        "csrf_token": token(client), "domain": "finance", "access": "internal",
        "file": [(io.BytesIO(make_docx("表单上传")), "form.docx"), (io.BytesIO(_zip()), "bad.docx")]},
        content_type="multipart/form-data")
    page = text(response)
    assert response.status_code == 201 and "form.docx" in page and 'data-code="mismatched"' in page


# -- the document page and authorisation ----------------------------------------------------------------

def test_reader_sees_why_outsider_gets_nothing(site: Flask, org: FalkorStore, people: People) -> None:
    owner, reader = people.of("FIN-ACC", 2)
    outsider = people.one("MKT-BRD")
    owner_client = login(site, org, owner["id"])
    made = _upload_one(owner_client, make_docx("季度结账 <script>alert(1)</script> 说明"), "closing-secret-title.docx",
                       share="department:FIN", title="Quarter closing notes")
    doc_id = made["document_id"]
    reader_en = login(site, org, reader["id"])
    page = text(reader_en.get(f"/documents/{doc_id}"))
    assert "Why can I see this?" in page and "which this document is shared with" in page and "Finance" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page  # escaped text
    assert "Who can see this?" not in page  # only for owners and administrators
    assert f'sse-connect="/documents/{doc_id}/events"' in page
    reader_zh = login(site, org, reader["id"], language="zh-CN")
    assert "该文档已共享给" in text(reader_zh.get(f"/documents/{doc_id}"))

    stranger = login(site, org, outsider["id"])
    for path in ("", "/part/summary", "/part/text", "/download", "/diff", "/thumbnail", "/events", "/readers",
                 "/share-preview?kind=department&code=MKT"):
        response = stranger.get(f"/documents/{doc_id}{path}")
        assert response.status_code == 404, path  # exactly as for a missing document: nothing disclosed
        assert "Quarter closing" not in text(response) and "closing-secret" not in text(response)
    for tab in ("all", "department", "recent", "mine"):
        listing = text(stranger.get(f"/documents?tab={tab}&q=quarter"))
        assert "Quarter closing" not in listing and doc_id not in listing
    assert "Quarter closing" not in text(stranger.get("/documents"))
    assert stranger.post(f"/documents/{doc_id}/comments", data={"csrf_token": token(stranger),
                                                                "text": "hi"}).status_code == 404
    assert stranger.get("/documents/no-such-document").status_code == 404
    assert reader_en.get("/documents/no-such-document/part/text").status_code == 404
    assert "Quarter closing" in text(reader_en.get("/documents?q=quarter"))


def test_stale_edit_shows_conflict_and_overwrites_nothing(site: Flask, org: FalkorStore, people: People) -> None:
    owner = people.one("FIN-TRS")
    made = _upload_one(login(site, org, owner["id"]), make_docx("资金计划"), "plan.docx", title="Cash plan")
    doc_id = made["document_id"]
    first, second = login(site, org, owner["id"], fresh=True), login(site, org, owner["id"], fresh=True)
    revision = document_rows.get_document(org, doc_id)["revision"]
    assert f'name="revision" value="{revision}"' in text(second.get(f"/documents/{doc_id}"))
    saved = first.post(f"/documents/{doc_id}/metadata", data={
        "csrf_token": token(first), "title": "Cash plan 2027", "domain": "finance", "access": "internal",
        "revision": revision})
    assert saved.status_code == 303
    stale = second.post(f"/documents/{doc_id}/metadata", data={
        "csrf_token": token(second), "title": "My other title", "domain": "legal", "access": "internal",
        "revision": revision})
    page = text(stale)
    assert stale.status_code == 409 and "Someone else saved this document" in page and "Nothing was saved" in page
    assert 'value="My other title"' in page  # what they typed is kept
    assert f'name="revision" value="{revision + 1}"' in page
    doc = document_rows.get_document(org, doc_id)
    assert (doc["title"], doc["domain"], doc["revision"]) == ("Cash plan 2027", "finance", revision + 1)
    no_csrf = first.post(f"/documents/{doc_id}/metadata", data={"title": "x", "revision": revision + 1})
    assert no_csrf.status_code == 400 and document_rows.get_document(org, doc_id)["title"] == "Cash plan 2027"
    colleague = people.one("FIN-TRS", 1)  # not shared with: the document does not exist for them
    outsider = login(site, org, colleague["id"])
    refused = outsider.post(f"/documents/{doc_id}/metadata", data={"csrf_token": token(outsider), "title": "hijack",
                                                                   "revision": revision + 1})
    assert refused.status_code == 404 and document_rows.get_document(org, doc_id)["title"] == "Cash plan 2027"
    first.post(f"/documents/{doc_id}/share", data={"csrf_token": token(first), "kind": "person",
                                                   "code": colleague["username"], "access": "read"})
    refused = outsider.post(f"/documents/{doc_id}/metadata", data={"csrf_token": token(outsider), "title": "hijack",
                                                                   "revision": revision + 1})
    title = document_rows.get_document(org, doc_id)["title"]
    assert refused.status_code == 403 and title == "Cash plan 2027"  # a reader


def test_versions_diff_text_download_and_timeline(site: Flask, org: FalkorStore, people: People) -> None:
    owner = people.one("FIN-ACC", 2)
    client = login(site, org, owner["id"])
    v1 = make_docx("第一行 unchanged", "old line <b>")
    made = _upload_one(client, v1, "report.docx", title="Monthly report")
    doc_id = made["document_id"]
    response = client.post(f"/documents/{doc_id}/versions", data={
        "csrf_token": token(client), "note": "fixed the numbers",
        "file": (io.BytesIO(make_docx("第一行 unchanged", "new line & more")), "report-v2.docx")},
        content_type="multipart/form-data")
    assert response.status_code == 303
    page = text(client.get(f"/documents/{doc_id}"))
    assert "fixed the numbers" in page and "report-v2.docx" in page and "v2" in page
    versions = cases.versions(Context(org), Actor(owner["id"]), doc_id)
    diff = text(client.get(f"/documents/{doc_id}/diff"))
    assert "1 lines added, 1 removed" in diff and "<b>" not in diff.split('class="diff"')[1]
    assert "old&nbsp;line&nbsp;&lt;b&gt;" in diff and "new&nbsp;line&nbsp;&amp;&nbsp;more" in diff
    picked = client.get(f"/documents/{doc_id}/diff?old={versions[0]['id']}&new={versions[1]['id']}")
    assert picked.status_code == 200 and "old&nbsp;line&nbsp;&lt;b&gt;" in text(picked)
    assert client.get(f"/documents/{doc_id}/diff?old=nope&new={versions[0]['id']}").status_code == 404
    same = client.post(f"/documents/{doc_id}/versions", data={
        "csrf_token": token(client), "file": (io.BytesIO(make_docx("第一行 unchanged", "new line & more")), "x.docx")},
        headers={"Accept": "application/json"}, content_type="multipart/form-data")
    assert same.status_code in (200, 201)
    download = client.get(f"/documents/{doc_id}/download?version={versions[1]['id']}")
    assert download.status_code == 200 and download.data == v1
    assert "report.docx" in download.headers["Content-Disposition"]
    actions = [e["action"] for e in audit.list_events(org, audit.AuditFilter(target_kind="document",
                                                                            target_id=doc_id), limit=100)]
    assert {"document.download", "document.diff", "document.version", "document.view"} <= set(actions)
    assert "document.read" not in actions  # part refreshes and the text preview are not audited
    timeline = text(client.get(f"/documents/{doc_id}/part/timeline"))
    assert "new version" in timeline and "text extracted" in timeline and "downloaded" not in timeline
    reads = text(client.get(f"/documents/{doc_id}")).split('id="reads"')[1]  # the owner sees who read it
    assert "downloaded" in reads and "viewed" in reads
    other = login(site, org, people.one("FIN-ACC", 3)["id"])  # no share: the document does not exist for them
    refused = other.post(f"/documents/{doc_id}/versions", data={
        "csrf_token": token(other), "file": (io.BytesIO(b"x"), "x.txt")}, content_type="multipart/form-data")
    assert refused.status_code == 404


def test_sharing_panel_preview_who_can_see_and_unshare(site: Flask, org: FalkorStore, people: People) -> None:
    owner = people.one("HR")
    outsider = people.one("MKT-BRD", 1)
    client = login(site, org, owner["id"])
    doc_id = _upload_one(client, make_docx("招聘计划"), "hiring.docx", domain="hr", title="Hiring plan")["document_id"]
    page = text(client.get(f"/documents/{doc_id}"))
    assert "Who can see this?" in page and "Preview who would gain access" in page
    readers = text(client.get(f"/documents/{doc_id}/readers"))
    assert "2 people can read this document." in readers and "You own this document." in readers
    assert "administrators can open every document" in readers
    preview = client.get(f"/documents/{doc_id}/share-preview?kind=department&code=MKT-BRD&access=read")
    gained = len(People(org).of("MKT-BRD", 2)) and text(preview)
    assert preview.status_code == 200 and outsider["name"] in gained and "Nothing is saved" in gained
    stranger = login(site, org, outsider["id"])
    assert stranger.get(f"/documents/{doc_id}").status_code == 404  # the preview saved nothing
    unknown = client.get(f"/documents/{doc_id}/share-preview?kind=department&code=NOPE")
    assert unknown.status_code == 422 and "NOPE" in text(unknown)
    shared = client.post(f"/documents/{doc_id}/share", data={"csrf_token": token(client), "kind": "department",
                                                             "code": "MKT-BRD", "access": "read"})
    assert shared.status_code == 303 and stranger.get(f"/documents/{doc_id}").status_code == 200
    assert "Hiring plan" in text(stranger.get("/documents?tab=department"))
    assert stranger.get(f"/documents/{doc_id}/readers").status_code == 403  # a reader is not a manager
    many = text(client.get(f"/documents/{doc_id}/readers"))
    assert outsider["name"] in many and "which this document is shared with" in many
    removed = client.post(f"/documents/{doc_id}/unshare", data={"csrf_token": token(client), "kind": "department",
                                                                "code": "MKT-BRD"})
    assert removed.status_code == 303 and stranger.get(f"/documents/{doc_id}").status_code == 404
    refused = stranger.post(f"/documents/{doc_id}/share", data={"csrf_token": token(stranger),
                                                                "kind": "person", "code": "admin"})
    assert refused.status_code == 404 and len(cases.shares(Context(org), Actor(owner["id"]), doc_id)) == 0
    secret = _upload_one(client, make_docx("薪酬"), "pay.docx", domain="hr", access="secret")["document_id"]
    blocked = text(client.get(f"/documents/{secret}/share-preview?kind=department&code=HR"))
    assert "grants nothing" in blocked


def test_comments_thumbnails_and_related(site: Flask, org: FalkorStore, people: People, settings: Settings) -> None:
    owner = people.one("FIN-ACC", 4)
    client = login(site, org, owner["id"])
    doc_id = _upload_one(client, make_png(), "chart.png", title="Sales chart")["document_id"]
    page = text(client.get(f"/documents/{doc_id}"))
    assert f"/documents/{doc_id}/thumbnail" in page and "No comments yet." in page
    thumb = client.get(f"/documents/{doc_id}/thumbnail")
    assert thumb.status_code == 200 and thumb.mimetype == "image/png"
    assert max(Image.open(io.BytesIO(thumb.data)).size) <= 320
    sha = document_rows.get_document(org, doc_id)["sha256"]
    assert thumbnail_path(settings, sha).is_file()
    text_doc = _upload_one(client, make_docx("hello"), "plain.docx")["document_id"]
    assert client.get(f"/documents/{text_doc}/thumbnail").status_code == 404
    empty = client.post(f"/documents/{doc_id}/comments", data={"csrf_token": token(client), "text": "   "})
    assert empty.status_code == 303 and "The comment is empty." in text(client.get(f"/documents/{doc_id}"))
    client.post(f"/documents/{doc_id}/comments", data={"csrf_token": token(client), "text": "Looks <i>good</i>"})
    comments = text(client.get(f"/documents/{doc_id}/part/comments"))
    assert "Looks &lt;i&gt;good&lt;/i&gt;" in comments
    related = text(client.get(f"/documents/{doc_id}/part/related"))
    assert "Related knowledge" in related


# -- browsing ---------------------------------------------------------------------------------------------

def test_browse_tabs_filters_sorting_pages_tree_and_empty_states(site: Flask, org: FalkorStore,
                                                                 people: People) -> None:
    owner = people.one("RND-PLT")
    colleague = people.one("RND-PLT", 1)
    client = login(site, org, owner["id"])
    fresh = login(site, org, people.one("RND-MOB")["id"])
    assert "There is no document you can read yet." in text(fresh.get("/documents"))
    assert "You have not uploaded any document yet." in text(fresh.get("/documents?tab=mine"))
    assert "Nothing to classify yet." in text(fresh.get("/documents"))
    files = [(make_docx(f"平台文档 {i}"), f"platform-{i:02d}.docx") for i in range(22)]
    response = api_upload(client, files, domain="rnd", share="department:RND-PLT")
    assert response.status_code == 201 and response.get_json()["stored"] == 22
    _upload_one(client, b"a,b\n1,2\n", "table.csv", domain="rnd")
    mine = text(client.get("/documents?tab=mine&sort=title"))
    assert "24 documents" not in mine and "23 documents" in mine and "Page 1 of 2" in mine
    assert mine.index("platform-00") < mine.index("platform-01")
    second = text(client.get("/documents?tab=mine&sort=title&page=2"))
    assert "platform-21" in second and ">table</a>" in second
    assert "1 documents" in text(client.get("/documents?tab=mine&kind=csv"))
    shared = text(login(site, org, colleague["id"]).get("/documents?tab=department"))
    assert "22 documents" in shared and ">table</a>" not in shared
    uploader = text(client.get(f"/documents?uploader={owner['username']}&kind=docx"))
    assert "22 documents" in uploader
    unknown = text(client.get("/documents?uploader=nobody.at.all"))
    assert "There is no user nobody.at.all." in unknown and "No document matches these filters." in unknown
    bad_date = text(client.get("/documents?since=yesterday"))
    assert "yesterday is not a date" in bad_date
    assert "No document matches these filters." in text(client.get("/documents?tab=mine&until=2000-01-01"))
    assert "23 documents" in text(client.get("/documents?tab=mine&since=2000-01-01"))
    tree = text(client.get("/documents?tab=mine"))
    assert "R&amp;D" in tree and "structured" in tree and "Department folders" in tree
    fragment = client.get("/documents?tab=mine", headers={"HX-Request": "true", "HX-Target": "doc-results"})
    assert 'id="doc-results"' in text(fragment)
    assert "Classification" not in text(fragment)
    assert "recently" in text(client.get("/documents?tab=recent")).lower()


def test_text_statuses_pending_encrypted_and_reason(site: Flask, org: FalkorStore, people: People,
                                                    shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    client = login(site, org, people.one("LEGAL")["id"])
    encrypted = shared_data / "files" / "pdf" / "005-libreoffice-writer-password" / "libreoffice-writer-password.pdf"
    doc_id = _upload_one(client, encrypted.read_bytes(), encrypted.name, domain="legal")["document_id"]
    page = text(client.get(f"/documents/{doc_id}"))
    assert 'data-status="encrypted"' in page and "encrypted: text cannot be read" in page
    reason = document_rows.get_document(org, doc_id)["status_reason"]
    # the extractor's English reason is worded for the reader, never shown raw (webapp/status_reasons.py)
    assert reason and reason not in page
    assert "The document is password-protected; its text cannot be read." in page
    monkeypatch.setitem(site.config, "HUITONG_DOCUMENT_ENQUEUE", lambda version_id: None)  # nobody processes it
    waiting = _upload_one(client, make_docx("later"), "later.docx", domain="legal")["document_id"]
    page = text(client.get(f"/documents/{waiting}"))
    assert 'data-status="pending"' in page and "The text is being extracted." in page
