"""The audit trail names what an event is about: titles looked up once per kind on a page, shown only where
the viewer may see the object (documents to their readers, runs and decisions to administrators), and
"(deleted)" for objects that are gone."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask import Flask
from knowledge_support import actor, make_document
from web_support import ADMIN_PASSWORD, new_person, sign_in

from graph import accounts, audit, audit_titles
from graph.falkordb_backend import FalkorStore
from graph.store import GraphStore


class CountingStore:
    """The real store, counting the statements a look-up sends (to prove it is batched)."""

    def __init__(self, store: GraphStore) -> None:
        self.store, self.sent = store, 0

    def run(self, statement: Any, params: Any = None) -> Any:
        self.sent += 1
        return self.store.run(statement, params)


@pytest.fixture
def admin_client(app: Flask, demo: FalkorStore):  # type: ignore[no-untyped-def]
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert sign_in(client, "admin", ADMIN_PASSWORD).status_code == 302
    return client


def test_titles_follow_what_the_viewer_may_see(demo: FalkorStore) -> None:
    owner, stranger = new_person(demo), new_person(demo)
    title = f"机密预算 {uuid.uuid4().hex[:6]}"
    document_id, version_id = make_document(demo, owner.id, title, access="confidential")
    gone = uuid.uuid4().hex
    pairs = [("document", document_id), ("version", version_id), ("person", owner.id), ("document", gone),
             ("no_such_kind", "x"), ("person", None)]

    mine = audit_titles.titles(demo, actor(demo, owner.id), pairs)
    assert mine[("document", document_id)].title == title
    assert mine[("version", version_id)].title == f"{title} · v1"
    assert mine[("version", version_id)].document_id == document_id
    assert mine[("person", owner.id)].title == owner.name
    assert mine[("document", gone)].deleted and mine[("document", gone)].title is None
    assert ("no_such_kind", "x") not in mine and len(mine) == 4

    theirs = audit_titles.titles(demo, actor(demo, stranger.id), pairs)
    assert theirs[("document", document_id)].title is None and theirs[("document", document_id)].hidden
    assert theirs[("version", version_id)].title is None and theirs[("version", version_id)].document_id is None
    assert theirs[("person", owner.id)].title == owner.name  # the directory is open to colleagues


def test_runs_and_decisions_are_named_to_administrators_only(demo: FalkorStore) -> None:
    from graph import decisions

    member = new_person(demo)
    made = decisions.record(demo, actor(demo, member.id), title=f"采购决定 {uuid.uuid4().hex[:6]}")
    admin_id = accounts.find_account(demo, "admin")[0].id
    seen = audit_titles.titles(demo, actor(demo, admin_id), [("decision", made["id"])])
    assert seen[("decision", made["id"])].title == made["title"]
    other = new_person(demo)
    hidden = audit_titles.titles(demo, actor(demo, other.id), [("decision", made["id"])])
    assert hidden[("decision", made["id"])].hidden


def test_one_look_up_per_kind_whatever_the_rows(demo: FalkorStore) -> None:
    people = [new_person(demo) for _ in range(6)]
    counting = CountingStore(demo)
    pairs = [("person", p.id) for p in people] + [("document", uuid.uuid4().hex) for _ in range(5)]
    found = audit_titles.titles(counting, actor(demo, people[0].id), pairs)  # type: ignore[arg-type]
    assert len(found) == 11
    # Two kinds: two statements (the readable set is asked once, for the documents).
    assert counting.sent <= 3


def test_the_audit_page_links_titles(admin_client, demo: FalkorStore) -> None:  # type: ignore[no-untyped-def]
    owner = new_person(demo)
    title = f"Quarterly plan {uuid.uuid4().hex[:6]}"
    document_id, _version = make_document(demo, owner.id, title, access="public")
    marker = f"probe.title.{uuid.uuid4().hex[:6]}"
    audit.record(demo, action=marker, actor_id=owner.id, target_kind="document", target_id=document_id)
    audit.record(demo, action=marker, actor_id=owner.id, target_kind="document", target_id="gone-for-good")
    audit.record(demo, action=marker, actor_id=owner.id, target_kind="person", target_id=owner.id)
    page = admin_client.get(f"/admin/audit?action={marker}").get_data(as_text=True)
    assert f'<a href="/documents/{document_id}" translate="no">{title}</a>' in page
    assert "(deleted)" in page and '<code translate="no" class="small">gone-for</code>' in page
    assert f'href="/admin/org/people/{owner.id}"' in page
