"""Search pages: the results page, live results under the header box, "why can I see this",
"more like this" (the JSON search ``/api/v1/search`` is in :mod:`webapp.api`). Every answer comes from
:mod:`ingest.search`, which filters by the signed-in person's readable set inside retrieval."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l

from graph import GraphUnavailable
from graph.usecases import documents as cases
from ingest import search as service
from webapp import services
from webapp.ui import local_time

bp = Blueprint("search", __name__)

LIVE_RESULTS = 5
SIMILAR_RESULTS = 5
FACET_TITLES = {"kind": _l("File type"), "domain": _l("Domain"), "department": _l("Department"),
                "uploader": _l("Uploader"), "access": _l("Access level"), "time": _l("Last changed")}
TIME_LABELS = {"7d": _l("Past week"), "30d": _l("Past month"), "365d": _l("Past year"), "older": _l("Over a year ago")}


@bp.app_template_filter("search_date")
def search_date(epoch_ms: int | None) -> str:
    return "" if epoch_ms is None else local_time(epoch_ms, "day")


def _run(query: service.Query) -> service.Outcome:
    return service.search(services.context(), services.actor(), query)


def _page_context(query: service.Query | None, outcome: service.Outcome | None, error: str | None) -> dict[str, Any]:
    return {"query": query, "outcome": outcome, "error": error, "q": request.args.get("q", "").strip(),
            "facet_titles": FACET_TITLES, "time_labels": TIME_LABELS, "document_url": service.document_url}


@bp.get("/search")
def page() -> ResponseReturnValue:
    if not request.args.get("q", "").strip():
        return render_template("search/page.html", **_page_context(None, None, None))
    try:
        query = service.parse_query(request.args.getlist, per_page_param="per_page")
        outcome = _run(query)
    except service.SearchRequestError as error:
        return render_template("search/page.html", **_page_context(None, None, str(error))), 400
    except (service.SearchUnavailable, GraphUnavailable) as error:
        return render_template("search/page.html", **_page_context(None, None, str(error))), 503
    return render_template("search/page.html", **_page_context(query, outcome, None))


@bp.get("/search/live")
def live() -> ResponseReturnValue:
    """The few best results under the header's search box (htmx swaps this in while typing)."""
    text = request.args.get("q", "").strip()
    if not text:
        return ""
    outcome, error = None, None
    try:
        query = service.parse_query(lambda name: [text] if name == "q" else [], default_per_page=LIVE_RESULTS)
        outcome = _run(query)
    except (service.SearchRequestError, service.SearchUnavailable, GraphUnavailable) as failure:
        error = str(failure)  # shown in the dropdown: htmx does not swap error responses
    return render_template("search/_live.html", outcome=outcome, error=error, q=text,
                           document_url=service.document_url)


@bp.get("/search/why/<document_id>")
def why(document_id: str) -> ResponseReturnValue:
    actor = services.actor()
    sentence = cases.why(services.context(), actor, document_id, actor.lang)  # a non-reader: the one 404
    return render_template("search/_why.html", sentence=sentence)


@bp.get("/documents/<document_id>/similar")
def similar(document_id: str) -> ResponseReturnValue:
    """"More like this": an htmx fragment the document page includes."""
    try:
        results = service.similar(services.context(), services.actor(), document_id, k=SIMILAR_RESULTS)
    except service.SearchUnavailable as error:
        return render_template("search/_similar.html", results=[], error=str(error),
                               document_url=service.document_url), 503
    return render_template("search/_similar.html", results=results, error=None, document_url=service.document_url)


# The JSON search ``/api/v1/search`` is an operation of the REST API (webapp/api/documents.py).
