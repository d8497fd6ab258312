"""``/notifications``: the notification centre (reminders, overdue warnings, escalations, urges, questions)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from graph import notifications
from graph.usecases import notifications as cases
from webapp import services
from webapp.views import manage_words
from webapp.views import workflow_ui as ui

bp = Blueprint("notifications", __name__, url_prefix="/notifications")

# A notice's text in the reader's language (trend warnings are stored as a code with figures).
bp.add_app_template_global(manage_words.notice_text, "notice_text")

LIMIT = 100
OPENABLE = ("/workflows/tasks/", "/workflows/runs/", "/documents/")


@bp.get("/")
def index() -> ResponseReturnValue:
    unread_only = request.args.get("unread") == "1"
    rows = cases.notifications(services.context(), services.actor(), unread_only=unread_only, limit=LIMIT)
    return render_template("inbox/notifications.html", notifications=rows, unread_only=unread_only,
                           now=ui.now_ms())


@bp.post("/<notification_id>/read")
def mark_read(notification_id: str) -> ResponseReturnValue:
    cases.mark_read(services.context(), services.actor(), notification_id)  # someone else's: 404
    target = request.form.get("next", "")
    if target.startswith(OPENABLE) and "//" not in target:  # only our own pages: never an open redirect
        return redirect(target, 303)
    return redirect(url_for("notifications.index"), 303)


@bp.post("/preferences")
def preferences() -> ResponseReturnValue:
    """The account page's notification preferences: kinds to mute, daily digest instead of one e-mail each."""
    keep = set(request.form.getlist("keep"))  # the boxes left ticked; every other kind is muted
    muted = [k for k in notifications.KINDS if k not in keep]
    cases.update_preferences(services.context(), services.actor(), muted=muted,
                             digest=request.form.get("digest") == "1")
    flash(_("Notification preferences saved."), "success")
    return redirect(url_for("account.profile"), 303)


@bp.post("/read-all")
def mark_all_read() -> ResponseReturnValue:
    marked = cases.mark_all_read(services.context(), services.actor())
    flash(_("%(count)d notification(s) marked as read.", count=marked), "success")
    return redirect(url_for("notifications.index"), 303)
