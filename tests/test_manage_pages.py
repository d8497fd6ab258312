"""The managers' pages through the Flask test client, on the demo organisation with a year of demo history.

Covers who may look (managers see their departments' subtree, admins everything, members 403),
exports (the CSV / XLSX rows are the rows of the scope), bad filters, the completion-only note,
trend notices (idempotent) and the workflow engine invalidating the analytics cache.
"""

from __future__ import annotations

import csv
import html
import io
import json
import os
import time
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from web_support import login
from workflow_support import FORMS, Org, actor_for, current_tasks, step_inputs

from graph.analytics import bottlenecks, cache, dashboard, trends
from graph.analytics.demo_history import load_demo_history
from graph.analytics.importer import import_log
from graph.analytics.notices import KIND, named, notify_trend_warnings
from graph.analytics.tasks import step_names, workflow_keys
from graph.demo_org import load_demo_org, node_id
from graph.falkordb_backend import FalkorStore
from graph.queries.analytics import WORKFLOW_KEYS
from graph.workflows import actions, inbox, runs
from settings import get_settings
from webapp import services

ADMIN_PASSWORD = os.environ["HUITONG_ADMIN_PASSWORD"]
ORG = Org()
FINANCE = {"财务部", "会计组", "资金组"}
FINANCE_IDS = {node_id("dept", code) for code in ("FIN", "FIN-ACC", "FIN-TRS")}
LEGAL_ID = node_id("dept", "LEGAL")
PAGES = ("/manage/dashboard", "/manage/bottlenecks", "/manage/explorer", "/manage/help")


@pytest.fixture(scope="module")
def history(app: Flask, graph_server) -> Iterator[FalkorStore]:  # type: ignore[no-untyped-def]
    """A graph of its own with the demo organisation and history, served by the app for this module."""
    store = FalkorStore(graph_server, f"t_manage_{os.getpid()}")
    store.ensure_schema()
    load_demo_org(store, ADMIN_PASSWORD)
    load_demo_history(store)
    stores = app.extensions.setdefault(services.STORES, {})
    previous = stores.get(os.getpid())
    stores[os.getpid()] = store
    yield store
    if previous is None:
        stores.pop(os.getpid(), None)
    else:
        stores[os.getpid()] = previous
    store.drop_all()
    store.close()


@pytest.fixture(scope="module")
def admin(app: Flask, history: FalkorStore) -> FlaskClient:
    return login(app, history, ORG.admin)


@pytest.fixture(scope="module")
def finance_head(app: Flask, history: FalkorStore) -> FlaskClient:
    return login(app, history, ORG.head["FIN"])


def _csv(response) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    text = response.get_data().decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def _now() -> int:
    return int(time.time() * 1000)


def test_members_are_refused_and_anonymous_sent_to_login(app: Flask, history: FalkorStore) -> None:
    member = login(app, history, ORG.staff("FIN-ACC"))
    for path in (*PAGES, "/manage/explorer/data.json", "/manage/export/steps.csv"):
        assert member.get(path).status_code == 403, path
    assert "Management" not in member.get("/inbox").get_data(as_text=True)
    anonymous = app.test_client()
    response = anonymous.get("/manage/dashboard")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_admin_sees_every_page_and_the_nav_link(admin: FlaskClient) -> None:
    for path in PAGES:
        response = admin.get(path)
        assert response.status_code == 200, path
        assert 'class="nav-manage"' in response.get_data(as_text=True)
    page = admin.get("/manage/bottlenecks").get_data(as_text=True)
    assert "法务部" in page and "/workflows/tasks/" in page  # evidence links to task pages
    assert 'data-table="handoff-matrix"' in page


def test_dashboard_explains_its_warnings(admin: FlaskClient, history: FalkorStore) -> None:
    page = admin.get("/manage/dashboard").get_data(as_text=True)
    assert 'data-warning="rising_handling_time"' in page
    assert "Kendall" in page and "p = " in page and "<polyline points=" in page
    assert "hours a week" in page  # the warning worded from its code, in hours
    data = page.split('<script type="application/json" id="dashboard-data">', 1)[1].split("</script>", 1)[0]
    chart = json.loads(data)
    assert len(chart["periods"]) == 12 and chart["rows"] and chart["totals"]
    week = admin.get("/manage/dashboard?period=week&periods=8").get_data(as_text=True)
    assert week.count("-W") >= 8


