"""Bad input gets a clear, translated 400 (never a 500); one same-site check for every redirect; clean file names
with RFC 6266/5987 downloads; formula-safe exports; a 413 that names the limit. The real app on the real graph."""

from __future__ import annotations

import csv
import io
import urllib.parse

import pytest
from flask import Flask, redirect
from web_support import ADMIN_PASSWORD, PASSWORD, client_from, csrf_token, new_person, random_address, sign_in

from graph.cypher import cypher
from graph.errors import InvalidInput
from graph.falkordb_backend import FalkorStore
from ingest import job_report, jobs
from ingest.cells import safe_cell
from ingest.filenames import clean_filename
from webapp.downloads import content_disposition

SET_FILENAME = cypher(
    "test.guard_set_filename",
    "MATCH (:Document {id: $id})-[:HAS_VERSION]->(v:Version) SET v.filename = $name RETURN count(v) AS n",
    writes=True,
)


def _member(app: Flask, demo: FalkorStore, language: str = "en"):  # type: ignore[no-untyped-def]
    person = new_person(demo)
    client = client_from(app, random_address())
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    assert sign_in(client, person.username, PASSWORD).status_code == 302
    return person, client


@pytest.mark.parametrize("url", [
    "/documents?q=a%00b", "/documents/a%00b", "/workflows/runs/a%00b", "/search?q=%1b%5b31m",
    "/documents?since=275760-09-13", "/documents?page=99999999999999999999", "/inbox?page=-99999999",
    f"/search?q={'财' * 9000}", "/documents?page=abc",
])
def test_bad_query_values_get_400_not_500(app: Flask, demo: FalkorStore, url: str) -> None:
    _, client = _member(app, demo)
    response = client.get(url)
    assert response.status_code == 400, (url, response.status_code)
    assert "Request refused" in response.get_data(as_text=True)


def test_the_refusal_speaks_the_readers_language(app: Flask, demo: FalkorStore) -> None:
    _, zh = _member(app, demo, "zh-CN,zh;q=0.9")
    page = zh.get("/documents?q=a%00b").get_data(as_text=True)
    assert "不允许" in page and "not allowed" not in page
    _, en = _member(app, demo)
    api = en.get("/api/v1/search?q=a%00b")
    assert api.status_code == 400
    body = api.get_json(force=True)
    assert api.mimetype == "application/problem+json" and body["code"] == "input.control_characters"
    assert body["params"]["field"] == "q"
    assert body["detail"] == "The value of “q” contains characters that are not allowed."


def test_form_and_json_values_are_guarded_too(app: Flask, demo: FalkorStore) -> None:
    _, client = _member(app, demo)
    token = csrf_token(client, "/account/password")
    refused = client.post("/account/password", data={"current_password": "x\x00", "csrf_token": token})
    assert refused.status_code == 400
    assert client.post("/api/v1/documents", json={"title": "a\x00b"}, headers={"X-CSRFToken": token}
                       ).status_code == 400
    # Tabs and line breaks in a text area are fine: the password form answers on its own terms.
    fine = client.post("/account/password", data={"current_password": "x\ty\r\nz", "new_password": "a",
                                                  "repeat_password": "b", "csrf_token": token})
    assert fine.status_code == 400 and "differ" in fine.get_data(as_text=True)


def test_invalid_input_from_a_view_is_answered_at_the_edge(settings) -> None:  # type: ignore[no-untyped-def]
    from webapp import create_app
    from webapp.auth import public

    app = create_app(settings)
    app.config.update(TESTING=True)

    @app.get("/_probe/invalid")
    @public
    def probe() -> str:
        raise InvalidInput("input.out_of_range", field="amount")

    @app.get("/_probe/away")
    @public
    def away():  # type: ignore[no-untyped-def]
        return redirect("https://evil.example/")

    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    response = client.get("/_probe/invalid")
    assert response.status_code == 400 and "The value of “amount” is out of range." in response.get_data(as_text=True)
    assert client.get("/_probe/away").headers["Location"] == "/", "every redirect passes the same-site check"


