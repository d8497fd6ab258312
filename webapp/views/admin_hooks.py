"""``/admin/webhooks``: outgoing webhooks, group-robot channels and their delivery log with replay.

Thin: every action goes through :mod:`graph.webhooks` (the same functions the CLI calls), which checks
the admin role, validates, writes and audits; refusals come back as domain errors worded here.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l

from graph import webhooks
from graph.actor import Actor
from graph.errors import DomainError
from webapp import services
from webapp.auth import client_address, current_person, roles_required

bp = Blueprint("admin_hooks", __name__, url_prefix="/admin/webhooks")

MESSAGES = {
    "webhook.bad_url": _l("Enter an http:// or https:// address."),
    "webhook.bad_events": _l("Choose at least one event."),
    "webhook.short_secret": _l("The secret needs at least %(min)s characters."),
    "webhook.missing": _l("That webhook no longer exists."),
    "webhook.delivery_missing": _l("That delivery no longer exists."),
    "channel.bad_kind": _l("Choose DingTalk, WeCom or Feishu."),
    "channel.bad_kinds": _l("Choose at least one kind of notice."),
    "channel.no_department": _l("No department has the code %(department)s."),
    "channel.missing": _l("That channel no longer exists."),
}
STATUSES = ("pending", "delivered", "failed")
STATUS_LABELS = {"pending": _l("pending"), "delivered": _l("delivered"), "failed": _l("failed")}
NOTICE_LABELS = {"task_arrived": _l("task arrived"), "due_soon": _l("due soon"), "overdue": _l("overdue"),
                 "escalation": _l("escalation"), "trend_warning": _l("trend warning")}


def _actor() -> Actor:
    person = current_person()
    if person is None:  # roles_required already sent anonymous people to the login page
        abort(403)
    return Actor(person_id=person.id, username=person.username, name=person.name, roles=person.roles,
                 door="web", address=client_address())


def _say(error: DomainError) -> None:
    message = MESSAGES.get(error.code)
    flash(str(message) % error.params if message is not None else str(_l("The change was refused.")), "error")


@bp.get("")
@roles_required("admin")
def index() -> ResponseReturnValue:
    actor, store = _actor(), services.store()
    status = request.args.get("status") if request.args.get("status") in STATUSES else None
    return render_template(
        "admin/webhooks.html", hooks=webhooks.list_hooks(store, actor), channels=webhooks.list_channels(store, actor),
        deliveries=webhooks.list_deliveries(store, actor, status=status, limit=100), status=status,
        events=webhooks.EVENTS, statuses=STATUSES, status_labels=STATUS_LABELS, robot_kinds=webhooks.ROBOT_KINDS,
        notice_kinds=webhooks.NOTICE_KINDS, notice_labels=NOTICE_LABELS)


def _do(action: Callable[[], object], done: str) -> ResponseReturnValue:
    """Run one change through its use case; say how it went; back to the page (the log filter kept)."""
    try:
        action()
        flash(done, "success")
    except DomainError as error:
        _say(error)
    return redirect(url_for(".index", status=request.args.get("status") or None))


@bp.post("/add")
@roles_required("admin")
def add() -> ResponseReturnValue:
    form = request.form
    return _do(lambda: webhooks.add_hook(services.store(), _actor(), form.get("url", ""), form.getlist("events"),
                                         form.get("secret", "")),
               str(_l("Webhook added. Its secret is stored and will not be shown again.")))


@bp.post("/<hook_id>/remove")
@roles_required("admin")
def remove(hook_id: str) -> ResponseReturnValue:
    return _do(lambda: webhooks.remove_hook(services.store(), _actor(), hook_id), str(_l("Webhook removed.")))


@bp.post("/deliveries/<delivery_id>/replay")
@roles_required("admin")
def replay(delivery_id: str) -> ResponseReturnValue:
    return _do(lambda: webhooks.replay(services.store(), _actor(), delivery_id),
               str(_l("The delivery will be sent again within a few seconds.")))


@bp.post("/channels/add")
@roles_required("admin")
def add_channel() -> ResponseReturnValue:
    form = request.form
    return _do(lambda: webhooks.add_channel(services.store(), _actor(), form.get("kind", ""), form.get("url", ""),
                                            form.get("department", "").strip(), secret=form.get("secret", ""),
                                            kinds=form.getlist("kinds")),
               str(_l("Channel added.")))


@bp.post("/channels/<channel_id>/remove")
@roles_required("admin")
def remove_channel(channel_id: str) -> ResponseReturnValue:
    return _do(lambda: webhooks.remove_channel(services.store(), _actor(), channel_id), str(_l("Channel removed.")))
