"""What an open live stream asks before each event (webapp.live.verdict), on the real graph: the session
must still be alive, and a document's events need read access now, not only when the stream opened."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from document_pages_support import api_upload, login, make_docx, serving
from documents_helpers import EDGES, People, org_graph
from flask import Flask

from graph import accounts, permissions
from graph import live as bus
from graph.embedded_server import EmbeddedServer
from graph.falkordb_backend import FalkorStore
from settings import Settings
from webapp import live


@pytest.fixture(scope="module")
def org(graph_server: EmbeddedServer) -> Iterator[FalkorStore]:
    with org_graph(graph_server) as graph:
        yield graph


@pytest.fixture
def site(app: Flask, org: FalkorStore, settings: Settings) -> Iterator[Flask]:
    with serving(app, org, settings):
        yield app


def _verdict(store: FalkorStore, request: live.StreamRequest, channel: str) -> live.Verdict:
    return live.verdict(store, request, channel, live.SessionMemo())  # a fresh memo: no earlier answer reused


def test_revoked_access_drops_the_document_and_a_closed_session_ends_the_stream(site: Flask,
                                                                                  org: FalkorStore) -> None:
    owner, reader = People(org).of("FIN-ACC", 2)
    made = api_upload(login(site, org, owner["id"]), [(make_docx("live check"), "check.docx")],
                      share="department:FIN-ACC", access="confidential")
    doc_id = made.get_json()["results"][0]["document_id"]
    token = accounts.open_session(org, reader["id"], client="test", lifetime_seconds=600)
    document, own = bus.document_channel(doc_id), bus.person_channel(reader["id"])
    request = live.StreamRequest(person_id=reader["id"], token=token, channels=(document, own), heartbeat=15,
                                 max_seconds=60)
    assert _verdict(org, request, document) is live.Verdict.SEND
    assert _verdict(org, request, own) is live.Verdict.SEND

    department = next(edge["target"] for edge in org.run(EDGES, {"id": doc_id})
                      if edge["type"] == "SHARED_WITH" and edge["label"] == "Department")
    assert permissions.unshare(org, owner["id"], doc_id, "department", department)
    assert _verdict(org, request, document) is live.Verdict.DROP
    assert _verdict(org, request, own) is live.Verdict.SEND  # the person's own events go on

    # A session token of someone else never passes for this person's stream.
    other = accounts.open_session(org, owner["id"], client="test", lifetime_seconds=600)
    borrowed = live.StreamRequest(person_id=reader["id"], token=other, channels=(own,), heartbeat=15, max_seconds=60)
    assert _verdict(org, borrowed, own) is live.Verdict.END

    accounts.close_session(org, token)  # logout
    assert _verdict(org, request, own) is live.Verdict.END

    # Deactivation ends the stream too, and reactivation does not revive it.
    again = accounts.open_session(org, reader["id"], client="test", lifetime_seconds=600)
    request = live.StreamRequest(person_id=reader["id"], token=again, channels=(own,), heartbeat=15, max_seconds=60)
    assert _verdict(org, request, own) is live.Verdict.SEND
    accounts.set_active(org, reader["id"], False)
    try:
        assert _verdict(org, request, own) is live.Verdict.END
    finally:
        accounts.set_active(org, reader["id"], True)
    assert _verdict(org, request, own) is live.Verdict.END
