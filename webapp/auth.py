"""Who is asking, and may they: login sessions, login required on every route, roles, audit helper.

Every endpoint needs a signed-in, active person unless its view is marked :func:`public` (or is
one of :data:`PUBLIC_ENDPOINTS`). Routes under ``/admin`` additionally need the ``admin`` role,
whether or not their view says so. Use :func:`roles_required` for everything else role-bound.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Flask, abort, g, has_request_context, jsonify, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.middleware.proxy_fix import ProxyFix

from graph import GraphUnavailable, accounts
from graph import audit as audit_trail
from graph.accounts import Person
from webapp import services

__all__ = [
    "ADMIN_PREFIX", "PUBLIC_ENDPOINTS", "Person", "audit", "client_address", "current_person", "init_auth",
    "is_public", "public", "roles_required", "safe_next", "same_site",
]

F = TypeVar("F", bound=Callable[..., Any])

# Endpoints of views this module does not own that must stay reachable without login.
PUBLIC_ENDPOINTS: frozenset[str] = frozenset({"static", "assets.vendor", "health.healthz", "home.set_language"})
ADMIN_PREFIX = "/admin"
ADMIN_ROLE = "admin"
SESSION_TOKEN = "auth_token"  # noqa: S105 - the session key's name, not a secret
_PUBLIC_ATTR = "huitong_public"


def public(view: F) -> F:
    """Mark a view as reachable without login."""
    setattr(view, _PUBLIC_ATTR, True)
    return view


def roles_required(*roles: str) -> Callable[[F], F]:
    """The signed-in person needs at least one of ``roles`` (403 otherwise; anonymous: login first)."""
    if not roles:
        raise ValueError("roles_required needs at least one role")

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            person = current_person()
            if person is None:
                return _refuse_anonymous()
            if not person.has_any_role(*roles):
                return _forbidden()
            return view(*args, **kwargs)

        wrapper.huitong_roles = frozenset(roles)  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator


def current_person() -> Person | None:
    """The signed-in, active person of this request (read from the graph once per request)."""
    if not has_request_context():
        return None
    if "huitong_person" not in g:
        g.huitong_person = _load_person()
    return g.huitong_person


def _load_person() -> Person | None:
    token = session.get(SESSION_TOKEN)
    if not token:
        return None
    person = accounts.session_person(services.store(), token)
    if person is None:
        # Expired, logged out elsewhere, password changed or person deactivated: forget it.
        session.pop(SESSION_TOKEN, None)
    return person


def is_public(endpoint: str | None, app: Flask | None = None) -> bool:
    if endpoint is None:
        return False
    if endpoint in PUBLIC_ENDPOINTS:
        return True
    from flask import current_app

    view = (app or current_app).view_functions.get(endpoint)
    return bool(getattr(view, _PUBLIC_ATTR, False))


def is_admin_path(path: str) -> bool:
    return path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/")


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def _refuse_anonymous() -> ResponseReturnValue:
    if _wants_json():
        return jsonify(error="login required"), 401
    target = request.full_path.rstrip("?") if request.method == "GET" else None
    login_url = url_for("account.login", next=target)
    if request.headers.get("HX-Request"):
        # A redirect would swap the login page into a fragment; make htmx load it as a page.
        return "", 401, {"HX-Redirect": login_url}
    return redirect(login_url)


def _forbidden() -> ResponseReturnValue:
    if _wants_json():
        return jsonify(error="forbidden"), 403
    abort(403)


def _guard() -> ResponseReturnValue | None:
    """Runs before every request, before CSRF checks: anonymous callers learn nothing else."""
    if is_public(request.endpoint):
        return None
    try:
        person = current_person()
    except GraphUnavailable:
        return (jsonify(error="service unavailable"), 503) if _wants_json() else ("service unavailable", 503)
    if person is None:
        return _refuse_anonymous()
    if is_admin_path(request.path) and ADMIN_ROLE not in person.roles:
        from webapp.views.admin_org import record_refusal

        record_refusal()  # the trail keeps who asked for which org object
        return _forbidden()
    return None


# flask-wtf words its refusals in English; the reader gets them in their language (unknown ones: the general line).
CSRF_DETAILS = {
    "The CSRF token is missing.": _l("The form's security token is missing."),
    "The CSRF session token is missing.": _l("Your session has no security token: sign in again."),
    "The CSRF token has expired.": _l("The form's security token has expired."),
    "The CSRF token is invalid.": _l("The form's security token is not valid."),
    "The CSRF tokens do not match.": _l("The form's security token does not belong to this session."),
    "The referrer header is missing.": _l("The request does not say which page it came from."),
    "The referrer does not match the host.": _l("The request came from another site."),
}


def csrf_detail(description: str | None) -> str:
    """flask-wtf's reason in the reader's language."""
    return str(CSRF_DETAILS.get(description or "", _l("The form's security check failed.")))


def _csrf_failed(error: CSRFError) -> ResponseReturnValue:
    detail = csrf_detail(error.description)
    if _wants_json() or request.headers.get("HX-Request"):
        return jsonify(error="csrf", detail=detail), 400
    return render_template("account/error.html", status=400, message=detail), 400


def init_auth(app: Flask) -> None:
    """Install the login requirement on every endpoint, cookie settings and template helpers."""
    settings = app.config["HUITONG"]
    app.config.update(
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.session_hours),
        # The cookie is written only when the session changes. Refreshed on every response, a background
        # request sent before a form's answer (a live refresh) wrote back the older session after it, and
        # the messages flashed for the next page were lost. The login's own lifetime is kept server-side.
        SESSION_REFRESH_EACH_REQUEST=False,
        # The CSRF token lives in the session and as long as it: a form left open does not fail at 60 min.
        WTF_CSRF_TIME_LIMIT=settings.session_hours * 3600,
    )
    if settings.proxy_hops:
        # Only as many hops as configured: a client cannot pick its own address by sending the header.
        hops = settings.proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    # First in line: anonymous requests are refused before anything else (CSRF included) looks at them.
    app.before_request_funcs.setdefault(None, []).insert(0, _guard)
    app.register_error_handler(CSRFError, _csrf_failed)

    @app.context_processor
    def _auth_globals() -> dict[str, object]:
        return {"current_person": current_person}


# -- helpers for views ---------------------------------------------------------------------------

def client_address() -> str:
    """The caller's address (behind reverse proxies, set HUITONG_PROXY_HOPS so it is the real client's)."""
    return request.remote_addr or "unknown"


_UNSAFE_IN_TARGET = re.compile(r"[\x00-\x20\x7f\\]")  # browsers drop tabs/newlines and read \ as /


def same_site(target: str | None, host: str | None = None) -> bool:
    """THE same-site check of every redirect: a local path (``/x``, never ``//x`` or ``/\\x``), or an
    absolute http(s) URL of ``host`` itself. Whitespace, control characters and backslashes are refused
    outright, since browsers strip or reinterpret them (``/\\evil.example`` is ``//evil.example``)."""
    if not target or _UNSAFE_IN_TARGET.search(target):
        return False
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return host is not None and parts.scheme in ("http", "https") and parts.netloc == host
    return target.startswith("/") and not target.startswith("//")


def safe_next(target: str | None, default: str) -> str:
    """Only local paths: never bounce the browser to another site (after login, a language switch...)."""
    return target if target is not None and same_site(target) else default


def start_session(person: Person) -> None:
    """A brand-new session for ``person`` (nothing of the previous session survives but the language)."""
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language
    settings = services.settings()
    session[SESSION_TOKEN] = accounts.open_session(
        services.store(), person.id, client=client_address(), lifetime_seconds=settings.session_hours * 3600
    )
    session.permanent = True
    g.huitong_person = person


def end_session() -> None:
    token = session.get(SESSION_TOKEN)
    if token:
        accounts.close_session(services.store(), token)
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language
    g.huitong_person = None


def session_token() -> str | None:
    return session.get(SESSION_TOKEN)


def audit(action: str, *, target_kind: str | None = None, target_id: str | None = None,
          detail: dict[str, Any] | str | None = None, actor: Person | None = None) -> str:
    """Record an audit event for this request: actor is the signed-in person unless given."""
    who = actor or current_person()
    return audit_trail.record(
        services.store(), action=action, actor_id=who.id if who else None, target_kind=target_kind,
        target_id=target_id, client=client_address(), detail=detail,
    )
