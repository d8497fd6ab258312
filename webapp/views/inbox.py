"""``/inbox``: my tasks, my queues' unclaimed tasks, runs I started, runs copied to me; bulk approval; badge."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from graph import GraphUnavailable
from graph.usecases import page_header
from graph.workflows import inbox, runs, usecases
from webapp import services
from webapp.auth import current_person
from webapp.services import actor
from webapp.views import workflow_ui as ui

bp = Blueprint("inbox", __name__)

TABS = inbox.TABS
PAGE_SIZE = 20
MAX_BULK = 50


def _page() -> int:
    try:
        return max(int(request.args.get("page", "1")), 1)
    except ValueError:
        return 1


@bp.get("/inbox")
def index() -> ResponseReturnValue:
    store, me, now = services.store(), actor(), ui.now_ms()
    tab = request.args.get("tab", "mine")
    tab = tab if tab in TABS else "mine"
    search = request.args.get("q", "").strip()[:100]
    workflow_key = request.args.get("workflow", "").strip() or None
    closed = request.args.get("closed") == "1"
    found = inbox.inbox_page(store, me, tab, now=now, search=search, workflow_key=workflow_key, closed=closed,
                             page=_page(), per_page=PAGE_SIZE)
    context = {"tab": tab, "rows": found.rows, "q": search, "workflow": workflow_key or "", "closed": closed,
               "page": found.page, "has_next": found.has_next, "bulk": set(found.bulk),
               "counts": page_header.header(services.context(), me, now=now).badge,
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


@bp.app_template_global()
def inbox_badge() -> dict[str, int] | None:
    """Badge numbers for the page header (None when nobody is signed in or the graph is down)."""
    if current_person() is None:
        return None
    try:
        return page_header.header(services.context(), actor(), now=ui.now_ms()).badge  # one read with the views
    except GraphUnavailable:
        return None


@bp.get("/inbox/badge")
def badge() -> ResponseReturnValue:
    return render_template("inbox/_badge.html", badge=inbox.badge(services.store(), actor(), now=ui.now_ms()))
