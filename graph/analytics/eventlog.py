"""Reading process-mining event logs (XES, plain or gzipped, and CSV) into activity instances.

Parsing streams (lxml ``iterparse`` for XES, the csv module for CSV) and keeps only the few fields
analytics needs. A bad row never stops a file: it is reported with its line number and the good
rows go on; only a file that cannot be read at all (no usable header, broken XML) raises
:class:`EventLogError`.

Timing rules. With only completion events, an activity's *handling* time runs from the case's
previous event to this one; waiting and processing cannot be told apart. With start and complete
events, *waiting* runs from the previous completion in the case to the start and *processing* from
start to complete. The first activity of a case has no known arrival (nothing before it).
"""

from __future__ import annotations

import csv
import gzip
import io
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from lxml import etree

COMPLETION_ONLY = "completion_only"
START_COMPLETE = "start_complete"
TIMING_NOTES = {
    COMPLETION_ONLY: "The log records only completions: handling time runs from the case's previous event; "
                     "waiting and processing cannot be separated.",
    START_COMPLETE: "The log records starts and completions: waiting runs from the previous completion to the "
                    "start, processing from start to completion.",
}
# Transitions of the XES standard lifecycle model; any other value is a sub-status of the activity.
STANDARD_TRANSITIONS = frozenset({"schedule", "assign", "withdraw", "reassign", "start", "suspend", "resume",
                                  "pi_abort", "ate_abort", "complete", "autoskip", "manualskip", "unknown"})
MAX_REPORTED_BAD_ROWS = 200
_XES_KEYS = frozenset({"concept:name", "time:timestamp", "org:resource", "org:group", "org:role",
                       "lifecycle:transition"})

# CSV header aliases (compared case-insensitively, spaces/underscores/colons ignored).
CSV_COLUMNS: dict[str, tuple[str, ...]] = {
    "case": ("caseid", "case", "caseconceptname", "casename", "traceid"),
    "activity": ("activity", "conceptname", "activityname", "event", "task"),
    "timestamp": ("timestamp", "timetimestamp", "time", "datetime", "completetimestamp"),
    "resource": ("resource", "orgresource", "user", "performer"),
    "department": ("department", "orggroup", "group", "team"),
    "role": ("role", "orgrole"),
    "lifecycle": ("lifecycle", "lifecycletransition", "transition"),
}
REQUIRED_CSV = ("case", "activity", "timestamp")
_EXTRA_FORMATS = ("%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M", "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M")


class EventLogError(ValueError):
    """The file cannot be read as an event log at all."""


@dataclass(slots=True)
class Event:
    case: str
    activity: str
    ts: int  # epoch ms, UTC
    line: int
    resource: str | None = None
    department: str | None = None
    role: str | None = None
    lifecycle: str | None = None


@dataclass(frozen=True)
class BadRow:
    line: int
    error: str


@dataclass
class ParsedLog:
    events: list[Event] = field(default_factory=list)
    bad_rows: list[BadRow] = field(default_factory=list)
    bad_row_count: int = 0

    def bad(self, line: int, error: str) -> None:
        self.bad_row_count += 1
        if len(self.bad_rows) < MAX_REPORTED_BAD_ROWS:
            self.bad_rows.append(BadRow(line, error))


@dataclass(slots=True)
class Instance:
    """One execution of an activity in a case: a historical task."""

    activity: str
    created: int
    completed: int
    arrival_known: bool
    seq: int
    opened: int | None = None
    resource: str | None = None
    department: str | None = None
    role: str | None = None


@dataclass
class Cases:
    timing: str
    cases: dict[str, list[Instance]]
    ignored_events: int = 0
    unmatched_starts: int = 0


# -- timestamps ------------------------------------------------------------------------------------


def parse_timestamp(text: str) -> int:
    """Epoch ms of an ISO 8601 (or a few common) timestamp; naive times are taken as UTC."""
    value = text.strip()
    if not value:
        raise ValueError("empty timestamp")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        moment = None
        for pattern in _EXTRA_FORMATS:
            try:
                moment = datetime.strptime(value, pattern)
                break
            except ValueError:
                continue
        if moment is None:
            raise ValueError(f"unparsable timestamp {value!r}") from None
    assert moment is not None  # every branch above either parsed or raised
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


