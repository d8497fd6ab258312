"""The analytics use cases (graph.usecases.analytics) and the wording of their codes (webapp.views.manage_words).

Scope is keyed by department id: two departments both named “综合科” under different parents, each with
its own head and tasks that name only “综合科”; the head of one sees that one's figures and nothing of
the other's, on every analytics read. Trend warnings and bottleneck reasons come as codes with figures
and read in zh-CN and en; exports have translated headers and hours.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from flask import Flask
from flask_babel import force_locale

from graph import audit, org
from graph.actor import Actor
from graph.analytics import cache
from graph.audit import AuditFilter
from graph.cypher import cypher
from graph.errors import InvalidInput, NotPermitted
from graph.falkordb_backend import FalkorStore
from graph.usecases import Context
from graph.usecases import analytics as uc
from webapp.views import manage_tables as tables
from webapp.views import manage_words as words

HOUR = 3_600_000
NOW = 1_790_000_000_000  # a fixed "now" (2026-09): figures do not move with the clock
KEY = "same-name-check"

ADD_WORKFLOW = cypher("test.manage.add_workflow", """
    CREATE (w:Workflow {id: $key, key: $key, name: $name, current: true})
    RETURN w.key AS key
""", writes=True)
ADD_TASKS = cypher("test.manage.add_tasks", """
    UNWIND $rows AS row
    CREATE (t:Task) SET t += row
    RETURN count(t) AS n
