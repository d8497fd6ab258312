"""LDAP / Active Directory sign-in and the scheduled org sync, against a real OpenLDAP ``slapd`` the tests start.

Sign-in: right password → signed in as the linked person; wrong password → refused, audited, throttled like a
local password. Sync (``huitong ldap sync``, a real subprocess, and the Celery task's function): users →
people, groups → departments by a mapping file; a move in the directory moves the person; a user removed or
disabled in the directory is deactivated at the next sync: their open session ends and sign-in is refused.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from helpers import ROOT, run_cli
from ldap_support import (
    SERVICE_DN,
    SERVICE_PASSWORD,
    SUFFIX,
    Slapd,
    group_dn,
    group_entry,
    person_entry,
    running_slapd,
    user_dn,
)
from pydantic import SecretStr
from web_support import client_from, csrf_token, random_address

from graph import accounts, org
from graph.audit import AuditFilter, list_events
from graph.falkordb_backend import FalkorStore
from settings import Settings

RUN = uuid.uuid4().hex[:6]
ANN, BOB, CAI, DAN = (f"{name}.{RUN}" for name in ("ann", "bob", "cai", "dan"))
PASSWORDS = {ANN: "ann-directory-pw", BOB: "bob-directory-pw", CAI: "cai-directory-pw", DAN: "dan-directory-pw"}
SALES, OPS = f"LS{RUN.upper()}", "FIN"  # one department the sync creates, one that exists (demo)


@pytest.fixture(scope="module")
def slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Slapd]:
    people = [person_entry(ANN, PASSWORDS[ANN], name="安 Ann", mail=f"{ANN}@corp.example"),
              person_entry(BOB, PASSWORDS[BOB], name="包 Bob", mail=f"{BOB}@corp.example", title="Analyst"),
              person_entry(CAI, PASSWORDS[CAI], name="蔡 Cai", mail=f"{CAI}@corp.example"),
              person_entry(DAN, PASSWORDS[DAN], name="Dan Outside", mail=f"{DAN}@corp.example")]
    groups = [group_entry(f"sales{RUN}", [ANN, BOB]), group_entry(f"ops{RUN}", [CAI]), group_entry("other", [DAN])]
    with running_slapd(tmp_path_factory.mktemp("slapd"), people + groups) as server:
        yield server


@pytest.fixture(scope="module")
def mapping(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("mapping") / "ldap-mapping.yaml"
    path.write_text(
        "departments:\n"
        f"  \"{group_dn(f'sales{RUN}')}\": {{code: {SALES}, name: 销售部{RUN}}}\n"
        f"  \"{group_dn(f'ops{RUN}')}\": {OPS}\n"
        "groups: {filter: \"(objectClass=groupOfNames)\", member_attribute: member}\n"
        "users:\n"
        "  filter: \"(objectClass=inetOrgPerson)\"\n"
        "  username: uid\n  name: cn\n  email: mail\n"
        "  disabled: {attribute: employeeType, values: [disabled]}\n",
        encoding="utf-8")
    return path


def _ldap_settings(settings: Settings, slapd: Slapd, **extra: object) -> Settings:
    return settings.model_copy(update={
        "auth_methods": "local,ldap", "ldap_url": slapd.url, "ldap_bind_dn": SERVICE_DN,
        "ldap_bind_password": SecretStr(SERVICE_PASSWORD), "ldap_base_dn": SUFFIX,
        "ldap_user_filter": "(&(objectClass=inetOrgPerson)(uid={login}))", "ldap_link_attribute": "uid", **extra})


def _env(slapd: Slapd, mapping: Path) -> dict[str, str]:
    return {"HUITONG_LDAP_URL": slapd.url, "HUITONG_LDAP_BIND_DN": SERVICE_DN,
            "HUITONG_LDAP_BIND_PASSWORD": SERVICE_PASSWORD, "HUITONG_LDAP_BASE_DN": SUFFIX,
            "HUITONG_LDAP_SYNC_MAPPING": str(mapping)}


@pytest.fixture(scope="module")
def ldap_app(settings: Settings, demo: FalkorStore, slapd: Slapd) -> Flask:
    from webapp import create_app

    application = create_app(_ldap_settings(settings, slapd))
    application.config.update(TESTING=True)
    return application


def _ldap_sign_in(client: FlaskClient, login: str, password: str):  # type: ignore[no-untyped-def]
    return client.post("/sso/ldap/login", data={"ldap_login": login, "ldap_password": password, "next": "",
                                                "csrf_token": csrf_token(client)})


def _sync(slapd: Slapd, mapping: Path, *args: str) -> dict[str, object]:
    done = run_cli("ldap", "sync", *args, "--json", env=_env(slapd, mapping))
    assert done.returncode == 0, done.stdout + done.stderr
    assert SERVICE_PASSWORD not in done.stdout + done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def _department_of(store: FalkorStore, username: str) -> set[str]:
    person = accounts.find_account(store, username)
    assert person is not None
    return {m["code"] for m in org.memberships(store, person[0].id) if m["kind"] == "department"}


def test_sync_dry_run_then_create_and_sign_in(demo: FalkorStore, ldap_app: Flask, slapd: Slapd,
                                              mapping: Path) -> None:
    planned = _sync(slapd, mapping, "--dry-run")
    assert planned["ok"] and planned["dry_run"]
    creates = {c["key"] for c in planned["changes"] if c["sheet"] == "people" and c["action"] == "create"}
    assert creates == {ANN, BOB, CAI}, "only members of mapped groups; Dan's group is not mapped"
    assert accounts.find_account(demo, ANN) is None, "a dry run writes nothing"

    done = _sync(slapd, mapping)
    assert done["ok"] and not done["dry_run"] and done["synced"] == 3
    assert _department_of(demo, ANN) == {SALES} and _department_of(demo, CAI) == {OPS}
    assert accounts.find_account(demo, DAN) is None
    again = _sync(slapd, mapping)
    assert not [c for c in again["changes"] if c["sheet"] == "people"], "a second sync changes nothing"

    client = client_from(ldap_app, random_address())
    response = _ldap_sign_in(client, ANN, PASSWORDS[ANN])
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    assert client.get("/").status_code == 200
    person = accounts.find_account(demo, ANN)
    assert person is not None
    events = list_events(demo, AuditFilter(target_id=person[0].id), limit=20)
    assert any(e["action"] == "login.success" and '"ldap"' in str(e.get("detail")) for e in events)


def test_wrong_password_refused_and_throttled(demo: FalkorStore, ldap_app: Flask, slapd: Slapd) -> None:
    client = client_from(ldap_app, random_address())
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    refused = _ldap_sign_in(client, BOB, "not-the-password")
    assert refused.status_code == 401
    assert "Wrong directory user name or password." in refused.get_data(as_text=True)
    assert client.get("/").status_code == 302
    assert _ldap_sign_in(client, "nobody-" + RUN, "whatever-pw").status_code == 401
    assert _ldap_sign_in(client, "*)(uid=*", "whatever-pw").status_code == 401, "filter text is escaped"
    for _ in range(3):
        _ldap_sign_in(client, BOB, "still-wrong")
    throttled = _ldap_sign_in(client, BOB, PASSWORDS[BOB])
    assert throttled.status_code == 429, "even the right password waits once the address is throttled"
    other = client_from(ldap_app, random_address())
    other.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    refused = _ldap_sign_in(other, BOB, "wrong-again")
    assert refused.status_code == 401 and "Wrong directory" not in refused.get_data(as_text=True)
    assert _ldap_sign_in(other, BOB, PASSWORDS[BOB]).status_code == 302, "another address is not slowed"
    failures = list_events(demo, AuditFilter(action="login.failure"), limit=50)
    assert any('"ldap"' in str(e.get("detail")) and BOB in str(e.get("detail")) for e in failures)
    assert not any("wrong-again" in str(e.get("detail")) or "still-wrong" in str(e.get("detail"))
                   for e in failures), "passwords never reach the audit trail"


def test_directory_person_linked_to_nobody_is_refused(demo: FalkorStore, ldap_app: Flask, slapd: Slapd) -> None:
    client = client_from(ldap_app, random_address())
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    response = _ldap_sign_in(client, DAN, PASSWORDS[DAN])
    assert response.status_code == 403
    assert "No account here is linked to this sign-in" in response.get_data(as_text=True)
    assert accounts.find_account(demo, DAN) is None, "not created unless HUITONG_SSO_CREATE_PEOPLE"


def test_creation_when_allowed(settings: Settings, demo: FalkorStore, slapd: Slapd) -> None:
    """With HUITONG_SSO_CREATE_PEOPLE the first directory sign-in creates the person (default: refused above)."""
    from webapp import create_app

    creating = create_app(_ldap_settings(settings, slapd, sso_create_people=True, sso_department="FIN"))
    creating.config.update(TESTING=True)
    uid = f"fay.{RUN}"
    slapd.add(person_entry(uid, "fay-directory-pw", name="费 Fay", mail=f"{uid}@corp.example"))
    client = client_from(creating, random_address())
    assert _ldap_sign_in(client, uid, "fay-directory-pw").status_code == 302
    created = accounts.find_account(demo, f"{uid}@corp.example")
    assert created is not None and created[0].username == uid and created[0].name == "费 Fay"
    assert _department_of(demo, uid) == {"FIN"}


def test_sync_moves_and_deactivates(demo: FalkorStore, ldap_app: Flask, slapd: Slapd, mapping: Path) -> None:
    signed_in = {}
    for username in (ANN, CAI):
        client = client_from(ldap_app, random_address())
        assert _ldap_sign_in(client, username, PASSWORDS[username]).status_code == 302
        assert client.get("/").status_code == 200
        signed_in[username] = client
    slapd.set_members(f"sales{RUN}", [ANN])  # Bob moves from sales ...
    slapd.set_members(f"ops{RUN}", [CAI, BOB])  # ... to ops
    slapd.replace(user_dn(CAI), employeeType=["disabled"])  # Cai is disabled in the directory
    moved = _sync(slapd, mapping)
    assert _department_of(demo, BOB) == {OPS}
    assert CAI in moved["deactivated"]
    assert signed_in[CAI].get("/").status_code == 302, "the disabled person's session ended at the sync"
    assert signed_in[ANN].get("/").status_code == 200, "nobody else's"

    slapd.set_members(f"sales{RUN}", [])
    slapd.delete(user_dn(ANN))  # Ann leaves the company
    dry = _sync(slapd, mapping, "--dry-run")
    assert ANN in dry["deactivated"] and signed_in[ANN].get("/").status_code == 200, "dry run: nothing ends"
    done = _sync(slapd, mapping)
    assert ANN in done["deactivated"]
    assert signed_in[ANN].get("/").status_code == 302, "removed from the directory: session ended"
    ann = accounts.find_account(demo, ANN)
    assert ann is not None and not ann[0].active
    cai = client_from(ldap_app, random_address())
    cai.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    refused = _ldap_sign_in(cai, CAI, PASSWORDS[CAI])
    assert refused.status_code == 403 and "deactivated" in refused.get_data(as_text=True)


def test_beat_schedules_the_celery_task_which_syncs(demo: FalkorStore, slapd: Slapd, mapping: Path) -> None:
    """With a mapping configured the beat schedule holds the sync; the Celery task (run by Celery in a process
    configured from the environment, as a worker is) brings a newcomer in."""
    slapd.add(person_entry(f"eve.{RUN}", "eve-directory-pw", name="Eve", mail=f"eve.{RUN}@corp.example"))
    slapd.set_members(f"ops{RUN}", [BOB, f"eve.{RUN}"])
    script = ("import json; from workers import tasks; from workers.celery_app import app; "
              "entry = app.conf.beat_schedule['ldap-sync']; "
              "print(json.dumps({'every': entry['schedule'], 'result': tasks.ldap_sync.apply().get()}))")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=180,
                          env={**os.environ, **_env(slapd, mapping), "HUITONG_LDAP_SYNC_MINUTES": "30"}, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer["every"] == 1800 and answer["result"]["ok"], answer
    assert _department_of(demo, f"eve.{RUN}") == {OPS}


def test_ldap_switched_off_has_no_form_and_no_route(app: Flask) -> None:
    client = client_from(app, random_address())
    page = client.get("/login").get_data(as_text=True)
    assert "ldap_login" not in page and "sso/oidc" not in page
    assert client.post("/sso/ldap/login", data={"ldap_login": "x", "ldap_password": "y",
                                                 "csrf_token": csrf_token(client)}).status_code == 404
    assert client.get("/sso/oidc/login").status_code == 404
