"""``/admin/audit``: the audit trail for administrators, filtered, paginated, exportable as CSV. Read-only."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from flask import Blueprint, Response, render_template, request, stream_with_context
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from graph import accounts
from graph import audit as trail
from ingest.cells import safe_cell
from webapp import services
from webapp.auth import audit, roles_required
from webapp.downloads import content_disposition
from webapp.i18n import current_language
from webapp.ui import local_time, zone
from webapp.views import audit_ui

bp = Blueprint("audit", __name__)

PAGE_SIZE = 50
CSV_COLUMNS = ("at", "actor_id", "actor_username", "action", "target_kind", "target_id", "client", "detail")


@dataclass(frozen=True)
class Query:
    """The filter form as submitted, and what it means for the store."""

    actor: str
    action: str
    target_kind: str
    target_id: str
    since: str
    until: str
    where: trail.AuditFilter
    errors: tuple[str, ...]

    def args(self) -> dict[str, str]:
        return {k: v for k, v in (("actor", self.actor), ("action", self.action), ("target_kind", self.target_kind),
                                  ("target_id", self.target_id), ("from", self.since), ("to", self.until)) if v}


def _day_ms(text: str, *, next_day: bool = False) -> int:
    day = date.fromisoformat(text) + (timedelta(days=1) if next_day else timedelta())
    return int(datetime(day.year, day.month, day.day, tzinfo=zone()).timestamp() * 1000)


def _parse_query() -> Query:
    args = request.args
    actor, action = args.get("actor", "").strip(), args.get("action", "").strip()
    target_kind, target_id = args.get("target_kind", "").strip(), args.get("target_id", "").strip()
    since, until = args.get("from", "").strip(), args.get("to", "").strip()
    errors: list[str] = []
    actor_id: str | None = None
    if actor:
        found = accounts.find_account(services.store(), actor)
        # An unknown actor matches nothing rather than everything.
        actor_id = found[0].id if found else actor
    since_ms, until_ms = 0, 2**53
    try:
        since_ms = _day_ms(since) if since else 0
        until_ms = _day_ms(until, next_day=True) if until else 2**53  # "to" includes that whole (local) day
    except ValueError:
        errors.append(_("Dates are written YYYY-MM-DD."))
    where = trail.AuditFilter(actor_id=actor_id, action=action or None, target_kind=target_kind or None,
                              target_id=target_id or None, since=since_ms, until=until_ms)
    return Query(actor, action, target_kind, target_id, since, until, where, tuple(errors))


def _iso(at: int | None) -> str:
    """Machine-readable local time with its offset (the CSV export and the page's <time datetime>)."""
    if at is None:
        return ""
    return datetime.fromtimestamp(at / 1000, tz=zone()).isoformat(timespec="milliseconds")


@bp.get("/admin/audit")
@roles_required("admin")
def events() -> ResponseReturnValue:
    query = _parse_query()
    try:
        page = max(int(request.args.get("page", "1")), 1)
    except ValueError:
        page = 1
    store = services.store()
    total = 0 if query.errors else trail.count_events(store, query.where)
    rows = [] if query.errors else trail.list_events(store, query.where, offset=(page - 1) * PAGE_SIZE,
                                                      limit=PAGE_SIZE)
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    targets, names = audit_ui.targets_and_names(store, services.actor(), rows, current_language())
    return render_template(
        "audit/events.html", query=query, rows=rows, iso=_iso, page=page, pages=pages, total=total,
        actions=trail.known_actions(store), target_kinds=sorted(trail.TARGET_KINDS), local_time=local_time,
        ui=audit_ui, names=names, targets=targets,
    ), 400 if query.errors else 200


def _csv_cell(value: object) -> str:
    return safe_cell("" if value is None else str(value))


def _csv_lines(rows: Iterator[dict[str, object]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow([_csv_cell(_iso(row["at"]) if name == "at" else row.get(name)) for name in CSV_COLUMNS])
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


@bp.get("/admin/audit.csv")
@roles_required("admin")
def export_csv() -> ResponseReturnValue:
    query = _parse_query()
    if query.errors:
        return "; ".join(query.errors), 400
    audit("audit.export", detail=query.args())
    rows = trail.iter_events(services.store(), query.where)
    stamp = datetime.now(tz=UTC).strftime("%Y%m%d-%H%M%S")
    return Response(
        stream_with_context(_csv_lines(rows)), mimetype="text/csv",
        headers={"Content-Disposition": content_disposition(f"huitong-audit-{stamp}.csv")},
    )
