"""Graph round trips per page stay flat: the header of every page (inbox badge and saved views) is one
statement, and the audit trail names its actors with the batched titles, never by reading the directory. The
counts are asserted for few and for many rows, so a look-up per row (an N+1) cannot come back unseen."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from web_support import ADMIN_PASSWORD, new_person, sign_in

from graph import audit
from graph.actor import Actor
from graph.falkordb_backend import FalkorStore
from graph.usecases import Context, page_header, saved_views
from graph.workflows import inbox


class CountingStore:
    """The real store, keeping the name of every statement sent through it."""

    def __init__(self, store: FalkorStore) -> None:
        self.store, self.names = store, []  # type: list[str]

    def run(self, statement: Any, params: Any = None) -> Any:
        self.names.append(statement.name)
        return self.store.run(statement, params)


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every statement the web app sends while the test runs (the app's own store, wrapped at the class)."""
    names: list[str] = []
    original = FalkorStore.run

    def run(self: FalkorStore, statement: Any, params: Any = None) -> Any:
        names.append(statement.name)
        return original(self, statement, params)

    monkeypatch.setattr(FalkorStore, "run", run)
    yield names


def test_the_header_reads_badge_and_views_in_one_statement(demo: FalkorStore) -> None:
    person = new_person(demo)
    me = Actor(person.id, person.username, person.name, frozenset({"member"}), door="web")
    for name in ("beta", "Alpha", "gamma"):
        saved_views.save_view(Context(demo), me, name, {"tab": "mine", "q": name})
    now = int(time.time() * 1000)
    counting = CountingStore(demo)
    ctx = Context(counting)  # type: ignore[arg-type]
    fresh = Actor(person.id, person.username, person.name, frozenset({"member"}), door="web")
    found = page_header.header(ctx, fresh, now=now)
    assert counting.names == ["page_header.of_person"]
    assert found.badge == inbox.counts(demo, person.id, now=now)
    assert [v["name"] for v in found.views] == ["Alpha", "beta", "gamma"]  # as the list orders them
    assert found.views == saved_views.views(Context(demo), me)
    # The page and its header agree without asking again.
    assert inbox.badge(counting, fresh, now=now) == found.badge  # type: ignore[arg-type]
    assert saved_views.views(ctx, fresh) == found.views
    assert page_header.header(ctx, fresh, now=now) == found
    assert counting.names == ["page_header.of_person"]


def test_a_page_that_read_its_badge_reads_only_the_views(demo: FalkorStore) -> None:
    person = new_person(demo)
    counting = CountingStore(demo)
    me = Actor(person.id, person.username, person.name, frozenset({"member"}), door="web")
    now = int(time.time() * 1000)
    badge = inbox.badge(counting, me, now=now)  # type: ignore[arg-type]
    found = page_header.header(Context(counting), me, now=now)  # type: ignore[arg-type]
    assert found.badge == badge and found.views == []
    assert counting.names == ["workflows.inbox_counts", "saved_views.list"]


def test_the_badge_counts_unread_notices_up_to_its_limit(demo: FalkorStore) -> None:
    from graph import notifications

    person = new_person(demo)
    me = Actor(person.id, person.username, person.name, frozenset({"member"}), door="web")
    now = int(time.time() * 1000)
    assert page_header.header(Context(demo), me, now=now).badge["unread"] == 0
    notifications.send(demo, None, [notifications.notice("mentioned", person.id, event=uuid.uuid4().hex, now=now,
                                                          title="x")])
    again = Actor(person.id, person.username, person.name, frozenset({"member"}), door="web")
    assert page_header.header(Context(demo), again, now=now).badge["unread"] == 1
    assert inbox.badge_numbers({"unread": inbox.UNREAD_LIMIT + 5})["unread"] == inbox.UNREAD_LIMIT


def _page_statements(client: Any, sent: list[str], url: str) -> tuple[list[str], str]:
    client.get(url)  # warm: the first request of a client also reads what every later one memoises
    sent.clear()
    page = client.get(url)
    assert page.status_code == 200
    return list(sent), page.get_data(as_text=True)


def test_audit_page_statements_do_not_grow_with_rows_or_actors(app: Flask, demo: FalkorStore,
                                                                sent: list[str]) -> None:
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert sign_in(client, "admin", ADMIN_PASSWORD).status_code == 302
    few, many = f"probe.few.{uuid.uuid4().hex[:6]}", f"probe.many.{uuid.uuid4().hex[:6]}"
    lone = new_person(demo)
    audit.record(demo, action=few, actor_id=lone.id, target_kind="person", target_id=lone.id)
    people = [new_person(demo) for _ in range(12)]
    for person in people:
        audit.record(demo, action=many, actor_id=person.id, target_kind="person", target_id=lone.id)
        audit.record(demo, action=many, actor_id=person.id, target_kind="document", target_id=uuid.uuid4().hex)
    one_row, page = _page_statements(client, sent, f"/admin/audit?action={few}")
    assert lone.name in page
    rows, page = _page_statements(client, sent, f"/admin/audit?action={many}")
    assert all(person.name in page for person in people)  # every actor named, none by id
    assert "accounts.list_people" not in rows  # the directory is never read for names
    # The many-row page adds the documents' look-up (titles and the readable set's version), nothing per row.
    assert len(rows) <= len(one_row) + 2, (one_row, rows)
    assert rows.count("audit_titles.person") == 1


def test_the_catalogue_follows_the_request_and_force_locale(app: Flask) -> None:
    """The request's catalogue is found once, yet a force_locale block and the next request in another
    language each get their own words."""
    from flask_babel import force_locale, gettext

    with app.test_request_context("/", headers={"Accept-Language": "zh-CN"}):
        assert gettext("Signed out") == "退出登录"
        with force_locale("en"):
            assert gettext("Signed out") == "Signed out"
        assert gettext("Signed out") == "退出登录"
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert gettext("Signed out") == "Signed out"
        assert app.jinja_env.from_string('{{ _("Signed out") }}').render() == "Signed out"


def test_pages_read_their_header_once(app: Flask, demo: FalkorStore, sent: list[str]) -> None:
    """Every page's header (badge and views) is one statement, also where the page itself shows the views
    (the documents list) or the badge numbers (the inbox)."""
    from web_support import PASSWORD

    person = new_person(demo)
    client = app.test_client()
    assert sign_in(client, person.username, PASSWORD).status_code == 302
    for url in ("/account", "/documents", "/inbox", "/notifications/"):
        names, _page = _page_statements(client, sent, url)
        assert names.count("page_header.of_person") == 1, (url, names)
        assert "saved_views.list" not in names and "workflows.inbox_counts" not in names, (url, names)
        assert "workflows.notifications_for" not in names or url == "/notifications/", (url, names)
