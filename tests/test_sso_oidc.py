"""OpenID Connect sign-in against a real provider the tests start (npm ``oidc-provider`` on Node).

The round trip goes through the provider's own login and consent pages: the app lands signed in as the
person linked by e-mail; a forged or replayed state is refused; a subject linked to nobody is refused with a
translated message; PKCE (S256) and a nonce are sent; a method switched off has no button and answers 404.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from oidc_support import CLIENT_ID, CLIENT_SECRET, Provider, provider_login, running_provider
from pydantic import SecretStr
from web_support import PASSWORD, client_from, csrf_token, random_address, sign_in

from graph import accounts
from graph.audit import AuditFilter, list_events
from graph.falkordb_backend import FalkorStore
from settings import Settings

RUN = uuid.uuid4().hex[:6]
LINKED = f"oi.{RUN}"
LINKED_EMAIL = f"oi.{RUN}@corp.example"


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    accounts_at_provider = {LINKED: {"email": LINKED_EMAIL, "name": "欧 Oi"},
                            "stranger": {"email": f"stranger.{RUN}@elsewhere.example", "name": "Stranger"}}
    with running_provider(tmp_path_factory.mktemp("oidc"), accounts_at_provider) as running:
        yield running


@pytest.fixture(scope="module")
def person(demo: FalkorStore) -> accounts.Person:
    return accounts.create_person(demo, username=f"local.{RUN}", name=f"欧 {RUN}", department_code="FIN",
                                  password=PASSWORD, email=LINKED_EMAIL)


def _oidc_settings(settings: Settings, provider: Provider, methods: str) -> Settings:
    return settings.model_copy(update={
        "auth_methods": methods, "oidc_issuer": provider.issuer, "oidc_client_id": CLIENT_ID,
        "oidc_client_secret": SecretStr(CLIENT_SECRET), "oidc_link_claim": "email"})


@pytest.fixture(scope="module")
def oidc_app(settings: Settings, demo: FalkorStore, provider: Provider) -> Flask:
    from webapp import create_app

    application = create_app(_oidc_settings(settings, provider, "local,oidc"))
    application.config.update(TESTING=True)
    return application


def _browser(app: Flask, language: str = "en") -> FlaskClient:
    client = client_from(app, random_address())
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    return client


def _start(client: FlaskClient, next_url: str = "") -> str:
    response = client.get("/sso/oidc/login" + (f"?next={next_url}" if next_url else ""))
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response.headers["Location"]


def _back(client: FlaskClient, callback: str):  # type: ignore[no-untyped-def]
    parts = urlsplit(callback)
    return client.get(f"{parts.path}?{parts.query}")


def test_round_trip_lands_signed_in_as_the_linked_person(demo: FalkorStore, oidc_app: Flask, provider: Provider,
                                                         person: accounts.Person) -> None:
    client = _browser(oidc_app)
    page = client.get("/login").get_data(as_text=True)
    assert "/sso/oidc/login" in page and 'action="/login"' in page, "both methods are offered"
    authorize = _start(client, "/account")
    query = parse_qs(urlsplit(authorize).query)
    assert authorize.startswith(provider.issuer)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0]
    assert query["state"][0] and query["nonce"][0] and query["client_id"] == [CLIENT_ID]
    callback = provider_login(authorize, LINKED)
    landed = _back(client, callback)
    assert landed.status_code == 302 and landed.headers["Location"].endswith("/account")
    profile = client.get("/account")
    assert profile.status_code == 200 and person.name in profile.get_data(as_text=True)
    events = list_events(demo, AuditFilter(target_id=person.id), limit=20)
    assert any(e["action"] == "login.success" and '"oidc"' in str(e.get("detail")) for e in events)
    replay = _back(_browser(oidc_app), callback)
    assert replay.status_code == 400, "a callback is good once, in the browser that started it"


def test_wrong_state_is_refused(demo: FalkorStore, oidc_app: Flask, provider: Provider,
                                person: accounts.Person) -> None:
    client = _browser(oidc_app)
    callback = provider_login(_start(client), LINKED)
    parts = urlsplit(callback)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query["state"] = "forged-" + query["state"][:10]
    refused = client.get(f"{parts.path}?{urlencode(query)}")
    assert refused.status_code == 400
    assert "not valid" in refused.get_data(as_text=True)
    assert client.get("/").status_code == 302, "not signed in"
    failures = list_events(demo, AuditFilter(action="login.failure"), limit=20)
    assert any('"oidc"' in str(e.get("detail")) and "invalid_response" in str(e.get("detail")) for e in failures)
    assert not any(CLIENT_SECRET in str(e.get("detail")) for e in failures)


def test_unknown_subject_is_refused_in_the_readers_language(demo: FalkorStore, oidc_app: Flask,
                                                            provider: Provider) -> None:
    expected = (("en", "No account here is linked to this sign-in"), ("zh-CN", "没有与此登录身份关联的账号"))
    for language, words in expected:
        client = _browser(oidc_app, language)
        refused = _back(client, provider_login(_start(client), "stranger"))
        assert refused.status_code == 403
        assert words in refused.get_data(as_text=True)
        assert client.get("/").status_code == 302
    assert accounts.find_account(demo, f"stranger.{RUN}@elsewhere.example") is None


def test_local_switched_off(settings: Settings, demo: FalkorStore, provider: Provider,
                            person: accounts.Person) -> None:
    from webapp import create_app

    only_sso = create_app(_oidc_settings(settings, provider, "oidc"))
    only_sso.config.update(TESTING=True)
    client = _browser(only_sso)
    page = client.get("/login").get_data(as_text=True)
    assert "/sso/oidc/login" in page and 'action="/login"' not in page and "ldap_login" not in page
    assert sign_in(client, person.username, PASSWORD).status_code == 404, "no local password form, no route"
    assert client.post("/sso/ldap/login", data={"ldap_login": "x", "ldap_password": "y",
                                                 "csrf_token": csrf_token(client)}).status_code == 404
    assert _back(client, provider_login(_start(client), LINKED)).status_code == 302, "single sign-on still works"


def test_id_token_not_signed_by_the_provider_is_refused(oidc_app: Flask, provider: Provider) -> None:
    """The ID token is checked against the provider's JWKS: one signed by any other key proves nothing."""
    from joserfc import jwt
    from joserfc.errors import JoseError
    from joserfc.jwk import RSAKey

    from webapp.sso import oidc

    impostor = RSAKey.generate_key(2048)
    with oidc_app.test_request_context():
        client = oidc.client()
        issuer = client.load_server_metadata()["issuer"]
        now = int(time.time())
        claims = {"iss": issuer, "aud": CLIENT_ID, "sub": LINKED, "email": LINKED_EMAIL, "nonce": "n1",
                  "iat": now, "exp": now + 300}
        provider_kid = client.fetch_jwk_set()["keys"][0]["kid"]
        for kid in ("impostor", provider_kid):
            forged = jwt.encode({"alg": "RS256", "kid": kid}, claims, impostor)
            with pytest.raises(JoseError):
                client.parse_id_token({"id_token": forged}, nonce="n1")
