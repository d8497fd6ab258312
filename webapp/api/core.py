"""The door of ``/api/v1``: who is calling (a bearer token or the browser session), how much they may call,
refusals as RFC 7807 problems in the reader's language, and the operation registry the OpenAPI document
is generated from.

Requests with ``Authorization: Bearer`` carry no cookie, so they are exempt from CSRF; the same endpoints
called with the session cookie keep the CSRF check on every write.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any
from urllib.parse import urlencode

import redis
from flask import Blueprint, Flask, Response, g, json, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import HTTPException

from graph import GraphUnavailable, live, tokens
from graph.accounts import Person
from graph.actor import Actor
from graph.errors import DomainError, InvalidInput, ObjectMissing
from graph.workflows.definitions import FormError, WorkflowError
from graph.workflows.errors import Conflict, NotAllowed, NotFound, RoutingError
from webapp import services
from webapp.i18n import current_language
from webapp.messages import NOT_FOUND, message

log = logging.getLogger(__name__)

bp = Blueprint("api_v1", __name__, url_prefix="/api/v1")
PROBLEM = "application/problem+json"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
TITLES = {400: "Request refused", 401: "Sign-in required", 403: "Not allowed", 404: "Not found",
          405: "Method not allowed", 409: "Not saved", 413: "Too large", 422: "Not stored",
          429: "Too many requests", 500: "Something went wrong", 503: "Service unavailable"}


# -- problems -----------------------------------------------------------------------------------------------


def problem(status: int, code: str, detail: str, params: dict[str, Any] | None = None,
            headers: dict[str, str] | None = None) -> Response:
    """One RFC 7807 answer. A missing and a hidden object give the same body (bar ``instance``)."""
    body = {"type": f"urn:huitong:problem:{code}", "title": _(TITLES.get(status, TITLES[400])), "status": status,
            "detail": detail, "code": code, "params": {k: str(v) for k, v in (params or {}).items()},
            "instance": request.path}
    response = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def refused(error: DomainError) -> Response:
    if isinstance(error, ObjectMissing):
        return problem(404, "not_found", str(NOT_FOUND))
    params = {k: v for k, v in error.params.items() if k != "reason"}
    return problem(error.status, error.code, message(error), params)


_WORKFLOW_STATUS: dict[type[WorkflowError], int] = {NotFound: 404, NotAllowed: 403, Conflict: 409, RoutingError: 409}


def workflow_refused(error: WorkflowError) -> Response:
    """The engine's refusals: a missing task is the one 404; the others name what is wrong."""
    if isinstance(error, NotFound):
        return problem(404, "not_found", str(NOT_FOUND))
    if isinstance(error, FormError):
        fields = ", ".join(sorted(error.errors))
        return problem(400, "workflow.form", _("Some fields are missing or wrong: %(fields)s", fields=fields),
                       {"fields": fields})
    status = next((s for kind, s in _WORKFLOW_STATUS.items() if isinstance(error, kind)), 409)
    code = {403: "workflow.not_allowed"}.get(status, "workflow.conflict")
    return problem(status, code, _("The task cannot take this action now: %(reason)s", reason=str(error)),
                   {"reason": str(error)})


@bp.errorhandler(DomainError)
def _domain_error(error: DomainError) -> ResponseReturnValue:
    return refused(error)


@bp.errorhandler(WorkflowError)
def _workflow_error(error: WorkflowError) -> ResponseReturnValue:
    return workflow_refused(error)


@bp.errorhandler(GraphUnavailable)
def _unavailable(_error: GraphUnavailable) -> ResponseReturnValue:
    return problem(503, "unavailable", _("The service is starting or busy; try again shortly."),
                   headers={"Retry-After": "5"})


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> ResponseReturnValue:
    status = error.code or 500
    if status == 404:
        return problem(404, "not_found", str(NOT_FOUND))
    if status == 413:
        return problem(413, "upload.too_large", _("The upload is larger than the limit; nothing was stored."))
    return problem(status, f"http.{status}", _("The request could not be understood."))


# -- who is calling -----------------------------------------------------------------------------------------


def _lang() -> str:
    return "en" if current_language() == "en" else "zh"


