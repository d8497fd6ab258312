"""The trash (回收站) in the browser: move a document to the trash, restore it, the trash page, legal hold.

Thin doors over :mod:`graph.trash`: build the actor, call the use case, say what happened in the reader's
language. A trashed document is a 404 everywhere else; a document the person may not manage is a 404 here.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from graph import trash
from graph.errors import NotPermitted
from webapp import services
from webapp.auth import current_person

bp = Blueprint("trash", __name__)


@bp.get("/trash")
def index() -> ResponseReturnValue:
    ctx, actor = services.context(), services.actor()
    everyone = request.args.get("all") == "1"
    try:
        rows = trash.trashed(ctx, actor, everyone=everyone)
    except NotPermitted:
        rows, everyone = trash.trashed(ctx, actor), False
    person = current_person()
    admin = person is not None and person.has_any_role("admin")
    return render_template("documents/trash.html", rows=rows, everyone=everyone, admin=admin,
                           days=services.settings().trash_days)


@bp.post("/documents/<document_id>/trash")
def move(document_id: str) -> ResponseReturnValue:
    trash.trash(services.context(), services.actor(), document_id)
    flash(_("Moved to the trash. You can restore it from the trash page."), "success")
    return redirect(url_for("trash.index"), 303)


@bp.post("/trash/<document_id>/restore")
def restore(document_id: str) -> ResponseReturnValue:
    trash.restore(services.context(), services.actor(), document_id)
    flash(_("Restored."), "success")
    return redirect(url_for("documents.page", document_id=document_id), 303)


@bp.post("/documents/<document_id>/legal-hold")
def legal_hold(document_id: str) -> ResponseReturnValue:
    hold = request.form.get("hold") == "1"
    trash.set_legal_hold(services.context(), services.actor(), document_id, hold)
    flash(_("Legal hold set: this document will not be purged.") if hold else _("Legal hold cleared."), "success")
    return redirect(request.referrer or url_for("trash.index"), 303)
