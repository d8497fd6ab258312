"""OpenID Connect sign-in (Authlib): authorization code flow with PKCE (S256), state and nonce checked, the ID
token's signature verified against the provider's JWKS, its issuer and audience checked.

The provider is found by discovery (``HUITONG_OIDC_ISSUER`` + ``/.well-known/openid-configuration``). The
person is the one linked by ``HUITONG_OIDC_LINK_CLAIM`` (see :mod:`ingest.sso_accounts`).
"""

from __future__ import annotations

from typing import Any

from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app

EXTENSION = "huitong_oidc"
CLIENT = "huitong"


def init_oidc(app: Flask) -> None:
    """Register the provider when OIDC is on and configured (nothing is fetched until the first login)."""
    settings = app.config["HUITONG"]
    if "oidc" not in settings.auth_method_set or not settings.oidc_issuer or not settings.oidc_client_id:
        return
    oauth = OAuth(app)
    oauth.register(
        CLIENT,
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret.get_secret_value() or None,
        server_metadata_url=settings.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs={"scope": settings.oidc_scopes, "code_challenge_method": "S256",
                       "timeout": settings.ldap_timeout_seconds},
    )
    app.extensions[EXTENSION] = oauth


def client() -> Any:
    """The registered Authlib client, or None when OIDC is not configured."""
    oauth = current_app.extensions.get(EXTENSION)
    return oauth.create_client(CLIENT) if oauth is not None else None


def claims_of(token: dict[str, Any]) -> dict[str, Any] | None:
    """The verified ID token's claims (None without an ID token: an answer without one proves nothing).

    A link claim the ID token lacks is read from the userinfo endpoint, which is asked with the access token
    just obtained; its ``sub`` must be the ID token's."""
    verified = token.get("userinfo")
    if not verified or "id_token" not in token:
        return None
    claims = dict(verified)
    link_claim = current_app.config["HUITONG"].oidc_link_claim
    if not claims.get(link_claim):
        extra = client().userinfo(token=token)
        if extra.get("sub") == claims.get("sub"):
            claims = {**dict(extra), **claims}
    return claims
