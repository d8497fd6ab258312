"""The impact preview in the organisation admin pages: shown first, then applied with one more click."""

from __future__ import annotations

import re

from documents_helpers import PEOPLE_IN
from flask import Flask
from flask.testing import FlaskClient
from test_org_admin_pages import BASE, admin, browser, dept_id, org_store, post  # noqa: F401 - fixtures
from web_support import PASSWORD, csrf_token, new_person, sign_in

from graph import org
from graph import permissions as perm
from graph.classification import ShareKind
from graph.falkordb_backend import FalkorStore


def _documents(store: FalkorStore) -> str:
    owner = org.search_people(store, "admin", status="active").rows[0]["id"]
    perm.register_documents(store, [{"id": f"impact-{code}", "title": f"规章 {code}", "access": "internal",
                                     "owner_id": owner} for code in ("FIN", "HR")])
    for code in ("FIN", "HR"):
        perm.share(store, owner, f"impact-{code}", ShareKind.DEPARTMENT, dept_id(store, code))
    return owner


def test_move_is_previewed_then_applied(admin: FlaskClient, org_store: FalkorStore) -> None:  # noqa: F811
    _documents(org_store)
    accounting, hr = dept_id(org_store, "FIN-ACC"), dept_id(org_store, "HR")
    members = [row["id"] for row in org_store.run(PEOPLE_IN, {"code": "FIN-ACC"})]
    assert members
    edit = f"{BASE}/departments/{accounting}"
    page = admin.get(edit).get_data(as_text=True)
    assert f'action="{BASE}/impact/departments/{accounting}/move"' in page  # the form previews first
    before = {pid: perm.readable_document_ids(org_store, pid) for pid in members}
    preview = post(admin, f"{BASE}/impact/departments/{accounting}/move", edit, parent_id=hr)
    text = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "Apply the change" in text
    assert "规章 FIN" in text and "规章 HR" in text
    assert {pid: perm.readable_document_ids(org_store, pid) for pid in members} == before  # nothing applied yet
    apply_url = re.search(r'<form method="post" action="([^"]+)" class="form-inline">', text).group(1)
    assert apply_url == f"{BASE}/departments/{accounting}/move"
    assert post(admin, apply_url, edit, parent_id=hr).status_code == 302
    for pid in members:
        readable = perm.readable_document_ids(org_store, pid)
        assert "impact-HR" in readable and "impact-FIN" not in readable


def test_membership_preview_names_the_gain(admin: FlaskClient, org_store: FalkorStore) -> None:  # noqa: F811
    _documents(org_store)
    person = new_person(org_store, "member")
    page = f"{BASE}/people/{person.id}"
    preview = post(admin, f"{BASE}/impact/people/{person.id}/memberships/add", page, kind="department", code="HR-REC")
    text = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "规章 HR" in text and "规章 FIN" not in text
    assert 'name="code" value="HR-REC"' in text and 'name="kind" value="department"' in text
    assert "impact-HR" not in perm.readable_document_ids(org_store, person.id)


def test_members_cannot_preview(app: Flask, org_store: FalkorStore) -> None:  # noqa: F811
    member = new_person(org_store, "member")
    client = browser(app)
    assert sign_in(client, member.username, PASSWORD).status_code == 302
    token = csrf_token(client, "/account")
    response = client.post(f"{BASE}/impact/people/{member.id}/status", data={"active": "false", "csrf_token": token})
    assert response.status_code == 403
