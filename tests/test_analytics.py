"""Bottleneck figures, trend warnings, collaboration graph and demo history."""

from __future__ import annotations

import numpy as np
import pytest
from workflow_support import FORMS, HOUR, NOW, Org, actor_for, current_tasks, step_inputs

from graph.analytics import bottlenecks, cache, collaboration, trends
from graph.analytics.demo_history import SLOW_DEPARTMENT, WORSENING, load_demo_history
from graph.analytics.tasks import TaskTable
from graph.cypher import cypher
from graph.demo_org import load_demo_org, node_id
from graph.workflows import actions, runs, templates

DAY = 24 * HOUR
NAN = float("nan")


def _table(rows: list[dict[str, object]]) -> TaskTable:
    """A table from readable rows (times in hours); codes assigned in order of appearance."""
    def codes(field: str) -> tuple[np.ndarray, list[str]]:
        names: list[str] = []
        out = []
        for row in rows:
            value = row.get(field)
            if value is None:
                out.append(-1)
                continue
            if value not in names:
                names.append(str(value))
            out.append(names.index(str(value)))
        return np.array(out, dtype=np.int64), names

    def hours(field: str) -> np.ndarray:
        return np.array([NAN if r.get(field) is None else float(r[field]) * HOUR for r in rows])  # type: ignore[arg-type]

    run, run_names = codes("run")
    step, steps = codes("step")
    person, people = codes("person")
    dept, departments = codes("dept")
    status = [r.get("status", "done") for r in rows]
    return TaskTable(
        workflow="wf", ids=np.array([f"t{i}" for i in range(len(rows))], dtype=object), run=run, step=step,
        round=np.array([float(r.get("round", 1)) for r in rows]), created=hours("created"), opened=hours("opened"),
        completed=hours("completed"), due=hours("due"), is_open=np.array([s == "open" for s in status]),
        cancelled=np.array([s == "cancelled" for s in status]),
        arrival_known=np.array([r.get("known", True) for r in rows], dtype=bool), person=person, department=dept,
        steps=steps, step_names=steps, runs=run_names, people=[f"{p}\x1f{p}" for p in people], departments=departments)


ROWS: list[dict[str, object]] = [
    # run r1: review (Sales) then approve (Finance), rejected back to review once
    {"run": "r1", "step": "review", "round": 1, "created": 0, "opened": 2, "completed": 3, "due": 8, "dept": "Sales",
     "person": "a"},
    {"run": "r1", "step": "approve", "round": 2, "created": 3, "opened": 7, "completed": 13, "due": 10,
     "dept": "Finance", "person": "b"},
    {"run": "r1", "step": "review", "round": 3, "created": 13, "opened": 14, "completed": 18, "due": 21,
     "dept": "Sales", "person": "a"},
    # run r2: review done, approve still open and already overdue at t=100 h
    {"run": "r2", "step": "review", "round": 1, "created": 20, "opened": 21, "completed": 27, "due": 28,
     "dept": "Sales", "person": "c"},
    {"run": "r2", "step": "approve", "round": 2, "created": 27, "opened": 30, "status": "open", "due": 35,
     "dept": "Finance", "person": "b"},
    # a cancelled sibling counts nowhere
    {"run": "r2", "step": "approve", "round": 2, "created": 27, "completed": 28, "status": "cancelled",
     "dept": "Finance", "person": "d"},
]


def test_step_figures_by_hand() -> None:
    table = _table(ROWS)
    measures = bottlenecks.Measures(table, now=int(100 * HOUR))
    by_step = {table.steps[c]: measures.figures(idx) for c, idx in bottlenecks.groups(table.step)}
    review, approve = by_step["review"], by_step["approve"]
    assert review["count"] == 3 and approve["count"] == 2
    assert review["median_wait_s"] == 3600.0 and review["p90_wait_s"] == pytest.approx(1.8 * 3600)
    assert review["median_processing_s"] == 4 * 3600.0  # 1, 4, 6 h
    assert review["median_handling_s"] == 5 * 3600.0  # 3, 5, 7 h
    assert review["rework_rate"] == pytest.approx(1 / 3, abs=1e-4)
    assert review["breach_rate"] == 0.0
    assert approve["median_wait_s"] == 3.5 * 3600  # 4 h and 3 h (the open one was opened)
    assert approve["median_handling_s"] == 10 * 3600.0  # only the finished one
    assert approve["breach_rate"] == 1.0  # finished late, and open past due
    assert approve["open_now"] == 1 and review["open_now"] == 0
    assert approve["median_processing_s"] == 6 * 3600.0


