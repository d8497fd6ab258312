"""Event-log import on the real embedded graph: real BPIC-style logs checked against an independent
pandas computation, start/complete timing, idempotence, CSV, and bad input."""

from __future__ import annotations

import gzip
import json
import uuid
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import run_cli

from graph.analytics import bottlenecks
from graph.analytics.eventlog import COMPLETION_ONLY, START_COMPLETE, EventLogError, read_log
from graph.analytics.importer import import_log, workflow_key_for

NOW = int(datetime(2026, 6, 1, tzinfo=UTC).timestamp() * 1000)
XES = "{http://www.xes-standard.org/}"
STANDARD = {"start", "complete", "schedule", "assign", "withdraw", "reassign", "suspend", "resume", "pi_abort",
            "ate_abort", "autoskip", "manualskip", "unknown"}


def _log(shared_data: Path, name: str) -> Path:
    path = shared_data / "processlogs" / name
    if not path.is_file():
        pytest.skip(f"{path} not found (shared process logs absent)")
    return path


def _events_frame(path: Path) -> pd.DataFrame:
    """The log's events, read independently of the importer (whole-document ElementTree parse)."""
    with gzip.open(path) as handle:
        root = ET.parse(handle).getroot()
    rows = []
    for trace in root.iter(f"{XES}trace"):
        case = next(a.get("value") for a in trace if a.tag != f"{XES}event" and a.get("key") == "concept:name")
        for event in trace.iter(f"{XES}event"):
            attrs = {a.get("key"): a.get("value") for a in event}
            rows.append({"case": case, "activity": attrs["concept:name"], "time": attrs["time:timestamp"],
                         "transition": attrs.get("lifecycle:transition")})
    frame = pd.DataFrame(rows)
    frame["time"] = pd.to_datetime(frame["time"], utc=True, format="ISO8601")
    return frame


def _expected_handling(frame: pd.DataFrame) -> pd.DataFrame:
    """Completion-only rule: handling = time since the case's previous event (none for the first)."""
    frame = frame.copy()
    sub = frame["transition"].notna() & ~frame["transition"].fillna("").str.lower().isin(STANDARD)
    frame.loc[sub, "activity"] = frame.loc[sub, "activity"] + " (" + frame.loc[sub, "transition"] + ")"
    frame["order"] = np.arange(len(frame))
    frame = frame.sort_values(["case", "time", "order"], kind="stable")
    frame["handling_s"] = frame.groupby("case")["time"].diff().dt.total_seconds()
    return frame.groupby("activity")["handling_s"].agg(
        count="size", median=lambda s: s.dropna().median(), p90=lambda s: s.dropna().quantile(0.9))


def _check_against_pandas(store, path: Path) -> None:  # type: ignore[no-untyped-def]
    report = import_log(store, path, now=NOW)
    assert report.timing == COMPLETION_ONLY and report.bad_row_count == 0
    expected = _expected_handling(_events_frame(path))
    rows = {r["step"]: r for r in bottlenecks.step_figures(store, report.workflow_key, now=NOW)}
    assert set(rows) == set(expected.index)
    for activity, want in expected.iterrows():
        got = rows[activity]
        assert got["count"] == want["count"], activity
        assert got["median_wait_s"] is None and got["median_processing_s"] is None  # cannot be separated
        if np.isnan(want["median"]):
            assert got["median_handling_s"] is None
            continue
        assert got["median_handling_s"] == pytest.approx(want["median"], abs=0.051), activity
        assert got["p90_handling_s"] == pytest.approx(want["p90"], abs=0.051), activity


def test_helpdesk_handling_times_match_pandas(fresh_store, shared_data) -> None:  # type: ignore[no-untyped-def]
    _check_against_pandas(fresh_store, _log(shared_data, "helpdesk.xes.gz"))


@pytest.mark.slow
def test_bpic2013_handling_times_match_pandas(fresh_store, shared_data) -> None:  # type: ignore[no-untyped-def]
    _check_against_pandas(fresh_store, _log(shared_data, "bpic2013_incidents.xes.gz"))


def test_reimport_adds_nothing(fresh_store, shared_data) -> None:  # type: ignore[no-untyped-def]
    path = _log(shared_data, "helpdesk.xes.gz")
    first = import_log(fresh_store, path, now=NOW)
    counts = fresh_store.counts()
    again = import_log(fresh_store, path, now=NOW)
    assert first.runs_created == 4580 and first.tasks_created == 21348
    assert (again.runs_created, again.tasks_created, again.runs_skipped) == (0, 0, 4580)
    assert fresh_store.counts() == counts
    assert first.workflow_key == workflow_key_for(path) == "log-helpdesk"


