"""``/manage``: the managers' views — dashboard, bottlenecks, collaboration explorer, help, exports.

Managers and administrators only. What each viewer sees is cut to their scope (see
:mod:`graph.analytics.scope`) before anything is rendered, exported or sent as JSON.
Figures come from :mod:`graph.analytics` (cached against the graph's task change counter).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import Blueprint, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from graph.analytics import bottlenecks, cache, collaboration, dashboard, trends
from graph.analytics import scope as scoping
from graph.analytics.eventlog import COMPLETION_ONLY
from graph.analytics.tasks import directory, workflow_keys
from webapp import services
from webapp.auth import audit, current_person, roles_required
from webapp.services import actor
from webapp.views import manage_tables as tables
from webapp.views import workflow_ui as ui

bp = Blueprint("manage", __name__, url_prefix="/manage")

ROLES = ("manager", "admin")
DEFAULT_PERIODS = {"month": 12, "week": 26}
SPARK_W, SPARK_H = 160, 32


class BadFilter(ValueError):
    """A filter the viewer cannot use (unknown workflow, department out of scope, bad date)."""


@dataclass(frozen=True)
class Filters:
    workflow: str | None
    department: str | None
    since: str
    until: str
    period: str
    count: int

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


def _scope() -> scoping.Scope:
    return scoping.scope_for(services.store(), actor())  # roles_required ran first


def _workflows() -> list[dict[str, Any]]:
    return [w for w in workflow_keys(services.store()) if w["key"]]


def _filters(scope: scoping.Scope) -> Filters:
    args = request.args
    workflow = args.get("workflow", "").strip() or None
    if workflow and workflow not in {w["key"] for w in _workflows()}:
        raise BadFilter(_("There is no workflow “%(key)s”.", key=workflow))
    department = args.get("department", "").strip() or None
    if department and not scope.allows(department):
        raise BadFilter(_("The department “%(name)s” is not among those you may see.", name=department))
    since, until = args.get("from", "").strip(), args.get("to", "").strip()
    try:
        if since:
            date.fromisoformat(since)
        if until:
            date.fromisoformat(until)
    except ValueError:
        raise BadFilter(_("Dates are written YYYY-MM-DD.")) from None
    if since and until and since > until:
        raise BadFilter(_("The start date comes after the end date."))
    period = args.get("period", "month")
    if period not in dashboard.PERIODS:
        raise BadFilter(_("The period is a week or a month."))
    raw_count = args.get("periods", "").strip()
    try:
        count = int(raw_count) if raw_count else DEFAULT_PERIODS[period]
    except ValueError:
        raise BadFilter(_("The number of periods is a whole number.")) from None
    if not 1 <= count <= dashboard.MAX_PERIODS:
        raise BadFilter(_("Between 1 and %(n)d periods.", n=dashboard.MAX_PERIODS))
    return Filters(workflow, department, since, until, period, count)


def _refused(message: str, status: int = 400) -> ResponseReturnValue:
    if request.path.endswith(".json"):
        return jsonify(error=message), status
    return render_template("manage/refused.html", message=message), status


@bp.errorhandler(BadFilter)
def _bad_filter(error: BadFilter) -> ResponseReturnValue:
    return _refused(str(error))


# -- the data behind each page (and each export) -------------------------------------------------------


def report_data(scope: scoping.Scope, filters: Filters) -> dict[str, Any]:
    data = bottlenecks.report(services.store(), filters.workflow, now=ui.now_ms())
    return scoping.report(data, scope)


def dashboard_data(scope: scoping.Scope, filters: Filters) -> dict[str, Any]:
    wanted = scope.departments
    if filters.department:
        wanted = frozenset({filters.department})
    return dashboard.dashboard(services.store(), now=ui.now_ms(), period=filters.period, count=filters.count,
                               departments=wanted)


def collaboration_data(scope: scoping.Scope, filters: Filters) -> dict[str, Any]:
    store = services.store()
    key = ("manage.collaboration", filters.since_ms, filters.until_ms, filters.workflow, filters.department)
    # Betweenness takes seconds on a year of history: reuse it until tasks change.
    data = cache.cached(store, key, lambda: collaboration.collaboration(
        store, since=filters.since_ms, until=filters.until_ms, workflow=filters.workflow,
        department=filters.department))
    return scoping.collaboration(data, scope)


def table_rows(name: str, scope: scoping.Scope, filters: Filters) -> list[dict[str, Any]]:
    if name in ("dashboard", "dashboard_totals"):
        data = dashboard_data(scope, filters)
        return data["rows"] if name == "dashboard" else data["totals"]
    if name == "bridges":
        return collaboration_data(scope, filters)["bridges"]
    report = report_data(scope, filters)
    return report["handoffs"]["edges"] if name == "handoffs" else report[name]


# -- pages -------------------------------------------------------------------------------------------------


def _common(scope: scoping.Scope, filters: Filters, page: str) -> dict[str, Any]:
    return {"scope": scope, "filters": filters, "page": page, "workflows": _workflows(), "columns": tables.TABLES,
            "show": tables.show, "departments": _departments(scope), "since_days": since_days,
            # Department names are no secret: paths may lead anywhere (people on them are scoped).
            "all_departments": _departments()}


def _departments(scope: scoping.Scope | None = None) -> list[str]:
    names = set(directory(services.store()).department_name.values())
    return sorted(n for n in names if scope is None or scope.allows(n))


@bp.get("/")
@roles_required(*ROLES)
def index() -> ResponseReturnValue:
    return redirect(url_for("manage.dashboard_page"))


@bp.get("/dashboard")
@roles_required(*ROLES)
def dashboard_page() -> ResponseReturnValue:
    scope = _scope()
    filters = _filters(scope)
    data = dashboard_data(scope, filters)
    found = trends.trends(services.store(), now=ui.now_ms())
    warnings = [{**w, "spark": sparkline(w.get("values") or [])} for w in scoping.warnings(found["warnings"], scope)]
    chart = {"periods": [p["label"] for p in data["periods"]], "rows": data["rows"], "totals": data["totals"],
             "labels": {"handling": _("Average handling time (hours)"), "completion": _("Completion rate"),
                        "sharing": _("Information sharing (documents shared + comments)"),
                        "hours": _("hours")}}
    return render_template("manage/dashboard.html", data=data, chart=chart, warnings=warnings,
                           **_common(scope, filters, "dashboard"))


def heat_level(count: int, peak: int) -> int:
    """0–5 on a log scale: one busy pair must not wash out all the others."""
    if not count or not peak:
        return 0
    return max(1, min(5, math.ceil(5 * math.log1p(count) / math.log1p(peak))))


def sparkline(values: list[float]) -> str:
    """SVG polyline points of a series, scaled into the sparkline box (empty for fewer than two points)."""
    if len(values) < 2:
        return ""
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    step = SPARK_W / (len(values) - 1)
    return " ".join(f"{i * step:.1f},{SPARK_H - 2 - (v - low) / span * (SPARK_H - 4):.1f}"
                    for i, v in enumerate(values))


@bp.get("/bottlenecks")
@roles_required(*ROLES)
def bottlenecks_page() -> ResponseReturnValue:
    scope = _scope()
    filters = _filters(scope)
    report = report_data(scope, filters)
    collab = collaboration_data(scope, filters)
    timing = {w["key"]: w["timing"] for w in _workflows()}
    completion_only = [w for w in report["workflows"] if timing.get(w["workflow"]) == COMPLETION_ONLY]
    peak = max((c for row in report["handoffs"]["counts"] for c in row), default=0)
    return render_template("manage/bottlenecks.html", report=report, collab=collab, completion_only=completion_only,
                           heat=lambda n: heat_level(n, peak),
                           **_common(scope, filters, "bottlenecks"))


@bp.get("/explorer")
@roles_required(*ROLES)
def explorer_page() -> ResponseReturnValue:
    scope = _scope()
    filters = _filters(scope)
    return render_template("manage/explorer.html", **_common(scope, filters, "explorer"))


@bp.get("/explorer/data.json")
@roles_required(*ROLES)
def explorer_data() -> ResponseReturnValue:
    scope = _scope()
    return jsonify(collaboration_data(scope, _filters(scope)))


@bp.get("/explorer/path.json")
@roles_required(*ROLES)
def explorer_path() -> ResponseReturnValue:
    scope = _scope()
    filters = _filters(scope)
    source, target = request.args.get("a", "").strip(), request.args.get("b", "").strip()
    if not source or not target:
        return _refused(_("Choose two departments."))
    found = collaboration.department_path(services.store(), source, target, since=filters.since_ms,
                                          until=filters.until_ms, workflow=filters.workflow)
    return jsonify(scoping.path(services.store(), found, scope))


@bp.get("/help")
@roles_required(*ROLES)
def help_page() -> ResponseReturnValue:
    scope = _scope()
    return render_template("manage/help.html", **_common(scope, _filters(scope), "help"),
                           window_days=bottlenecks.WINDOW_DAYS, trend=trends)


@bp.get("/export/<name>.<fmt>")
@roles_required(*ROLES)
def export(name: str, fmt: str) -> ResponseReturnValue:
    if name not in tables.TABLES or fmt not in tables.FORMATS:
        return _refused(_("There is no such export."), 404)
    scope = _scope()
    filters = _filters(scope)
    rows = table_rows(name, scope, filters)
    audit("manage.export", target_kind="table", target_id=name, detail={"format": fmt, "rows": len(rows),
                                                                         **filters.args()})
    return tables.export(name, rows, fmt)


def since_days(days: int) -> str:
    """``YYYY-MM-DD`` of ``days`` ago (quick time-range links)."""
    return (datetime.now(UTC) - timedelta(days=days)).date().isoformat()


@bp.app_template_global()
def manage_visible() -> bool:
    """Whether the header shows the managers' link."""
    person = current_person()
    return person is not None and person.has_any_role(*ROLES)
