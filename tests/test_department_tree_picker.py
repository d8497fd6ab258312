"""The department tree picker and the rule behind it: a department never goes under itself or one of its own
descendants. The rule on a tree of its own, then through the use case (codes and fields), the picker's
tree and search answers, and the org-admin pages in zh and en (the refusal said beside the field)."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from test_org_admin_pages import ADMIN_PASSWORD, BASE, admin, browser, dept_id, org_store, post  # noqa: F401
from web_support import sign_in

from graph import department_moves, org
from graph.actor import Actor
from graph.errors import InvalidInput
from graph.falkordb_backend import FalkorStore
from graph.usecases import Context
from graph.usecases import org_admin as cases


def _tree() -> dict[str, org.DeptNode]:
    """HQ > (FIN > ACC > PAY, LEGAL); OLD is closed."""
    rows = [("HQ", None, True), ("FIN", "HQ", True), ("ACC", "FIN", True), ("PAY", "ACC", True),
            ("LEGAL", "HQ", True), ("OLD", None, False)]
    nodes = {code: org.DeptNode({"id": code, "code": code, "name": code, "active": active, "parent_id": parent})
             for code, parent, active in rows}
    for node in nodes.values():
        if node.row["parent_id"]:
            nodes[node.row["parent_id"]].children.append(node)
    return nodes


def _refused(call) -> InvalidInput:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInput) as refused:
        call()
    return refused.value


def test_the_rule_refuses_itself_descendants_unknown_and_closed_parents() -> None:
    nodes = _tree()
    assert department_moves.subtree(nodes, "FIN") == {"FIN", "ACC", "PAY"}
    assert department_moves.subtree(nodes, None) == set()
    itself = _refused(lambda: department_moves.check(nodes, "FIN", "FIN"))
    assert (itself.code, itself.params) == (department_moves.UNDER_ITSELF, {"field": "parent", "code": "FIN"})
    below = _refused(lambda: department_moves.check(nodes, "FIN", "PAY"))
    assert (below.code, below.params) == (department_moves.UNDER_DESCENDANT,
                                          {"field": "parent", "code": "FIN", "parent": "PAY"})
    assert _refused(lambda: department_moves.check(nodes, "FIN", "OLD")).code == department_moves.INACTIVE_PARENT
    assert _refused(lambda: department_moves.check(nodes, "FIN", "nope")).code == department_moves.UNKNOWN_PARENT
    # Allowed: a sibling branch, an ancestor, the top level; a new department anywhere open.
    for parent in ("LEGAL", "HQ", None):
        department_moves.check(nodes, "FIN", parent)
    department_moves.check(nodes, None, "PAY")
    # By code, as the picker posts it (case and spaces do not matter; blank is the top level).
    assert department_moves.parent_by_code(nodes, "ACC", " legal ") == "LEGAL"
    assert department_moves.parent_by_code(nodes, "ACC", "") is None
    assert _refused(lambda: department_moves.parent_by_code(nodes, "ACC", "pay")).code == \
        department_moves.UNDER_DESCENDANT
    assert _refused(lambda: department_moves.parent_by_code(nodes, "ACC", "NO-SUCH")).params["code"] == "no-such"


def test_the_use_case_moves_by_code_and_refuses_loops(org_store: FalkorStore) -> None:  # noqa: F811
    ctx = Context(org_store)
    admin_actor = Actor("", "admin", roles=frozenset({"admin"}))
    fin, acc = dept_id(org_store, "FIN"), dept_id(org_store, "FIN-ACC")
    refused = _refused(lambda: cases.move_department(ctx, admin_actor, fin, None, parent_code="FIN-ACC"))
    assert refused.code == department_moves.UNDER_DESCENDANT
    assert _refused(lambda: cases.move_department(ctx, admin_actor, fin, fin)).code == department_moves.UNDER_ITSELF
    assert org.department_tree(org_store)[1][fin].row["parent_code"] == "HQ"  # nothing moved
    cases.move_department(ctx, admin_actor, acc, None, parent_code="legal")
    assert org.department_tree(org_store)[1][acc].row["parent_code"] == "LEGAL"
    made = cases.create(ctx, admin_actor, "department", {"code": "LEGAL-X", "name": "法务X", "parent": "LEGAL"})
    assert org.department_tree(org_store)[1][made].row["parent_code"] == "LEGAL"


def test_the_picker_browses_the_tree_and_greys_out_the_subtree(admin: FlaskClient,  # noqa: F811
                                                               org_store: FalkorStore) -> None:  # noqa: F811
    fin = dept_id(org_store, "FIN")
    tree = admin.get(f"/pick/department?tree=1&list=t&exclude={fin}").get_data(as_text=True)
    items = dict(re.findall(r'<li id="t-([\w.-]+)" role="treeitem" aria-level="(\d)"', tree))
    assert items["HQ"] == "1" and items["FIN"] == "2" and items["FIN-ACC"] == "3"
    assert re.search(r'id="t-FIN" [^>]*aria-expanded="false"[^>]*aria-disabled="true"', tree, re.S)
    assert re.search(r'id="t-FIN-ACC" [^>]*aria-disabled="true"', tree, re.S)
    assert not re.search(r'id="t-LEGAL" [^>]*aria-disabled', tree, re.S)
    assert '<ul role="group">' in tree and '<ul role="group" hidden>' in tree  # the top open, deeper closed
    found = admin.get("/pick/department?tree=1&list=t&q=acc").get_data(as_text=True)
    assert 'id="t-FIN-ACC"' in found and 'role="group"' not in found  # typed: flat matches with their path
    assert re.search(r'data-path="[^"]+ / [^"]+"', found)
    nothing = admin.get("/pick/department?tree=1&list=t&q=zzzz").get_data(as_text=True)
    assert 'aria-disabled="true"' in nothing and "Nothing found." in nothing


@pytest.mark.parametrize(("language", "said"), [("en", "that department is inside it"),
                                                ("zh-CN", "该部门是它的下级部门")])
def test_the_pages_post_codes_and_say_why_a_move_is_refused(app: Flask, org_store: FalkorStore,  # noqa: F811
                                                             language: str, said: str) -> None:
    client = browser(app)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    assert sign_in(client, "admin", ADMIN_PASSWORD).status_code == 302
    fin, legal = dept_id(org_store, "FIN"), dept_id(org_store, "LEGAL")
    edit = f"{BASE}/departments/{fin}"
    page = client.get(edit).get_data(as_text=True)
    assert 'role="combobox"' in page and 'aria-haspopup="tree"' in page and 'role="tree"' in page
    assert re.search(r'name="parent"[^>]*value="HQ"', page) and f'"exclude": "{fin}"' in page
    assert "<select id=\"parent_id\"" not in page
    # The preview refuses first, and so does the move itself: the code kept, the reason beside the field.
    for path in (f"{BASE}/impact/departments/{fin}/move", f"{edit}/move"):
        refused = post(client, path, edit, parent="FIN-ACC")
        text = refused.get_data(as_text=True)
        assert refused.status_code == 422 and said in text, path
        assert 'id="parent-error"' in text and 'aria-invalid="true"' in text
        assert re.search(r'name="parent"[^>]*value="FIN-ACC"', text)
    preview = post(client, f"{BASE}/impact/departments/{fin}/move", edit, parent="LEGAL")
    assert preview.status_code == 200 and 'name="parent" value="LEGAL"' in preview.get_data(as_text=True)
    assert post(client, f"{edit}/move", edit, parent="LEGAL").status_code == 302
    assert org.department_tree(org_store)[1][fin].row["parent_code"] == "LEGAL"
    new = f"{BASE}/departments/new?parent_id={legal}"
    assert re.search(r'name="parent"[^>]*value="LEGAL"', client.get(new).get_data(as_text=True))
    unknown = post(client, f"{BASE}/departments/new", new, code="NEW-X", name="新部门", parent="NO-SUCH")
    assert unknown.status_code == 422 and "NO-SUCH".lower() in unknown.get_data(as_text=True)


def test_the_members_rule_refuses_itself_descendants_and_closed_departments() -> None:
    nodes, members = _tree(), department_moves.MEMBERS
    itself = _refused(lambda: department_moves.parent_by_code(nodes, "FIN", "fin", members))
    assert (itself.code, itself.params) == (department_moves.MEMBERS_TO_ITSELF,
                                            {"field": "move_members", "code": "FIN"})
    below = _refused(lambda: department_moves.parent_by_code(nodes, "FIN", "PAY", members))
    assert (below.code, below.params) == (department_moves.MEMBERS_TO_DESCENDANT,
                                          {"field": "move_members", "code": "FIN", "target": "PAY"})
    assert _refused(lambda: department_moves.parent_by_code(nodes, "FIN", "OLD", members)).code == \
        department_moves.MEMBERS_TO_INACTIVE
    unknown = _refused(lambda: department_moves.parent_by_code(nodes, "FIN", "NO-SUCH", members))
    assert (unknown.code, unknown.params["field"]) == (department_moves.UNKNOWN_PARENT, "move_members")
    assert department_moves.parent_by_code(nodes, "FIN", " legal ", members) == "LEGAL"
    assert department_moves.parent_by_code(nodes, "PAY", "HQ", members) == "HQ"  # an ancestor is outside it
    assert department_moves.parent_by_code(nodes, "FIN", "", members) is None  # nobody moves


@pytest.mark.parametrize(("language", "said"), [("en", "which is being deactivated"), ("zh-CN", "正在停用")])
def test_deactivation_picks_the_members_department_from_the_tree(app: Flask, org_store: FalkorStore,  # noqa: F811
                                                                 language: str, said: str) -> None:
    client = browser(app)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    assert sign_in(client, "admin", ADMIN_PASSWORD).status_code == 302
    acc, trs, legal = (dept_id(org_store, c) for c in ("FIN-ACC", "FIN-TRS", "LEGAL"))
    org.create(org_store, "department", {"code": "FIN-ACC-AP", "name": "应付小组", "parent_id": acc})
    edit = f"{BASE}/departments/{acc}"
    page = client.get(edit).get_data(as_text=True)
    assert re.search(r'<input id="move_members" name="move_members"[^>]*role="combobox"[^>]*aria-haspopup="tree"',
                     page, re.S)
    assert 'id="move_members-list" role="tree"' in page and page.count(f'"exclude": "{acc}"') == 2
    assert 'name="move_members_to"' not in page and "<select" not in page.split('id="status-title"')[1]
    # Into its own sub-department, or itself: refused beside the field before the preview, and by the change.
    for path in (f"{BASE}/impact/departments/{acc}/status", f"{edit}/status"):
        refused = post(client, path, edit, active="false", move_members="FIN-ACC-AP")
        text = refused.get_data(as_text=True)
        assert refused.status_code == 422 and said in text, path
        assert '<ul class="field-errors" id="move_members-error">' in text
        assert re.search(r'name="move_members"[^>]*value="FIN-ACC-AP"', text) and 'aria-invalid="true"' in text
    itself = post(client, f"{BASE}/impact/departments/{acc}/status", edit, active="false", move_members="fin-acc")
    assert itself.status_code == 422 and 'id="move_members-error"' in itself.get_data(as_text=True)
    assert org.get(org_store, "department", acc)["active"] is True
    # Nobody named while members remain: the organisation's refusal, beside the same field.
    trs_edit = f"{BASE}/departments/{trs}"
    blank = post(client, f"{trs_edit}/status", trs_edit, active="false", move_members="")
    assert blank.status_code == 422 and 'id="move_members-error"' in blank.get_data(as_text=True)
    # Another department: the preview carries the code to the change, which moves the members and closes it.
    counts = {d: org.department_tree(org_store)[1][d].row["members"] for d in (trs, legal)}
    preview = post(client, f"{BASE}/impact/departments/{trs}/status", trs_edit, active="false", move_members="legal")
    assert preview.status_code == 200 and 'name="move_members" value="legal"' in preview.get_data(as_text=True)
    done = post(client, f"{trs_edit}/status", trs_edit, active="false", move_members="legal")
    assert done.status_code == 302 and org.get(org_store, "department", trs)["active"] is False
    assert counts[trs] and org.department_tree(org_store)[1][legal].row["members"] == counts[legal] + counts[trs]