# -- reading ---------------------------------------------------------------------------------------


def _open(path: Path) -> IO[bytes]:
    with path.open("rb") as probe:
        magic = probe.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rb")  # type: ignore[return-value]  # a GzipFile reads bytes like any IO[bytes]
    return path.open("rb")


def detect_format(path: Path) -> str:
    """``xes`` or ``csv``, from the name, else from the first bytes."""
    name = path.name.lower().removesuffix(".gz")
    if name.endswith(".xes") or name.endswith(".xml"):
        return "xes"
    if name.endswith(".csv") or name.endswith(".tsv") or name.endswith(".txt"):
        return "csv"
    with _open(path) as handle:
        head = handle.read(512).lstrip()
    return "xes" if head.startswith(b"<") else "csv"


def read_log(path: Path) -> ParsedLog:
    """All good events of the file, and its bad rows with line numbers."""
    path = Path(path)
    if not path.is_file():
        raise EventLogError(f"{path}: no such file")
    try:
        return read_xes(path) if detect_format(path) == "xes" else read_csv(path)
    except (OSError, EOFError, gzip.BadGzipFile) as error:
        raise EventLogError(f"{path.name}: cannot read ({error})") from error


def _local(tag: object) -> str:
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def read_xes(path: Path) -> ParsedLog:
    parsed = ParsedLog()
    trace: etree._Element | None = None
    case: str | None = None
    with _open(path) as handle:
        # Only event ends are reported: attributes of the log header and of traces are read on demand.
        context = etree.iterparse(handle, events=("end",), tag=("{*}event",), huge_tree=True, remove_comments=True)
        try:
            for _, elem in context:
                parent = elem.getparent()
                if parent is None or _local(parent.tag) != "trace":
                    continue
                if parent is not trace:
                    # A new trace: drop the finished one, read the case id from its attributes.
                    if trace is not None:
                        trace.clear()
                        grand = trace.getparent()
                        if grand is not None:
                            grand.remove(trace)
                    trace, case = parent, _trace_name(parent)
                _xes_event(elem, case, parsed)
                elem.clear()
                while elem.getprevious() is not None and _local(elem.getprevious().tag) == "event":
                    parent.remove(elem.getprevious())
        except etree.XMLSyntaxError as error:
            line = error.lineno or (error.position[0] if error.position else 0)
            raise EventLogError(f"{path.name}: line {line}: not well-formed XES ({error.msg})") from error
    return parsed


def _trace_name(trace: etree._Element) -> str | None:
    for child in trace:
        if child.get("key") == "concept:name" and _local(child.tag) != "event":
            return child.get("value")
    return None


def _xes_event(elem: etree._Element, case: str | None, parsed: ParsedLog) -> None:
    values: dict[str, str | None] = {}
    for child in elem:
        key = child.get("key")
        if key in _XES_KEYS:
            values[key] = child.get("value")
    line = elem.sourceline or 0
    activity = (values.get("concept:name") or "").strip()
    if not case:
        parsed.bad(line, "event outside a trace with a concept:name (no case id)")
        return
    if not activity:
        parsed.bad(line, "event without concept:name (activity)")
        return
    stamp = values.get("time:timestamp")
    if stamp is None:
        parsed.bad(line, "event without time:timestamp")
        return
    try:
        ts = parse_timestamp(stamp)
    except ValueError as error:
        parsed.bad(line, str(error))
        return
    parsed.events.append(Event(
        case=case, activity=activity, ts=ts, line=line, resource=_clean(values.get("org:resource")),
        department=_clean(values.get("org:group")), role=_clean(values.get("org:role")),
        lifecycle=_clean(values.get("lifecycle:transition"))))


