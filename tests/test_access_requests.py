"""申请权限 — request access from a document's neutral 404: the offer and the answer are the same for a
missing id and a hidden one; a real request notifies the owner (audited), who shares with one click."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from document_pages_support import api_upload, login, make_docx, serving, text, token
from documents_helpers import People
from flask import Flask
from flask.testing import FlaskClient

from graph import audit
from graph.falkordb_backend import FalkorStore
from graph.usecases import access_requests
from graph.workflows import inbox
from settings import Settings

TITLE = f"Board minutes {uuid.uuid4().hex[:6]}"


@pytest.fixture
def site(app: Flask, org: FalkorStore, settings: Settings) -> Iterator[Flask]:
    with serving(app, org, settings):
        yield app


def _upload(client: FlaskClient) -> str:
    made = api_upload(client, [(make_docx("董事会纪要", title=TITLE), "minutes.docx")], domain="legal",
                      access="confidential", title=TITLE)
    result = made.get_json()["results"][0]
    assert result["ok"], result
    return str(result["document_id"])


def _main(page: str) -> str:
    """The page's own answer: the header around it shows the asker's badges, which other work may change."""
    return page[page.index("<main"):page.index("</main>")]


def _ask(client: FlaskClient, document_id: str, note: str = "") -> tuple[int, str]:
    response = client.post(f"/documents/{document_id}/request-access", data={"csrf_token": token(client),
                                                                                "note": note})
    return response.status_code, _main(text(response)).replace(document_id, "<ID>")


def _requests(org: FalkorStore, document_id: str) -> list[dict[str, object]]:
    where = audit.AuditFilter(action="document.access_request", target_kind="document", target_id=document_id)
    return audit.list_events(org, where, limit=50)


def test_request_access_is_neutral_then_the_owner_shares_with_one_click(site: Flask, org: FalkorStore,
                                                                          people: People) -> None:
    owner, asker = people.one("LEGAL", 1), people.one("MKT-BRD", 2)
    owner_client, asker_client = login(site, org, owner["id"]), login(site, org, asker["id"])
    document_id, missing = _upload(owner_client), f"missing-{uuid.uuid4().hex}"

    # The 404 offers the request, and is the same page for the hidden document and for a missing id.
    hidden_page = asker_client.get(f"/documents/{document_id}")
    missing_page = asker_client.get(f"/documents/{missing}")
    assert hidden_page.status_code == missing_page.status_code == 404
    assert _main(text(hidden_page)).replace(document_id, "<ID>") == _main(text(missing_page)).replace(missing, "<ID>")
    assert "Request access" in text(hidden_page) and TITLE not in text(hidden_page)

    # The acknowledgement is the same too; only the real request reaches the owner and the audit trail.
    hidden_answer = _ask(asker_client, document_id, "I prepare the board pack")
    missing_answer = _ask(asker_client, missing, "I prepare the board pack")
    assert hidden_answer[0] == 200 and hidden_answer == (missing_answer[0], missing_answer[1].replace(missing, "<ID>"))
    assert TITLE not in hidden_answer[1]
    assert len(_requests(org, document_id)) == 1 and _requests(org, missing) == []
    notices = [n for n in inbox.notifications(org, owner["id"]) if n["kind"] == access_requests.KIND]
    assert len(notices) == 1 and notices[0]["by_username"] == asker["username"]
    assert notices[0]["text"] == "I prepare the board pack" and notices[0]["document_id"] == document_id

    # Asking again the same day does not notify the owner twice.
    _ask(asker_client, document_id)
    assert len([n for n in inbox.notifications(org, owner["id"]) if n["kind"] == access_requests.KIND]) == 1

    # The owner's notification centre: one click shares (read) through the ordinary share use case.
    centre = text(owner_client.get("/notifications/"))
    assert "Someone asks for access to your document" in centre and f'value="{asker["username"]}"' in centre
    shared = owner_client.post(f"/documents/{document_id}/share", data={
        "csrf_token": token(owner_client), "kind": "person", "code": asker["username"], "access": "read"})
    assert shared.status_code == 303
    opened = asker_client.get(f"/documents/{document_id}")
    assert opened.status_code == 200 and TITLE in text(opened)

    # A reader asking is silently dropped: same answer, nothing new for the owner or the trail.
    before = len(_requests(org, document_id))
    assert _ask(asker_client, document_id)[0] == 200 and len(_requests(org, document_id)) == before


def test_requests_are_rate_limited_per_person_whatever_the_ids(site: Flask, org: FalkorStore,
                                                                people: People) -> None:
    asker = people.one("MKT-BRD", 3)
    client = login(site, org, asker["id"])
    statuses = [_ask(client, f"missing-{uuid.uuid4().hex}")[0] for _ in range(access_requests.FREE_REQUESTS + 3)]
    assert statuses[:access_requests.FREE_REQUESTS] == [200] * access_requests.FREE_REQUESTS
    assert 429 in statuses  # limited on ids that do not exist as well: the limit says nothing about any id
    other = login(site, org, people.one("MKT-BRD", 4)["id"])
    assert _ask(other, f"missing-{uuid.uuid4().hex}")[0] == 200  # per person


def test_zh_page_offers_the_request_in_chinese(site: Flask, org: FalkorStore, people: People) -> None:
    client = login(site, org, people.one("MKT-BRD", 5)["id"], language="zh")
    page = text(client.get(f"/documents/missing-{uuid.uuid4().hex}"))
    assert "申请权限" in page and "Request access" not in page
    assert "申请已发送" in _ask(client, f"missing-{uuid.uuid4().hex}")[1]