def test_handoff_matrix() -> None:
    result = bottlenecks.handoffs(_table(ROWS))
    assert result["departments"] == ["Finance", "Sales"]
    assert result["counts"] == [[0, 1], [2, 0]]
    # Sales->Finance: r1 3h->7h (4 h), r2 27h->30h (3 h); Finance->Sales: 13h->14h.
    assert result["median_delay_s"] == [[None, 3600.0], [3.5 * 3600, None]]


def test_missing_figures_are_none() -> None:
    table = _table([{"run": "x", "step": "only", "created": 0, "completed": 5, "known": False}])
    figures = bottlenecks.Measures(table, now=int(10 * HOUR)).figures(np.arange(1))
    assert figures["median_wait_s"] is None and figures["median_handling_s"] is None
    assert figures["breach_rate"] is None and figures["rework_rate"] == 0.0


# -- trends -------------------------------------------------------------------------------------------


def _weekly_medians(rng: np.random.Generator, weeks: int, growth: float = 0.0, per_week: int = 12) -> np.ndarray:
    return np.array([np.median(8 * HOUR * (1 + growth * w) * rng.lognormal(0, 0.8, per_week))
                     for w in range(weeks)])


@pytest.mark.parametrize("weeks", [8, 26])
def test_flat_noisy_series_rarely_warn(weeks: int) -> None:
    alarms = sum(trends.test_rising(_weekly_medians(np.random.default_rng(seed), weeks)).rising
                 for seed in range(200))
    assert alarms <= 10, f"{alarms} false alarms in 200 flat series"


def test_rising_series_warn_with_explanation() -> None:
    hits = sum(trends.test_rising(_weekly_medians(np.random.default_rng(seed), 16, growth=0.15)).rising
               for seed in range(50))
    assert hits >= 45
    result = trends.test_rising(_weekly_medians(np.random.default_rng(1), 16, growth=0.15))
    assert result.p_value is not None and result.p_value < 0.05 and result.slope_low is not None
    assert result.slope_low > 0


def test_too_few_weeks_never_warn() -> None:
    assert not trends.test_rising(np.arange(7, dtype=float) * 1000).rising
    assert trends.test_rising(np.arange(8, dtype=float) * 1000 + 1000).rising


def test_queue_growth_predicts_breaches() -> None:
    now_h = 60 * 24
    rows: list[dict[str, object]] = []
    for i in range(80):  # arrivals: 80 over the last 28 days, 20 finished, SLA one day
        created = now_h - 27 * 24 + i * 8
        done = i < 20
        rows.append({"run": f"r{i}", "step": "s", "created": created, "due": created + 24, "dept": "Ops",
                     "person": "p", "completed": created + 2 if done else None, "status": "done" if done else "open"})
    table = _table(rows)
    measures = bottlenecks.Measures(table, now=int(now_h * HOUR))
    warning = trends._queue_warning({"step": "s"}, measures, np.arange(len(rows)), int(now_h * HOUR))
    assert warning is not None and warning["kind"] == "sla_breach_expected"
    assert warning["queue"] == 60 and warning["days_to_breach"] == 0.0
    assert "60 open tasks" in warning["message"]
    balanced = [dict(r, status="done", completed=float(r["created"]) + 2) for r in rows[:-5]] + rows[-5:]
    measures = bottlenecks.Measures(_table(balanced), now=int(now_h * HOUR))
    assert trends._queue_warning({"step": "s"}, measures, np.arange(len(balanced)), int(now_h * HOUR)) is None


# -- the demo history ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def history(graph_server):  # type: ignore[no-untyped-def]
    from graph.falkordb_backend import FalkorStore

    store = FalkorStore(graph_server, "t_analytics_history")
    store.drop_all()
    store.ensure_schema()
    load_demo_org(store, "pw")
    result = load_demo_history(store, now=NOW)
    yield store, result
    store.drop_all()
    store.close()


