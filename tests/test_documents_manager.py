"""The documents list as a document manager, through the Flask test client on the demo organisation: sortable
columns (unknown keys fall back, never a 500; kept across pages and filters; aria-sort), bulk share and
classify through the single actions' use cases (one refused document, the others land), saved views (their
maker's alone: anybody else gets 404), collapsible trees, and thumbnails of PDFs rendered when a version is
processed (in the bounded extractor child), served to readers only."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator

import pytest
from document_pages_support import api_upload, login, make_docx, serving, text, token
from documents_helpers import People
from documents_manager_support import red_pdf
from flask import Flask
from PIL import Image

from graph import document_rows as docs
from graph.actor import Actor
from graph.demo_org import node_id
from graph.errors import InvalidInput, ObjectMissing
from graph.falkordb_backend import FalkorStore
from graph.usecases import Context, saved_views
from ingest import bulk_actions, thumbnails
from settings import Settings


@pytest.fixture
def site(app: Flask, org: FalkorStore, settings: Settings) -> Iterator[Flask]:
    with serving(app, org, settings):
        yield app


def _upload(client, content: bytes, name: str, **fields) -> str:  # type: ignore[no-untyped-def]
    response = api_upload(client, [(content, name)], **fields)
    assert response.status_code == 201, text(response)
    return response.get_json()["results"][0]["document_id"]


def _titles(page: str) -> list[str]:
    return re.findall(r'<a href="/documents/[0-9a-f-]{36}">([^<]+)</a>', page)


# -- sorting ------------------------------------------------------------------------------------------------

def test_column_sorting_is_validated_kept_across_pages_and_marked(site: Flask, org: FalkorStore,
                                                                 people: People) -> None:
    owner = people.one("RND-PLT", 2)
    client = login(site, org, owner["id"])
    files = [(make_docx(f"排序 {i}" * (i + 1)), f"sortme-{i:02d}.docx") for i in range(22)]
    assert api_upload(client, files, domain="rnd").status_code == 201
    ascending = text(client.get("/documents?tab=mine&q=sortme&sort=title"))
    descending = text(client.get("/documents?tab=mine&q=sortme&sort=title_desc"))
    assert _titles(ascending)[:2] == ["sortme-00", "sortme-01"]
    assert _titles(descending)[:2] == ["sortme-21", "sortme-20"]
    assert re.search(r'aria-sort="ascending" data-sort="title"', ascending)
    assert re.search(r'aria-sort="descending" data-sort="title"', descending)
    assert 'aria-sort="none" data-sort="updated"' in ascending
    # The header of the current column sorts the other way round; the filter form and the pages keep the order.
    assert 'href="/documents?tab=mine&amp;q=sortme&amp;sort=title_desc"' in ascending
    assert '<input type="hidden" name="sort" value="title_desc">' in descending
    assert "page=2" in descending and "sort=title_desc" in re.search(r'rel="next" href="([^"]+)"', descending)[1]
    second = text(client.get("/documents?tab=mine&q=sortme&sort=title_desc&page=2"))
    assert _titles(second) == ["sortme-01", "sortme-00"]
    by_size = re.findall(r'<a href="/documents/([0-9a-f-]{36})">',
                         text(client.get("/documents?tab=mine&q=sortme&sort=size")))
    sizes = [docs.get_document(org, i)["size"] for i in by_size]
    assert len(sizes) == 20 and sizes == sorted(sizes, reverse=True) and sizes[0] > sizes[-1]
    for bad in ("d.id; DROP", "title_sideways", "", "%00"):
        response = client.get("/documents", query_string={"tab": "mine", "q": "sortme", "sort": bad})
        assert response.status_code == 200
        assert 'aria-sort="descending" data-sort="updated"' in text(response)  # the default order


# -- bulk actions -------------------------------------------------------------------------------------------

def test_bulk_classify_and_share_refuse_one_and_land_the_others(site: Flask, org: FalkorStore,
                                                                people: People) -> None:
    owner, colleague = people.of("LEGAL", 2)
    target = people.one("HR-REC")
    client = login(site, org, owner["id"])
    mine = [_upload(client, make_docx(f"合同 {i}"), f"bulk-mine-{i}.docx", domain="finance") for i in range(2)]
    other_client = login(site, org, colleague["id"])
    theirs = _upload(other_client, make_docx("别人的合同"), "bulk-theirs.docx", domain="finance",
                     share="department:LEGAL")  # the owner reads it but may not change it
    hidden = _upload(login(site, org, target["id"]), make_docx("人事"), "bulk-hidden.docx", domain="hr",
                     access="confidential")  # the owner may not even read it
    ids = [*mine, theirs, hidden]
    answer = client.post("/documents/bulk", data={"csrf_token": token(client), "action": "classify",
                                                  "document": ids, "domain": "legal", "level": "",
                                                  "back": "tab=mine&sort=title&evil=https://x.example"})
    assert answer.status_code == 303 and answer.location.endswith("/documents?tab=mine&sort=title")
    landed = text(client.get("/documents?tab=mine"))
    assert "2 documents classified." in landed and "2 documents refused:" in landed
    assert "bulk-theirs: You can read this document but not change it." in landed
    assert "a document: Nothing here" in landed and "bulk-hidden" not in landed
    assert [docs.get_document(org, i)["domain"] for i in ids] == ["legal", "legal", "finance", "hr"]
    # The same audit and revision as a single edit, per document.
    assert all(docs.get_document(org, i)["revision"] == 2 for i in mine)

    shared = client.post("/documents/bulk", data={"csrf_token": token(client), "action": "share",
                                                  "document": [*mine, theirs], "kind": "person",
                                                  "code": target["username"], "access": "read"})
    assert shared.status_code == 303
    page = text(client.get("/documents"))
    assert "2 documents shared." in page and "bulk-theirs: You can read this document but not change it." in page
    as_target = Actor(target["id"])
    for document_id in mine:  # each shared like a single share: the person now reads it
        assert bulk_actions.cases.open_document(Context(org), as_target, document_id, explicit=False)
    with pytest.raises(ObjectMissing):
        bulk_actions.cases.open_document(Context(org), as_target, theirs, explicit=False)

    # Bad input: a clear message, never a 500, and nothing changes.
    for data, wanted in (({"action": "classify", "document": mine}, "Choose a business domain or an access level"),
                         ({"action": "classify", "domain": "legal"}, "Tick at least one document first."),
                         ({"action": "share", "document": mine, "kind": "person", "code": ""},
                          "Choose what to share with"),
                         ({"action": "explode", "document": mine}, "Unknown action.")):
        response = client.post("/documents/bulk", data={"csrf_token": token(client), **data})
        assert response.status_code == 303
        assert wanted in text(client.get("/documents"))
    assert client.post("/documents/bulk", data={"action": "classify", "document": mine,
                                                "domain": "hr"}).status_code in (400, 403)  # no CSRF token
    assert docs.get_document(org, mine[0])["domain"] == "legal"
    with pytest.raises(InvalidInput):
        bulk_actions.classify_many(Context(org), Actor(owner["id"]), ["x"] * 1 + [str(i) for i in range(100)],
                                   domain="hr")


# -- saved views --------------------------------------------------------------------------------------------

def test_saved_views_are_their_makers_alone(site: Flask, org: FalkorStore, people: People) -> None:
    maker, other = people.of("FIN-TRS", 2)
    client, stranger = login(site, org, maker["id"]), login(site, org, other["id"], "zh")
    saved = client.post("/documents/views", data={"csrf_token": token(client), "name": "  财务  合同 ",
                                                  "query": "tab=mine&kind=docx&sort=title_desc&page=3&x=1"})
    assert saved.status_code == 303
    opened = client.get(saved.location)
    assert opened.status_code == 303
    assert opened.location.startswith("/documents?tab=mine&kind=docx&sort=title_desc&view=")
    listing = text(client.get(opened.location))
    view_id = opened.location.rsplit("=", 1)[1]
    assert "财务 合同" in listing and f'href="/documents/views/{view_id}"' in listing
    assert "nav-views" in text(client.get("/"))  # in the navigation on every page
    assert "nav-views" not in text(stranger.get("/"))
    assert stranger.get(f"/documents/views/{view_id}").status_code == 404
    assert stranger.post(f"/documents/views/{view_id}/delete",
                         data={"csrf_token": token(stranger)}).status_code == 404
    with pytest.raises(ObjectMissing):
        saved_views.view(Context(org), Actor(other["id"]), view_id)
    assert [v["name"] for v in saved_views.views(Context(org), Actor(maker["id"]))] == ["财务 合同"]
    nameless = client.post("/documents/views", data={"csrf_token": token(client), "name": "  ", "query": ""})
    assert nameless.status_code == 303 and "Give the view a name." in text(client.get("/documents"))
    assert client.post(f"/documents/views/{view_id}/delete", data={"csrf_token": token(client)}).status_code == 303
    assert client.get(f"/documents/views/{view_id}").status_code == 404
    assert "nav-views" not in text(client.get("/"))


def test_department_tree_is_collapsible_with_the_current_branch_open(site: Flask, org: FalkorStore,
                                                                      people: People) -> None:
    owner = people.one("RND-MOB", 1)
    client = login(site, org, owner["id"])
    _upload(client, make_docx("移动"), "tree-doc.docx", domain="rnd", share="department:RND-MOB")
    page = text(client.get("/documents"))
    assert 'data-bs-toggle="collapse"' in page and 'aria-expanded="false"' in page
    assert 'collapse show"' not in page  # every branch closed: no fully expanded list
    mobile = node_id("dept", "RND-MOB")
    assert f'folder={mobile}"' in page
    opened = text(client.get(f"/documents?folder={mobile}"))
    assert f'folder={mobile}" aria-current="true"' in opened
    # The lists on the way to the current folder (the company's, R&D's) are shown, their toggles say so.
    assert f'id="fold-{node_id("dept", "RND")}"' in opened and opened.count('collapse show"') == 2
    assert re.search(rf'data-bs-target="#fold-{node_id("dept", "RND")}"\s+aria-expanded="true"', opened)


# -- thumbnails ---------------------------------------------------------------------------------------------

def test_pdf_thumbnail_made_when_processed_and_served_to_readers_only(site: Flask, org: FalkorStore,
                                                                      people: People, settings: Settings) -> None:
    owner = people.one("FIN-ACC", 5)
    outsider = people.one("RND-MOB", 2)
    client = login(site, org, owner["id"])
    document_id = _upload(client, red_pdf(), "thumbnail-test.pdf")
    sha = docs.get_document(org, document_id)["sha256"]
    path = thumbnails.cached(settings, sha)
    assert path is not None and (path.stat().st_mode & 0o777) == 0o600  # made by the processing step
    answer = client.get(f"/documents/{document_id}/thumbnail")
    assert answer.status_code == 200 and answer.mimetype == "image/png"
    picture = Image.open(io.BytesIO(answer.data)).convert("RGB")
    assert max(picture.size) <= thumbnails.SIZE and picture.size[1] > picture.size[0]  # an A4 page, upright
    red, green, blue = picture.getpixel((picture.size[0] // 2, picture.size[1] // 2))
    assert red > 180 and green < 80 and blue < 80
    assert login(site, org, outsider["id"]).get(f"/documents/{document_id}/thumbnail").status_code == 404
    listing = text(client.get("/documents?tab=mine&kind=pdf"))
    assert f'src="/documents/{document_id}/thumbnail"' in listing
    docx_id = _upload(client, make_docx("no picture"), "no-thumb.docx")
    assert client.get(f"/documents/{docx_id}/thumbnail").status_code == 404
    assert "bi-file-earmark-word" in text(client.get("/documents?tab=mine&kind=docx"))
    # A damaged PDF gets no thumbnail (and the placeholder), not an error.
    broken = _upload(client, b"%PDF-1.4\n" + b"garbage" * 50, "broken.pdf")
    assert client.get(f"/documents/{broken}/thumbnail").status_code == 404
    page = text(client.get(f"/documents/{document_id}"))
    assert "data-pdf-preview" in page and "/static/vendor/pdf.worker.min.mjs" in page


def test_saved_views_from_the_command_line(org: FalkorStore, people: People) -> None:
    from helpers import run_cli

    maker, other = people.of("SALES-EAST", 2)
    env = {"HUITONG_GRAPH_NAME": org.graph_name}
    made = run_cli("views", "save", "华东 PDF", "--query", "tab=mine&kind=pdf&sort=title&bogus=1",
                   "--as", maker["username"], "--json", env=env)
    assert made.returncode == 0, made.stderr
    view_id = json.loads(made.stdout)["id"]
    assert json.loads(made.stdout)["query"] == "tab=mine&kind=pdf&sort=title"
    listed = json.loads(run_cli("views", "list", "--as", maker["username"], "--json", env=env).stdout)
    assert [v["id"] for v in listed["views"]] == [view_id]
    assert json.loads(run_cli("views", "list", "--as", other["username"], "--json", env=env).stdout) == {"views": []}
    refused = run_cli("views", "delete", view_id, "--as", other["username"], "--json", env=env)
    assert refused.returncode == 1 and '"saved_view.missing"' in refused.stdout
    assert run_cli("views", "delete", view_id, "--as", maker["username"], "--json", env=env).returncode == 0
    assert saved_views.views(Context(org), Actor(maker["id"])) == []