@pytest.mark.parametrize("target,expected", [
    ("/documents?page=2", "/documents?page=2"), ("/\\evil.example", "/"), ("//evil.example/x", "/"),
    ("https://evil.example/", "/"), ("/\t/evil.example", "/"), ("javascript:alert(1)", "/"), ("", "/"),
])
def test_language_switch_uses_the_one_same_site_check(app: Flask, target: str, expected: str) -> None:
    client = app.test_client()
    response = client.post("/lang", data={"lang": "en", "next": target, "csrf_token": csrf_token(client)})
    assert response.status_code == 302 and response.headers["Location"] == expected


def test_login_next_uses_the_same_check(app: Flask, demo: FalkorStore) -> None:
    client = client_from(app, random_address())
    response = sign_in(client, "admin", ADMIN_PASSWORD, next_url="/\t/evil.example")
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_file_names_are_cleaned_at_upload_and_sent_per_rfc_6266(app: Flask, demo: FalkorStore,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "HUITONG_DOCUMENT_ENQUEUE", lambda *_a, **_k: None)
    _, client = _member(app, demo)
    token = csrf_token(client, "/documents/upload")
    dirty = "../../季度\x01报告\u202e.txt"  # browsers escape CR/LF in multipart names; archives and old data do not
    done = client.post("/api/v1/documents", data={"csrf_token": token, "domain": "finance", "access": "internal",
                                                  "file": (io.BytesIO("预算 budget".encode()), dirty)},
                       content_type="multipart/form-data")
    assert done.status_code == 201, done.get_data(as_text=True)
    document_id = done.get_json()["results"][0]["document_id"]
    download = client.get(f"/documents/{document_id}/download")
    assert download.status_code == 200
    header = download.headers["Content-Disposition"]
    assert header.startswith('attachment; filename="__ __.txt"; filename*=UTF-8\'\'')
    assert urllib.parse.unquote(header.split("filename*=UTF-8''")[1]) == "季度 报告.txt"
    # A name stored before cleaning existed (CR/LF and all) still downloads.
    demo.run(SET_FILENAME, {"id": document_id, "name": "old\r\nSet-Cookie: x=1.txt"})
    old = client.get(f"/documents/{document_id}/download")
    assert old.status_code == 200 and not any("x=1" in c for c in old.headers.getlist("Set-Cookie"))
    assert old.headers["Content-Disposition"] == 'attachment; filename="old Set-Cookie: x=1.txt"'


def test_content_disposition_and_clean_names() -> None:
    assert content_disposition("report.pdf") == 'attachment; filename="report.pdf"'
    assert content_disposition('a"b;c%.txt') == "attachment; filename=\"a_b_c_.txt\"; filename*=UTF-8''a%22b%3Bc%25.txt"
    assert content_disposition("dir\\sub/x.txt", inline=True) == 'inline; filename="x.txt"'
    chinese = "attachment; filename=\"__.xlsx\"; filename*=UTF-8''%E9%A2%84%E7%AE%97.xlsx"
    assert content_disposition("预算.xlsx") == chinese
    assert content_disposition("") == 'attachment; filename="download"'
    assert clean_filename("C:\\Users\\x\\..\\evil.exe") == "evil.exe"
    assert clean_filename("a\x00b\r\nc.txt") == "a b c.txt"
    assert clean_filename("..") == "" and clean_filename("x" * 300 + ".pdf").endswith(".pdf")
    assert len(clean_filename("x" * 300 + ".pdf")) == 255


def test_exports_neutralise_formulas() -> None:
    for hostile in ("=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1"):
        assert safe_cell(hostile) == "'" + hostile
    assert safe_cell("normal") == "normal" and safe_cell(5) == 5 and safe_cell(None) is None
    row = dict.fromkeys(jobs.REPORT_COLUMNS, "")
    row[jobs.REPORT_COLUMNS[0]] = '=HYPERLINK("http://evil.example","x")'
    parsed = list(csv.reader(io.StringIO(job_report._csv_text([row]))))
    assert parsed[1][0] == '\'=HYPERLINK("http://evil.example","x")'


def test_413_names_the_limit_that_applies(app: Flask, demo: FalkorStore, monkeypatch: pytest.MonkeyPatch) -> None:
    _, client = _member(app, demo)
    token = csrf_token(client, "/account/password")
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2 * 1024 * 1024)
    response = client.post("/account/password", data={"current_password": "x" * (3 * 1024 * 1024),
                                                      "csrf_token": token})
    assert response.status_code == 413
    assert "limit of 2 MiB for everything sent at once" in response.get_data(as_text=True)