# -- start/complete lifecycle, CSV -------------------------------------------------------------------


def _lifecycle_csv(tmp_path: Path, cases: int = 60, seed: int = 3) -> Path:
    """Cases of sequential activities, each with a start and a complete event (shuffled rows)."""
    rng = np.random.default_rng(seed)
    base = datetime(2025, 1, 6, 9, tzinfo=UTC)
    rows = []
    for c in range(cases):
        clock = base + timedelta(hours=float(rng.uniform(0, 2000)))
        for activity in ("Register", "Check", "Approve", "Check", "Pay"):
            clock += timedelta(minutes=float(rng.exponential(240)))
            start = clock
            clock += timedelta(minutes=float(rng.exponential(60)) + 1)
            for stamp, transition in ((start, "start"), (clock, "complete")):
                rows.append({"Case ID": f"C{c}", "Activity": activity, "Timestamp": stamp.isoformat(),
                             "Resource": f"r{rng.integers(5)}", "Department": "Ops" if activity != "Pay" else "Fin",
                             "Lifecycle": transition})
    frame = pd.DataFrame(rows).sample(frac=1.0, random_state=seed)
    path = tmp_path / "lifecycle.csv"
    frame.to_csv(path, index=False)
    return path


def test_start_complete_csv_separates_waiting_and_processing(fresh_store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = _lifecycle_csv(tmp_path)
    report = import_log(fresh_store, path, now=NOW)
    assert report.timing == START_COMPLETE and report.bad_row_count == 0 and report.unmatched_starts == 0
    assert report.tasks_created == 60 * 5
    # Independent: pair each start with its complete (n-th of that activity in the case), then shift.
    frame = pd.read_csv(path)
    frame["ts"] = pd.to_datetime(frame["Timestamp"], utc=True, format="ISO8601")
    frame = frame.sort_values(["Case ID", "ts"], kind="stable")
    frame["n"] = frame.groupby(["Case ID", "Activity", "Lifecycle"]).cumcount()
    wide = frame.pivot_table(index=["Case ID", "Activity", "n"], columns="Lifecycle", values="ts", aggfunc="first")
    wide = wide.reset_index().sort_values(["Case ID", "complete"])
    wide["previous"] = wide.groupby("Case ID")["complete"].shift()
    wide["wait"] = (wide["start"] - wide["previous"]).dt.total_seconds()
    wide["processing"] = (wide["complete"] - wide["start"]).dt.total_seconds()
    wide["handling"] = (wide["complete"] - wide["previous"]).dt.total_seconds()
    expected = wide.groupby("Activity")[["wait", "processing", "handling"]].median()
    rows = {r["step"]: r for r in bottlenecks.step_figures(fresh_store, report.workflow_key, now=NOW)}
    for activity, want in expected.iterrows():
        got = rows[activity]
        for field, column in (("median_wait_s", "wait"), ("median_processing_s", "processing"),
                              ("median_handling_s", "handling")):
            if np.isnan(want[column]):
                assert got[field] is None, (activity, field)
            else:
                assert got[field] == pytest.approx(want[column], abs=0.051), (activity, field)
    assert rows["Register"]["median_wait_s"] is None  # first activity: nothing before it
    assert rows["Check"]["rework_rate"] == pytest.approx(0.5)  # the second Check of each case repeats it
    report_all = bottlenecks.report(fresh_store, report.workflow_key, now=NOW)
    edge = next(e for e in report_all["handoffs"]["edges"] if (e["from"], e["to"]) == ("Ops", "Fin"))
    assert edge["count"] == 60


def test_csv_bad_rows_are_reported_and_good_rows_land(fresh_store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "mixed.csv"
    path.write_text(
        "case_id;activity;timestamp;resource;department\n"
        "A;Submit;2025-03-03 09:00:00;li.na;Sales\n"
        "A;Review;2025-03-03T12:30:00+08:00;wang.wei;Finance\n"
        "A;Review;last tuesday;wang.wei;Finance\n"
        "B;;2025-03-04 10:00:00;li.na;Sales\n"
        "B;Submit;2025-03-04 10:00:00;li.na;Sales\n"
        "\n"
        "B;Review;2025/03/05 11:15;zhao.min;Finance\n", encoding="utf-8")
    report = import_log(fresh_store, path, now=NOW)
    assert report.bad_row_count == 2
    assert [(b.line, b.error) for b in report.bad_rows] == [
        (4, "unparsable timestamp 'last tuesday'"), (5, "empty activity")]
    assert (report.runs_created, report.tasks_created) == (2, 4)
    rows = {r["step"]: r for r in bottlenecks.step_figures(fresh_store, report.workflow_key, now=NOW)}
    # Case A: 12:30+08:00 is 04:30Z, before the naive (UTC) 09:00 Submit, so Review comes first there.
    assert rows["Review"]["count"] == rows["Submit"]["count"] == 2
    assert rows["Submit"]["median_handling_s"] == 4.5 * 3600
    assert rows["Review"]["median_handling_s"] == 25.25 * 3600


def test_missing_columns_are_a_clear_error(tmp_path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("case,when,who\n1,2025-01-01,x\n", encoding="utf-8")
    expected = r"line 1: missing column\(s\) activity, timestamp \(found: case, when, who"
    with pytest.raises(EventLogError, match=expected):
        read_log(path)


def test_broken_xes_reports_the_line(tmp_path) -> None:
    path = tmp_path / "broken.xes"
    path.write_text('<?xml version="1.0"?>\n<log xmlns="http://www.xes-standard.org/">\n<trace>\n'
                    '<string key="concept:name" value="1"/>\n<event><string key="concept:name" value="a"/>\n'
                    '</trace>\n</log>\n', encoding="utf-8")
    with pytest.raises(EventLogError, match=r"line \d+: not well-formed XES"):
        read_log(path)


def test_xes_events_without_time_are_bad_rows(tmp_path) -> None:
    path = tmp_path / "partial.xes.gz"
    body = ('<?xml version="1.0"?>\n<log xmlns="http://www.xes-standard.org/">\n<trace>\n'
            '<string key="concept:name" value="1"/>\n'
            '<event><string key="concept:name" value="a"/><date key="time:timestamp" value="2024-01-01T10:00:00Z"/>'
            '</event>\n'
            '<event><string key="concept:name" value="b"/></event>\n'
            '<event><string key="concept:name" value="c"/><date key="time:timestamp" value="2024-13-01"/></event>\n'
            '</trace>\n</log>\n')
    path.write_bytes(gzip.compress(body.encode()))
    parsed = read_log(path)
    assert [e.activity for e in parsed.events] == ["a"]
    assert [(b.line, b.error.split(" (")[0]) for b in parsed.bad_rows] == [
        (6, "event without time:timestamp"), (7, "unparsable timestamp '2024-13-01'")]


def test_empty_and_missing_files(tmp_path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(EventLogError, match="line 1: empty file"):
        read_log(empty)
    with pytest.raises(EventLogError, match="no such file"):
        read_log(tmp_path / "nope.xes")


# -- command line --------------------------------------------------------------------------------------


def test_cli_import_and_bottlenecks(tmp_path) -> None:
    key = f"log-cli-{uuid.uuid4().hex[:8]}"
    path = tmp_path / "cli.csv"
    path.write_text("case id,activity,timestamp,resource,department,lifecycle\n"
                    "1,Ask,2025-01-01T09:00:00Z,a,Sales,complete\n"
                    "1,Answer,2025-01-01T11:00:00Z,b,Support,complete\n"
                    "2,Ask,2025-01-02T09:00:00Z,a,Sales,complete\n"
                    "2,Answer,not a time,b,Support,complete\n", encoding="utf-8")
    done = run_cli("import-log", str(path), "--key", key, "--json")
    assert done.returncode == 1, done.stderr  # a row was rejected; the good ones are in
    report = json.loads(done.stdout)
    assert report["bad_rows"] == [{"line": 5, "error": "unparsable timestamp 'not a time'"}]
    assert (report["runs_created"], report["tasks_created"]) == (2, 3)
    done = run_cli("bottlenecks", "--workflow", key, "--json")
    assert done.returncode == 0, done.stderr
    rows = {r["step"]: r for r in json.loads(done.stdout)}
    assert set(rows["Answer"]) == set(bottlenecks.CLI_FIELDS)
    assert rows["Answer"]["median_handling_s"] == 7200.0
    assert rows["Answer"]["median_wait_s"] is None and rows["Answer"]["breach_rate"] is None
    assert rows["Ask"]["median_handling_s"] is None  # first event of every case
    again = run_cli("import-log", str(path), "--key", key, "--json")
    assert json.loads(again.stdout)["runs_created"] == 0
    missing = run_cli("bottlenecks", "--workflow", "log-nowhere-" + key, "--json")
    assert missing.returncode != 0 and "no workflow" in missing.stderr
