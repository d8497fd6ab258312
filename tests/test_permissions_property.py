"""Property test: for random organisations, documents and changes, the graph path query, the
readable sets and the reader lists agree with a pure-Python reference of docs/permissions.md for
EVERY (person, document) pair, before and after permission-relevant changes."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph import EmbeddedServer
from graph import permissions as perm
from graph.classification import LEVELS, ShareKind, share_counts
from graph.cypher import cypher
from graph.falkordb_backend import FalkorStore
from graph.queries import org
from graph.queries import permissions as q
from graph.store import GraphStore

# Org writes the permission module does not own (activation flags, moving a department), declared
# here for the tests; they are portable Cypher like every catalogue statement.
SET_ACTIVE = {
    label: cypher(
        f"test.permissions_set_active_{label.lower()}",
        f"UNWIND $rows AS row MATCH (n:{label} {{id: row.id}}) SET n.active = row.active RETURN count(n) AS count",
        example={"rows": [{"id": "x", "active": False}]},
        writes=True,
    )
    for label in ("Person", "Department", "Project")
}
DETACH_PARENT = cypher(
    "test.permissions_detach_parent",
    "MATCH (c:Department {id: $id})-[r:PART_OF]->(:Department) DELETE r RETURN count(r) AS count",
    example={"id": "x"},
    writes=True,
)

LEVEL_VALUES = [level.value for level in LEVELS] + ["bogus", None]  # unknown levels must fail closed


@dataclass
class Share:
    kind: ShareKind
    target: str
    access: str


@dataclass
class Doc:
    id: str
    owner: str
    level: str | None
    shares: list[Share] = field(default_factory=list)


@dataclass
class World:
    dept_parent: dict[str, str | None]
    dept_active: dict[str, bool]
    project_active: dict[str, bool]
    positions: list[str]
    person_active: dict[str, bool]
    admins: set[str]
    member_depts: dict[str, set[str]]
    member_projects: dict[str, set[str]]
    holds: dict[str, set[str]]
    docs: dict[str, Doc]

    # -- reference implementation of the written policy -------------------------------------------

    def reaches(self, person: str, share: Share) -> bool:
        if share.kind is ShareKind.PERSON:
            return share.target == person
        if share.kind is ShareKind.POSITION:
            return share.target in self.holds[person]
        if share.kind is ShareKind.PROJECT:
            return share.target in self.member_projects[person] and self.project_active[share.target]
        return any(self._chain_reaches(dept, share.target) for dept in self.member_depts[person])

    def _chain_reaches(self, dept: str | None, target: str) -> bool:
        # Walk up from the member department; every department passed, the target included, must be active.
        while dept is not None:
            if not self.dept_active[dept]:
                return False
            if dept == target:
                return True
            dept = self.dept_parent[dept]
        return False

    def allowed(self, person: str, doc_id: str, mode: str) -> bool:
        doc = self.docs[doc_id]
        if not self.person_active[person]:
            return False
        if doc.owner == person or person in self.admins:
            return True
        if mode == "read" and doc.level == "public":
            return True
        return any(
            share_counts(doc.level, s.kind) and (mode == "read" or s.access == "edit") and self.reaches(person, s)
            for s in doc.shares
        )

    def descendants(self, dept: str) -> set[str]:
        found = {dept}
        changed = True
        while changed:
            changed = False
            for child, parent in self.dept_parent.items():
                if parent in found and child not in found:
                    found.add(child)
                    changed = True
        return found

    # -- loading into a real graph ----------------------------------------------------------------

    def load(self, store: GraphStore) -> None:
        store.run(org.UPSERT_DEPARTMENTS, {"rows": [{"id": d, "code": d, "name": f"部门{d}", "name_en": f"Dept {d}"}
                                                    for d in self.dept_parent]})
        store.run(org.LINK_DEPARTMENT_PARENTS, {"rows": [{"id": d, "parent_id": p}
                                                         for d, p in self.dept_parent.items() if p]})
        store.run(org.UPSERT_POSITIONS, {"rows": [{"id": s, "code": s, "name": s, "name_en": s}
                                                  for s in self.positions]})
        store.run(org.UPSERT_PROJECTS, {"rows": [{"id": j, "code": j, "name": j, "name_en": j}
                                                 for j in self.project_active]})
        store.run(org.UPSERT_PEOPLE, {"rows": [{"id": p, "username": p, "name": p, "email": f"{p}@x", "now": 0,
                                                "password_hash": None} for p in self.person_active]})
        self._flags(store)
        store.run(org.LINK_MEMBERSHIPS, {"rows": [{"person_id": p, "department_id": d}
                                                  for p, ds in self.member_depts.items() for d in ds]})
        store.run(org.LINK_PROJECT_MEMBERS, {"rows": [{"person_id": p, "project_id": j}
                                                      for p, js in self.member_projects.items() for j in js]})
        store.run(org.LINK_POSITIONS, {"rows": [{"person_id": p, "position_id": s}
                                                for p, ss in self.holds.items() for s in ss]})
        store.run(org.GRANT_ROLES, {"rows": [{"person_id": p, "role": "admin"} for p in self.admins]})
        self.load_documents(store, list(self.docs))

    def _flags(self, store: GraphStore) -> None:
        for label, flags in (("Person", self.person_active), ("Department", self.dept_active),
                             ("Project", self.project_active)):
            store.run(SET_ACTIVE[label], {"rows": [{"id": k, "active": v} for k, v in flags.items()]})

    def load_documents(self, store: GraphStore, doc_ids: list[str]) -> None:
        docs = [self.docs[d] for d in doc_ids]
        store.run(q.UPSERT_DOCUMENTS, {"rows": [{"id": d.id, "title": f"文档{d.id}", "access": d.level, "domain": None,
                                                 "data_type": None, "owner_id": d.owner} for d in docs]})
        for kind in ShareKind:
            rows = [{"document_id": d.id, "target_id": s.target, "access": s.access}
                    for d in docs for s in d.shares if s.kind is kind]
            if rows:
                store.run(q.SHARE[kind], {"rows": rows, "actor_id": "loader", "now": 0})

    def move(self, store: GraphStore, dept: str, parent: str | None) -> None:
        store.run(DETACH_PARENT, {"id": dept})
        if parent:
            store.run(org.LINK_DEPARTMENT_PARENTS, {"rows": [{"id": dept, "parent_id": parent}]})
        self.dept_parent[dept] = parent
        perm.record_change(store, principals=True)

    def set_flags(self, store: GraphStore) -> None:
        self._flags(store)


@st.composite
def worlds(draw: st.DrawFn) -> World:
    n_depts = draw(st.integers(1, 5))
    depts = [f"d{i}" for i in range(n_depts)]
    dept_parent = {d: (draw(st.sampled_from([None, *depts[:i]])) if i else None) for i, d in enumerate(depts)}
    bools = st.booleans()
    mostly = st.sampled_from([True, True, True, False])
    dept_active = {d: draw(mostly) for d in depts}
    projects = [f"j{i}" for i in range(draw(st.integers(1, 3)))]
    project_active = {j: draw(mostly) for j in projects}
    positions = [f"s{i}" for i in range(draw(st.integers(1, 3)))]
    people = [f"u{i}" for i in range(draw(st.integers(1, 5)))]
    person_active = {p: draw(mostly) for p in people}
    admins = {p for p in people if draw(st.sampled_from([False] * 5 + [True]))}

    def subset(pool: list[str]) -> set[str]:
        return {x for x in pool if draw(bools) and draw(bools)}

    member_depts = {p: subset(depts) for p in people}
    member_projects = {p: subset(projects) for p in people}
    holds = {p: subset(positions) for p in people}
    targets = {ShareKind.PERSON: people, ShareKind.DEPARTMENT: depts, ShareKind.PROJECT: projects,
               ShareKind.POSITION: positions}
    docs = {}
    for i in range(draw(st.integers(1, 5))):
        shares: dict[tuple[ShareKind, str], Share] = {}
        for _ in range(draw(st.integers(0, 4))):
            kind = draw(st.sampled_from(list(ShareKind)))
            target = draw(st.sampled_from(targets[kind]))
            shares[(kind, target)] = Share(kind, target, draw(st.sampled_from(["read", "edit"])))
        docs[f"doc{i}"] = Doc(f"doc{i}", draw(st.sampled_from(people)), draw(st.sampled_from(LEVEL_VALUES)),
                              list(shares.values()))
    return World(dept_parent, dept_active, project_active, positions, person_active, admins, member_depts,
                 member_projects, holds, docs)


@st.composite
def changes(draw: st.DrawFn, world: World) -> list[tuple[str, object]]:
    """A few permission-relevant changes to apply after the first round of checks."""
    people, depts, projects = list(world.person_active), list(world.dept_parent), list(world.project_active)
    ops: list[tuple[str, object]] = []
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["person_flag", "dept_flag", "project_flag", "move", "join", "level", "owner",
                                   "unshare", "share"]))
        if op == "person_flag":
            ops.append((op, draw(st.sampled_from(people))))
        elif op == "dept_flag":
            ops.append((op, draw(st.sampled_from(depts))))
        elif op == "project_flag":
            ops.append((op, draw(st.sampled_from(projects))))
        elif op == "move":
            ops.append((op, (draw(st.sampled_from(depts)), draw(st.sampled_from([None, *depts])))))
        elif op == "join":
            ops.append((op, (draw(st.sampled_from(people)), draw(st.sampled_from(depts)))))
        elif op == "level":
            ops.append((op, (draw(st.sampled_from(list(world.docs))), draw(st.sampled_from(LEVEL_VALUES[:4])))))
        elif op == "owner":
            ops.append((op, (draw(st.sampled_from(list(world.docs))), draw(st.sampled_from(people)))))
        elif op == "unshare":
            ops.append((op, draw(st.sampled_from(list(world.docs)))))
        else:
            kind = draw(st.sampled_from([ShareKind.PERSON, ShareKind.DEPARTMENT]))
            target = draw(st.sampled_from(people if kind is ShareKind.PERSON else depts))
            ops.append((op, (draw(st.sampled_from(list(world.docs))), Share(kind, target, "edit"))))
    return ops


def apply(world: World, store: GraphStore, ops: list[tuple[str, object]]) -> None:
    """Apply the changes to the graph and to the model, telling the permission layer exactly what changed."""
    for op, arg in ops:
        if op == "person_flag":
            world.person_active[arg] = not world.person_active[arg]  # type: ignore[index]
            world.set_flags(store)
            perm.record_change(store, people=[arg])  # type: ignore[list-item]
        elif op in ("dept_flag", "project_flag"):
            flags = world.dept_active if op == "dept_flag" else world.project_active
            flags[arg] = not flags[arg]  # type: ignore[index]
            world.set_flags(store)
            perm.record_change(store, principals=True)
        elif op == "move":
            dept, parent = arg  # type: ignore[misc]
            if parent is None or parent not in world.descendants(dept):  # keep the tree a tree
                world.move(store, dept, parent)
        elif op == "join":
            person, dept = arg  # type: ignore[misc]
            world.member_depts[person].add(dept)
            store.run(org.LINK_MEMBERSHIPS, {"rows": [{"person_id": person, "department_id": dept}]})
            perm.record_change(store, people=[person])
        elif op == "level":
            doc, level = arg  # type: ignore[misc]
            world.docs[doc].level = level
            store.run(q.SET_LEVEL, {"document_id": doc, "level": level})
        elif op == "owner":
            doc, owner = arg  # type: ignore[misc]
            world.docs[doc].owner = owner
            world.load_documents(store, [doc])
        elif op == "unshare":
            doc = world.docs[arg]  # type: ignore[index]
            if doc.shares:
                gone = doc.shares.pop(0)
                store.run(q.UNSHARE[gone.kind], {"document_id": doc.id, "target_id": gone.target})
        else:
            doc_id, share = arg  # type: ignore[misc]
            doc = world.docs[doc_id]
            doc.shares = [s for s in doc.shares if (s.kind, s.target) != (share.kind, share.target)] + [share]
            store.run(q.SHARE[share.kind], {"rows": [{"document_id": doc_id, "target_id": share.target,
                                                      "access": share.access}], "actor_id": "x", "now": 0})


def assert_agrees(world: World, store: GraphStore) -> None:
    for person in world.person_active:
        expected_readable = set()
        for doc in world.docs:
            for mode in ("read", "edit"):
                expected = world.allowed(person, doc, mode)
                got = perm.check(store, person, doc, mode)
                assert got.allowed == expected, (person, doc, mode, got, world)
                if got.allowed:
                    assert_path_justifies(world, person, doc, got)
            if world.allowed(person, doc, "read"):
                expected_readable.add(doc)
        assert perm.readable_document_ids(store, person) == expected_readable, (person, world)
    for doc in world.docs:
        readers = perm.who_can_read(store, doc, 1, 100)
        assert {r.person_id for r in readers.readers} == {p for p in world.person_active
                                                          if world.allowed(p, doc, "read")}
        assert readers.total == len(readers.readers)


def assert_path_justifies(world: World, person: str, doc: str, access: perm.Access) -> None:
    """The returned path is a real path of the model that the policy accepts on its own."""
    path = access.path
    assert path[0].id == person and path[-1].id == doc
    kind = access.reason_kind
    if kind == "owner":
        assert world.docs[doc].owner == person
    elif kind == "admin":
        assert person in world.admins
    elif kind == "public":
        assert world.docs[doc].level == "public" and access.mode == "read"
    elif kind == "department":
        chain = [s.id for s in path[1:-1]]
        assert chain[0] in world.member_depts[person]
        assert all(world.dept_parent[a] == b for a, b in itertools.pairwise(chain))
        assert all(world.dept_active[d] for d in chain)
        assert any(s.kind is ShareKind.DEPARTMENT and s.target == chain[-1] for s in world.docs[doc].shares)
    else:
        share_kind = ShareKind(kind.capitalize())
        target = path[1].id if kind != "person" else person
        share = next(s for s in world.docs[doc].shares if s.kind is share_kind and s.target == target)
        assert share_counts(world.docs[doc].level, share_kind) and world.reaches(person, share)
        assert access.mode == "read" or share.access == "edit"


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_path_query_and_readable_sets_follow_the_written_policy(graph_server: EmbeddedServer, data: st.DataObject):
    world = data.draw(worlds())
    store = FalkorStore(graph_server, f"t_perm_{uuid.uuid4().hex[:12]}")
    try:
        world.load(store)
        assert_agrees(world, store)
        apply(world, store, data.draw(changes(world)))
        assert_agrees(world, store)  # the same process cache, caught up from the version log
        assert perm.cache_for(store).rebuilds == 1
    finally:
        store.drop_all()
        store.close()
