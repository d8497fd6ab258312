"""Sessions end for good: deactivation (CLI and admin page), role removal and password change end every session of
the person, reactivation brings none back, and a CSRF token lives as long as the session it belongs to."""

from __future__ import annotations

import itsdangerous
import pytest
from flask import Flask
from flask.testing import FlaskClient
from helpers import run_cli
from web_support import ADMIN_PASSWORD, PASSWORD, client_from, csrf_token, new_person, random_address, sign_in

from graph import accounts
from graph.audit import AuditFilter, list_events
from graph.falkordb_backend import FalkorStore


def _signed_in(app: Flask, username: str, count: int = 2) -> list[FlaskClient]:
    clients = []
    for _ in range(count):
        client = client_from(app, random_address())
        assert sign_in(client, username, PASSWORD).status_code == 302
        assert client.get("/").status_code == 200
        clients.append(client)
    return clients


def _admin(app: Flask) -> FlaskClient:
    admin = client_from(app, random_address())
    assert sign_in(admin, "admin", ADMIN_PASSWORD).status_code == 302
    return admin


def test_cli_deactivate_ends_every_session_and_activate_revives_none(app: Flask, demo: FalkorStore) -> None:
    person = new_person(demo)
    sessions = _signed_in(app, person.username)
    done = run_cli("user", "deactivate", person.username)
    assert done.returncode == 0, done.stderr
    assert "2 session(s) ended" in done.stdout
    assert all(client.get("/").status_code == 302 for client in sessions)
    done = run_cli("user", "activate", person.username)
    assert done.returncode == 0, done.stderr
    assert all(client.get("/").status_code == 302 for client in sessions), "old cookies stay dead"
    assert _signed_in(app, person.username, 1), "a new login works"
    actions = [e["action"] for e in list_events(demo, AuditFilter(target_id=person.id), limit=50)]
    assert "org.person.deactivate" in actions and "org.person.activate" in actions
    assert run_cli("user", "deactivate", "no.such.user").returncode == 1


def test_sessions_unused_while_deactivated_do_not_come_back(app: Flask, demo: FalkorStore) -> None:
    """The old bug: a cookie that made no request while its person was deactivated worked again afterwards."""
    person = new_person(demo)
    sessions = _signed_in(app, person.username)
    admin = _admin(app)
    page = f"/admin/org/people/{person.id}"
    for active in ("false", "true"):
        response = admin.post(f"{page}/status", data={"active": active, "csrf_token": csrf_token(admin, page)})
        assert response.status_code == 302
    assert all(client.get("/").status_code == 302 for client in sessions)


def test_role_removal_ends_sessions_but_granting_does_not(app: Flask, demo: FalkorStore) -> None:
    person = new_person(demo, role="manager")
    admin = _admin(app)
    page = f"/admin/org/people/{person.id}"
    (session,) = _signed_in(app, person.username, 1)
    grant = admin.post(f"{page}/roles", data={"roles": ["member", "manager", "admin"], "manager": "",
                                              "csrf_token": csrf_token(admin, page)})
    assert grant.status_code == 302 and session.get("/").status_code == 200
    remove = admin.post(f"{page}/roles", data={"roles": ["member"], "manager": "",
                                               "csrf_token": csrf_token(admin, page)})
    assert remove.status_code == 302 and session.get("/").status_code == 302


def test_password_change_and_reset_end_the_other_sessions(app: Flask, demo: FalkorStore) -> None:
    person = new_person(demo)
    mine, other = _signed_in(app, person.username)
    accounts.set_password(demo, person.id, "a completely new one", keep_session=None)
    assert mine.get("/").status_code == 302 and other.get("/").status_code == 302


def test_csrf_token_lives_as_long_as_the_session(app: Flask, demo: FalkorStore, settings,  # type: ignore[no-untyped-def]
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    assert app.config["WTF_CSRF_TIME_LIMIT"] == settings.session_hours * 3600
    client = client_from(app, random_address())
    assert sign_in(client, "admin", ADMIN_PASSWORD).status_code == 302
    csrf_token(client, "/")  # puts the raw token into the session
    with client.session_transaction() as session:
        raw = session["csrf_token"]
    serializer = itsdangerous.URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token")

    def token_aged(seconds: int) -> str:
        real = itsdangerous.TimestampSigner.get_timestamp
        monkeypatch.setattr(itsdangerous.TimestampSigner, "get_timestamp", lambda self: real(self) - seconds)
        try:
            return serializer.dumps(raw)
        finally:
            monkeypatch.setattr(itsdangerous.TimestampSigner, "get_timestamp", real)

    # A form left open for two hours still posts (Flask-WTF's default gave up after one)...
    assert client.post("/lang", data={"lang": "en", "next": "/", "csrf_token": token_aged(2 * 3600)}
                       ).status_code == 302
    # ...but not a token older than any session could be.
    too_old = token_aged(settings.session_hours * 3600 + 60)
    assert client.post("/lang", data={"lang": "en", "next": "/", "csrf_token": too_old}).status_code == 400
