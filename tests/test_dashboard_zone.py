"""Dashboard weeks and months are the organisation's (``HUITONG_TIMEZONE``), not UTC's: a task completed and a
comment written at 23:30 UTC on a Sunday belong to Monday's week in Asia/Shanghai, and to the first of the
month when that Sunday is the last day of a month in UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from graph import org
from graph.actor import Actor
from graph.analytics import cache, dashboard
from graph.cypher import cypher
from graph.falkordb_backend import FalkorStore
from graph.usecases import Context
from graph.usecases import analytics as uc
from settings import get_settings

HOUR = 3_600_000
# Sunday 2026-11-29 23:30 UTC = Monday 2026-11-30 07:30 in Shanghai; Sunday 2026-05-31 23:30 UTC = 1 June there.
SUNDAY_LATE = int(datetime(2026, 11, 29, 23, 30, tzinfo=UTC).timestamp() * 1000)
MONTH_END_LATE = int(datetime(2026, 5, 31, 23, 30, tzinfo=UTC).timestamp() * 1000)
NOW = int(datetime(2026, 12, 3, 10, 0, tzinfo=UTC).timestamp() * 1000)

ADD_WORKFLOW = cypher("test.dashboard_zone.add_workflow", """
    CREATE (w:Workflow {id: $key, key: $key, name: $name, current: true})
    RETURN w.key AS key
""", writes=True)
ADD_TASK = cypher("test.dashboard_zone.add_task", """
    CREATE (t:Task) SET t += $row
    RETURN t.id AS id
""", writes=True)
ADD_COMMENT = cypher("test.dashboard_zone.add_comment", """
    CREATE (c:Comment {id: $id, author_id: $author, at: $at, text: 'ok'})
    RETURN c.id AS id
""", writes=True)


def _task(task_id: str, person: str, done: int) -> dict[str, Any]:
    return {"id": task_id, "run_id": f"{task_id}-run", "workflow_key": "zone-check", "step_key": "check",
            "step_name": "核对", "round": 1, "created_at": done - 2 * HOUR, "first_opened_at": done - HOUR,
            "completed_at": done, "due_at": done + 48 * HOUR, "status": "approved", "assignee_kind": "person",
            "assignee_id": person, "assignee_name": "钟科员", "department": "时区科"}


@pytest.fixture(scope="module")
def zoned(graph_server) -> Any:  # type: ignore[no-untyped-def]
    store = FalkorStore(graph_server, "t_dashboard_zone")
    store.drop_all()
    store.ensure_schema()
    department = org.create(store, "department", {"code": "ZONE", "name": "时区科"})
    head = org.create_person(store, {"username": "zonehead", "name": "钟主任", "email": "zh@example.com"},
                             roles=["member", "manager"])
    clerk = org.create_person(store, {"username": "zoneclerk", "name": "钟科员", "email": "zc@example.com"})
    org.add_membership(store, head, "head", "ZONE")
    org.add_membership(store, clerk, "department", "ZONE")
    store.run(ADD_WORKFLOW, {"key": "zone-check", "name": "时区核对"})
    store.run(ADD_TASK, {"row": _task("late-sunday", clerk, SUNDAY_LATE)})
    store.run(ADD_TASK, {"row": _task("late-may", clerk, MONTH_END_LATE)})
    store.run(ADD_COMMENT, {"id": "c-late-sunday", "author": clerk, "at": SUNDAY_LATE})
    cache.clear()
    yield store, department, Actor(head, name="钟主任", roles=frozenset({"member", "manager"}))
    store.drop_all()
    store.close()


def _ctx(store: FalkorStore, zone: str) -> Context:
    return Context(store, get_settings().model_copy(update={"timezone": zone}))


def _busy(board: dict[str, Any]) -> dict[str, tuple[int, int]]:
    return {r["period"]: (r["completed"], r["comments"]) for r in board["rows"] if r["completed"] or r["comments"]}


def test_a_late_sunday_in_utc_is_monday_in_shanghai(zoned: Any) -> None:
    store, _, head = zoned
    weeks = uc.Filters(period="week", count=3)
    shanghai = uc.dashboard_view(_ctx(store, "Asia/Shanghai"), head, weeks, now=NOW)
    assert [p["label"] for p in shanghai["periods"]] == ["2026-W47", "2026-W48", "2026-W49"]
    # The week begins at Monday 00:00 in Shanghai, i.e. Sunday 16:00 UTC.
    assert shanghai["periods"][-1]["start"] == int(datetime(2026, 11, 29, 16, tzinfo=UTC).timestamp() * 1000)
    assert _busy(shanghai) == {"2026-W49": (1, 1)}
    utc = uc.dashboard_view(_ctx(store, "UTC"), head, weeks, now=NOW)
    assert _busy(utc) == {"2026-W48": (1, 1)}


def test_months_begin_at_local_midnight(zoned: Any) -> None:
    store, _, head = zoned
    months = uc.Filters(period="month", count=8)
    shanghai = uc.dashboard_view(_ctx(store, "Asia/Shanghai"), head, months, now=NOW)
    assert _busy(shanghai) == {"2026-06": (1, 0), "2026-11": (1, 1)}
    utc = uc.dashboard_view(_ctx(store, "UTC"), head, months, now=NOW)
    assert _busy(utc) == {"2026-05": (1, 0), "2026-11": (1, 1)}
    # Exports carry the same local periods (they read the same rows).
    rows = uc.table_rows(_ctx(store, "Asia/Shanghai"), head, "dashboard", months)
    assert {r["period"] for r in rows if r["completed"]} == {"2026-06", "2026-11"}


def test_period_bounds_follow_clock_changes() -> None:
    # Berlin's clocks go back on 2026-10-25: that week is 169 hours long, and still starts at local midnight.
    week = dashboard.period_bounds(int(datetime(2026, 10, 22, tzinfo=UTC).timestamp() * 1000), "week", 1,
                                   "Europe/Berlin")[0]
    assert (week["end"] - week["start"]) == 169 * HOUR
    assert week["start"] == int(datetime(2026, 10, 18, 22, tzinfo=UTC).timestamp() * 1000)
