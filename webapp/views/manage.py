"""``/manage``: the managers' views — dashboard, bottlenecks, collaboration explorer, help, exports.

Managers and administrators only. The views only translate: every read goes through the use cases of
:mod:`graph.usecases.analytics` (access checked and scope resolved once, by department id; exports
audited), and the codes they return are worded in :mod:`webapp.views.manage_words`. Long tables are
shown a page at a time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Blueprint, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from graph.analytics import bottlenecks, trends
from graph.analytics.eventlog import COMPLETION_ONLY
from graph.errors import DomainError, ObjectMissing
from graph.usecases import Context
from graph.usecases import analytics as uc
from webapp import services
from webapp.auth import current_person, roles_required
from webapp.messages import message
from webapp.services import actor
from webapp.ui import local_time
from webapp.views import errors
from webapp.views import manage_tables as tables
from webapp.views import manage_words as words

bp = Blueprint("manage", __name__, url_prefix="/manage")

ROLES = uc.ROLES
SPARK_W, SPARK_H = 160, 32
PAGE_SIZE = 25


@dataclass(frozen=True)
class TablePage:
    """One page of a table's rows and how to reach the others (the query string keeps every filter)."""

    name: str
    rows: list[dict[str, Any]]
    total: int
    number: int
    pages: int

    def url(self, number: int) -> str:
        args: dict[str, Any] = {**request.args.to_dict(), f"{self.name}_page": str(number)}
        return url_for(str(request.endpoint), **args) + f"#table-{self.name}"


def _ctx() -> Context:
    return services.context()


def _filters() -> uc.Filters:
    return uc.parse_filters(_ctx(), actor(), request.args)


@bp.errorhandler(DomainError)
def _refused(error: DomainError) -> ResponseReturnValue:
    if request.path.endswith(".json"):
        return jsonify(error=error.code, message=message(error)), error.status
    return errors.refused(error)


def _page(rows: list[dict[str, Any]], name: str) -> TablePage:
    """One page of a table's rows (``?<name>_page=N``): long tables are read a page at a time."""
    raw = request.args.get(f"{name}_page", "1")
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    number = min(max(int(raw), 1), pages) if raw.isdigit() else 1
    start = (number - 1) * PAGE_SIZE
    return TablePage(name, rows[start:start + PAGE_SIZE], len(rows), number, pages)


def _common(filters: uc.Filters, page: str) -> dict[str, Any]:
    ctx, who = _ctx(), actor()
    return {"scope": uc.scope(ctx, who), "filters": filters, "page": page, "workflows": uc.workflows_for(ctx, who),
            "columns": tables.TABLES, "show": tables.show, "departments": uc.departments(ctx, who),
            "since_days": since_days, "paged": _page, "reasons": words.reasons_text}


@bp.get("/")
@roles_required(*ROLES)
def index() -> ResponseReturnValue:
    return redirect(url_for("manage.dashboard_page"))


@bp.get("/dashboard")
@roles_required(*ROLES)
def dashboard_page() -> ResponseReturnValue:
    filters = _filters()
    data = uc.dashboard_view(_ctx(), actor(), filters)
    warnings = [{**w, "spark": sparkline(w.get("values") or []), "title": words.warning_title(w),
                 "text": words.warning_text(w)} for w in uc.trend_warnings(_ctx(), actor())]
    chart = {"periods": [p["label"] for p in data["periods"]], "rows": data["rows"], "totals": data["totals"],
             "labels": {"handling": _("Average handling time (hours)"), "completion": _("Completion rate"),
                        "sharing": _("Information sharing (documents shared + comments)"),
                        "hours": _("hours"), "generated": _("Generated %(when)s", when=local_time(uc.now_ms()))}}
    return render_template("manage/dashboard.html", data=data, chart=chart, warnings=warnings,
                           **_common(filters, "dashboard"))


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
    filters = _filters()
    report = uc.bottleneck_report(_ctx(), actor(), filters)
    collab = uc.collaboration_view(_ctx(), actor(), filters)
    timing = {w["key"]: w["timing"] for w in uc.workflows_for(_ctx(), actor())}
    completion_only = [w for w in report["workflows"] if timing.get(w["workflow"]) == COMPLETION_ONLY]
    peak = max((c for row in report["handoffs"]["counts"] for c in row), default=0)
    return render_template("manage/bottlenecks.html", report=report, collab=collab, completion_only=completion_only,
                           heat=lambda n: heat_level(n, peak), **_common(filters, "bottlenecks"))


@bp.get("/explorer")
@roles_required(*ROLES)
def explorer_page() -> ResponseReturnValue:
    filters = _filters()
    return render_template("manage/explorer.html", words=words.explorer_words(),
                           all_departments=uc.departments(_ctx(), actor(), everyone=True),
                           **_common(filters, "explorer"))


@bp.get("/explorer/data.json")
@roles_required(*ROLES)
def explorer_data() -> ResponseReturnValue:
    return jsonify(uc.collaboration_view(_ctx(), actor(), _filters()))


@bp.get("/explorer/path.json")
@roles_required(*ROLES)
def explorer_path() -> ResponseReturnValue:
    found = uc.department_path(_ctx(), actor(), _filters(), request.args.get("a", "").strip(),
                               request.args.get("b", "").strip())
    return jsonify({**found, "message": words.path_reason(found) if not found.get("path") else ""})


@bp.get("/help")
@roles_required(*ROLES)
def help_page() -> ResponseReturnValue:
    return render_template("manage/help.html", **_common(_filters(), "help"),
                           window_days=bottlenecks.WINDOW_DAYS, trend=trends)


@bp.get("/export/<name>.<fmt>")
@roles_required(*ROLES)
def export(name: str, fmt: str) -> ResponseReturnValue:
    if name not in tables.TABLES or fmt not in tables.FORMATS:
        return errors.refused(ObjectMissing())
    rows = uc.export_rows(_ctx(), actor(), name, fmt, _filters())
    return tables.export(name, rows, fmt)


def since_days(days: int) -> str:
    """``YYYY-MM-DD`` of ``days`` ago (quick time-range links)."""
    return (datetime.now(UTC) - timedelta(days=days)).date().isoformat()


@bp.app_template_global()
def manage_visible() -> bool:
    """Whether the header shows the managers' link."""
    person = current_person()
    return person is not None and person.has_any_role(*ROLES)
