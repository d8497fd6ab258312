"""Error answers for the whole app: styled, translated pages with the normal navigation for browsers,
a short fragment for htmx, JSON for API and JSON callers.

A :class:`graph.errors.DomainError` raised by a use case reaches the person through here when a view
does not handle it itself. ``ObjectMissing`` (missing OR not visible) always gives the same 404 answer,
whatever the object and whoever asks: status, heading and wording never depend on the object.

The 404 of a document page offers 申请权限, "request access" (:mod:`graph.usecases.access_requests`): the
offer and the acknowledgement are the same whatever the id names, so neither tells whether it exists.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Flask, jsonify, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import escape
from werkzeug.exceptions import HTTPException

from graph.errors import DomainError, ObjectMissing
from graph.usecases import access_requests
from webapp import services
from webapp.messages import NOT_FOUND, message

log = logging.getLogger(__name__)

bp = Blueprint("errors", __name__)

HEADINGS = {400: _l("Request refused"), 403: _l("Not allowed"), 404: _l("Not found"), 409: _l("Not saved"),
            413: _l("Too large"), 429: _l("Please wait"), 500: _l("Something went wrong")}
TEXTS = {
    400: _l("The request could not be understood."),
    403: _l("You may not do this."),
    404: NOT_FOUND,
    405: _l("The request could not be understood."),
    413: _l("The upload is larger than the limit; nothing was stored."),
    500: _l("Something went wrong on our side. The error was logged; please try again later."),
}


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def answer(status: int, text: str, code: str, **page: Any) -> ResponseReturnValue:
    """One error answer in the form the caller reads (``page``: more for the browser's page)."""
    if wants_json():
        return jsonify(error=code, message=text), status
    if request.headers.get("HX-Request") == "true":
        return f'<p class="flash flash-error" role="alert">{escape(text)}</p>', status
    heading = HEADINGS.get(status, HEADINGS[400 if status < 500 else 500])
    return render_template("errors/error.html", heading=heading, message=text, status=status, **page), status


def _request_access_url() -> str | None:
    """On a document page's 404, where to ask for access (built from the URL alone, never from the graph)."""
    if request.method != "GET" or request.endpoint != "documents.page" or not request.view_args:
        return None
    from webapp.auth import current_person

    if current_person() is None:
        return None
    return url_for("errors.request_access", document_id=request.view_args["document_id"])


def refused(error: DomainError) -> ResponseReturnValue:
    """A use case's refusal; every missing-or-hidden object gets the one 404 answer."""
    if isinstance(error, ObjectMissing):
        return answer(404, str(NOT_FOUND), "not_found", request_access=_request_access_url())
    return answer(error.status, message(error), error.code)


@bp.post("/documents/<document_id>/request-access")
def request_access(document_id: str) -> ResponseReturnValue:
    """申请权限: the same acknowledgement whatever the id names (see graph.usecases.access_requests)."""
    access_requests.request_access(services.context(), services.actor(), document_id,
                                   request.form.get("note", ""))
    return render_template("errors/access_requested.html", heading=_("Request sent"))


def _http(error: HTTPException) -> ResponseReturnValue:
    status = error.code or 500
    if status in (401, 302, 301, 303, 304):
        return error
    if status == 404:
        return answer(404, str(NOT_FOUND), "not_found")
    if status == 500:
        log.error("unhandled error on %s %s", request.method, request.path,
                  exc_info=getattr(error, "original_exception", None))
    return answer(status, str(TEXTS.get(status, TEXTS[400])), error.name.lower().replace(" ", "_"))


def install(app: Flask) -> None:
    """Register the handlers. A failed CSRF check keeps the auth module's own answer (a styled, translated
    page; JSON for htmx and API callers)."""
    app.register_error_handler(DomainError, refused)
    # 500: Flask hands unhandled exceptions here (outside debug/testing, where they propagate).
    for status in (400, 403, 404, 405, 413, 500):
        app.register_error_handler(status, _http)
    app.register_blueprint(bp)
