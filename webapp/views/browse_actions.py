"""Actions of the documents list beyond browsing: bulk share and bulk classify of the checked documents, and
saved views (a person's named filter and sort, listed in the navigation).

Bulk actions run the single action's use case per document (:mod:`ingest.bulk_actions`) and answer with a
summary: how many landed, and each refusal with its reason in the reader's language. A saved view belongs
to its maker: anybody else's answers as a missing page (404).
"""

from __future__ import annotations

import time
from urllib.parse import parse_qsl

from flask import Blueprint, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from graph.errors import DomainError, GraphError, InvalidInput
from graph.store import Row
from graph.usecases import page_header, saved_views
from ingest import bulk_actions
from webapp import services
from webapp.messages import MESSAGES, message
from webapp.views.audit_ui import ACTIONS, KINDS
from webapp.views.documents import spec_from

bp = Blueprint("browse_actions", __name__)

MAX_REFUSALS_SHOWN = 10
MESSAGES.update({
    "bulk.no_documents": _l("Tick at least one document first."),
    "bulk.too_many": _l("At most %(max)s documents at once."),
    "bulk.nothing_to_change": _l("Choose a business domain or an access level to give them."),
    "bulk.action": _l("Unknown action."),
    "saved_view.name_required": _l("Give the view a name."),
    "saved_view.name_too_long": _l("A view's name is at most %(max)s characters."),
    "saved_view.too_many": _l("You can keep at most %(max)s saved views: delete one first."),
})
# The audit trail words the saved views' events too.
ACTIONS.update({"saved_view.create": _l("Saved a view of the documents"),
                "saved_view.delete": _l("Deleted a saved view")})
KINDS.update({"saved_view": _l("Saved view")})


def _list_url(query: str) -> str:
    """The documents list with a query of its own keys only (never an address from elsewhere)."""
    kept = saved_views.clean_query(dict(parse_qsl(query or "")))
    return url_for("browse.index") + (f"?{kept}" if kept else "")


# -- bulk share and classify ------------------------------------------------------------------------------

@bp.post("/documents/bulk")
def bulk() -> ResponseReturnValue:
    form = request.form
    ctx, actor, ids, action = services.context(), services.actor(), form.getlist("document"), form.get("action")
    try:
        if action == "share":
            result = bulk_actions.share_many(ctx, actor, ids, spec_from(form))
            done = ngettext("%(num)d document shared.", "%(num)d documents shared.", len(result.done))
        elif action == "classify":
            result = bulk_actions.classify_many(ctx, actor, ids, domain=form.get("domain") or None,
                                                access=form.get("level") or None)
            done = ngettext("%(num)d document classified.", "%(num)d documents classified.", len(result.done))
        else:
            raise InvalidInput("bulk.action", field="action")
    except InvalidInput as error:
        flash(message(error), "error")
        return redirect(_list_url(form.get("back", "")), 303)
    flash(done, "success" if result.done else "warning")
    if result.refused:
        flash(ngettext("%(num)d document refused:", "%(num)d documents refused:", len(result.refused)), "error")
    for refused in result.refused[:MAX_REFUSALS_SHOWN]:
        name = refused.title if refused.title is not None else _("a document")
        flash(_("%(name)s: %(reason)s", name=name, reason=message(refused.error)), "error")
    return redirect(_list_url(form.get("back", "")), 303)


# -- saved views ------------------------------------------------------------------------------------------

@bp.post("/documents/views")
def save_view() -> ResponseReturnValue:
    query = request.form.get("query", "")
    try:
        made = saved_views.save_view(services.context(), services.actor(), request.form.get("name", ""),
                                     dict(parse_qsl(query)))
    except InvalidInput as error:
        flash(message(error), "error")
        return redirect(_list_url(query), 303)
    flash(_("View “%(name)s” saved.", name=made["name"]), "success")
    return redirect(url_for("browse_actions.open_view", view_id=made["id"]), 303)


@bp.get("/documents/views/<view_id>")
def open_view(view_id: str) -> ResponseReturnValue:
    found = saved_views.view(services.context(), services.actor(), view_id)
    return redirect(_list_url(found["query"]) + ("&" if found["query"] else "?") + f"view={found['id']}", 303)


@bp.post("/documents/views/<view_id>/delete")
def delete_view(view_id: str) -> ResponseReturnValue:
    saved_views.delete_view(services.context(), services.actor(), view_id)
    flash(_("View deleted."), "success")
    return redirect(url_for("browse.index"), 303)


@bp.app_template_global()
def my_saved_views() -> list[Row]:
    """The signed-in person's saved views for the navigation (none for a visitor or while the graph is away:
    an error page must still render)."""
    from webapp.auth import current_person

    if current_person() is None:
        return []
    try:
        # Read with the header's badge numbers: one statement for both.
        return page_header.header(services.context(), services.actor(), now=int(time.time() * 1000)).views
    except (GraphError, DomainError):
        return []
