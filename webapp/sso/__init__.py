"""Single sign-on doors of the web app: OpenID Connect and LDAP / Active Directory, beside local passwords.

``HUITONG_AUTH_METHODS`` says which methods are on. A method that is off shows no button or form on the login
page and every route of it answers 404, exactly like a page that does not exist. Every outcome is audited as
``login.success`` / ``login.failure`` with the method; secrets (client secret, bind password) never reach a log.
"""

from __future__ import annotations

from flask import Flask, abort, current_app, render_template, request
from flask.typing import ResponseReturnValue

from graph.accounts import Person
from webapp.auth import audit, safe_next, start_session

METHODS: tuple[str, ...] = ("local", "oidc", "ldap")


def enabled_methods() -> frozenset[str]:
    return current_app.config["HUITONG"].auth_method_set


def require(method: str) -> None:
    """404 unless ``method`` is on: a switched-off method looks like no method at all."""
    if method not in enabled_methods():
        abort(404)


def signed_in(person: Person, method: str, target: str | None) -> ResponseReturnValue:
    """Start the session of a person the method vouched for, audit it, and go where they were heading."""
    from flask import redirect, url_for

    start_session(person)
    audit("login.success", target_kind="person", target_id=person.id, actor=person, detail={"method": method})
    return redirect(safe_next(target, url_for("home.index")))


def refused(method: str, reason: str, message: str, status: int, *, person: Person | None = None,
            login: str = "", target: str = "", extra: dict[str, object] | None = None) -> ResponseReturnValue:
    """Audit a refused sign-in and show the login page with the reason in the reader's language."""
    detail: dict[str, object] = {"method": method, "reason": reason, **(extra or {})}
    if login:
        detail["login"] = login
    audit("login.failure", target_kind="person" if person else None, target_id=person.id if person else None,
          detail=detail)
    return render_template("account/login.html", next=target, login_value="", ldap_login=login,
                           error=message), status


def init_sso(app: Flask) -> None:
    """Register the single sign-on routes and tell the login template which methods are on."""
    from webapp.sso import oidc, views

    oidc.init_oidc(app)
    app.register_blueprint(views.bp)

    @app.context_processor
    def _methods() -> dict[str, object]:
        return {"auth_methods": app.config["HUITONG"].auth_method_set}


def next_target() -> str:
    return (request.values.get("next") or "")[:2000]