def test_steps_are_named_in_the_readers_language(app: Flask, history: FalkorStore) -> None:
    """Where a workflow defines an English step name, English pages show it and Chinese pages the Chinese one
    (the workflow pages' rule): bottleneck rows, exports and the dashboard's trend warnings."""
    from graph.analytics.tasks import step_names

    names = {(r["workflow"], r["step"]): r for r in step_names(history)}
    finance = names[("expense", "finance")]
    assert finance["name_en"] and finance["name"] and finance["name_en"] != finance["name"]
    workflow = next(w for w in history.run(WORKFLOW_KEYS) if w["key"] == "expense")
    for language, step, flow in (("en", finance["name_en"], workflow["name_en"]),
                                 ("zh-CN", finance["name"], workflow["name"])):
        client = login(app, history, ORG.admin, language=language)
        page = client.get("/manage/bottlenecks?workflow=expense").get_data(as_text=True)
        assert f">{step}<" in page, language
        other = finance["name"] if language == "en" else finance["name_en"]
        assert f">{other}<" not in page, language
        rows = _csv(client.get("/manage/export/steps.csv?workflow=expense"))
        assert step in {v for r in rows for v in r.values()}, language
        board = client.get("/manage/dashboard").get_data(as_text=True)
        assert f"{flow} / {step}" in board, language  # the rising warning about the expense finance step


def test_manager_sees_only_their_subtree(finance_head: FlaskClient, history: FalkorStore) -> None:
    page = finance_head.get("/manage/bottlenecks").get_data(as_text=True)
    assert 'data-scope="departments"' in page
    departments = _csv(finance_head.get("/manage/export/departments.csv"))
    assert departments and {r["Department"] for r in departments} <= FINANCE
    assert {"会计组", "资金组"} <= {r["Department"] for r in departments}
    people = _csv(finance_head.get("/manage/export/people.csv"))
    assert people and {r["Department"] for r in people} <= FINANCE
    handoffs = _csv(finance_head.get("/manage/export/handoffs.csv"))
    assert handoffs and all(r["From"] in FINANCE or r["To"] in FINANCE for r in handoffs)
    # Process-level figures are shown to every manager: all steps of all workflows.
    steps = _csv(finance_head.get("/manage/export/steps.csv"))
    assert len(steps) == len(bottlenecks.report(history, now=_now())["steps"])


def test_explorer_data_never_names_people_out_of_scope(finance_head: FlaskClient, admin: FlaskClient,
                                                       history: FalkorStore) -> None:
    legal_person = ORG.staff("LEGAL")
    full = admin.get("/manage/explorer/data.json").get_data(as_text=True)
    assert legal_person in full
    response = finance_head.get("/manage/explorer/data.json")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert legal_person not in text and ORG.names[legal_person] not in text
    data = json.loads(text)
    nodes = {n["data"]["id"]: n["data"] for n in data["elements"]["nodes"]}
    people = [n for n in nodes.values() if n["kind"] == "person"]
    assert people and all(n["department"] in FINANCE_IDS for n in people)
    assert nodes[f"dept:{LEGAL_ID}"]["label"] == "法务部"  # other departments stay, as departments
    assert all(e["data"]["source"] in nodes and e["data"]["target"] in nodes for e in data["elements"]["edges"])
    assert all(b["department"] in FINANCE for b in data["bridges"])
    path = finance_head.get(f"/manage/explorer/path.json?a={node_id('dept', 'FIN-ACC')}&b={LEGAL_ID}").get_json()
    assert path["path"][0]["label"] == "会计组" and path["path"][-1]["label"] == "法务部"
    assert all(step["kind"] == "department" or nodes.get(step["id"], {}).get("department") in FINANCE_IDS
               for step in path["path"])


def test_exports_have_the_rows_of_the_page(finance_head: FlaskClient, history: FalkorStore) -> None:
    response = finance_head.get("/manage/export/dashboard.xlsx?period=month&periods=6")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].endswith('.xlsx"')
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    rows = list(sheet.iter_rows(values_only=True))
    expected = dashboard.dashboard(history, now=_now(), period="month", count=6, departments=FINANCE_IDS,
                                   zone=get_settings().timezone)["rows"]  # the pages' periods are local
    assert rows[0][:3] == ("Department", "Period", "Active tasks")
    assert len(rows) - 1 == len(expected) == 3 * 6
    assert {r[0] for r in rows[1:]} == FINANCE
    totals = _csv(finance_head.get("/manage/export/dashboard_totals.csv?periods=6"))
    assert {r["Department"] for r in totals} == FINANCE
    done = {r["Department"]: int(r["Completed"]) for r in totals}
    assert done == {d: sum(r["completed"] for r in expected if r["department"] == d) for d in FINANCE}
    top = _csv(finance_head.get("/manage/export/top_bottlenecks.csv"))
    assert top[0]["Rank"] == "1" and top[0]["Slowest tasks"] and "median handling" in top[0]["Why"]
    assert top[0]["Workflow"] in {w["name_en"] for w in history.run(WORKFLOW_KEYS)}  # names (in English), not keys


