"""Every route the app registers, now or later, refuses anonymous callers, and ``/admin`` refuses non-admins.

The routes are enumerated from ``app.url_map``, so a page added by anyone is covered without editing
this file; only making a route public needs a deliberate change to the allow-list below.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from web_support import PASSWORD, client_from, new_person, random_address, sign_in
from werkzeug.routing import Rule

from graph.falkordb_backend import FalkorStore
from webapp.auth import is_admin_path, is_public

# The only endpoints anyone may reach without signing in.
PUBLIC_ALLOW_LIST = {
    "static", "assets.vendor", "health.healthz", "home.set_language", "account.login", "account.login_submit",
    # single sign-on (webapp/sso/): 404 unless its method is on in HUITONG_AUTH_METHODS
    "sso.oidc_login", "sso.oidc_callback", "sso.ldap_login",
}
PROBED_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")

_SAMPLE_BY_CONVERTER = {"IntegerConverter": 1, "FloatConverter": 1.5, "UUIDConverter": uuid.UUID(int=1)}


def _sample(converter: object) -> object:
    items = getattr(converter, "items", None)  # any(a, b, c): one of its words
    if items:
        return sorted(items)[0]
    return _SAMPLE_BY_CONVERTER.get(type(converter).__name__, "probe")


def _url(rule: Rule) -> str:
    values = {name: _sample(converter) for name, converter in rule._converters.items()}
    built = rule.build(values, append_unknown=False)
    assert built is not None, f"cannot build {rule.rule}"
    return built[1]


def _routes(app: Flask) -> Iterator[tuple[str, str, str]]:
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods & set(PROBED_METHODS)):
            yield rule.endpoint, method, _url(rule)


def _call(client: FlaskClient, method: str, url: str):  # type: ignore[no-untyped-def]
    return client.open(url, method=method)


def test_the_allow_list_is_exactly_what_is_public(app: Flask) -> None:
    public = {rule.endpoint for rule in app.url_map.iter_rules() if is_public(rule.endpoint, app)}
    assert public == PUBLIC_ALLOW_LIST


def test_enumeration_sees_the_protected_routes(app: Flask) -> None:
    endpoints = {endpoint for endpoint, _, _ in _routes(app)}
    assert {"home.index", "account.logout", "account.reset_password", "audit.events", "audit.export_csv"} <= endpoints


def test_anonymous_callers_are_refused_everywhere(app: Flask, demo: FalkorStore) -> None:
    client = app.test_client()
    checked = 0
    for endpoint, method, url in _routes(app):
        if endpoint in PUBLIC_ALLOW_LIST:
            continue
        response = _call(client, method, url)
        where = f"{method} {url} ({endpoint})"
        if url.startswith("/api/"):
            assert response.status_code == 401, where
        else:
            assert response.status_code == 302, f"{where} answered {response.status_code}"
            assert response.headers["Location"].startswith("/login"), where
        checked += 1
    assert checked >= 5


def test_anonymous_unknown_urls_learn_nothing(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/no/such/page").status_code == 302
    assert client.get("/api/no/such/thing").status_code == 401
    assert client.get("/admin/no-such-page").status_code == 302


def test_public_routes_answer_without_login(app: Flask, demo: FalkorStore) -> None:
    client = app.test_client()
    assert client.get("/login").status_code == 200
    assert client.get("/healthz").status_code in (200, 503)  # health is reported, never a login page
    assert client.get("/static/app.css").status_code == 200


def test_members_get_403_on_every_admin_route(app: Flask, demo: FalkorStore) -> None:
    for role in ("member", "manager"):
        person = new_person(demo, role=role)
        client = client_from(app, random_address())
        assert sign_in(client, person.username, PASSWORD).status_code == 302
        admin_routes = [(e, m, u) for e, m, u in _routes(app) if is_admin_path(u)]
        assert admin_routes, "no /admin route registered"
        for endpoint, method, url in admin_routes:
            response = _call(client, method, url)
            assert response.status_code == 403, f"{role}: {method} {url} ({endpoint}) answered {response.status_code}"
        assert client.get("/admin/no-such-page").status_code == 403


@pytest.mark.parametrize("path", ["/admin", "/admin/", "/admin/x", "/administrator", "/admins"])
def test_admin_prefix_matching(path: str) -> None:
    assert is_admin_path(path) == (path in {"/admin", "/admin/", "/admin/x"})
