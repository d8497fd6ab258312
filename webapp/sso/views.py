"""Routes of single sign-on: ``/sso/oidc/login``, ``/sso/oidc/callback`` and ``POST /sso/ldap/login``."""

from __future__ import annotations

from typing import Any

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client import OAuthError
from flask import Blueprint, abort, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from joserfc.errors import JoseError

from graph import accounts
from ingest.ldap_directory import DirectoryUnavailable
from ingest.ldap_login import authenticate
from ingest.sso_accounts import Identity, linked_person
from webapp import services
from webapp.auth import client_address, current_person, public, safe_next
from webapp.input_guard import allow_offsite_redirect
from webapp.sso import next_target, oidc, refused, require, signed_in

bp = Blueprint("sso", __name__, url_prefix="/sso")

_NEXT = "sso_next"  # where to go after the provider sends the browser back


def _unknown() -> str:
    return _("No account here is linked to this sign-in. Ask an administrator to add you.")


def _inactive() -> str:
    return _("This account is deactivated. Ask an administrator.")


# -- OpenID Connect ---------------------------------------------------------------------------------------------

def _provider() -> Any:
    """The configured provider's client; 404 when OIDC is off or not configured."""
    require("oidc")
    provider = oidc.client()
    if provider is None:
        abort(404)
    return provider


@bp.get("/oidc/login")
@public
def oidc_login() -> ResponseReturnValue:
    provider = _provider()
    if current_person() is not None:
        return redirect(safe_next(request.args.get("next"), url_for("home.index")))
    session[_NEXT] = next_target()
    callback = services.settings().oidc_redirect_url or url_for("sso.oidc_callback", _external=True)
    try:
        response = provider.authorize_redirect(callback)
    except (OAuthError, requests.RequestException, ValueError):
        return refused("oidc", "provider_unavailable", _provider_down(), 503)
    allow_offsite_redirect(response.headers["Location"])  # to the configured provider, and nowhere else
    return response


def _provider_down() -> str:
    return _("The sign-in provider cannot be reached right now. Try again later, or ask an administrator.")


@bp.get("/oidc/callback")
@public
def oidc_callback() -> ResponseReturnValue:
    provider = _provider()
    target = session.pop(_NEXT, "")
    try:
        token = provider.authorize_access_token()
        claims = oidc.claims_of(token)
    except AuthlibBaseError as error:
        # Wrong or replayed state, an error answer of the provider.
        return refused("oidc", "invalid_response", _invalid_answer(), 400, target=target,
                       extra={"error": (error.error or "")[:100]})
    except (JoseError, requests.RequestException, ValueError) as error:
        # A bad signature (no key of the provider's JWKS made it), a wrong nonce, issuer, audience or expiry.
        return refused("oidc", "invalid_response", _invalid_answer(), 400, target=target,
                       extra={"error": type(error).__name__})
    if claims is None:
        return refused("oidc", "no_id_token", _invalid_answer(), 400, target=target)
    settings = services.settings()
    link = str(claims.get(settings.oidc_link_claim) or "")
    if settings.oidc_link_claim == "email" and claims.get("email_verified") is False:
        link = ""  # an address the provider did not verify proves nothing about who this is
    identity = Identity("oidc", link, str(claims.get("name") or ""), str(claims.get("email") or ""))
    person = linked_person(services.store(), settings, identity)
    subject = str(claims.get("sub") or "")[:200]
    if person is None:
        return refused("oidc", "unknown", _unknown(), 403, target=target, extra={"subject": subject})
    if not person.active:
        return refused("oidc", "inactive", _inactive(), 403, person=person, target=target)
    return signed_in(person, "oidc", target)


def _invalid_answer() -> str:
    return _("The answer of the sign-in provider was not valid (expired, reused or altered). Please try again.")


# -- LDAP / Active Directory ----------------------------------------------------------------------------------

@bp.post("/ldap/login")
@public
def ldap_login() -> ResponseReturnValue:
    from webapp.views.account import _throttled_message as throttled_message

    require("ldap")
    login = request.form.get("ldap_login", "")[:320]
    password = request.form.get("ldap_password", "")
    target = next_target()
    settings = services.settings()
    try:
        outcome = authenticate(services.store(), settings, login, password, client=client_address())
    except DirectoryUnavailable as error:
        return refused("ldap", "directory_unavailable", _(
            "The directory cannot be reached right now. Try again later, or ask an administrator."), 503,
            login=login, target=target, extra={"error": str(error)[:200]})
    person = outcome.person
    if outcome.status == "ok" and person is not None:
        return signed_in(person, "ldap", target)
    extra: dict[str, object] = {}
    if outcome.failure is not None and outcome.failure.delayed:
        extra["delays"] = [{"scope": scope, "seconds": s} for scope, s in outcome.failure.delayed]
    if outcome.status == "throttled":
        message, status = throttled_message(outcome.retry_at_ms), 429
    elif outcome.status == "inactive":
        message, status = _inactive(), 403
    elif outcome.status == "unknown":
        message, status = _unknown(), 403
    else:
        message, status = _("Wrong directory user name or password."), 401
    return refused("ldap", outcome.status, message, status, person=person, login=accounts.normalise_login(login),
                   target=target, extra=extra)