""", writes=True)


def _tasks(person: dict[str, str], n: int, hours: int, prefix: str) -> list[dict[str, Any]]:
    start = NOW - 10 * 24 * HOUR
    return [{"id": f"{prefix}{i}", "run_id": f"{prefix}-run{i}", "workflow_key": KEY, "step_key": "check",
             "step_name": "核对", "round": 1, "created_at": start + i * HOUR,
             "first_opened_at": start + i * HOUR + HOUR // 2, "completed_at": start + i * HOUR + hours * HOUR,
             "due_at": start + i * HOUR + 48 * HOUR, "status": "approved", "assignee_kind": "person",
             "assignee_id": person["id"], "assignee_name": person["name"], "department": "综合科"}
            for i in range(n)]


@pytest.fixture(scope="module")
def twins(graph_server) -> Any:  # type: ignore[no-untyped-def]
    """Two departments named 综合科 (under 北区 and 南区), a head and a clerk in each, tasks naming only 综合科."""
    store = FalkorStore(graph_server, "t_manage_usecases")
    store.drop_all()
    store.ensure_schema()
    north = org.create(store, "department", {"code": "NORTH", "name": "北区"})
    south = org.create(store, "department", {"code": "SOUTH", "name": "南区"})
    ids = {"north": org.create(store, "department", {"code": "N-GEN", "name": "综合科", "parent_id": north}),
           "south": org.create(store, "department", {"code": "S-GEN", "name": "综合科", "parent_id": south})}
    people: dict[str, dict[str, str]] = {}
    for side, code in (("north", "N-GEN"), ("south", "S-GEN")):
        head = org.create_person(store, {"username": f"{side}head", "name": f"{side}主任",
                                         "email": f"{side}head@example.com"}, roles=["member", "manager"])
        clerk = org.create_person(store, {"username": f"{side}clerk", "name": f"{side}科员",
                                          "email": f"{side}clerk@example.com"})
        org.add_membership(store, head, "department", code)
        org.add_membership(store, head, "head", code)
        org.add_membership(store, clerk, "department", code)
        people[f"{side}_head"] = {"id": head, "name": f"{side}主任"}
        people[f"{side}_clerk"] = {"id": clerk, "name": f"{side}科员"}
    store.run(ADD_WORKFLOW, {"key": KEY, "name": "同名核对"})
    store.run(ADD_TASKS, {"rows": _tasks(people["north_clerk"], 3, 2, "n")
                          + _tasks(people["south_clerk"], 5, 10, "s")})
    cache.clear()
    yield store, ids, people
    store.drop_all()
    store.close()


def _actor(person: dict[str, str], *roles: str) -> Actor:
    return Actor(person["id"], name=person["name"], roles=frozenset(roles or ("member", "manager")))


def test_a_head_sees_only_their_own_department_of_that_name(twins: Any) -> None:
    store, ids, people = twins
    ctx = Context(store)
    north = _actor(people["north_head"])
    assert uc.scope(ctx, north).departments == frozenset({ids["north"]})
    report = uc.bottleneck_report(ctx, north, uc.Filters(), now=NOW)
    assert [(d["department_id"], d["department"], d["count"]) for d in report["departments"]] == [
        (ids["north"], "综合科", 3)]
    assert {p["person"] for p in report["people"]} == {"north科员"}
    assert report["steps"][0]["workflow_name"] == "同名核对"  # names beside keys
    board = uc.dashboard_view(ctx, north, uc.Filters(period="month", count=2), now=NOW)
    assert {r["department_id"] for r in board["rows"]} == {ids["north"]}
    assert sum(r["completed"] for r in board["rows"]) == 3
    # The other 综合科 is out of scope: a filter naming it reads like one that does not exist.
    with pytest.raises(InvalidInput) as refused:
        uc.parse_filters(ctx, north, {"department": ids["south"]})
    with pytest.raises(InvalidInput) as missing:
        uc.parse_filters(ctx, north, {"department": "no-such-id"})
    assert refused.value.code == missing.value.code == "analytics.department"
    graph = uc.collaboration_view(ctx, north, uc.Filters())
    names = {n["data"]["label"] for n in graph["elements"]["nodes"]}
    assert "south科员" not in names and "north科员" in names
    # An administrator sees both, apart.
    admin = Actor("", roles=frozenset({"admin"}))
    both = uc.bottleneck_report(ctx, admin, uc.Filters(), now=NOW)["departments"]
    assert {(d["department_id"], d["count"]) for d in both} == {(ids["north"], 3), (ids["south"], 5)}


def test_members_are_refused_and_exports_audited(twins: Any) -> None:
    store, _, people = twins
    ctx = Context(store)
    with pytest.raises(NotPermitted):
        uc.dashboard_view(ctx, _actor(people["north_clerk"], "member"), uc.Filters())
    north = _actor(people["north_head"])
    north.address = "203.0.113.9"
    rows = uc.export_rows(ctx, north, "departments", "csv", uc.Filters())
    assert len(rows) == 1
    events = audit.list_events(store, AuditFilter(actor_id=people["north_head"]["id"], action="manage.export"))
    assert events and events[0]["target_id"] == "departments"
    with pytest.raises(InvalidInput):
        uc.export_rows(ctx, north, "secrets", "csv", uc.Filters())
    with pytest.raises(InvalidInput):
        uc.step_rows(ctx, north, "no-such-workflow")


def test_warnings_and_reasons_read_in_both_languages(app: Flask) -> None:
    warning = {"kind": "rising_handling_time", "code": "trend.rising_handling_time",
               "params": {"scope": "费用报销 / 财务审核", "slope_h": 1.5, "weeks": 12, "tau": 0.6, "p": 0.001,
                          "low_h": 0.4, "rise": 0.35}}
    reasons = [{"code": "bottleneck.load", "params": {"load": 3.2, "count": 120}},
               {"code": "bottleneck.handling", "params": {"median_h": 30.5, "p90_h": 70.0}},
               {"code": "bottleneck.breach", "params": {"rate": 0.25}}]
    with app.test_request_context():
        with force_locale("en"):
            assert words.warning_text(warning) == ("费用报销 / 财务审核: the weekly median handling time rises by 1.5 "
                                                   "hours a week over 12 weeks (+35% over the period).")
            english = words.reasons_text(reasons)
            assert "holds 3.2 tasks" in english and "30.5 h" in english and "25%" in english
        with force_locale("zh_Hans_CN"):
            chinese = words.warning_text(warning) + words.reasons_text(reasons) + words.warning_title(warning)
            assert "每周" in chinese and "小时" in chinese
            assert not any(w in chinese for w in ("weekly", "holds", "median", "rework", "Handling"))
            assert all(not v.isascii() for v in words.explorer_words().values())


def test_exports_have_translated_headers_and_hours(app: Flask) -> None:
    rows = [{"rank": 1, "workflow_name": "=HYPERLINK(1)", "step_name": "核对", "load": 2.5, "count": 10,
             "median_handling_s": 5400.0, "breach_rate": 0.125,
             "reasons": [{"code": "bottleneck.wait", "params": {"median_h": 1.5}}], "evidence": ["t1", "t2"]}]
    with app.test_request_context(), force_locale("zh_Hans_CN"):
        response = tables.export("top_bottlenecks", rows, "csv")
    table = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    header, row = table
    assert header[0] == "排名" and "办理中位数 (小时)" in header and all(not h.isascii() for h in header[:3])
    assert row[header.index("办理中位数 (小时)")] == "1.5"  # 5,400 s
    assert row[1] == "'=HYPERLINK(1)"  # formula prefix neutralised
    assert row[header.index("超时率 (%)")] == "12.5"
