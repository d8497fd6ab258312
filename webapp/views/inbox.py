"""``/inbox``: my tasks, my queues' unclaimed tasks, runs I started, runs copied to me; bulk approval; badge."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from graph import GraphUnavailable
from graph.errors import ObjectMissing
from graph.workflows import inbox, runs, usecases
from webapp import services
from webapp.auth import current_person
from webapp.services import actor
from webapp.views import workflow_ui as ui

bp = Blueprint("inbox", __name__)

TABS = ("mine", "queues", "started", "copied")
PAGE_SIZE = 20
MAX_BULK = 50
UNREAD_LIMIT = 100


def _me() -> str:
    person = current_person()
    assert person is not None  # every route here requires login
    return person.id


def _page() -> int:
    try:
        return max(int(request.args.get("page", "1")), 1)
    except ValueError:
        return 1


bulk_approvable = usecases.bulk_approvable


def _definitions(tasks: list[dict[str, Any]]) -> dict[str, dict[str, Any] | None]:
    store, found = services.store(), {}
    for task in tasks:
        try:
            found[task["id"]] = usecases.task_definition(store, actor(), task["id"])[1]
        except ObjectMissing:
            found[task["id"]] = None
    return found


@bp.get("/inbox")
def index() -> ResponseReturnValue:
    store, me, now = services.store(), _me(), ui.now_ms()
    tab = request.args.get("tab", "mine")
    tab = tab if tab in TABS else "mine"
    search = request.args.get("q", "").strip()[:100]
    workflow_key = request.args.get("workflow", "").strip() or None
    closed = request.args.get("closed") == "1"
    page = _page()
    common: dict[str, Any] = {"now": now, "search": search, "workflow_key": workflow_key, "limit": PAGE_SIZE + 1,
                              "offset": (page - 1) * PAGE_SIZE}
    if tab == "mine":
        rows = inbox.my_tasks(store, me, **common)
    elif tab == "queues":
        rows = inbox.queue_tasks(store, me, **common)
    elif tab == "started":
        rows = inbox.started_runs(store, me, active_only=not closed, **common)
    else:
        rows = inbox.copied_runs(store, me, active_only=not closed, **common)
    has_next, rows = len(rows) > PAGE_SIZE, rows[:PAGE_SIZE]
    bulk: set[str] = set()
    if tab in ("mine", "queues"):
        definitions = _definitions(rows)
        bulk = {t["id"] for t in rows if bulk_approvable(t, definitions[t["id"]])}
    context = {"tab": tab, "rows": rows, "q": search, "workflow": workflow_key or "", "closed": closed, "page": page,
               "has_next": has_next, "bulk": bulk, "counts": inbox.counts(store, me, now=now),
               "workflows": runs.list_workflows(store), "tabs": TABS}
    fragment = request.headers.get("HX-Request") == "true" and request.headers.get("HX-Target") == "inbox-results"
    return render_template("inbox/_results.html" if fragment else "inbox/index.html", **context)


@bp.post("/inbox/approve")
def bulk_approve() -> ResponseReturnValue:
    store, now = services.store(), ui.now_ms()
    ids = list(dict.fromkeys(request.form.getlist("task")))[:MAX_BULK]
    comment = request.form.get("comment", "")
    outcome = usecases.bulk_approve(store, actor(), ids, comment=comment, now=now)
    approved, failed = outcome.approved, []
    for task, task_id, error in outcome.failed:
        if task is None:
            failed.append(_("%(task)s: no such task", task=task_id))
        elif error is not None and str(error) == "needs its own page":
            failed.append(f"{task.get('title')} · {ui.item_name(task, 'step_name')}: "
                          + _("this step needs its own page (checklist, fields or attachments)"))
        else:
            failed.append(f"{task.get('title')} · {ui.item_name(task, 'step_name')}: {error}")
    if approved:
        flash(_("Approved %(count)d task(s).", count=approved), "success")
    for message in failed:
        flash(_("Not approved: %(reason)s", reason=message), "error")
    if not ids:
        flash(_("Choose at least one task."), "error")
    back = request.form.get("back") or ""
    return redirect(back if back.startswith("/inbox") else url_for("inbox.index"), 303)


def badge_counts(person_id: str) -> dict[str, int]:
    store = services.store()
    counts = inbox.counts(store, person_id, now=ui.now_ms())
    unread = inbox.notifications(store, person_id, unread_only=True, limit=UNREAD_LIMIT)
    return {**counts, "unread": len(unread)}


@bp.app_template_global()
def inbox_badge() -> dict[str, int] | None:
    """Badge numbers for the page header (None when nobody is signed in or the graph is down)."""
    person = current_person()
    if person is None:
        return None
    try:
        return badge_counts(person.id)
    except GraphUnavailable:
        return None


@bp.get("/inbox/badge")
def badge() -> ResponseReturnValue:
    return render_template("inbox/_badge.html", badge=badge_counts(_me()))
