"""Bad input gets a clear 400 in the reader's language, never a 500.

One guard in front of every view looks at what the client sent — path segments, query and form
values (names too) and JSON bodies — and refuses, before any view or the graph sees them:
- NUL bytes and other control characters (tab, CR and LF stay allowed in values: text areas);
- overlong values (query values are searched, compared and logged: they stay bounded);
- numbers and dates out of any sensible range in the parameters that carry them (a page number
  of 10**30 or a date in the year 275760 overflow on the way to the graph).
Views and use cases raise :class:`graph.errors.InvalidInput` for what only they can judge; it is
answered here too, like a too-large request (413, naming the limit that applies) and every
redirect, which goes through the one same-site check of :func:`webapp.auth.same_site`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from flask import Flask, current_app, g, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from graph.errors import InvalidInput

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
NAME_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_NAME_CHARS = 200
MAX_QUERY_VALUE_CHARS = 8192
MAX_FORM_VALUE_CHARS = 1_000_000
MAX_JSON_DEPTH = 32
# Parameters that carry numbers (page numbers, counts, sizes) and dates, by name, across the site.
NUMBER_NAMES = frozenset({"page", "per_page", "k", "limit", "offset", "days", "weeks", "months", "hours", "top",
                          "size", "year", "number", "n"})
MAX_NUMBER = 1_000_000
DATE_WORDS = frozenset({"date", "since", "until", "from", "to", "start", "end", "due", "before", "after", "day",
                        "month", "at", "deadline", "when", "old", "new"})
DATE_PREFIX = re.compile(r"^\s*[+-]?(\d{4,})-\d")
YEARS = (1900, 2200)

MESSAGES: dict[str, Any] = {
    "input.control_characters": _l("The value of “%(field)s” contains characters that are not allowed."),
    "input.too_long": _l("The value of “%(field)s” is too long (at most %(max)d characters)."),
    "input.out_of_range": _l("The value of “%(field)s” is out of range."),
    "input.not_a_number": _l("The value of “%(field)s” must be a whole number."),
    "input.nested_too_deep": _l("The request body is nested too deeply."),
}


def describe(error: InvalidInput) -> str:
    """The refusal in the reader's language (unknown codes get a generic sentence naming the field)."""
    params = {"field": "", "max": 0, **error.params}
    template = MESSAGES.get(error.code)
    if template is None:
        return _("The request contains an invalid value (%(field)s).", field=params["field"])
    return str(template) % params


# -- checks -------------------------------------------------------------------------------------------------------

def check_name(name: str) -> None:
    if NAME_CONTROL.search(name):
        raise InvalidInput("input.control_characters", field=_shown(name))
    if len(name) > MAX_NAME_CHARS:
        raise InvalidInput("input.too_long", field=_shown(name), max=MAX_NAME_CHARS)


def check_value(name: str, value: str, max_chars: int) -> None:
    if CONTROL.search(value):
        raise InvalidInput("input.control_characters", field=_shown(name))
    if len(value) > max_chars:
        raise InvalidInput("input.too_long", field=_shown(name), max=max_chars)
    key = name.lower()
    if key in NUMBER_NAMES and value.strip():
        _check_number(name, value)
    elif DATE_WORDS.intersection(re.split(r"[^a-z]+", key)):
        found = DATE_PREFIX.match(value)
        if found and not YEARS[0] <= int(found.group(1)) <= YEARS[1]:
            raise InvalidInput("input.out_of_range", field=_shown(name))


def _check_number(name: str, value: str) -> None:
    try:
        number = int(value.strip())
    except ValueError:
        raise InvalidInput("input.not_a_number", field=_shown(name)) from None
    if abs(number) > MAX_NUMBER:
        raise InvalidInput("input.out_of_range", field=_shown(name))


def _shown(name: str) -> str:
    return NAME_CONTROL.sub("?", name)[:60]


def _items(values: MultiDict[str, str]) -> Iterator[tuple[str, str]]:
    for name, value in values.items(multi=True):
        yield name or "", value  # a multipart part whose name cannot be parsed comes as None


