"""Decisions (决策) and copies kept by other departments, in the browser.

Thin doors over :mod:`graph.decisions` and :mod:`graph.duplicates`: the pages build the actor, call
the use case and translate its :class:`graph.errors.DomainError` code into the reader's language. A
decision or document the person may not see is a 404, like a missing one.
"""

from __future__ import annotations

import re

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l

from graph import decisions, duplicates
from graph.actor import Actor
from graph.errors import DomainError, ObjectMissing
from graph.usecases import documents as cases
from ingest import decision_search
from webapp import services
from webapp.auth import client_address, current_person, roles_required
from webapp.i18n import current_language

bp = Blueprint("decisions", __name__)

ERRORS = {
    "decision.title_required": _l("A title is required (at most %(max)s characters)."),
    "decision.text_too_long": _l("The text is too long (at most %(max)s characters)."),
    "decision.bad_date": _l("“%(value)s” is not a date (YYYY-MM-DD)."),
    "decision.unknown_person": _l("Nobody is called “%(value)s”."),
    "decision.unknown_target": _l("No department or project has the code “%(value)s”."),
}
SOURCE_LABELS = {"run": _l("workflow run"), "document": _l("document"), "meeting": _l("meeting")}
_SEPARATORS = re.compile(r"[\s,;，；、]+")


def actor() -> Actor:
    person = current_person()
    assert person is not None  # login is required on every route here
    return Actor(person.id, person.username, person.name, person.roles, door="web", lang=current_language(),
                 address=client_address())


def message(error: DomainError) -> str:
    template = ERRORS.get(error.code)
    return str(template) % error.params if template is not None else error.code


def _words(name: str) -> list[str]:
    return [w for w in _SEPARATORS.split(request.form.get(name, "")) if w]


@bp.app_template_filter("decision_source")
def decision_source(source: str | None) -> str:
    return str(SOURCE_LABELS.get(source or "", source or ""))


@bp.get("/decisions")
def index() -> ResponseReturnValue:
    found = decisions.latest(services.store(), actor())
    return render_template("decisions/list.html", decisions=found, values={}, error=None)


@bp.post("/decisions")
def record() -> ResponseReturnValue:
    values = {key: request.form.get(key, "") for key in ("title", "text", "decided_on", "participants", "affects")}
    based_on = [v for v in request.form.getlist("based_on") if v]
    me = actor()
    try:
        made = decisions.record(services.store(), me, title=values["title"], text=values["text"],
                                decided_on=values["decided_on"] or None, participants=_words("participants"),
                                affects=_words("affects"), based_on=based_on,
                                run_id=request.form.get("run_id") or None)
    except ObjectMissing:
        abort(404)
    except DomainError as error:
        return render_template("decisions/list.html", decisions=decisions.latest(services.store(), me),
                               values={**values, "based_on": based_on}, error=message(error)), 422
    return redirect(url_for("decisions.show", decision_id=made["id"]))


@bp.get("/decisions/<decision_id>")
def show(decision_id: str) -> ResponseReturnValue:
    try:
        found = decisions.get(services.store(), actor(), decision_id)
    except ObjectMissing:
        abort(404)
    return render_template("decisions/detail.html", decision=found)


@bp.get("/documents/<document_id>/knowledge")
def document_panel(document_id: str) -> ResponseReturnValue:
    """The document page's panel: decisions relying on it ("based on v2, now v4") and copies kept elsewhere."""
    store, me = services.store(), actor()
    try:
        relying = decisions.for_document(store, me, document_id)
        copies = duplicates.copies(store, me, document_id)
        # a part of the page, not a page open: nothing audited
        current = cases.open_document(services.context(), me, document_id, explicit=False)
    except ObjectMissing:
        abort(404)
    return render_template("decisions/_panel.html", relying=relying, copies=copies, document_id=document_id,
                           current_version_id=current.get("current_version_id"),
                           current_number=current.get("current_number"))


@bp.get("/decisions/search")
def search_section() -> ResponseReturnValue:
    """Decisions matching the search words, for the search page (only those the person may see)."""
    text = request.args.get("q", "").strip()
    found = decision_search.search(services.store(), actor(), text) if text else []
    return render_template("decisions/_search_results.html", decisions=found, q=text)


@bp.get("/manage/duplicates")
@roles_required("manager", "admin")
def duplicates_report() -> ResponseReturnValue:
    """How much is kept twice, by which departments (counts and sizes only)."""
    report = duplicates.department_report(services.store(), actor())
    return render_template("decisions/duplicates.html", report=report)
