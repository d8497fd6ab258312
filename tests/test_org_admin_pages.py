"""The ``/admin/org`` pages through the Flask test client, on a demo organisation in a graph of their own."""

from __future__ import annotations

import io
import os
import re
import uuid

import openpyxl
import pytest
from flask import Flask
from flask.testing import FlaskClient
from web_support import PASSWORD, csrf_token, new_person, random_address, sign_in

from graph import org
from graph.audit import AuditFilter, list_events
from graph.demo_org import load_demo_org
from graph.falkordb_backend import FalkorStore
from webapp import services

ADMIN_PASSWORD = os.environ["HUITONG_ADMIN_PASSWORD"]
BASE = "/admin/org"


@pytest.fixture
def org_store(app: Flask, fresh_store: FalkorStore, monkeypatch: pytest.MonkeyPatch) -> FalkorStore:
    """The app serves a fresh graph with the demo organisation, so these tests change nobody else's data."""
    load_demo_org(fresh_store, ADMIN_PASSWORD)
    monkeypatch.setitem(app.extensions.setdefault(services.STORES, {}), os.getpid(), fresh_store)
    return fresh_store


def browser(app: Flask) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = random_address()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"  # the app defaults to Chinese; messages are asserted in English
    return client


@pytest.fixture
def admin(app: Flask, org_store: FalkorStore) -> FlaskClient:
    client = browser(app)
    assert sign_in(client, "admin", ADMIN_PASSWORD).status_code == 302
    return client


def post(client: FlaskClient, path: str, form_page: str, **data: object):  # type: ignore[no-untyped-def]
    return client.post(path, data={**data, "csrf_token": csrf_token(client, form_page)})


def events(store: FalkorStore, action: str) -> list[dict[str, object]]:
    return list_events(store, AuditFilter(action=action))


def dept_id(store: FalkorStore, code: str) -> str:
    found = org.by_code(store, "department", code)
    assert found is not None
    return found["id"]


def test_anonymous_and_plain_members_are_kept_out(app: Flask, org_store: FalkorStore) -> None:
    anonymous = browser(app)
    response = anonymous.get(f"{BASE}/departments")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    member = new_person(org_store, "member")
    client = browser(app)
    assert sign_in(client, member.username, PASSWORD).status_code == 302
    token = csrf_token(client, "/account")
    for path in ("/departments", "/people", "/positions", "/import", "/export.xlsx", "/export/people.csv"):
        assert client.get(BASE + path).status_code == 403, path
    refused = client.post(f"{BASE}/departments/new", data={"code": "EVIL", "name": "x", "csrf_token": token})
    assert refused.status_code == 403
    assert org.by_code(org_store, "department", "EVIL") is None


def test_department_tree_search_and_htmx_fragment(admin: FlaskClient) -> None:
    page = admin.get(f"{BASE}/departments").get_data(as_text=True)
    assert page.startswith("<!doctype html>") and 'id="results"' in page
    for code in ("HQ", "FIN", "FIN-ACC", "IT-SEC"):
        assert f">{code}</a>" in page
    assert 'hx-trigger="input changed delay:300ms from:#q' in page
    fragment = admin.get(f"{BASE}/departments?q=fin", headers={"HX-Request": "true", "HX-Target": "results"})
    text = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in text
    assert ">FIN-ACC</a>" in text and "HQ / FIN / FIN-ACC" in text and ">IT-SEC</a>" not in text


def test_people_list_is_paginated_and_searchable(admin: FlaskClient, org_store: FalkorStore) -> None:
    first = admin.get(f"{BASE}/people").get_data(as_text=True)
    total = org.search_people(org_store).total
    assert total > 100 and f"{total} found" in first
    assert re.search(r'rel="next" href="[^"]*page=2', first)
    second = admin.get(f"{BASE}/people?page=2").get_data(as_text=True)
    names = re.compile(r'/admin/org/people/[0-9a-f-]{36}">([^<]+)<')
    assert set(names.findall(first)).isdisjoint(names.findall(second)) and names.findall(second)
    found = admin.get(f"{BASE}/people?q=admin", headers={"HX-Request": "true", "HX-Target": "results"})
    assert ">admin</a>" in found.get_data(as_text=True) and "<html" not in found.get_data(as_text=True)


def test_create_department_validation_is_accessible_and_audited(admin: FlaskClient, org_store: FalkorStore) -> None:
    form = f"{BASE}/departments/new"
    bad = post(admin, form, form, code="has space", name="", parent_id="")
    text = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "Nothing was saved" in text
    assert re.search(r'id="code"[^>]*aria-describedby="code-hint code-error"[^>]*aria-invalid="true"', text, re.S)
    assert 'id="code-error"' in text and "is not valid" in text and 'id="name-error"' in text
    duplicate = post(admin, form, form, code="FIN", name="财务二部", parent_id="")
    assert duplicate.status_code == 422 and "already used by another department" in duplicate.get_data(as_text=True)
    created = post(admin, form, form, code="FIN-TAX", name="税务组", name_en="Tax", parent_id=dept_id(org_store, "FIN"))
    assert created.status_code == 302
    _, nodes = org.department_tree(org_store)
    tax = next(n for n in nodes.values() if n.row["code"] == "FIN-TAX")
    assert tax.row["parent_code"] == "FIN"
    assert [e["target_id"] for e in events(org_store, "org.department.create")] == [tax.row["id"]]