def _check_json(value: Any, depth: int = 0, name: str = "json") -> None:
    if depth > MAX_JSON_DEPTH:
        raise InvalidInput("input.nested_too_deep", field=name)
    if isinstance(value, str):
        check_value(name, value, MAX_FORM_VALUE_CHARS)
    elif isinstance(value, dict):
        for key, item in value.items():
            check_name(str(key))
            _check_json(item, depth + 1, str(key))
    elif isinstance(value, list):
        for item in value:
            _check_json(item, depth + 1, name)
    elif isinstance(value, int) and not isinstance(value, bool) and name.lower() in NUMBER_NAMES:
        _check_number(name, str(value))


def check_request() -> None:
    """Raise :class:`InvalidInput` for the first bad thing the client sent."""
    if CONTROL.search(request.path):
        raise InvalidInput("input.control_characters", field="path")
    for name, value in (request.view_args or {}).items():
        if isinstance(value, str):
            check_value(name, value, MAX_NAME_CHARS * 5)
    for name, value in _items(request.args):
        check_name(name)
        check_value(name, value, MAX_QUERY_VALUE_CHARS)
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        if request.is_json:
            _check_json(request.get_json(silent=True))
        else:
            for name, value in _items(request.form):
                check_name(name)
                check_value(name, value, MAX_FORM_VALUE_CHARS)
            for name in request.files:
                check_name(name or "")  # the file's own name is cleaned at upload (ingest.filenames), not refused


# -- answers ------------------------------------------------------------------------------------------------------

def _wants_json() -> bool:
    return (request.path.startswith("/api/") or bool(request.headers.get("HX-Request"))
            or request.accept_mimetypes.best == "application/json")


def refuse(message: str, status: int, code: str, field: str | None = None) -> ResponseReturnValue:
    if _wants_json():
        body: dict[str, Any] = {"error": "invalid" if status == 400 else code, "code": code, "message": message}
        if field:
            body["field"] = field
        return jsonify(body), status
    return render_template("errors/bad_request.html", message=message, status=status), status


def invalid_input(error: InvalidInput) -> ResponseReturnValue:
    return refuse(describe(error), 400, error.code, str(error.params.get("field") or "") or None)


def too_large(_error: RequestEntityTooLarge) -> ResponseReturnValue:
    limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
    message = _("The request is larger than the limit of %(mb)d MiB for everything sent at once "
                "(all files of one upload together); nothing was stored.", mb=limit // (1024 * 1024))
    return refuse(message, 413, "too_large")


def _guard() -> ResponseReturnValue | None:
    try:
        check_request()
    except InvalidInput as error:
        return invalid_input(error)
    return None


_OFFSITE = "huitong_offsite_redirect"


def allow_offsite_redirect(url: str) -> None:
    """Let this request's redirect go to exactly ``url`` on another site (single sign-on sends the browser
    to the configured identity provider); no other target passes."""
    setattr(g, _OFFSITE, url)


def _same_site_redirects(response: Response) -> Response:
    """Every redirect, whoever built its target, passes the one same-site check (else: home)."""
    from webapp.auth import same_site

    location = response.headers.get("Location")
    if (300 <= response.status_code < 400 and location and not same_site(location, request.host)
            and location != g.get(_OFFSITE)):
        response.headers["Location"] = "/"
    hx_target = response.headers.get("HX-Redirect")
    if hx_target and not same_site(hx_target, request.host):
        response.headers["HX-Redirect"] = "/"
    return response


def init_input_guard(app: Flask) -> None:
    """Install the guard before every view (right after the login requirement), and the edge answers."""
    funcs = app.before_request_funcs.setdefault(None, [])
    funcs.insert(1 if funcs else 0, _guard)
    app.register_error_handler(InvalidInput, invalid_input)
    app.register_error_handler(RequestEntityTooLarge, too_large)
    app.after_request(_same_site_redirects)
