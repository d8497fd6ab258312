"""Login, logout, sessions, throttling, deactivation, password change and reset, CSRF: the real app on the real graph.

"""

from __future__ import annotations

import re
import uuid

import pytest
from flask import Flask
from web_support import (
    ADMIN_PASSWORD,
    PASSWORD,
    client_from,
    csrf_token,
    new_person,
    random_address,
    sign_in,
)

from graph import accounts, throttle
from graph.audit import AuditFilter, list_events
from graph.falkordb_backend import FalkorStore


def events_for(store: FalkorStore, **where: str) -> list[dict]:
    return list_events(store, AuditFilter(**where), limit=100)


# -- login and logout -----------------------------------------------------------------------------

def test_anonymous_home_redirects_to_login_and_back(app: Flask, demo: FalkorStore) -> None:
    client = app.test_client()
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/")
    response = sign_in(client, "admin", ADMIN_PASSWORD, next_url="/")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/").status_code == 200


def test_login_by_email_case_insensitive(app: Flask, demo: FalkorStore) -> None:
    person = new_person(demo)
    client = client_from(app, random_address())
    response = sign_in(client, f"  {person.username.upper()}@TEST.example ", PASSWORD)
    assert response.status_code == 302
    page = client.get("/account")
    assert page.status_code == 200 and person.username in page.get_data(as_text=True)


def test_wrong_password_is_refused_and_audited(app: Flask, demo: FalkorStore) -> None:
    person = new_person(demo)
    client = client_from(app, random_address())
    response = sign_in(client, person.username, "not the password")
    assert response.status_code == 401
    assert "Wrong username" in response.get_data(as_text=True) or "错误" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302
    failures = events_for(demo, action="login.failure", target_id=person.id)
    assert len(failures) == 1 and '"reason": "invalid"' in failures[0]["detail"]


def test_unknown_login_looks_like_a_wrong_password(app: Flask, demo: FalkorStore) -> None:
    client = client_from(app, random_address())
    unknown = sign_in(client, "nobody.at.all", PASSWORD)
    person = new_person(demo)
    wrong = sign_in(client, person.username, "nope nope nope")
    assert unknown.status_code == wrong.status_code == 401
    strip = re.compile(r'value="[^"]*"|"X-CSRFToken": "[^"]*"')  # typed login and fresh tokens differ
    assert strip.sub("", unknown.get_data(as_text=True)) == strip.sub("", wrong.get_data(as_text=True))


def test_redirect_after_login_stays_on_this_site(app: Flask, demo: FalkorStore) -> None:
    for hostile in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"):
        client = app.test_client()
        response = sign_in(client, "admin", ADMIN_PASSWORD, next_url=hostile)
        assert response.headers["Location"] == "/", hostile


def test_logout_revokes_the_session_server_side(app: Flask, demo: FalkorStore) -> None:
    client = app.test_client()
    sign_in(client, "admin", ADMIN_PASSWORD)
    stolen = client.get_cookie("session").value
    token = csrf_token(client, "/account")
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert client.get("/").status_code == 302
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    assert replay.get("/").status_code == 302, "a copied cookie must not outlive logout"


def test_login_starts_a_new_session(app: Flask, demo: FalkorStore) -> None:
    """Session fixation: nothing of the anonymous session, its CSRF token included, survives login."""
    client = app.test_client()
    before = csrf_token(client)
    anonymous_cookie = client.get_cookie("session").value
    client.post("/login", data={"login": "admin", "password": ADMIN_PASSWORD, "csrf_token": before})
    assert client.get_cookie("session").value != anonymous_cookie
    refused = client.post("/account/password", data={"csrf_token": before, "current_password": "x",
                                                        "new_password": "y" * 9, "repeat_password": "y" * 9})
    assert refused.status_code == 400 and "CSRF" in refused.get_data(as_text=True)
    # Two logins of the same person are two sessions.
    other = app.test_client()
    sign_in(other, "admin", ADMIN_PASSWORD)
    assert other.get_cookie("session").value != client.get_cookie("session").value


