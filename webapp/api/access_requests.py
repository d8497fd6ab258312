"""``/api/v1/documents/<id>/access-requests``: 申请权限, asking a document's owner for access, as a thin door
over :func:`graph.usecases.access_requests.request_access`.

The answer is the same 202 whatever the id names (a missing document, one the caller may not see, one they
can already read): only the per-person limit shows, as 429 with ``Retry-After``, and it is counted before
anything is looked up, so it says nothing about any id either.
"""

from __future__ import annotations

from flask import jsonify
from flask.typing import ResponseReturnValue

from graph.usecases import access_requests
from webapp import services
from webapp.api import models as m
from webapp.api.core import actor, bp, operation, refused
from webapp.api.work import now_ms


@operation("POST", "/documents/<document_id>/access-requests",
           summary="Ask the owner of a document for access (same answer for every id)", tag="documents",
           body=m.AccessRequestIn, responses={202: m.AccessRequested, 400: m.Problem, 429: m.Problem})
def request_access(document_id: str, body: m.AccessRequestIn) -> ResponseReturnValue:
    access_requests.request_access(services.context(), actor(), document_id, body.note, now=now_ms())
    return jsonify(requested=True), 202


@bp.errorhandler(access_requests.TooManyRequests)
def _too_many(error: access_requests.TooManyRequests) -> ResponseReturnValue:
    response = refused(error)
    response.headers["Retry-After"] = str(error.params.get("seconds", 1))
    return response
