"""The managers' analytics as use cases: dashboard, trend warnings, bottlenecks, collaboration explorer and
its paths, table exports — whatever the door (the ``/manage`` pages, their JSON, the CLI).

Each takes the acting person, checks once that they are a manager or an administrator, resolves their
scope ONCE (department ids: the departments they head, or belong to, and everything below; see
:mod:`graph.analytics.scope`, memoised on the actor), reads the cached figures of :mod:`graph.analytics`
and cuts them to that scope. Exports are audited. Figures come back as data with codes (trend warnings,
bottleneck reasons, path failures): the doors word them in the reader's language.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from graph import audit
from graph.actor import Actor
from graph.analytics import bottlenecks, cache, collaboration, dashboard, trends
from graph.analytics import scope as scoping
from graph.analytics.tasks import directory, step_names, workflow_keys
from graph.errors import InvalidInput, NotPermitted
from graph.names import in_language
from graph.usecases import Context
from settings import get_settings

ROLES = ("manager", "admin")
DEFAULT_PERIODS = {"month": 12, "week": 26}
EXPORTS = ("workflows", "steps", "departments", "people", "handoffs", "top_bottlenecks", "bridges", "dashboard",
           "dashboard_totals")
FORMATS = ("csv", "xlsx")
MANAGERS_ONLY = "analytics.managers_only"


@dataclass(frozen=True)
class Filters:
    """What a manager narrowed the figures to; ``department`` is a department id."""

    workflow: str | None = None
    department: str | None = None
    since: str = ""
    until: str = ""
    period: str = "month"
    count: int = DEFAULT_PERIODS["month"]

    def args(self) -> dict[str, str]:
        pairs = (("workflow", self.workflow), ("department", self.department), ("from", self.since),
                 ("to", self.until), ("period", self.period), ("periods", str(self.count)))
        return {k: v for k, v in pairs if v}

    @property
    def since_ms(self) -> int:
        return _day_ms(self.since) if self.since else 0

    @property
    def until_ms(self) -> int:
        return _day_ms(self.until) + 86_400_000 if self.until else collaboration.FAR_FUTURE


def _day_ms(text: str) -> int:
    day = date.fromisoformat(text)
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)


def now_ms() -> int:
    return int(time.time() * 1000)


def zone(ctx: Context) -> str:
    """The organisation's zone (``HUITONG_TIMEZONE``): dashboard and trend weeks and months begin at its midnight."""
    return (ctx.settings or get_settings()).timezone


# -- access and scope ------------------------------------------------------------------------------------


def scope(ctx: Context, actor: Actor) -> scoping.Scope:
    """The actor's analytics scope; anyone but a manager or an administrator is refused."""
    if not actor.has_any_role(*ROLES):
        raise NotPermitted(MANAGERS_ONLY)
    return scoping.scope_for(ctx.store, actor)


def workflows(ctx: Context, lang: str = "zh") -> list[dict[str, Any]]:
    """Workflow keys with their names in ``lang`` (what the filters offer; workflows name nobody)."""
    return [{**w, "name": in_language(w["name"], w.get("name_en"), lang) or w["key"]}
            for w in workflow_keys(ctx.store) if w["key"]]


def workflows_for(ctx: Context, actor: Actor) -> list[dict[str, Any]]:
    """:func:`workflows` named in the actor's language, read once per request."""
    return actor.memo(("analytics.workflows",), lambda: workflows(ctx, actor.lang))


def step_names_for(ctx: Context, actor: Actor) -> dict[tuple[str, str], str]:
    """(workflow key, step key) -> the step's name in the actor's language, as its workflow defines it (the
    workflow pages' rule), read once per request."""
    return actor.memo(("analytics.step_names",), lambda: {
        (r["workflow"], r["step"]): in_language(r["name"], r["name_en"], actor.lang)
        for r in step_names(ctx.store) if r["workflow"] and r["step"]})


def departments(ctx: Context, actor: Actor, *, everyone: bool = False) -> list[dict[str, str]]:
    """``{id, name}`` of the departments in the actor's scope (all of them with ``everyone``: department
    names are no secret, and paths may lead anywhere), sorted by name."""
    allowed = scope(ctx, actor)
    names = directory(ctx.store).department_name
    return sorted(({"id": k, "name": v} for k, v in names.items() if everyone or allowed.allows(k)),
                  key=lambda d: (d["name"], d["id"]))


def parse_filters(ctx: Context, actor: Actor, args: Mapping[str, str]) -> Filters:
    """The filters of a query string, checked: a bad one is an :class:`InvalidInput` naming the field."""
    allowed = scope(ctx, actor)
    workflow = (args.get("workflow") or "").strip() or None
    if workflow and workflow not in {w["key"] for w in workflows_for(ctx, actor)}:
        raise InvalidInput("analytics.unknown_workflow", field="workflow", key=workflow)
    department = (args.get("department") or "").strip() or None
    if department and (department not in directory(ctx.store).department_name or not allowed.allows(department)):
        # Out of scope and nonexistent read the same: the answer tells nothing about other departments.
        raise InvalidInput("analytics.department", field="department")
    since, until = (args.get("from") or "").strip(), (args.get("to") or "").strip()
    for field, text in (("from", since), ("to", until)):
        if text and not _is_date(text):
            raise InvalidInput("analytics.date", field=field)
    if since and until and since > until:
        raise InvalidInput("analytics.date_order", field="from")
    period = args.get("period") or "month"
    if period not in dashboard.PERIODS:
        raise InvalidInput("analytics.period", field="period")
    raw_count = (args.get("periods") or "").strip()
    try:
        count = int(raw_count) if raw_count else DEFAULT_PERIODS[period]
    except ValueError:
        raise InvalidInput("analytics.periods", field="periods", max=dashboard.MAX_PERIODS) from None
    if not 1 <= count <= dashboard.MAX_PERIODS:
        raise InvalidInput("analytics.periods", field="periods", max=dashboard.MAX_PERIODS)
    return Filters(workflow, department, since, until, period, count)


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