def _clean(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def _norm(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


def read_csv(path: Path) -> ParsedLog:
    parsed = ParsedLog()
    with _open(path) as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        sample = text.read(8192)
        text.seek(0)
        try:
            dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
        except csv.Error:
            dialect = csv.excel
        reader = csv.reader(text, dialect)
        try:
            header = next(reader)
        except StopIteration:
            raise EventLogError(f"{path.name}: line 1: empty file (expected a header row)") from None
        except (csv.Error, UnicodeDecodeError) as error:
            raise EventLogError(f"{path.name}: line 1: unreadable header ({error})") from error
        columns = _map_columns(header)
        missing = [c for c in REQUIRED_CSV if c not in columns]
        if missing:
            raise EventLogError(f"{path.name}: line 1: missing column(s) {', '.join(missing)} "
                                f"(found: {', '.join(header) or 'none'}; expected e.g. case id, activity, timestamp, "
                                "resource, department, lifecycle)")
        rows = iter(reader)
        while True:
            try:
                row = next(rows)
            except StopIteration:
                break
            except (csv.Error, UnicodeDecodeError) as error:
                parsed.bad(reader.line_num, f"unreadable row ({error})")
                continue
            _csv_row(row, columns, reader.line_num, parsed)
    return parsed


def _map_columns(header: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, name in enumerate(header):
        key = _norm(name)
        for field_name, aliases in CSV_COLUMNS.items():
            if key in aliases and field_name not in found:
                found[field_name] = index
    return found


def _csv_row(row: list[str], columns: dict[str, int], line: int, parsed: ParsedLog) -> None:
    if not any(cell.strip() for cell in row):
        return  # blank lines are not events
    def cell(name: str) -> str | None:
        index = columns.get(name)
        return _clean(row[index]) if index is not None and index < len(row) else None

    case, activity, stamp = cell("case"), cell("activity"), cell("timestamp")
    for name, value in (("case id", case), ("activity", activity), ("timestamp", stamp)):
        if value is None:
            parsed.bad(line, f"empty {name}")
            return
    try:
        ts = parse_timestamp(stamp)  # type: ignore[arg-type]
    except ValueError as error:
        parsed.bad(line, str(error))
        return
    parsed.events.append(Event(case=case, activity=activity, ts=ts, line=line,  # type: ignore[arg-type]
                               resource=cell("resource"), department=cell("department"), role=cell("role"),
                               lifecycle=cell("lifecycle")))


# -- from events to activity instances -------------------------------------------------------------


def _kind(lifecycle: str | None) -> str:
    if lifecycle is None:
        return "complete"
    value = lifecycle.lower()
    if value in ("start", "complete"):
        return value
    return "ignore" if value in STANDARD_TRANSITIONS else "substatus"


def build_cases(events: list[Event]) -> Cases:
    """Group events into cases and pair starts with completions (timing rules in the module docstring)."""
    grouped: dict[str, list[tuple[int, int, Event]]] = {}
    for order, event in enumerate(events):
        grouped.setdefault(event.case, []).append((event.ts, order, event))
    timing = START_COMPLETE if any(_kind(e.lifecycle) == "start" for e in events) else COMPLETION_ONLY
    result = Cases(timing=timing, cases={})
    for case, items in grouped.items():
        items.sort(key=lambda item: (item[0], item[1]))
        result.cases[case] = list(_instances(items, result))
    return result


def _instances(items: list[tuple[int, int, Event]], tally: Cases) -> Iterator[Instance]:
    # Open starts per activity, each remembering the last completion before it (its arrival).
    starts: dict[str, deque[tuple[Event, int | None]]] = {}
    last_completion: int | None = None
    seq = 0
    for _, _, event in items:
        kind = _kind(event.lifecycle)
        if kind == "ignore":
            tally.ignored_events += 1
            continue
        # A non-standard transition is a sub-status: the log's classifier is name + transition.
        activity = f"{event.activity} ({event.lifecycle})" if kind == "substatus" else event.activity
        if kind == "start":
            starts.setdefault(activity, deque()).append((event, last_completion))
            continue
        pending = starts.get(activity)
        start, arrival = pending.popleft() if pending else (None, last_completion)
        seq += 1
        yield Instance(
            activity=activity, created=arrival if arrival is not None else (start.ts if start else event.ts),
            completed=event.ts, arrival_known=arrival is not None, seq=seq, opened=start.ts if start else None,
            resource=event.resource or (start.resource if start else None),
            department=event.department or (start.department if start else None),
            role=event.role or (start.role if start else None))
        last_completion = event.ts
    tally.unmatched_starts += sum(len(q) for q in starts.values())
