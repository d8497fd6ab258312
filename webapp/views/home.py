"""Home page and the language switch."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l

from graph.usecases import browse
from webapp import services
from webapp.auth import current_person, safe_next
from webapp.i18n import LANGUAGES

bp = Blueprint("home", __name__)

RECENT_DOCUMENTS = 8
# Bookkeeping labels an administrator does not need on the overview.
INTERNAL_LABELS = {"Meta", "LoginSession", "LoginThrottle", "Role"}
# What each kind of node is called in the reader's language (unknown kinds show as they are).
KIND_NAMES = {"AuditEvent": _l("Audit events"), "Comment": _l("Comments"), "Department": _l("Departments"),
              "Document": _l("Documents"), "Person": _l("People"), "Position": _l("Positions"),
              "Project": _l("Projects"), "Step": _l("Workflow steps"), "Task": _l("Tasks"),
              "Version": _l("Document versions"), "Workflow": _l("Workflows"), "WorkflowRun": _l("Workflow runs"),
              "Decision": _l("Decisions"), "Notification": _l("Notifications"), "Chunk": _l("Text passages"),
              "Tag": _l("Tags"), "Webhook": _l("Webhooks"), "IngestJob": _l("Ingestion jobs")}


@bp.get("/")
def index() -> ResponseReturnValue:
    person = current_person()
    assert person is not None  # every non-public view requires a signed-in person
    store = services.store()
    recent = browse.browse(services.context(), services.actor(), browse.BrowseFilter(scope="recent"),
                           per_page=RECENT_DOCUMENTS)
    counts = None
    if "admin" in person.roles:
        counts = {label: n for label, n in store.counts().items() if label not in INTERNAL_LABELS}
    return render_template("index.html", person=person, recent=recent.rows, counts=counts, kind_names=KIND_NAMES)


@bp.post("/lang")
def set_language() -> ResponseReturnValue:
    language = request.form.get("lang", "")
    if language in LANGUAGES:
        session["lang"] = language
    return redirect(safe_next(request.form.get("next"), url_for("home.index")))