def test_session_cookie_flags(app: Flask, demo: FalkorStore) -> None:
    client = app.test_client()
    response = sign_in(client, "admin", ADMIN_PASSWORD)
    header = response.headers["Set-Cookie"]
    assert "HttpOnly" in header and "SameSite=Lax" in header
    assert "Secure" not in header  # HUITONG_SECURE_COOKIES is off in tests


def test_a_page_that_changes_nothing_writes_no_cookie(app: Flask, demo: FalkorStore) -> None:
    """A background refresh sent before a form's answer must not write back the older session after it (the
    form's flashed messages were lost that way)."""
    client = app.test_client()
    sign_in(client, "admin", ADMIN_PASSWORD)
    client.get("/documents")  # the first page may still settle what the session holds (its CSRF token)
    response = client.get("/documents", headers={"HX-Request": "true"})
    assert response.status_code == 200 and "Set-Cookie" not in response.headers


def test_secure_cookies_setting(settings, store: FalkorStore, demo: FalkorStore) -> None:  # type: ignore[no-untyped-def]
    from webapp import create_app

    secure = create_app(settings.model_copy(update={"secure_cookies": True}))
    client = secure.test_client()
    response = sign_in(client, "admin", ADMIN_PASSWORD)
    assert "Secure" in response.headers["Set-Cookie"]


def test_language_survives_login(app: Flask, demo: FalkorStore) -> None:
    client = app.test_client()
    client.post("/lang", data={"lang": "en", "next": "/login", "csrf_token": csrf_token(client)})
    assert "Sign in to Huitong" in client.get("/login").get_data(as_text=True)
    sign_in(client, "admin", ADMIN_PASSWORD)
    assert "Welcome to Huitong" in client.get("/").get_data(as_text=True)


def test_login_page_speaks_chinese_by_default(app: Flask, demo: FalkorStore) -> None:
    page = app.test_client().get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    text = page.get_data(as_text=True)
    assert "登录汇通" in text and "用户名或邮箱" in text


# -- CSRF -----------------------------------------------------------------------------------------

def test_login_without_csrf_token_is_refused(app: Flask, demo: FalkorStore) -> None:
    client = app.test_client()
    response = client.post("/login", data={"login": "admin", "password": ADMIN_PASSWORD})
    assert response.status_code == 400
    assert client.get("/").status_code == 302


def test_htmx_request_needs_the_csrf_header(app: Flask, demo: FalkorStore) -> None:
    client = app.test_client()
    sign_in(client, "admin", ADMIN_PASSWORD)
    token = csrf_token(client, "/account")
    refused = client.post("/logout", headers={"HX-Request": "true"})
    assert refused.status_code == 400 and refused.get_json()["error"] == "csrf"
    assert client.get("/").status_code == 200, "a refused logout must not sign out"
    accepted = client.post("/logout", headers={"HX-Request": "true", "X-CSRFToken": token})
    assert accepted.status_code == 302


def test_anonymous_htmx_and_api_calls_get_no_redirect_page(app: Flask) -> None:
    client = app.test_client()
    htmx = client.get("/", headers={"HX-Request": "true"})
    assert htmx.status_code == 401 and htmx.headers["HX-Redirect"].startswith("/login")
    api = client.get("/api/anything")
    assert api.status_code == 401 and api.get_json() == {"error": "login required"}


# -- throttling: growing delays per (account, address) and per address, never a lock on an account alone --

def test_a_stranger_cannot_lock_an_admin_out(app: Flask, demo: FalkorStore, monkeypatch: pytest.MonkeyPatch) -> None:
    frozen = accounts.now_ms()
    monkeypatch.setattr(accounts, "now_ms", lambda: frozen)  # the first delay (1 s) must not run out mid-test
    victim = new_person(demo, role="admin")
    attacker = client_from(app, random_address())
    statuses = [sign_in(attacker, victim.username if n % 2 else f"{victim.username}@test.example",
                        "wrong password").status_code for n in range(throttle.PAIR_FREE_FAILURES + 3)]
    assert statuses == [401] * throttle.PAIR_FREE_FAILURES + [429] * 3
    # Even the right password waits at the guesser's address...
    assert sign_in(attacker, victim.username, PASSWORD).status_code == 429
    # ...while the owner at their own desk is not touched at all.
    owner = client_from(app, random_address())
    assert sign_in(owner, victim.username, PASSWORD).status_code == 302 and owner.get("/").status_code == 200
    throttles = events_for(demo, action="login.throttle", target_id=victim.id)
    assert len(throttles) == 1 and '"scope": "account_address"' in throttles[0]["detail"]
    assert len(events_for(demo, action="login.failure", target_id=victim.id)) == len(statuses) + 1