# -- reads -------------------------------------------------------------------------------------------------


def _named(ctx: Context, actor: Actor, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows that carry a workflow key (and a step key), with the workflow's (and the step's) name in the actor's
    language beside it; a step no definition names keeps the name its tasks were made with."""
    names = {w["key"]: w["name"] for w in workflows_for(ctx, actor)}
    steps = step_names_for(ctx, actor)
    out = []
    for row in rows:
        key = row.get("workflow") or ""
        named = {**row, "workflow_name": names.get(key, row.get("workflow"))} if "workflow" in row else {**row}
        if row.get("step"):
            named["step_name"] = steps.get((key, row["step"])) or row.get("step_name") or row["step"]
        out.append(named)
    return out


def dashboard_view(ctx: Context, actor: Actor, filters: Filters, *, now: int | None = None) -> dict[str, Any]:
    """Rows per (department, period) and totals per department, for the departments in scope."""
    allowed = scope(ctx, actor)
    wanted = allowed.departments
    if filters.department:
        wanted = frozenset({filters.department})
    return dashboard.dashboard(ctx.store, now=now or now_ms(), period=filters.period, count=filters.count,
                               departments=wanted, zone=zone(ctx))


def trend_warnings(ctx: Context, actor: Actor, *, now: int | None = None) -> list[dict[str, Any]]:
    """Current trend warnings about what the actor may see (codes + params; workflow and step names)."""
    allowed = scope(ctx, actor)
    found = trends.trends(ctx.store, now=now or now_ms(), zone=zone(ctx))
    named = _named(ctx, actor, scoping.warnings(found["warnings"], allowed))
    # The scope a warning's sentence names, in the actor's language too.
    return [{**w, "params": {**w.get("params", {}), "scope": trends.scope_label(w)}} for w in named]


def bottleneck_report(ctx: Context, actor: Actor, filters: Filters, *, now: int | None = None) -> dict[str, Any]:
    """The bottleneck report cut to the actor's scope, workflows named."""
    allowed = scope(ctx, actor)
    data = scoping.report(bottlenecks.report(ctx.store, filters.workflow, now=now or now_ms()), allowed)
    return {**data, "workflows": _named(ctx, actor, data["workflows"]), "steps": _named(ctx, actor, data["steps"]),
            "top_bottlenecks": _named(ctx, actor, data["top_bottlenecks"])}


def collaboration_view(ctx: Context, actor: Actor, filters: Filters) -> dict[str, Any]:
    """The collaboration graph; people out of scope folded into their department."""
    allowed = scope(ctx, actor)
    store = ctx.store
    key = ("manage.collaboration", filters.since_ms, filters.until_ms, filters.workflow, filters.department)
    # Betweenness takes seconds on a year of history: reuse it until tasks change.
    data = cache.cached(store, key, lambda: collaboration.collaboration(
        store, since=filters.since_ms, until=filters.until_ms, workflow=filters.workflow,
        department=filters.department))
    return scoping.collaboration(data, allowed)


def department_path(ctx: Context, actor: Actor, filters: Filters, source: str, target: str) -> dict[str, Any]:
    """The strongest chain of collaboration between two departments (ids), people out of scope replaced."""
    allowed = scope(ctx, actor)
    known = directory(ctx.store).department_name
    if not source or not target:
        raise InvalidInput("analytics.path_ends", field="a" if not source else "b")
    for field, value in (("a", source), ("b", target)):
        if value not in known:
            raise InvalidInput("analytics.department", field=field)
    found = collaboration.department_path(ctx.store, source, target, since=filters.since_ms,
                                          until=filters.until_ms, workflow=filters.workflow)
    return scoping.path(ctx.store, found, allowed)


def table_rows(ctx: Context, actor: Actor, name: str, filters: Filters) -> list[dict[str, Any]]:
    """The rows of one table of the pages (what an export writes)."""
    if name not in EXPORTS:
        raise InvalidInput("analytics.export", field="name")
    if name in ("dashboard", "dashboard_totals"):
        data = dashboard_view(ctx, actor, filters)
        return data["rows"] if name == "dashboard" else data["totals"]
    if name == "bridges":
        return list(collaboration_view(ctx, actor, filters)["bridges"])
    report = bottleneck_report(ctx, actor, filters)
    return list(report["handoffs"]["edges"] if name == "handoffs" else report[name])


def export_rows(ctx: Context, actor: Actor, name: str, fmt: str, filters: Filters) -> list[dict[str, Any]]:
    """The rows of table ``name`` for a download in ``fmt``; the export is audited."""
    if fmt not in FORMATS:
        raise InvalidInput("analytics.export", field="format")
    rows = table_rows(ctx, actor, name, filters)
    audit.record(ctx.store, action="manage.export", actor_id=actor.person_id or None, target_kind="table",
                 target_id=name, client=actor.address,
                 detail={"format": fmt, "rows": len(rows), "door": actor.door, **filters.args()})
    return rows


def step_rows(ctx: Context, actor: Actor, workflow: str | None = None) -> list[dict[str, Any]]:
    """``huitong bottlenecks``: figures per workflow step (steps name nobody: every manager sees them)."""
    scope(ctx, actor)
    if workflow is not None and workflow not in {w["key"] for w in workflows_for(ctx, actor)}:
        raise InvalidInput("analytics.unknown_workflow", field="workflow", key=workflow)
    return bottlenecks.cli_rows(ctx.store, workflow, now=now_ms())
