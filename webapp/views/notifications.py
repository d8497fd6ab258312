"""``/notifications``: the notification centre (reminders, overdue warnings, escalations, urges, questions)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from graph.workflows import inbox
from webapp import events, services
from webapp.auth import current_person
from webapp.views import workflow_ui as ui

bp = Blueprint("notifications", __name__, url_prefix="/notifications")

LIMIT = 100


def _me() -> str:
    person = current_person()
    assert person is not None  # every route here requires login
    return person.id


@bp.get("/")
def index() -> ResponseReturnValue:
    unread_only = request.args.get("unread") == "1"
    rows = inbox.notifications(services.store(), _me(), unread_only=unread_only, limit=LIMIT)
    return render_template("inbox/notifications.html", notifications=rows, unread_only=unread_only,
                           now=ui.now_ms())


@bp.post("/<notification_id>/read")
def mark_read(notification_id: str) -> ResponseReturnValue:
    me = _me()
    if inbox.mark_read(services.store(), me, notification_id, now=ui.now_ms()):
        events.publish([me], "notification", {"read": notification_id})
    target = request.form.get("next", "")
    if target.startswith("/workflows/tasks/"):
        return redirect(target, 303)
    return redirect(url_for("notifications.index"), 303)


@bp.post("/read-all")
def mark_all_read() -> ResponseReturnValue:
    store, me, now = services.store(), _me(), ui.now_ms()
    marked = sum(inbox.mark_read(store, me, n["id"], now=now)
                 for n in inbox.notifications(store, me, unread_only=True, limit=LIMIT))
    if marked:
        events.publish([me], "notification", {"read": "all"})
    flash(_("%(count)d notification(s) marked as read.", count=marked), "success")
    return redirect(url_for("notifications.index"), 303)