def test_an_address_guessing_many_accounts_is_slowed(app: Flask, demo: FalkorStore,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    frozen = accounts.now_ms()
    monkeypatch.setattr(accounts, "now_ms", lambda: frozen)
    monkeypatch.setattr(throttle, "ADDRESS_FREE_FAILURES", 4)  # each attempt costs one argon2 verification
    client = client_from(app, random_address())
    statuses = [sign_in(client, f"guess.{n}.{uuid.uuid4().hex[:6]}", "wrong password").status_code
                for n in range(throttle.ADDRESS_FREE_FAILURES + 1)]  # a different account each time
    assert statuses == [401] * throttle.ADDRESS_FREE_FAILURES + [429]
    person = new_person(demo)
    assert sign_in(client, person.username, PASSWORD).status_code == 429
    assert sign_in(client_from(app, random_address()), person.username, PASSWORD).status_code == 302


def test_throttles_are_shared_by_every_process(app: Flask, demo: FalkorStore, settings,  # type: ignore[no-untyped-def]
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The counters live in the graph: a second app (another process's view) sees the same wait."""
    from webapp import create_app

    frozen = accounts.now_ms()
    monkeypatch.setattr(accounts, "now_ms", lambda: frozen)
    person, address = new_person(demo), random_address()
    for _ in range(throttle.PAIR_FREE_FAILURES + 1):
        sign_in(client_from(app, address), person.username, "wrong password")
    other = create_app(settings)
    assert sign_in(client_from(other, address), person.username, PASSWORD).status_code == 429


def test_delays_grow_then_end(demo: FalkorStore, monkeypatch: pytest.MonkeyPatch) -> None:
    person, address = new_person(demo), random_address()
    clock = [accounts.now_ms()]
    monkeypatch.setattr(accounts, "now_ms", lambda: clock[0])
    for _ in range(throttle.PAIR_FREE_FAILURES):
        assert accounts.authenticate(demo, person.username, "bad", client=address).status == "invalid"
    waits = []
    for _ in range(4):
        outcome = accounts.authenticate(demo, person.username, "bad", client=address)
        assert outcome.status == "throttled"
        waits.append(outcome.retry_at_ms - clock[0])
        assert accounts.authenticate(demo, person.username, PASSWORD, client=address).status == "throttled"
        clock[0] = outcome.retry_at_ms + 1
    assert waits == [1000, 2000, 4000, 8000]
    assert accounts.authenticate(demo, person.username, PASSWORD, client=address).status == "ok"
    # A success forgets the (account, address) counter: the next typo is free again.
    assert accounts.authenticate(demo, person.username, "bad", client=address).status == "invalid"


def test_delays_are_capped_and_forgotten_after_a_quiet_hour(demo: FalkorStore,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    person, address = new_person(demo), random_address()
    clock = [accounts.now_ms()]
    monkeypatch.setattr(accounts, "now_ms", lambda: clock[0])
    outcome = None
    for _ in range(throttle.PAIR_FREE_FAILURES + 15):
        outcome = accounts.authenticate(demo, person.username, "bad", client=address)
        clock[0] = max(clock[0], outcome.retry_at_ms) + 1
    assert outcome is not None and outcome.retry_at_ms - (clock[0] - 1) <= 0
    assert max(s for _, s in outcome.failure.delayed) == throttle.MAX_DELAY_SECONDS
    clock[0] += throttle.RESET_SECONDS * 1000 + 1
    assert accounts.authenticate(demo, person.username, "bad", client=address).status == "invalid"


def test_current_password_check_is_throttled_like_a_login(app: Flask, demo: FalkorStore,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    frozen = accounts.now_ms()
    monkeypatch.setattr(accounts, "now_ms", lambda: frozen)
    person = new_person(demo)
    client = client_from(app, random_address())
    sign_in(client, person.username, PASSWORD)
    form = {"current_password": "a guess", "new_password": "a brand new pass", "repeat_password": "a brand new pass"}
    statuses = [client.post("/account/password", data={**form, "csrf_token": csrf_token(client, "/account/password")}
                            ).status_code for _ in range(throttle.PAIR_FREE_FAILURES + 2)]
    assert statuses == [400] * throttle.PAIR_FREE_FAILURES + [429, 429]
    right = client.post("/account/password", data={**form, "current_password": PASSWORD,
                                                   "csrf_token": csrf_token(client, "/account/password")})
    assert right.status_code == 429, "the right password waits too: the guesser learns nothing"
    assert len(events_for(demo, action="password.throttle", target_id=person.id)) == 1
    # The person's own login from elsewhere is untouched.
    assert sign_in(client_from(app, random_address()), person.username, PASSWORD).status_code == 302


# -- deactivation -------------------------------------------------------------------------------

def test_deactivated_person_cannot_log_in(app: Flask, demo: FalkorStore) -> None:
    person = new_person(demo)
    accounts.set_active(demo, person.id, False)
    client = client_from(app, random_address())
    response = sign_in(client, person.username, PASSWORD)
    assert response.status_code == 403 and client.get("/").status_code == 302
    assert sign_in(client, person.username, "wrong password").status_code == 401  # reveals nothing without it


def test_deactivation_ends_a_live_session_at_the_next_request(app: Flask, demo: FalkorStore) -> None:
    person = new_person(demo)
    client = client_from(app, random_address())
    sign_in(client, person.username, PASSWORD)
    assert client.get("/").status_code == 200
    copied = app.test_client()
    copied.set_cookie("session", client.get_cookie("session").value)
    accounts.set_active(demo, person.id, False)
    assert client.get("/").status_code == 302
    accounts.set_active(demo, person.id, True)
    assert client.get("/").status_code == 302, "the ended session does not come back"
    assert copied.get("/").status_code == 302, "not even through a copy of its cookie"


def test_set_active_on_unknown_person(demo: FalkorStore) -> None:
    with pytest.raises(accounts.UnknownPerson):
        accounts.set_active(demo, "no-such-id", False)


# -- passwords --------------------------------------------------------------------------------------

def test_change_password_needs_the_current_one(app: Flask, demo: FalkorStore) -> None:
    person = new_person(demo)
    client = client_from(app, random_address())
    elsewhere = client_from(app, random_address())
    sign_in(client, person.username, PASSWORD)
    sign_in(elsewhere, person.username, PASSWORD)
    new = "a brand new pass"
    form = {"current_password": "not it at all", "new_password": new, "repeat_password": new}
    refused = client.post("/account/password", data={**form, "csrf_token": csrf_token(client, "/account/password")})
    assert refused.status_code == 400
    mismatch = {**form, "current_password": PASSWORD, "repeat_password": "something else"}
    assert client.post("/account/password",
                       data={**mismatch, "csrf_token": csrf_token(client, "/account/password")}).status_code == 400
    short = {"current_password": PASSWORD, "new_password": "short", "repeat_password": "short"}
    assert client.post("/account/password",
                       data={**short, "csrf_token": csrf_token(client, "/account/password")}).status_code == 400
    ok = client.post("/account/password", data={**form, "current_password": PASSWORD,
                                                 "csrf_token": csrf_token(client, "/account/password")})
    assert ok.status_code == 302
    assert client.get("/").status_code == 200, "the session that changed the password stays"
    assert elsewhere.get("/").status_code == 302, "every other session of that person ends"
    fresh = client_from(app, random_address())
    assert sign_in(fresh, person.username, PASSWORD).status_code == 401
    assert sign_in(fresh, person.username, "a brand new pass").status_code == 302
    assert [e["action"] for e in events_for(demo, target_id=person.id) if e["action"].startswith("password")] == [
        "password.change", "password.change_refused", "password.change_refused", "password.change_refused"]


def test_admin_resets_a_password(app: Flask, demo: FalkorStore) -> None:
    person = new_person(demo)
    victim_session = client_from(app, random_address())
    sign_in(victim_session, person.username, PASSWORD)
    admin = app.test_client()
    sign_in(admin, "admin", ADMIN_PASSWORD)
    url = f"/admin/people/{person.id}/password"
    assert person.username in admin.get(url).get_data(as_text=True)
    assert admin.post(url, data={"new_password": "", "csrf_token": csrf_token(admin, url)}).status_code == 400
    assert admin.post(url, data={"new_password": "reset by admin 1", "csrf_token": csrf_token(admin, url)}
                      ).status_code == 302
    assert victim_session.get("/").status_code == 302
    assert sign_in(client_from(app, random_address()), person.username, "reset by admin 1").status_code == 302
    assert admin.get("/admin/people/no-such-person/password").status_code == 404
    reset = events_for(demo, action="password.reset", target_id=person.id)
    assert len(reset) == 1 and reset[0]["actor_username"] == "admin" and reset[0]["target_linked"]


def test_member_and_manager_cannot_reset_passwords(app: Flask, demo: FalkorStore) -> None:
    target = new_person(demo)
    for role in ("member", "manager"):
        person = new_person(demo, role=role)
        client = client_from(app, random_address())
        sign_in(client, person.username, PASSWORD)
        url = f"/admin/people/{target.id}/password"
        assert client.get(url).status_code == 403
        assert client.post(url, data={"new_password": "x" * 12}).status_code == 403
    assert sign_in(client_from(app, random_address()), target.username, PASSWORD).status_code == 302


def test_password_hash_is_argon2(demo: FalkorStore) -> None:
    person = new_person(demo)
    found = accounts.find_account(demo, person.username)
    assert found is not None and found[1].startswith("$argon2id$") and PASSWORD not in found[1]


def test_sessions_are_stored_hashed(app: Flask, demo: FalkorStore) -> None:
    from graph.queries import accounts as q

    person = new_person(demo)
    token = accounts.open_session(demo, person.id, client="test", lifetime_seconds=60)
    assert not demo.run(q.SESSION_PERSON, {"session_id": token, "now": 0}), "the raw token is not a key"
    assert accounts.session_person(demo, token) == person
    accounts.close_session(demo, token)
    assert accounts.session_person(demo, token) is None


def test_expired_session_is_refused(demo: FalkorStore, monkeypatch: pytest.MonkeyPatch) -> None:
    person = new_person(demo)
    token = accounts.open_session(demo, person.id, client="test", lifetime_seconds=60)
    later = accounts.now_ms() + 61_000
    monkeypatch.setattr(accounts, "now_ms", lambda: later)
    assert accounts.session_person(demo, token) is None


def test_account_creation_errors(demo: FalkorStore) -> None:
    person = new_person(demo)
    cases = [
        (dict(username=person.username), accounts.DuplicateAccount),
        (dict(email=f"{person.username}@TEST.example"), accounts.DuplicateAccount),
        (dict(department_code="NO-SUCH-DEPT"), accounts.UnknownDepartment),
        (dict(password=""), accounts.InvalidPassword),
        (dict(password="   "), accounts.InvalidPassword),
        (dict(password="short"), accounts.InvalidPassword),
        (dict(role="superuser"), accounts.AccountError),
        (dict(username="Has Space"), accounts.AccountError),
        (dict(name=" "), accounts.AccountError),
    ]
    for change, error in cases:
        arguments = {"username": f"ok.{uuid.uuid4().hex[:8]}", "name": "名字", "department_code": "FIN",
                     "password": PASSWORD, **change}
        with pytest.raises(error):
            accounts.create_person(demo, **arguments)


def test_client_address_behind_a_proxy(settings, demo: FalkorStore) -> None:  # type: ignore[no-untyped-def]
    from webapp import create_app

    person = new_person(demo)
    forwarded = random_address()
    for hops, expected in ((0, "127.0.0.1"), (1, forwarded)):
        app = create_app(settings.model_copy(update={"proxy_hops": hops}))
        client = app.test_client()
        client.environ_base["HTTP_X_FORWARDED_FOR"] = forwarded
        sign_in(client, person.username, "wrong password")
        latest = events_for(demo, action="login.failure", target_id=person.id)[0]
        assert latest["client"] == expected, f"proxy_hops={hops}"
