"""The audit trail: append-only events in the real graph, the admin view, filters, pages, CSV export."""

from __future__ import annotations

import csv
import io
import re
import uuid

import pytest
from flask import Flask
from web_support import ADMIN_PASSWORD, PASSWORD, client_from, new_person, random_address, sign_in

from graph import audit
from graph.audit import AuditFilter, count_events, iter_events, list_events, record
from graph.cypher import all_statements
from graph.falkordb_backend import FalkorStore

DAY_MS = 86_400_000
T0 = 1_700_000_000_000  # 2023-11-14T22:13:20Z


@pytest.fixture
def admin(app: Flask, demo: FalkorStore):  # type: ignore[no-untyped-def]
    client = app.test_client()
    assert sign_in(client, "admin", ADMIN_PASSWORD).status_code == 302
    return client


def test_record_links_actor_and_target(fresh_store: FalkorStore) -> None:
    person = new_person_in(fresh_store)
    event_id = record(fresh_store, action="person.update", actor_id=person, target_kind="person", target_id=person,
                      client="10.0.0.1", detail={"field": "name", "值": "新"})
    [row] = list_events(fresh_store, AuditFilter())
    assert row["id"] == event_id and row["actor_username"] == "who" and row["target_linked"] is True
    assert row["detail"] == '{"field": "name", "值": "新"}' and row["client"] == "10.0.0.1"


def new_person_in(store: FalkorStore) -> str:
    from graph.queries import org

    person_id = str(uuid.uuid4())
    store.run(org.UPSERT_PEOPLE, {"rows": [{"id": person_id, "username": "who", "name": "Who", "email": None,
                                            "now": 0, "password_hash": None}]})
    return person_id


def test_record_without_actor_or_with_unknown_target(fresh_store: FalkorStore) -> None:
    record(fresh_store, action="login.failure", detail="plain text")
    record(fresh_store, action="document.read", target_kind="document", target_id="gone")
    record(fresh_store, action="thing.done", target_kind="no-such-kind", target_id="x")
    rows = list_events(fresh_store, AuditFilter())
    assert [r["target_linked"] for r in rows] == [False, False, False]
    assert {r["action"] for r in rows} == {"login.failure", "document.read", "thing.done"}
    # The three may share a millisecond, so find the login failure by its action rather than its position.
    [failure] = [r for r in rows if r["action"] == "login.failure"]
    assert failure["actor_id"] is None and failure["detail"] == "plain text"


def test_bad_actions_are_refused(fresh_store: FalkorStore) -> None:
    for action in ("", "x" * (audit.ACTION_MAX_CHARS + 1)):
        with pytest.raises(ValueError, match="audit action"):
            record(fresh_store, action=action)
    assert count_events(fresh_store, AuditFilter()) == 0


def test_huge_detail_is_cut(fresh_store: FalkorStore) -> None:
    record(fresh_store, action="x.y", detail="长" * (audit.MAX_DETAIL_CHARS * 2))
    assert len(list_events(fresh_store, AuditFilter())[0]["detail"]) == audit.MAX_DETAIL_CHARS


def test_filters_and_pages(fresh_store: FalkorStore) -> None:
    for n in range(30):
        record(fresh_store, action="login.success" if n % 3 else "login.failure", actor_id=f"a{n % 2}",
               target_kind="person", target_id=f"p{n % 5}", at=T0 + n * DAY_MS)
    record(fresh_store, action="loginx.other", at=T0)
    everything = AuditFilter()
    assert count_events(fresh_store, everything) == 31
    assert count_events(fresh_store, AuditFilter(action="login")) == 30, "a prefix matches whole dotted parts only"
    assert count_events(fresh_store, AuditFilter(action="login.failure")) == 10
    assert count_events(fresh_store, AuditFilter(actor_id="a1")) == 15
    assert count_events(fresh_store, AuditFilter(target_kind="person", target_id="p0")) == 6
    assert count_events(fresh_store, AuditFilter(since=T0 + 10 * DAY_MS, until=T0 + 20 * DAY_MS)) == 10
    first = list_events(fresh_store, everything, offset=0, limit=12)
    second = list_events(fresh_store, everything, offset=12, limit=12)
    ats = [r["at"] for r in first + second]
    assert ats == sorted(ats, reverse=True) and len(set(r["id"] for r in first + second)) == 24
    assert len(list(iter_events(fresh_store, everything, page_size=7))) == 31


