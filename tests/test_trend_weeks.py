"""The trend analysis counts the organisation's weeks (``HUITONG_TIMEZONE``), as the dashboard does: a task done
at 23:30 UTC on a Sunday is in Monday's week in Asia/Shanghai and in the week before in UTC, and Berlin's week
of the clock change is 169 hours long and still begins at local midnight. The series come from the dashboard's
own period code (one definition of a week)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
from test_analytics import _table

from graph.analytics import dashboard, trends
from graph.analytics.bottlenecks import Measures

HOUR = 3_600_000


def _ms(*parts: int) -> int:
    return int(datetime(*parts, tzinfo=UTC).timestamp() * 1000)


def _series(done: list[int], now: int, zone: str) -> dict[str, list[object]]:
    """The weekly series of tasks completed at ``done`` (each handled in two hours), with one task still open
    at ``now`` (live data: the series ends with the last complete week before ``now``)."""
    rows: list[dict[str, object]] = [{"run": f"r{i}", "step": "check", "created": (at - 2 * HOUR) / HOUR,
                                      "opened": (at - HOUR) / HOUR, "completed": at / HOUR, "dept": "D",
                                      "person": "p"} for i, at in enumerate(done)]
    rows.append({"run": "open", "step": "check", "created": (now - HOUR) / HOUR, "status": "open", "dept": "D",
                 "person": "p"})
    table = _table(rows)
    return trends.weekly(Measures(table, now), np.arange(len(table)), zone)


def _busy(series: dict[str, list[object]]) -> dict[int, object]:
    return {w: c for w, c in zip(series["week"], series["count"], strict=True) if c}


def test_a_late_sunday_in_utc_is_in_mondays_week_in_shanghai() -> None:
    sunday_late = _ms(2026, 11, 29, 23, 30)  # Monday 30 November, 07:30 in Shanghai
    now = _ms(2026, 12, 16, 10)  # a Wednesday: the weeks of 30 November and 7 December are complete
    shanghai = _series([sunday_late], now, "Asia/Shanghai")
    # Monday 00:00 in Shanghai is Sunday 16:00 UTC.
    assert shanghai["week"] == [_ms(2026, 11, 29, 16), _ms(2026, 12, 6, 16)]
    assert shanghai["count"] == [1, 0] and shanghai["median_handling_s"] == [7200.0, None]
    utc = _series([sunday_late], now, "UTC")
    assert _busy(utc) == {_ms(2026, 11, 23): 1}
    # Every week starts on a Monday at local midnight, and the running week is never part of the series.
    for week in shanghai["week"]:
        local = datetime.fromtimestamp(int(str(week)) / 1000, ZoneInfo("Asia/Shanghai"))
        assert (local.weekday(), local.hour, local.minute) == (0, 0, 0)
    assert _ms(2026, 12, 13, 16) not in shanghai["week"]


def test_berlin_weeks_follow_the_clock_change() -> None:
    # Clocks go back on Sunday 2026-10-25 (03:00 CEST -> 02:00 CET). 22:30 UTC that day is 23:30 Sunday in Berlin
    # (a fixed summer offset would make it Monday); 23:30 UTC is 00:30 on Monday.
    sunday, monday = _ms(2026, 10, 25, 22, 30), _ms(2026, 10, 25, 23, 30)
    series = _series([sunday, monday], _ms(2026, 11, 4, 12), "Europe/Berlin")
    before, after = _ms(2026, 10, 18, 22), _ms(2026, 10, 25, 23)  # Monday midnights, CEST and CET
    assert _busy(series) == {before: 1, after: 1}
    assert after - before == 169 * HOUR
    # The same weeks as the dashboard's (one definition of a local week).
    bounds = dashboard.period_bounds(_ms(2026, 11, 4, 12), "week", 3, "Europe/Berlin")
    assert [b["start"] for b in bounds[:2]] == [before, after]
    assert series["week"][-2:] == [before, after]
    # In UTC both fall in the week beginning Monday 19 October.
    assert _busy(_series([sunday, monday], _ms(2026, 11, 4, 12), "UTC")) == {_ms(2026, 10, 19): 2}
