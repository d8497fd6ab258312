"""Every organisation change reaches readable sets that are already warm, in this process and in another.

A small organisation is built through the admin functions on a real graph; both caches (the
process-wide one and one on a second connection, as another process would hold) answer for every
person before the change, so their principals are cached. Right after the change, with no manual
invalidation, both must agree with the path query (``can_read``) for every person/document pair,
and the specific access the change grants or removes must show.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from graph import EmbeddedServer, accounts, org, org_io
from graph import permissions as perm
from graph.classification import ShareKind
from graph.demo_org import build_org, load_demo_org, node_id
from graph.falkordb_backend import FalkorStore
from graph.queries import org as org_q
from graph.queries import permissions as q

# document -> (level, share kind, share target key); targets are codes, or a username for person shares
DOCUMENTS: dict[str, tuple[str, ShareKind | None, str | None]] = {
    "sales-plan": ("internal", ShareKind.DEPARTMENT, "SALES"),
    "hq-memo": ("confidential", ShareKind.DEPARTMENT, "HQ"),
    "lab-notes": ("internal", ShareKind.DEPARTMENT, "LAB"),
    "apollo-spec": ("confidential", ShareKind.PROJECT, "APOLLO"),
    "ledger": ("internal", ShareKind.POSITION, "ACC"),
    "board": ("secret", ShareKind.PERSON, "fin"),
    "handbook": ("public", None, None),
}
# code, parent code
DEPARTMENTS = [("HQ", None), ("SALES", "HQ"), ("SALES-EAST", "SALES"), ("FIN", "HQ"), ("OPS", "HQ"), ("LAB", None)]
# username -> memberships (kind, code)
PEOPLE: dict[str, list[tuple[str, str]]] = {
    "olga": [("department", "FIN")],
    "fin": [("department", "FIN")],
    "east": [("department", "SALES-EAST")],
    "lab": [("department", "LAB")],
    "proj": [("department", "LAB"), ("project", "APOLLO")],
    "acc": [("department", "LAB"), ("position", "ACC")],
    "ops": [("department", "OPS")],
    "sleeper": [("department", "OPS")],
    "boss": [("department", "HQ")],
}


@dataclass
class Org:
    store: FalkorStore
    people: dict[str, str]  # username -> id
    ids: dict[str, str]  # code -> id (departments, positions, projects)
    caches: list[perm.PermissionCache]

    def readable(self) -> dict[str, set[str]]:
        """What the path query allows, checked against every cache for every person; returns it."""
        expected = {name: {d for d in DOCUMENTS if perm.can_read(self.store, pid, d).allowed}
                    for name, pid in self.people.items()}
        for number, cache in enumerate(self.caches):
            for name, pid in self.people.items():
                assert cache.readable_document_ids(pid) == expected[name], (number, name)
        return expected

    def version(self) -> int:
        rows = self.store.run(q.PERMISSIONS_VERSION)
        return int(rows[0]["version"]) if rows else 0

    def assert_no_rebuild(self) -> None:
        """Organisation changes are replayed from the log, never by rebuilding the document index."""
        assert [cache.rebuilds for cache in self.caches] == [1] * len(self.caches)


def _build(store: FalkorStore) -> tuple[dict[str, str], dict[str, str]]:
    ids: dict[str, str] = {}
    for code, parent in DEPARTMENTS:
        ids[code] = org.create(store, "department", {"code": code, "name": f"部门 {code}",
                                                     "parent_id": ids[parent] if parent else ""})
    ids["ACC"] = org.create(store, "position", {"code": "ACC", "name": "会计"})
    ids["APOLLO"] = org.create(store, "project", {"code": "APOLLO", "name": "阿波罗"})
    people = {}
    for username, memberships in PEOPLE.items():
        people[username] = org.create_person(
            store, {"username": username, "name": username.title(), "email": f"{username}@example.com"},
            ["member", "admin"] if username == "boss" else ["member"])
        for kind, code in memberships:
            org.add_membership(store, people[username], kind, code)
    org.set_person_active(store, people["sleeper"], False)
    perm.register_documents(store, [{"id": d, "title": d, "access": level, "owner_id": people["olga"]}
                                    for d, (level, _, _) in DOCUMENTS.items()])
    for document, (_, kind, target) in DOCUMENTS.items():
        if kind is not None and target is not None:
            target_id = people[target] if kind is ShareKind.PERSON else ids[target]
            perm.share(store, people["olga"], document, kind, target_id)
    return people, ids


@pytest.fixture
def world(fresh_store: FalkorStore, graph_server: EmbeddedServer) -> Iterator[Org]:
    people, ids = _build(fresh_store)
    other = FalkorStore(graph_server, fresh_store.graph_name)  # another process's connection and cache
    try:
        built = Org(fresh_store, people, ids, [perm.cache_for(fresh_store), perm.PermissionCache(other)])
        before = built.readable()  # warms both caches: index and every person's principals
        assert before["east"] == {"sales-plan", "hq-memo", "handbook"}
        assert before["boss"] == set(DOCUMENTS) and before["sleeper"] == set()
        yield built
    finally:
        other.close()


def test_membership_added_and_removed(world: Org) -> None:
    east = world.people["east"]
    org.add_membership(world.store, east, "department", "LAB")
    assert "lab-notes" in world.readable()["east"]

    assert org.remove_membership(world.store, east, "department", world.ids["SALES-EAST"])
    assert world.readable()["east"] == {"lab-notes", "handbook"}
    world.assert_no_rebuild()


def test_removing_a_missing_membership_records_nothing(world: Org) -> None:
    version = world.version()
    assert not org.remove_membership(world.store, world.people["lab"], "department", world.ids["FIN"])
    assert world.version() == version
    world.readable()


def test_department_moved_under_another_and_back_to_the_root(world: Org) -> None:
    org.move_department(world.store, world.ids["LAB"], world.ids["HQ"])
    after = world.readable()
    assert {"lab-notes", "hq-memo"} <= after["lab"] and "hq-memo" in after["proj"]

    org.move_department(world.store, world.ids["SALES-EAST"], None)  # a root: cut off from SALES and HQ
    assert world.readable()["east"] == {"handbook"}
    world.assert_no_rebuild()


def test_a_refused_move_records_nothing(world: Org) -> None:
    version = world.version()
    with pytest.raises(org.OrgError):
        org.move_department(world.store, world.ids["HQ"], world.ids["SALES-EAST"])  # under its own descendant
    assert world.version() == version
    world.readable()


def test_department_deactivated_with_its_members_moved_then_reactivated(world: Org) -> None:
    assert "hq-memo" in world.readable()["ops"]
    version = world.version()
    assert org.deactivate_department(world.store, world.ids["OPS"], move_members_to=world.ids["LAB"]) == 1
    after = world.readable()
    assert after["ops"] == {"lab-notes", "handbook"}  # moved to LAB, a root: no path to HQ any more
    log = world.store.run(q.PERMISSIONS_LOG)[0]["log"]
    assert [e.split("|", 1)[1] for e in log if int(e.split("|", 1)[0]) > version] == [
        f"person:{world.people['ops']}", "principals"]

    # The member left behind is inactive; reactivated, the deactivated department still reaches nothing.
    org.set_person_active(world.store, world.people["sleeper"], True)
    assert world.readable()["sleeper"] == {"handbook"}
    org.set_active(world.store, "department", world.ids["OPS"], True)
    assert world.readable()["sleeper"] == {"hq-memo", "handbook"}
    world.assert_no_rebuild()


def test_person_deactivated_and_reactivated_by_either_module(world: Org) -> None:
    fin = world.people["fin"]
    org.set_person_active(world.store, fin, False)
    assert world.readable()["fin"] == set()
    accounts.set_active(world.store, fin, True)
    assert world.readable()["fin"] == {"hq-memo", "board", "handbook"}
    accounts.set_active(world.store, world.people["boss"], False)  # even an administrator
    assert world.readable()["boss"] == set()
    world.assert_no_rebuild()


def test_position_granted_and_revoked(world: Org) -> None:
    lab = world.people["lab"]
    org.add_membership(world.store, lab, "position", "ACC")
    assert "ledger" in world.readable()["lab"]
    assert org.remove_membership(world.store, lab, "position", world.ids["ACC"])
    assert "ledger" not in world.readable()["lab"]
    world.assert_no_rebuild()


def test_project_membership_and_project_deactivation(world: Org) -> None:
    east = world.people["east"]
    org.add_membership(world.store, east, "project", "APOLLO")
    assert "apollo-spec" in world.readable()["east"]
    org.set_active(world.store, "project", world.ids["APOLLO"], False)
    after = world.readable()
    assert "apollo-spec" not in after["east"] and "apollo-spec" not in after["proj"]
    org.set_active(world.store, "project", world.ids["APOLLO"], True)
    assert "apollo-spec" in world.readable()["proj"]
    assert org.remove_membership(world.store, east, "project", world.ids["APOLLO"])
    assert "apollo-spec" not in world.readable()["east"]
    world.assert_no_rebuild()


def test_admin_role_granted_and_revoked(world: Org) -> None:
    east = world.people["east"]
    org.set_roles(world.store, east, ["member", "admin"])
    assert world.readable()["east"] == set(DOCUMENTS)
    org.set_roles(world.store, world.people["boss"], ["member"])
    org.set_roles(world.store, east, ["member"])
    after = world.readable()
    assert after["east"] == {"sales-plan", "hq-memo", "handbook"}
    assert after["boss"] == {"hq-memo", "handbook"}
    world.assert_no_rebuild()


def test_bulk_import_moves_people_and_departments(world: Org) -> None:
    files = [
        ("departments.csv", "code,name,parent_code\r\nLAB,部门 LAB,HQ\r\n".encode()),
        ("people.csv", b"username,name,email,active\r\nfin,Fin,fin@example.com,false\r\n"),
        ("memberships.csv", b"username,kind,code\r\neast,department,FIN\r\nacc,position,ACC\r\n"
                            b"lab,project,APOLLO\r\n"),
    ]
    plan = org_io.plan_import(world.store, org_io.read_files(files))
    assert plan.ok, [str(p) for p in plan.problems]
    org_io.apply_plan(world.store, plan)
    after = world.readable()
    assert after["east"] == {"hq-memo", "handbook"}  # moved from SALES-EAST to FIN
    assert after["fin"] == set()
    assert {"lab-notes", "hq-memo", "apollo-spec"} <= after["lab"]  # LAB moved under HQ; joined APOLLO
    world.assert_no_rebuild()


def test_people_created_by_either_module_read_at_once(world: Org) -> None:
    created = accounts.create_person(world.store, username="newbie", name="Newbie", department_code="SALES",
                                     password="long-enough-1")
    world.people["newbie"] = created.id
    assert world.readable()["newbie"] == {"sales-plan", "hq-memo", "handbook"}
    world.people["second"] = org.create_person(world.store, {"username": "second", "name": "Second",
                                                             "email": "second@example.com"})
    org.add_membership(world.store, world.people["second"], "department", "LAB")
    assert world.readable()["second"] == {"lab-notes", "handbook"}
    world.assert_no_rebuild()


def test_large_changes_name_principals_not_every_person(world: Org) -> None:
    """A statement touching many people logs one entry, so the log is not flushed into a full rebuild."""
    rows = [{"id": f"bulk-{i}", "username": f"bulk{i}", "name": f"Bulk {i}", "email": None, "now": 0,
             "password_hash": None} for i in range(org_q.MAX_NAMED_PEOPLE + 1)]
    version = world.version()
    [result] = world.store.run(org_q.UPSERT_PEOPLE, {"rows": rows})
    assert (result["version"], result["changed"]) == (version + 1, 1)
    assert world.store.run(q.PERMISSIONS_LOG)[0]["log"][-1] == f"{version + 1}|principals"
    world.store.run(org_q.LINK_MEMBERSHIPS, {"rows": [{"person_id": r["id"], "department_id": world.ids["LAB"]}
                                                      for r in rows]})
    world.people.update({r["username"]: r["id"] for r in rows[:3]})
    assert world.readable()["bulk0"] == {"lab-notes", "handbook"}
    world.assert_no_rebuild()


def test_demo_loader_refreshes_principals_cached_before_it_ran(fresh_store: FalkorStore) -> None:
    demo = build_org()
    admin = node_id("person", "admin")
    infra, recruiter = (next(m["person_id"] for m in demo.memberships if m["department_id"] == node_id("dept", code))
                        for code in ("IT-INF", "HR-REC"))
    cache = perm.cache_for(fresh_store)
    for person in (admin, infra, recruiter):
        assert cache.readable_document_ids(person) == set()  # unknown yet: cached as nobody
    load_demo_org(fresh_store, "demo-password-1")
    perm.register_documents(fresh_store, [{"id": "it-runbook", "title": "Runbook", "access": "internal",
                                           "owner_id": recruiter}])
    perm.share(fresh_store, recruiter, "it-runbook", ShareKind.DEPARTMENT, node_id("dept", "IT"))
    for person in (admin, infra, recruiter):  # admin rule, department path through IT, owner
        assert cache.readable_document_ids(person) == {"it-runbook"}
        assert perm.can_read(fresh_store, person, "it-runbook").allowed
    assert cache.rebuilds == 1
