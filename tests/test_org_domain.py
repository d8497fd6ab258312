"""Organisation administration on a real (fresh) FalkorDB graph: the operations and their refusals."""

from __future__ import annotations

import pytest

from graph import org
from graph.org import NotFound, OrgError


def dept(store, code: str, parent_id: str | None = None, name: str | None = None) -> str:  # type: ignore[no-untyped-def]
    return org.create(store, "department", {"code": code, "name": name or f"部门 {code}", "name_en": code,
                                            "parent_id": parent_id or ""})


def person(store, username: str) -> str:  # type: ignore[no-untyped-def]
    return org.create_person(store, {"username": username, "name": username.title(),
                                     "email": f"{username}@example.com"})


def parent_code(store, department_id: str) -> str | None:  # type: ignore[no-untyped-def]
    _, nodes = org.department_tree(store)
    return nodes[department_id].row["parent_code"]


def messages(error: pytest.ExceptionInfo[OrgError]) -> str:
    return str(error.value)


def test_create_department_tree_and_search(fresh_store) -> None:  # type: ignore[no-untyped-def]
    hq = dept(fresh_store, "HQ")
    fin = dept(fresh_store, "FIN", hq, "财务部")
    dept(fresh_store, "FIN-ACC", fin)
    roots, nodes = org.department_tree(fresh_store)
    assert [r.row["code"] for r in roots] == ["HQ"]
    assert [c.row["code"] for c in roots[0].children] == ["FIN"]
    assert [r["code"] for r in org.department_path(nodes, nodes[fin].children[0].row["id"])] == ["HQ", "FIN", "FIN-ACC"]
    page = org.search(fresh_store, "department", "财务")
    assert [r["code"] for r in page.rows] == ["FIN"] and page.total == 1
    page = org.search(fresh_store, "department", "fin", size=1, page=2)
    assert [r["code"] for r in page.rows] == ["FIN-ACC"] and page.total == 2 and page.pages == 2


def test_codes_are_unique_and_validated(fresh_store) -> None:  # type: ignore[no-untyped-def]
    first = dept(fresh_store, "OPS")
    with pytest.raises(OrgError, match="already used") as error:
        dept(fresh_store, "OPS")
    assert error.value.problems[0].field == "code"
    other = dept(fresh_store, "OPS-2")
    with pytest.raises(OrgError, match="already used"):
        org.update(fresh_store, "department", other, {"code": "OPS", "name": "x"})
    org.update(fresh_store, "department", first, {"code": "OPS", "name": "运营部", "name_en": "Operations"})
    assert org.get(fresh_store, "department", first)["name"] == "运营部"
    with pytest.raises(OrgError) as bad:
        org.create(fresh_store, "project", {"code": "has space", "name": "=HYPERLINK(1)"})
    assert {p.field for p in bad.value.problems} == {"code", "name"}
    # a position may share a department's code: uniqueness is per kind
    org.create(fresh_store, "position", {"code": "OPS", "name": "运营专员"})


def test_move_replaces_part_of_and_refuses_cycles(fresh_store) -> None:  # type: ignore[no-untyped-def]
    hq, other = dept(fresh_store, "HQ"), dept(fresh_store, "HOLDING")
    fin = dept(fresh_store, "FIN", hq)
    acc = dept(fresh_store, "FIN-ACC", fin)
    org.move_department(fresh_store, fin, other)
    assert parent_code(fresh_store, fin) == "HOLDING"
    roots, _ = org.department_tree(fresh_store)
    assert {r.row["code"]: [c.row["code"] for c in r.children] for r in roots} == {"HOLDING": ["FIN"], "HQ": []}
    with pytest.raises(OrgError, match="inside it"):
        org.move_department(fresh_store, fin, acc)
    with pytest.raises(OrgError, match="under itself"):
        org.move_department(fresh_store, fin, fin)
    assert parent_code(fresh_store, fin) == "HOLDING"  # refused moves change nothing
    org.move_department(fresh_store, fin, None)
    assert parent_code(fresh_store, fin) is None
    with pytest.raises(NotFound):
        org.move_department(fresh_store, fin, "no-such-id")


def test_deactivating_a_department_needs_its_members_moved(fresh_store) -> None:  # type: ignore[no-untyped-def]
    hq = dept(fresh_store, "HQ")
    fin, legal = dept(fresh_store, "FIN", hq), dept(fresh_store, "LEGAL", hq)
    alice, bob = person(fresh_store, "alice"), person(fresh_store, "bob")
    org.add_membership(fresh_store, alice, "department", "FIN")
    org.add_membership(fresh_store, bob, "department", "FIN")
    org.set_person_active(fresh_store, bob, False)
    with pytest.raises(OrgError, match="1 active member") as error:
        org.deactivate_department(fresh_store, fin)
    assert error.value.problems[0].field == "move_members_to"
    with pytest.raises(OrgError, match="active sub-department"):
        org.deactivate_department(fresh_store, hq, legal)
    assert org.get(fresh_store, "department", fin)["active"] is True
    assert org.deactivate_department(fresh_store, fin, move_members_to=legal) == 1
    assert org.get(fresh_store, "department", fin)["active"] is False
    assert [m["code"] for m in org.memberships(fresh_store, alice)] == ["LEGAL"]
    # the inactive person keeps their history
    assert [m["code"] for m in org.memberships(fresh_store, bob)] == ["FIN"]
    with pytest.raises(OrgError, match="inactive"):
        org.add_membership(fresh_store, alice, "department", "FIN")
    with pytest.raises(OrgError, match="inactive"):
        org.move_department(fresh_store, legal, fin)
    with pytest.raises(OrgError, match="inactive"):
        org.deactivate_department(fresh_store, legal, move_members_to=fin)