def _rate_limited(token_id: str) -> int:
    """Seconds to wait when this token used up its calls of this minute, else 0. The counters live in the
    broker (one key per token and minute), so every web process counts the same calls."""
    limit = services.settings().api_rate_per_minute
    if limit <= 0:
        return 0
    now = time.time()
    window = int(now // 60)
    key = f"huitong:api-rate:{token_id}:{window}"
    try:
        pipe = live.client(services.settings()).pipeline(transaction=False)
        pipe.incr(key)
        pipe.expire(key, 120)
        count = int(pipe.execute()[0])
    except redis.RedisError as error:  # the limiter must not take the API down with it
        log.warning("API rate counter unavailable: %s", error)
        return 0
    return max(1, int((window + 1) * 60 - now + 0.999)) if count > limit else 0


def _unauthorised() -> Response:
    return problem(401, "auth.required", _("Sign in, or send a valid API token as “Authorization: Bearer …”."),
                   headers={"WWW-Authenticate": 'Bearer realm="huitong"'})


def _authenticate() -> ResponseReturnValue | None:
    """Runs before the app's login guard, for this blueprint only: a bearer token becomes the request's person
    (so the guard lets it through); no credentials at all is a 401 problem rather than a login page."""
    if request.blueprint != bp.name:
        return None
    answer = _caller()
    if answer is not None:
        return answer
    from webapp.input_guard import check_request, describe

    try:
        check_request()  # the app's input guard, answered as a problem like every other refusal here
    except InvalidInput as error:
        return problem(400, error.code, describe(error), {k: v for k, v in error.params.items() if k != "reason"})
    return None


def _caller() -> ResponseReturnValue | None:
    header = request.headers.get("Authorization", "")
    if not header:
        return _cookie_caller()
    scheme, _sep, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return _unauthorised()
    store = services.store()
    bearer = tokens.authenticate(store, value)
    if bearer is None:
        return _unauthorised()
    wait = _rate_limited(bearer.token_id)
    if wait:
        return problem(429, "api.rate_limited", _("Too many requests with this token; try again in %(seconds)s s.",
                                                  seconds=wait), {"seconds": wait}, headers={"Retry-After": str(wait)})
    needed = _needed_scope()
    if not tokens.scope_allows(bearer.scope, needed):
        return problem(403, "token.scope", _("This token may not do this: it needs the “%(scope)s” scope.",
                                             scope=needed), {"scope": needed})
    actor = tokens.actor_of(bearer, lang=_lang(), address=request.remote_addr)
    g.huitong_person = Person(actor.person_id, actor.username, actor.name, actor.roles, True)
    g.huitong_actor = actor
    g.huitong_api_token = bearer.token_id
    return None


def _cookie_caller() -> ResponseReturnValue | None:
    from webapp import csrf
    from webapp.auth import current_person

    person = current_person()
    if person is None:
        return _unauthorised()
    if request.method not in SAFE_METHODS:
        csrf.protect()  # a cookie-authenticated write proves it comes from our own pages
    g.huitong_actor = Actor(person.id, person.username, person.name, frozenset(person.roles), door="api",
                            lang=_lang(), address=request.remote_addr)
    return None


def _needed_scope() -> str:
    view = services.current_app.view_functions.get(request.endpoint or "")
    operation: Operation | None = getattr(view, "api_operation", None)
    if operation is not None:
        return operation.scope
    return "read" if request.method in SAFE_METHODS else "write"


def actor() -> Actor:
    return services.actor()  # the door set it: the token's person, or the session's, with door "api"


def install(app: Flask) -> None:
    """Bearer tokens are read before the login guard; call after :func:`webapp.auth.init_auth`."""
    from webapp import csrf

    csrf.exempt(bp)  # the blueprint checks CSRF itself, for cookie callers only
    app.before_request_funcs.setdefault(None, []).insert(0, _authenticate)


# -- operations and their schema ------------------------------------------------------------------------


@dataclass
class Operation:
    method: str
    rule: str
    summary: str
    tag: str
    scope: str
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    multipart: dict[str, Any] | None = None
    responses: dict[int, Any] = field(default_factory=dict)  # status -> model, "binary", dict schema or None
    endpoint: str = ""


OPERATIONS: list[Operation] = []


def _field_errors(error: ValidationError) -> Response:
    first = error.errors()[0]
    name = ".".join(str(part) for part in first.get("loc", ())) or "body"
    return refused(InvalidInput("api.invalid_field", field=name, problem=first.get("msg", "")))


def _query_values(model: type[BaseModel]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if name not in request.args:
            continue
        listed = getattr(info.annotation, "__origin__", None) is list or "list[" in str(info.annotation)
        values[name] = request.args.getlist(name) if listed else request.args.get(name)
    return values


def operation(method: str, rule: str, *, summary: str, tag: str, scope: str | None = None,
              query: type[BaseModel] | None = None, body: type[BaseModel] | None = None,
              multipart: dict[str, Any] | None = None, responses: dict[int, Any] | None = None
              ) -> Callable[[Callable[..., ResponseReturnValue]], Callable[..., ResponseReturnValue]]:
    """Register an API operation: its route, its input models (validated before the view runs) and its
    answers, from which :mod:`webapp.api.openapi` writes the OpenAPI document."""
    needed = scope or ("read" if method in SAFE_METHODS else "write")

    def decorator(view: Callable[..., ResponseReturnValue]) -> Callable[..., ResponseReturnValue]:
        op = Operation(method, rule, summary, tag, needed, query, body, multipart, dict(responses or {}),
                       view.__name__)

        @wraps(view)
        def wrapper(**path: Any) -> ResponseReturnValue:
            kwargs: dict[str, Any] = dict(path)
            try:
                if query is not None:
                    kwargs["query"] = query.model_validate(_query_values(query))
                if body is not None:
                    payload = request.get_json(silent=True)
                    if not isinstance(payload, dict):
                        raise InvalidInput("api.json_body", field="body")
                    kwargs["body"] = body.model_validate(payload)
            except ValidationError as error:
                return _field_errors(error)
            return view(**kwargs)

        wrapper.api_operation = op  # type: ignore[attr-defined]
        bp.add_url_rule(rule, endpoint=view.__name__, view_func=wrapper, methods=[method])
        OPERATIONS.append(op)
        return wrapper

    return decorator


def page_links(page: int, per_page: int, has_next: bool) -> str | None:
    """The ``next`` link of a page (same query, next page number), None on the last page."""
    if not has_next:
        return None
    args = request.args.to_dict(flat=False)
    args["page"] = [str(page + 1)]
    return f"{request.path}?{urlencode(args, doseq=True)}"


__all__ = ["OPERATIONS", "actor", "bp", "install", "operation",
           "page_links", "problem", "refused"]