def test_demo_history_ranks_the_slow_department_and_step_first(history) -> None:  # type: ignore[no-untyped-def]
    store, result = history
    assert result.created_runs > 1500 and result.tasks > 6000
    report = bottlenecks.report(store, now=NOW)
    assert report["departments"][0]["department"] == "法务部"  # Legal, the demo's SLOW_DEPARTMENT
    assert SLOW_DEPARTMENT == "LEGAL"
    top = report["top_bottlenecks"][0]
    assert (top["workflow"], top["step"]) == ("contract-review", "legal")
    assert len(top["evidence"]) == 5 and "bottleneck.handling" in {r["code"] for r in top["reasons"]}
    assert report["departments"][0]["department_id"] == node_id("dept", "LEGAL")
    assert report["handoffs"]["edges"] and report["people"]


def test_demo_history_raises_the_trend_warning(history) -> None:  # type: ignore[no-untyped-def]
    store, _ = history
    warnings = trends.trends(store, now=NOW)["warnings"]
    rising = {(w.get("workflow"), w.get("step")) for w in warnings if w["kind"] == "rising_handling_time"}
    assert WORSENING in rising
    assert ("contract-review", "legal") not in rising  # slow but steady: no alarm
    finance = next(w for w in warnings if (w.get("workflow"), w.get("step")) == WORSENING)
    assert finance["test"]["p_value"] < 0.05 and finance["test"]["slope_low_s"] > 0
    assert "Mann-Kendall" in finance["message"] and len(finance["values"]) >= 8
    assert finance["code"] == "trend.rising_handling_time" and finance["params"]["slope_h"] > 0
    assert finance["params"]["scope"] == f"{finance['workflow_name']} / {finance['step_name']}"


def test_trend_warnings_in_the_organisations_weeks(history) -> None:  # type: ignore[no-untyped-def]
    """Counted in Shanghai's weeks the demo raises the same warnings (codes and figures), and the managers hear
    of each once in that week."""
    from graph.analytics.notices import notify_trend_warnings

    store, _ = history
    local = trends.trends(store, now=NOW, zone="Asia/Shanghai")

    def said(warnings: list[dict[str, object]]) -> set[tuple[object, ...]]:
        return {(w["code"], w.get("workflow"), w.get("step"), w.get("department_id")) for w in warnings}

    assert said(local["warnings"]) == said(trends.trends(store, now=NOW)["warnings"])
    finance = next(w for w in local["warnings"] if (w.get("workflow"), w.get("step")) == WORSENING
                   and w["kind"] == "rising_handling_time")
    assert finance["params"]["weeks"] >= 8 and finance["params"]["slope_h"] > 0
    # Its weeks begin at Monday 00:00 in Shanghai: 16:00 UTC on the Sunday.
    assert all((w + 8 * HOUR) % (7 * DAY) == 4 * DAY for w in finance["weeks"])  # 1970-01-05 was a Monday
    created = notify_trend_warnings(store, now=NOW, zone="Asia/Shanghai")
    assert created and {n["code"] for n in created} <= {"trend.rising_handling_time", "trend.sla_breach_expected",
                                                          "trend.sla_breached"}
    assert notify_trend_warnings(store, now=NOW + HOUR, zone="Asia/Shanghai") == []  # the same local week


def test_demo_history_is_idempotent_and_cached(history) -> None:  # type: ignore[no-untyped-def]
    store, first = history
    counts = store.counts()
    again = load_demo_history(store, now=NOW)
    assert again.created_runs == 0 and again.skipped_runs == first.created_runs
    assert store.counts() == counts
    one = bottlenecks.report(store, now=NOW)
    assert bottlenecks.report(store, now=NOW) is one  # served from the cache
    cache.bump(store)
    assert bottlenecks.report(store, now=NOW) is not one  # the counter moved: recomputed