def test_move_and_deactivate_department_through_the_pages(admin: FlaskClient, org_store: FalkorStore) -> None:
    fin, acc, legal = (dept_id(org_store, c) for c in ("FIN", "FIN-ACC", "LEGAL"))
    edit = f"{BASE}/departments/{fin}"
    refused = post(admin, f"{edit}/move", edit, parent_id=acc)
    assert refused.status_code == 422 and "that department is inside it" in refused.get_data(as_text=True)
    assert post(admin, f"{edit}/move", edit, parent_id=legal).status_code == 302
    _, nodes = org.department_tree(org_store)
    assert nodes[fin].row["parent_code"] == "LEGAL"
    acc_edit = f"{BASE}/departments/{acc}"
    blocked = post(admin, f"{acc_edit}/status", acc_edit, active="false")
    assert blocked.status_code == 422 and "active member(s)" in blocked.get_data(as_text=True)
    assert org.get(org_store, "department", acc)["active"] is True
    done = post(admin, f"{acc_edit}/status", acc_edit, active="false", move_members_to=fin)
    assert done.status_code == 302 and org.get(org_store, "department", acc)["active"] is False
    assert [e["action"] for e in events(org_store, "org.department")] == ["org.department.deactivate",
                                                                          "org.department.move"]


def test_person_create_edit_memberships_and_deactivate(admin: FlaskClient, org_store: FalkorStore) -> None:
    new = f"{BASE}/people/new"
    bad = post(admin, new, new, username="Bad Name", name="x", email="nope", roles="member")
    assert bad.status_code == 422 and "is not valid" in bad.get_data(as_text=True)
    created = post(admin, new, new, username="zhou.min", name="周敏", email="zhou.min@huitong.example", roles="member")
    assert created.status_code == 302
    person_id = created.headers["Location"].rsplit("/", 1)[-1]
    page = f"{BASE}/people/{person_id}"
    assert post(admin, page, page, name="周敏", email="ZHOU.MIN2@huitong.example").status_code == 302
    assert org.get_person(org_store, person_id)["email"] == "zhou.min2@huitong.example"
    missing = post(admin, f"{page}/memberships", page, kind="project", code="NO-SUCH")
    assert missing.status_code == 422 and "No project with code “NO-SUCH”" in missing.get_data(as_text=True)
    assert post(admin, f"{page}/memberships", page, kind="department", code="HR-REC").status_code == 302
    assert post(admin, f"{page}/memberships", page, kind="position", code="HR-SPEC").status_code == 302
    assert {m["code"] for m in org.memberships(org_store, person_id)} == {"HR-REC", "HR-SPEC"}
    assert post(admin, f"{page}/memberships/remove", page, kind="position",
                target_id=org.by_code(org_store, "position", "HR-SPEC")["id"]).status_code == 302
    assert [m["code"] for m in org.memberships(org_store, person_id)] == ["HR-REC"]
    cycle = post(admin, f"{page}/roles", page, roles=["member"], manager="zhou.min")
    assert cycle.status_code == 422 and "reporting cycle" in cycle.get_data(as_text=True)
    assert post(admin, f"{page}/status", page, active="false").status_code == 302
    assert org.get_person(org_store, person_id)["active"] is False
    assert [m["code"] for m in org.memberships(org_store, person_id)] == ["HR-REC"]  # history kept
    actions = {e["action"] for e in events(org_store, "org") if e["target_id"] == person_id}
    assert actions >= {"org.person.create", "org.person.update", "org.membership.add", "org.membership.remove",
                       "org.person.deactivate"}


def test_admin_cannot_lock_themselves_out(admin: FlaskClient, org_store: FalkorStore) -> None:
    me = org.search_people(org_store, "admin").rows[0]["id"]
    page = f"{BASE}/people/{me}"
    assert post(admin, f"{page}/status", page, active="false").status_code == 422
    assert post(admin, f"{page}/roles", page, roles=["member"]).status_code == 422
    assert org.get_person(org_store, me)["active"] is True and "admin" in org.get_person(org_store, me)["roles"]