def test_bad_filters_are_refused_clearly(finance_head: FlaskClient) -> None:
    cases = {
        "/manage/bottlenecks?workflow=nope": "no workflow",
        "/manage/explorer?from=2026-13-01": "YYYY-MM-DD",
        "/manage/explorer?from=2026-05-01&to=2026-04-01": "after the end date",
        "/manage/dashboard?periods=0": "Between 1 and 52",
        "/manage/dashboard?period=year": "week or a month",
        f"/manage/dashboard?department={LEGAL_ID}": "not among those you may see",
        "/manage/dashboard?department=no-such-department": "not among those you may see",
    }
    for path, message in cases.items():
        response = finance_head.get(path)
        assert response.status_code == 400, path
        assert message in response.get_data(as_text=True), path
    response = finance_head.get(f"/manage/explorer/data.json?department={LEGAL_ID}")
    assert response.status_code == 400 and "not among" in response.get_json()["message"]
    assert finance_head.get("/manage/explorer/path.json").status_code == 400
    assert finance_head.get("/manage/export/secrets.csv").status_code == 404
    assert finance_head.get("/manage/export/steps.pdf").status_code == 404


def test_completion_only_logs_say_what_cannot_be_separated(admin: FlaskClient, history: FalkorStore,
                                                           tmp_path) -> None:  # type: ignore[no-untyped-def]
    log = tmp_path / "claims.csv"
    lines = ["case,activity,timestamp,resource,department"]
    for case in range(6):
        for i, activity in enumerate(("Register", "Assess", "Pay")):
            lines.append(f"c{case},{activity},2026-01-0{case + 1}T0{i + 1}:00:00,clerk{i},Claims")
    log.write_text("\n".join(lines), encoding="utf-8")
    import_log(history, log, key="log-claims")
    page = admin.get("/manage/bottlenecks?workflow=log-claims").get_data(as_text=True)
    assert 'data-timing="completion_only"' in page and "cannot be separated" in page
    other = admin.get("/manage/bottlenecks?workflow=expense").get_data(as_text=True)
    assert 'data-timing="completion_only"' not in other


def test_trend_warnings_notify_the_responsible_heads_once(app: Flask, history: FalkorStore) -> None:
    now = _now()
    warnings = trends.trends(history, now=now)["warnings"]
    assert any(w.get("workflow") == "expense" and w.get("step") == "finance" for w in warnings)
    created = notify_trend_warnings(history, now=now)
    # A code with figures, never an English sentence: the reader's language words it.
    assert created and all(n["kind"] == KIND and n["code"].startswith("trend.") and "text" not in n
                           for n in created)
    accounting_head = ORG.head["FIN-ACC"]  # 会计组 handles the expense workflow's finance review
    mine = [n for n in inbox.notifications(history, accounting_head, limit=200) if n["kind"] == KIND]
    expense = next(w for w in warnings if w.get("workflow") == "expense" and w.get("step") == "finance")
    title = f"{expense['workflow_name']} / {expense['step_name']}"  # names, not keys
    rising = next(n for n in mine if n["title"] == title and n["code"] == "trend.rising_handling_time")
    assert json.loads(rising["params"])["weeks"] == expense["params"]["weeks"]
    assert all(n.get("task_id") for n in mine)
    assert notify_trend_warnings(history, now=now + 60_000) == []  # the same week: nothing new
    weeks = expense["params"]["weeks"]
    zh = login(app, history, accounting_head, language="zh-CN").get("/notifications/").get_data(as_text=True)
    assert f"每周办理时长中位数正以每周 {expense['params']['slope_h']} 小时的速度上升，已持续 {weeks} 周" in zh
    en = login(app, history, accounting_head).get("/notifications/").get_data(as_text=True)
    assert f"the weekly median handling time rises by {expense['params']['slope_h']} hours a week" in en
    assert "Mann-Kendall" not in zh + en
    # The scope is stored by key and named when shown: English names for an English reader, Chinese otherwise.
    flows = {r["key"]: r for r in workflow_keys(history)}
    steps = {(r["workflow"], r["step"]): r for r in step_names(history)}
    title_en = f"{flows['expense']['name_en']} / {steps[('expense', 'finance')]['name_en']}"
    assert html.escape(title_en) in en and title not in en and title in zh, title_en
    legacy = {"id": "n-old", "kind": KIND, "title": title, "code": "trend.rising_handling_time", "params": "{}"}
    assert named(history, [legacy], "en") == [legacy]  # stored before scopes were kept: as it was stored


def test_engine_actions_invalidate_the_analytics_cache(history: FalkorStore) -> None:
    now = _now()
    before = cache.version(history)
    run_id = runs.start_run(history, "expense", ORG.staff("RND-PLT"), FORMS["expense"], now=now)
    started = cache.version(history)
    assert started[0] > before[0]
    task = current_tasks(history, run_id)[0]
    actor = actor_for(history, task)
    actions.open_task(history, task["id"], actor, now=now + 1000)
    opened = cache.version(history)
    assert opened[0] > started[0] and opened[1] == started[1]  # same number of tasks, still a new version
    actions.approve(history, task["id"], actor, now=now + 2000, **step_inputs(history, task))
    assert cache.version(history)[0] > opened[0]