def test_collaboration_graph(history) -> None:  # type: ignore[no-untyped-def]
    store, _ = history
    result = collaboration.collaboration(store)
    nodes = {n["data"]["id"]: n["data"] for n in result["elements"]["nodes"]}
    edges = [e["data"] for e in result["elements"]["edges"]]
    legal, treasury = node_id("dept", "LEGAL"), node_id("dept", "FIN-TRS")
    assert nodes[f"dept:{legal}"]["label"] == "法务部" and any(n["kind"] == "person" for n in nodes.values())
    assert all(e["source"] in nodes and e["target"] in nodes and e["weight"] > 0 for e in edges)
    kinds = {k for e in edges for k in e["kinds"]}
    assert {"handoffs", "co_assigned", "comments", "member"} <= kinds
    assert result["bridges"] and result["communities"]
    # The general manager signs every project and contract: the strongest bridge between departments.
    assert result["bridges"][0]["department"] == "总经办"
    path = collaboration.department_path(store, legal, treasury)
    assert path["path"][0]["label"] == "法务部" and path["path"][-1]["label"] == "资金组"
    missing = collaboration.department_path(store, legal, "no-such-id")
    assert missing["path"] is None and missing["reason"] == "path.no_activity"
    legal_only = collaboration.collaboration(store, department=legal)
    assert len(legal_only["elements"]["nodes"]) < len(nodes)
    contracts = collaboration.collaboration(store, workflow="contract-review", since=NOW - 30 * DAY, until=NOW)
    assert 0 < len(contracts["elements"]["edges"]) < len(edges)


SHARE = cypher("test.analytics.share_document", """
    MATCH (owner:Person {id: $owner_id}), (d2:Department {code: $code})
    CREATE (d:Document {id: $id, owner_id: $owner_id, created_at: $at})
    CREATE (d)-[:SHARED_WITH {access: 'read'}]->(d2)
    RETURN d.id AS id
""", writes=True)


def test_shared_documents_link_departments(fresh_store) -> None:  # type: ignore[no-untyped-def]
    load_demo_org(fresh_store, "pw")
    owner = Org().staff("LEGAL")
    for i in range(3):
        fresh_store.run(SHARE, {"owner_id": owner, "code": "HR", "id": f"doc{i}", "at": NOW})
    result = collaboration.collaboration(fresh_store)
    edge = next(e["data"] for e in result["elements"]["edges"]
                if {e["data"]["source"], e["data"]["target"]}
                == {f"dept:{node_id('dept', 'LEGAL')}", f"dept:{node_id('dept', 'HR')}"})
    assert edge["kinds"] == {"shared_documents": 3}
    assert collaboration.collaboration(fresh_store, since=NOW + 1)["elements"]["edges"] == []


# -- the engine's own runs --------------------------------------------------------------------------


def test_engine_runs_feed_the_figures(fresh_store) -> None:  # type: ignore[no-untyped-def]
    load_demo_org(fresh_store, "pw")
    templates.install_templates(fresh_store, now=NOW)
    org = Org()
    run_id = runs.start_run(fresh_store, "expense", org.staff("RND-PLT"), FORMS["expense"], now=NOW)
    before = bottlenecks.cli_rows(fresh_store, "expense", now=NOW + 5 * HOUR)
    assert [r["step"] for r in before] == ["head"] and before[0]["median_handling_s"] is None
    task = current_tasks(fresh_store, run_id)[0]
    actor = actor_for(fresh_store, task)
    actions.open_task(fresh_store, task["id"], actor, now=NOW + 2 * HOUR)
    actions.approve(fresh_store, task["id"], actor, now=NOW + 3 * HOUR, **step_inputs(fresh_store, task))
    rows = {r["step"]: r for r in bottlenecks.cli_rows(fresh_store, "expense", now=NOW + 5 * HOUR)}
    assert rows["head"]["median_wait_s"] == 7200.0 and rows["head"]["median_processing_s"] == 3600.0
    assert rows["head"]["median_handling_s"] == 3 * 3600.0 and rows["head"]["breach_rate"] == 0.0
    assert "budget" in rows  # the run moved on: the cache saw the new task
    report = bottlenecks.report(fresh_store, "expense", now=NOW + 5 * HOUR)
    head_dept = next(d for d in report["departments"] if d["count"] == 1 and d["median_handling_s"])
    assert head_dept["department"] == "平台组"  # the initiator's head, found through MEMBER_OF