def test_import_upload_dry_run_then_apply(admin: FlaskClient, org_store: FalkorStore, app: Flask) -> None:
    form = f"{BASE}/import"
    bad_csv = "code,name,parent_code\nOPS,运营部,HQ\nOPS,重复,HQ\nLAB,实验室,NOWHERE\n".encode()
    bad = post(admin, form, form, files=[(io.BytesIO(bad_csv), "departments.csv")])
    text = bad.get_data(as_text=True)
    assert bad.status_code == 200 and "2 problem(s) found" in text and 'name="token"' not in text
    assert "<td>departments.csv</td><td>3</td>" in text and "<td>departments.csv</td><td>4</td>" in text
    assert org.by_code(org_store, "department", "OPS") is None
    good_csv = "code,name,parent_code\nOPS,运营部,HQ\nOPS-LAB,实验室,OPS\n".encode()
    dry = post(admin, form, form, files=[(io.BytesIO(good_csv), "departments.csv")])
    token = re.search(r'name="token" value="([^"]+)"', dry.get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    assert org.by_code(org_store, "department", "OPS") is None  # still a dry run
    # Another administrator's browser cannot apply this upload.
    other = browser(app)
    sign_in(other, "admin", ADMIN_PASSWORD)
    stolen = post(other, f"{form}/apply", form, token=token)
    assert stolen.status_code == 302 and org.by_code(org_store, "department", "OPS") is None
    applied = post(admin, f"{form}/apply", form, token=token)
    assert applied.status_code == 302
    _, nodes = org.department_tree(org_store)
    assert {n.row["code"]: n.row["parent_code"] for n in nodes.values()}["OPS-LAB"] == "OPS"
    assert len(events(org_store, "org.import.apply")) == 1
    again = post(admin, f"{form}/apply", form, token=token)  # a used token is gone
    assert again.status_code == 302 and len(events(org_store, "org.import.apply")) == 1


def test_export_xlsx_download(admin: FlaskClient, org_store: FalkorStore) -> None:
    response = admin.get(f"{BASE}/export.xlsx")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(response.data), read_only=True)
    assert book.sheetnames == ["departments", "positions", "projects", "people", "memberships"]
    assert next(book["departments"].iter_rows(values_only=True)) == ("code", "name", "name_en", "parent_code",
                                                                     "active")
    book.close()
    assert events(org_store, "org.export")


def test_pages_speak_chinese_and_require_csrf(admin: FlaskClient, org_store: FalkorStore) -> None:
    post(admin, "/lang", "/admin/org/departments", lang="zh_CN", next="/")
    page = admin.get(f"{BASE}/people/new").get_data(as_text=True)
    assert "新建人员" in page and "用户名" in page
    no_token = admin.post(f"{BASE}/departments/new", data={"code": f"X{uuid.uuid4().hex[:6]}", "name": "x"})
    assert no_token.status_code == 400


def test_refusals_on_existing_org_objects_are_audited(app: Flask, org_store: FalkorStore) -> None:
    member = new_person(org_store, "member")
    client = browser(app)
    assert sign_in(client, member.username, PASSWORD).status_code == 302
    token = csrf_token(client, "/account")
    finance, someone = dept_id(org_store, "FIN"), new_person(org_store, "member")
    probes = [("get", f"{BASE}/departments/{finance}", "department", finance),
              ("post", f"{BASE}/departments/{finance}/move", "department", finance),
              ("get", f"{BASE}/people/{someone.id}", "person", someone.id),
              ("post", f"{BASE}/people/{someone.id}/status", "person", someone.id)]
    for method, path, _kind, _target in probes:
        answer = getattr(client, method)(path, data={"csrf_token": token, "active": "false"})
        assert answer.status_code == 403, path
    assert org.get_person(org_store, someone.id)["active"]  # nothing was changed...
    refused = [e for e in events(org_store, "access.refused") if e["actor_id"] == member.id]
    # ...and every probe on an existing object left its trace (an id that does not exist leaves none)
    assert sorted((e["target_kind"], e["target_id"]) for e in refused) == sorted(
        (kind, target) for _m, _p, kind, target in probes)
    assert client.get(f"{BASE}/departments/no-such-id").status_code == 403
    assert len([e for e in events(org_store, "access.refused") if e["actor_id"] == member.id]) == len(probes)


def test_org_use_cases_check_the_actor_and_audit_the_door(org_store: FalkorStore) -> None:
    from graph.actor import Actor
    from graph.errors import NotPermitted
    from graph.usecases import Context, org_admin

    ctx = Context(org_store)
    member = new_person(org_store, "member")
    finance = dept_id(org_store, "FIN")
    with pytest.raises(NotPermitted):
        org_admin.update(ctx, Actor(member.id, member.username, door="api"), "department", finance,
                         {"code": "FIN", "name": "Taken over"})
    assert org.get(org_store, "department", finance)["name"] != "Taken over"
    org_admin.set_person_active(ctx, org_admin.operator(), member.id, False)
    change = [e for e in events(org_store, "org.person.deactivate") if e["target_id"] == member.id]
    assert len(change) == 1 and change[0]["client"] == "cli" and '"door": "cli"' in str(change[0]["detail"])
    me = Actor(member.id, member.username, roles=frozenset({"admin"}), door="web")
    with pytest.raises(org.OrgError):  # an administrator cannot lock themselves out, whatever the door
        org_admin.set_person_active(ctx, me, member.id, False)