def test_reactivation_needs_an_active_parent(fresh_store) -> None:  # type: ignore[no-untyped-def]
    hq = dept(fresh_store, "HQ")
    fin = dept(fresh_store, "FIN", hq)
    org.deactivate_department(fresh_store, fin)
    org.deactivate_department(fresh_store, hq)
    with pytest.raises(OrgError, match="parent department “HQ” first"):
        org.set_active(fresh_store, "department", fin, True)
    org.set_active(fresh_store, "department", hq, True)
    org.set_active(fresh_store, "department", fin, True)
    assert org.get(fresh_store, "department", fin)["active"] is True


def test_people_deactivate_keep_history_and_validate(fresh_store) -> None:  # type: ignore[no-untyped-def]
    dept(fresh_store, "FIN")
    org.create(fresh_store, "position", {"code": "ACC", "name": "会计"})
    org.create(fresh_store, "project", {"code": "ERP", "name": "ERP 升级"})
    alice = person(fresh_store, "alice")
    for kind, code in (("department", "FIN"), ("head", "FIN"), ("position", "ACC"), ("project", "ERP")):
        org.add_membership(fresh_store, alice, kind, code)
    org.set_person_active(fresh_store, alice, False)
    got = org.get_person(fresh_store, alice)
    assert got["active"] is False and got["roles"] == ["member"]
    assert sorted((m["kind"], m["code"]) for m in org.memberships(fresh_store, alice)) == [
        ("department", "FIN"), ("head", "FIN"), ("position", "ACC"), ("project", "ERP")]
    assert org.search_people(fresh_store, "alice").total == 0
    assert org.search_people(fresh_store, "alice", status="inactive").total == 1
    with pytest.raises(OrgError, match="already taken"):
        person(fresh_store, "alice")
    with pytest.raises(OrgError, match="already used"):
        org.create_person(fresh_store, {"username": "alice2", "name": "A", "email": "ALICE@example.com"})
    with pytest.raises(OrgError) as bad:
        org.create_person(fresh_store, {"username": "Bad Name", "name": "", "email": "not-an-email"}, ["root"])
    assert {p.field for p in bad.value.problems} == {"username", "roles"}  # the first gate; fields next
    with pytest.raises(OrgError) as bad:
        org.create_person(fresh_store, {"username": "carol", "name": "", "email": "not-an-email"})
    assert {p.field for p in bad.value.problems} == {"name", "email"}
    with pytest.raises(OrgError, match="Unknown membership kind"):
        org.add_membership(fresh_store, alice, "owner", "FIN")
    with pytest.raises(OrgError, match="No project"):
        org.add_membership(fresh_store, person(fresh_store, "dave"), "project", "NOPE")


def test_managers_and_reporting_cycles(fresh_store) -> None:  # type: ignore[no-untyped-def]
    a, b, c = (person(fresh_store, name) for name in ("ann", "ben", "cat"))
    org.set_manager(fresh_store, b, "ann")
    org.set_manager(fresh_store, c, "ben")
    with pytest.raises(OrgError, match="reporting cycle"):
        org.set_manager(fresh_store, a, "cat")
    with pytest.raises(OrgError, match="reporting cycle"):
        org.set_manager(fresh_store, a, "ann")
    with pytest.raises(OrgError, match="No person"):
        org.set_manager(fresh_store, a, "nobody")
    org.set_manager(fresh_store, c, "ann")  # replaces, does not add
    assert org.get_person(fresh_store, c)["manager_username"] == "ann"
    org.set_manager(fresh_store, c, None)
    assert org.get_person(fresh_store, c)["manager_username"] is None


def test_memberships_add_remove_and_roles(fresh_store) -> None:  # type: ignore[no-untyped-def]
    fin = dept(fresh_store, "FIN")
    alice = person(fresh_store, "alice")
    org.add_membership(fresh_store, alice, "department", "FIN")
    org.add_membership(fresh_store, alice, "department", "FIN")  # idempotent
    assert len(org.memberships(fresh_store, alice)) == 1
    assert org.remove_membership(fresh_store, alice, "department", fin) is True
    assert org.remove_membership(fresh_store, alice, "department", fin) is False
    org.set_roles(fresh_store, alice, ["admin", "member"])
    assert sorted(org.get_person(fresh_store, alice)["roles"]) == ["admin", "member"]
    with pytest.raises(OrgError, match="Unknown role"):
        org.set_roles(fresh_store, alice, ["superuser"])
    assert sorted(org.get_person(fresh_store, alice)["roles"]) == ["admin", "member"]