def test_the_catalogue_never_edits_or_deletes_audit_events() -> None:
    """Append-only by construction: no statement anyone declares may SET, MERGE, REMOVE or DELETE on events."""
    touching = [s for s in all_statements() if re.search(r"AuditEvent|AUDIT_BY|AUDIT_ON", s.text)]
    assert any(s.name == "audit.record" for s in touching)
    for statement in touching:
        text = statement.text.upper()
        if not statement.writes:
            continue
        if statement.name.endswith("_audited"):  # a write recording its own event (graph.queries.audit.audited)
            assert not re.search(r"MATCH\s*\([^)]*:AuditEvent", statement.text), f"{statement.name} reads old events"
            assert not re.search(r"\b(SET|REMOVE|DELETE|DETACH DELETE)\s+audit_|MERGE\s*\(audit_", statement.text,
                                 re.IGNORECASE), f"{statement.name} edits its audit event"
            continue
        assert statement.name.startswith("audit.record"), f"{statement.name} writes audit events"
        assert not re.search(r"\b(DELETE|REMOVE|MERGE|SET)\b", text), f"{statement.name} edits audit events"


def test_no_route_can_change_the_audit_trail(app: Flask) -> None:
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("audit.") or "/audit" in rule.rule:
            assert rule.methods <= {"GET", "HEAD", "OPTIONS"}, f"{rule.rule} accepts {rule.methods}"


def test_login_events_are_audited(app: Flask, demo: FalkorStore) -> None:
    person = new_person(demo)
    address = random_address()
    client = client_from(app, address)
    sign_in(client, person.username, "wrong password")
    sign_in(client, person.username, PASSWORD)
    rows = list_events(demo, AuditFilter(target_id=person.id))
    assert [r["action"] for r in rows] == ["login.success", "login.failure"]
    assert all(r["client"] == address for r in rows)
    assert rows[0]["actor_id"] == person.id and rows[1]["actor_id"] is None


def test_admin_page_filters_and_paginates(admin, demo: FalkorStore) -> None:  # type: ignore[no-untyped-def]
    marker = f"probe.{uuid.uuid4().hex[:8]}"
    for n in range(55):
        record(demo, action=f"{marker}.step", target_kind="task", target_id=f"t{n}", at=T0 + n * 1000)
    cell = f"<td>{marker}.step</td>"
    page1 = admin.get(f"/admin/audit?action={marker}").get_data(as_text=True)
    assert "55" in page1 and page1.count(cell) == 50
    page2 = admin.get(f"/admin/audit?action={marker}&page=2").get_data(as_text=True)
    # The tasks never existed: the row says so instead of offering a title (see test_audit_titles.py).
    assert page2.count(cell) == 5 and '<code translate="no" class="small">t0</code>' in page2 and "（已删除）" in page2
    # Days are the organisation's days: T0 (22:13 UTC on the 14th) is the morning of the 15th in Shanghai.
    ranged = admin.get(f"/admin/audit?action={marker}&from=2023-11-15&to=2023-11-15").get_data(as_text=True)
    assert ranged.count(cell) == 50
    assert admin.get(f"/admin/audit?action={marker}&to=2023-11-14").get_data(as_text=True).count(cell) == 0
    assert admin.get(f"/admin/audit?action={marker}&from=2023-11-16").get_data(as_text=True).count(cell) == 0
    bad = admin.get("/admin/audit?from=yesterday")
    assert bad.status_code == 400 and "YYYY-MM-DD" in bad.get_data(as_text=True)


def test_admin_page_filters_by_actor_username(admin, demo: FalkorStore) -> None:  # type: ignore[no-untyped-def]
    person = new_person(demo)
    record(demo, action="probe.actor", actor_id=person.id)
    page = admin.get(f"/admin/audit?actor={person.username}&action=probe.actor").get_data(as_text=True)
    assert page.count("<td>probe.actor</td>") == 1 and person.username in page
    none = admin.get("/admin/audit?actor=nobody.here&action=probe.actor").get_data(as_text=True)
    assert "<td>probe.actor</td>" not in none


def test_csv_export(admin, demo: FalkorStore) -> None:  # type: ignore[no-untyped-def]
    marker = f"csv.{uuid.uuid4().hex[:8]}"
    record(demo, action=marker, detail="=HYPERLINK(\"http://evil\")", client="10.1.1.1", at=T0)
    record(demo, action=marker, detail={"k": "值"}, at=T0 + 1)
    response = admin.get(f"/admin/audit.csv?action={marker}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["action"] for r in rows] == [marker, marker]
    # Times in the organisation's zone (HUITONG_TIMEZONE, Asia/Shanghai in the tests), with the offset.
    assert rows[0]["detail"] == '{"k": "值"}' and rows[0]["at"] == "2023-11-15T06:13:20.001+08:00"
    assert rows[1]["detail"].startswith("'="), "formulas are neutralised for spreadsheets"
    assert list_events(demo, AuditFilter(action="audit.export"))[0]["actor_username"] == "admin"


def test_members_cannot_read_the_audit_trail(app: Flask, demo: FalkorStore) -> None:
    person = new_person(demo, role="manager")
    client = client_from(app, random_address())
    sign_in(client, person.username, PASSWORD)
    assert client.get("/admin/audit").status_code == 403
    assert client.get("/admin/audit.csv").status_code == 403
