"""Permissions on the demo organisation: explanations, reader lists, share previews, changes, caching."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator

import pytest
from test_permissions_property import SET_ACTIVE

from graph import EmbeddedServer
from graph import permissions as perm
from graph.classification import AccessLevel, ClassificationError, ShareKind
from graph.demo_org import build_org, load_demo_org, node_id
from graph.falkordb_backend import FalkorStore
from graph.queries import org
from graph.queries import permissions as q

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_ORG = build_org()
ADMIN = node_id("person", "admin")


def dept(code: str) -> str:
    return node_id("dept", code)


def members(code: str) -> list[str]:
    return [m["person_id"] for m in _ORG.memberships if m["department_id"] == dept(code)]


def holders(code: str) -> list[str]:
    return [h["person_id"] for h in _ORG.holds if h["position_id"] == node_id("position", code)]


def project_members(code: str) -> list[str]:
    return [m["person_id"] for m in _ORG.project_members if m["project_id"] == node_id("project", code)]


OWNER = members("FIN-ACC")[1]
EAST = members("SALES-EAST")[1]
LEGAL = members("LEGAL")[1]
HR_PERSON = members("HR-REC")[1]
ACCOUNTANT = next(p for p in holders("ACCOUNTANT") if p != OWNER)
PROJECT_MEMBER = next(p for p in project_members("MOBILE-3") if p not in members("FIN-ACC"))


def load(store: FalkorStore) -> None:
    """The demo organisation plus a handful of documents with one kind of share each."""
    load_demo_org(store, "pw-demo-123")
    docs = [("sales-plan", "internal"), ("fin-report", "confidential"), ("board", "secret"),
            ("handbook", "public"), ("mobile-spec", "internal"), ("ledger", "internal"), ("salaries", "internal")]
    perm.register_documents(store, [{"id": d, "title": f"文档 {d}", "access": level, "owner_id": OWNER}
                                    for d, level in docs])
    perm.share(store, OWNER, "sales-plan", ShareKind.DEPARTMENT, dept("SALES"))
    perm.share(store, OWNER, "fin-report", ShareKind.DEPARTMENT, dept("HQ"))
    perm.share(store, OWNER, "board", ShareKind.PERSON, LEGAL, "edit")
    perm.share(store, OWNER, "mobile-spec", ShareKind.PROJECT, node_id("project", "MOBILE-3"))
    perm.share(store, OWNER, "ledger", ShareKind.POSITION, node_id("position", "ACCOUNTANT"))
    perm.share(store, OWNER, "salaries", ShareKind.DEPARTMENT, dept("LEGAL"), "edit")
    # A position share on a confidential document, as a level raised after sharing leaves behind.
    perm.share(store, OWNER, "salaries", ShareKind.POSITION, node_id("position", "ACCOUNTANT"))
    perm.set_level(store, OWNER, "salaries", "confidential")


@pytest.fixture(scope="module")
def demo(graph_server: EmbeddedServer) -> Iterator[FalkorStore]:
    store = FalkorStore(graph_server, f"t_permdemo_{uuid.uuid4().hex[:10]}")
    store.ensure_schema()
    load(store)
    yield store
    store.drop_all()
    store.close()


@pytest.fixture
def mutable(fresh_store: FalkorStore) -> FalkorStore:
    load(fresh_store)
    return fresh_store


# -- explanations ---------------------------------------------------------------------------------


def test_department_path_through_the_tree_is_the_explanation(demo: FalkorStore) -> None:
    access = perm.can_read(demo, EAST, "sales-plan")
    assert access.allowed and access.reason_kind == "department"
    assert [s.name for s in access.path] == [access.path[0].name, "华东销售组", "销售部", "文档 sales-plan"]
    assert access.explain("zh") == "您属于华东销售组，它隶属于销售部，该文档已共享给销售部。"
    assert access.explain("en") == "You are in East China Sales, part of Sales, which this document is shared with."


def test_three_level_chain_and_single_department_wording(demo: FalkorStore) -> None:
    deep = perm.can_read(demo, EAST, "fin-report")
    assert deep.explain("zh") == "您属于华东销售组，它隶属于销售部，销售部隶属于汇通科技，该文档已共享给汇通科技。"
    assert deep.explain("en") == ("You are in East China Sales, part of Sales, part of Huitong Technology, "
                                  "which this document is shared with.")
    flat = perm.can_read(demo, LEGAL, "salaries")
    assert flat.explain("zh") == "您属于法务部，该文档已共享给法务部。"
    assert flat.explain("en") == "You are in Legal, which this document is shared with."


@pytest.mark.parametrize(("person", "document", "kind", "zh", "en"), [
    (OWNER, "board", "owner", "您是该文档的所有者。", "You own this document."),
    (LEGAL, "board", "person", "该文档已直接共享给您。", "This document is shared with you directly."),
    (PROJECT_MEMBER, "mobile-spec", "project", "您是项目组“移动 App 3.0”的成员，该文档已共享给该项目组。",
     "You are a member of the project Mobile app 3.0, which this document is shared with."),
    (ACCOUNTANT, "ledger", "position", "您担任岗位“会计”，该文档已共享给该岗位。",
     "You hold the position Accountant, which this document is shared with."),
    (EAST, "handbook", "public", "该文档为公开文档，所有在职人员均可阅读。",
     "This document is public: every active member of the organisation can read it."),
    (ADMIN, "board", "admin", "您是系统管理员，可以访问所有文档。",
     "You are an administrator: administrators can open every document."),
])
def test_each_granting_rule_explains_itself(demo: FalkorStore, person: str, document: str, kind: str, zh: str,
                                            en: str) -> None:
    access = perm.can_read(demo, person, document)
    assert (access.allowed, access.reason_kind) == (True, kind)
    assert access.path[0].id == person and access.path[-1].id == document
    assert (access.explain("zh"), access.explain("en")) == (zh, en)


def test_refusals_say_why(demo: FalkorStore) -> None:
    blocked = perm.can_read(demo, ACCOUNTANT, "salaries")
    assert not blocked.allowed and blocked.reason_kind == "level_blocked"
    assert blocked.explain("zh") == "该文档密级为“机密”，此密级下共享给岗位的路径无效，因此“会计”不能为您提供访问权限。"
    assert "confidential" in blocked.explain("en") and "positions do not count" in blocked.explain("en")

    none = perm.can_read(demo, HR_PERSON, "board")
    assert (none.allowed, none.reason_kind, none.path) == (False, "no_path", [])
    assert perm.can_read(demo, EAST, "board").explain("en").startswith("This document is not shared with you")

    read_only = perm.can_edit(demo, EAST, "sales-plan")
    assert (read_only.allowed, read_only.reason_kind) == (False, "read_only")
    assert read_only.explain("zh") == "您可以阅读该文档，但没有任何共享授予您编辑权限。"
    assert perm.can_edit(demo, EAST, "handbook").reason_kind == "read_only"  # public never grants edit

    assert perm.can_read(demo, "nobody", "board").reason_kind == "unknown_person"
    assert perm.can_read(demo, EAST, "no-such-doc").reason_kind == "unknown_document"
    assert perm.can_read(demo, EAST, "no-such-doc").explain("zh") == "该文档不存在。"


def test_edit_follows_edit_shares(demo: FalkorStore) -> None:
    assert perm.can_edit(demo, LEGAL, "board").reason_kind == "person"
    assert perm.can_edit(demo, LEGAL, "salaries").reason_kind == "department"
    assert perm.can_edit(demo, ADMIN, "sales-plan").reason_kind == "admin"
    assert perm.can_edit(demo, OWNER, "sales-plan").reason_kind == "owner"


# -- deactivation ---------------------------------------------------------------------------------


def test_deactivated_department_and_person(mutable: FalkorStore) -> None:
    assert perm.can_read(mutable, EAST, "sales-plan").allowed
    assert "sales-plan" in perm.readable_document_ids(mutable, EAST)
    mutable.run(SET_ACTIVE["Department"], {"rows": [{"id": dept("SALES"), "active": False}]})
    perm.record_change(mutable, principals=True)
    cut = perm.can_read(mutable, EAST, "sales-plan")
    assert (cut.allowed, cut.reason_kind) == (False, "inactive_path")
    assert cut.explain("zh") == "“销售部”已停用，经由它的共享不再对您生效。"
    assert "sales-plan" not in perm.readable_document_ids(mutable, EAST)
    # The deactivated parent also cuts the path to HQ for its sub-departments.
    assert not perm.can_read(mutable, EAST, "fin-report").allowed

    mutable.run(SET_ACTIVE["Person"], {"rows": [{"id": OWNER, "active": False}]})
    perm.record_change(mutable, people=[OWNER])
    gone = perm.can_read(mutable, OWNER, "board")
    assert (gone.allowed, gone.reason_kind) == (False, "inactive")
    assert gone.explain("en") == "Your account is deactivated, so you cannot open any document."
    assert perm.readable_document_ids(mutable, OWNER) == set()


# -- who can read, preview --------------------------------------------------------------------------


def test_who_can_read_pages_through_every_reader_with_a_path(demo: FalkorStore) -> None:
    first = perm.who_can_read(demo, "sales-plan", page=1, per_page=10)
    pages = [first]
    while pages[-1].page * 10 < first.total:
        pages.append(perm.who_can_read(demo, "sales-plan", page=pages[-1].page + 1, per_page=10))
    readers = [r for page in pages for r in page.readers]
    sales = {p for code in ("SALES", "SALES-EAST", "SALES-NORTH", "SALES-SOUTH", "SALES-INTL") for p in members(code)}
    assert {r.person_id for r in readers} == sales | {OWNER, ADMIN}
    assert len(readers) == first.total == len(set(sales | {OWNER, ADMIN}))
    assert [(r.name, r.person_id) for r in readers] == sorted((r.name or "", r.person_id) for r in readers)
    by_id = {r.person_id: r for r in readers}
    assert by_id[EAST].access.reason_kind == "department" and not by_id[EAST].can_edit
    assert by_id[OWNER].access.reason_kind == "owner" and by_id[OWNER].can_edit
    assert perm.who_can_read(demo, "sales-plan", page=99, per_page=10).readers == []
    with pytest.raises(ValueError, match="page"):
        perm.who_can_read(demo, "sales-plan", page=0)
    with pytest.raises(perm.NotFound):
        perm.who_can_read(demo, "no-such-doc")


def test_public_document_readers_are_every_active_person_paged_by_name(demo: FalkorStore) -> None:
    everyone = len(_ORG.people) + 1  # and the admin
    pages = [perm.who_can_read(demo, "handbook", page=n, per_page=40) for n in range(1, everyone // 40 + 2)]
    readers = [r for page in pages for r in page.readers]
    assert pages[0].total == everyone == len(readers) == len({r.person_id for r in readers})
    assert [(r.name, r.person_id) for r in readers] == sorted((r.name or "", r.person_id) for r in readers)
    by_id = {r.person_id: r for r in readers}
    assert by_id[OWNER].access.reason_kind == "owner" and by_id[OWNER].can_edit
    assert by_id[ADMIN].access.reason_kind == "public" and by_id[ADMIN].can_edit  # the more specific path
    east = by_id[EAST]
    assert (east.access.reason_kind, east.can_edit) == ("public", False)
    assert [(s.label, s.id, s.name) for s in east.access.path] == [("Person", EAST, east.name),
                                                                   ("Document", "handbook", "文档 handbook")]


def test_secret_document_readers_are_exactly_named_people(demo: FalkorStore) -> None:
    readers = perm.who_can_read(demo, "board").readers
    assert {r.person_id: r.access.reason_kind for r in readers} == {OWNER: "owner", LEGAL: "person", ADMIN: "admin"}
    legal = next(r for r in readers if r.person_id == LEGAL)
    assert [s.id for s in legal.access.path] == [LEGAL, "board"] and legal.can_edit
    assert legal.access.explain("zh") == "该文档已直接共享给您。"


def test_share_preview_lists_exactly_who_would_gain(mutable: FalkorStore) -> None:
    finance = {p for code in ("FIN", "FIN-ACC", "FIN-TRS") for p in members(code)}
    preview = perm.share_preview(mutable, "sales-plan", "department", dept("FIN"), "edit")
    assert preview.counts
    assert {p.id for p in preview.gain_read} == finance - {OWNER}  # the owner can read already
    assert {p.id for p in preview.gain_edit} == finance - {OWNER}
    nothing = perm.share_preview(mutable, "sales-plan", "department", dept("SALES-EAST"))
    assert nothing.counts and nothing.gain_read == []  # already reached through 销售部

    perm.share(mutable, OWNER, "sales-plan", "department", dept("FIN"))
    assert all(perm.can_read(mutable, p, "sales-plan").allowed for p in finance)
    again = perm.share_preview(mutable, "sales-plan", "department", dept("FIN"), "edit")
    assert again.gain_read == [] and {p.id for p in again.gain_edit} == finance - {OWNER}

    ignored = perm.share_preview(mutable, "fin-report", "position", node_id("position", "SALES-REP"))
    assert (ignored.counts, ignored.gain_read, ignored.level) == (False, [], "confidential")
    with pytest.raises(perm.NotFound):
        perm.share_preview(mutable, "sales-plan", "project", "no-such-project")


# -- changes ------------------------------------------------------------------------------------------


def test_share_and_unshare_rules(mutable: FalkorStore) -> None:
    with pytest.raises(perm.Forbidden):
        perm.share(mutable, EAST, "sales-plan", "person", HR_PERSON)  # a reader, not an editor
    with pytest.raises(perm.PolicyViolation, match="secret document cannot be shared with a department"):
        perm.share(mutable, OWNER, "board", "department", dept("LEGAL"))
    with pytest.raises(perm.PolicyViolation, match="confidential document cannot be shared with a position"):
        perm.share(mutable, OWNER, "fin-report", "position", node_id("position", "COUNSEL"))
    with pytest.raises(perm.NotFound):
        perm.share(mutable, OWNER, "sales-plan", "person", "nobody")
    with pytest.raises(perm.NotFound):
        perm.share(mutable, OWNER, "no-such-doc", "person", HR_PERSON)
    with pytest.raises(ClassificationError, match="cannot share with"):
        perm.share(mutable, OWNER, "sales-plan", "galaxy", HR_PERSON)
    with pytest.raises(ClassificationError, match="share access"):
        perm.share(mutable, OWNER, "sales-plan", "person", HR_PERSON, "own")
    assert not perm.can_read(mutable, HR_PERSON, "sales-plan").allowed  # refusals changed nothing

    perm.share(mutable, OWNER, "sales-plan", "person", EAST, "edit")  # upgrade a department reader
    assert perm.can_edit(mutable, EAST, "sales-plan").reason_kind == "person"
    perm.share(mutable, EAST, "sales-plan", "person", HR_PERSON)  # editors may share on
    assert perm.can_read(mutable, HR_PERSON, "sales-plan").reason_kind == "person"
    assert "sales-plan" in perm.readable_document_ids(mutable, HR_PERSON)
    assert perm.unshare(mutable, OWNER, "sales-plan", "person", HR_PERSON) is True
    assert perm.unshare(mutable, OWNER, "sales-plan", "person", HR_PERSON) is False
    assert "sales-plan" not in perm.readable_document_ids(mutable, HR_PERSON)
    with pytest.raises(perm.Forbidden):
        perm.unshare(mutable, HR_PERSON, "sales-plan", "department", dept("SALES"))


def test_level_changes_are_owner_only_and_keep_shares(mutable: FalkorStore) -> None:
    with pytest.raises(perm.Forbidden, match="only the owner or an administrator"):
        perm.set_level(mutable, LEGAL, "salaries", "public")  # an editor, not the owner
    with pytest.raises(ClassificationError, match="unknown access level"):
        perm.set_level(mutable, OWNER, "salaries", "top-secret")
    perm.set_level(mutable, OWNER, "ledger", AccessLevel.CONFIDENTIAL)
    assert perm.can_read(mutable, ACCOUNTANT, "ledger").reason_kind == "level_blocked"
    assert "ledger" not in perm.readable_document_ids(mutable, ACCOUNTANT)
    perm.set_level(mutable, ADMIN, "ledger", "internal")  # lowering brings the kept share back
    assert perm.can_read(mutable, ACCOUNTANT, "ledger").reason_kind == "position"
    assert "ledger" in perm.readable_document_ids(mutable, ACCOUNTANT)


def test_register_documents_validates_before_writing(fresh_store: FalkorStore) -> None:
    load_demo_org(fresh_store, "pw-demo-123")
    with pytest.raises(ClassificationError, match="unknown access level"):
        perm.register_documents(fresh_store, [{"id": "x", "access": "ultra", "owner_id": OWNER}])
    with pytest.raises(ClassificationError, match="owner_id"):
        perm.register_documents(fresh_store, [{"id": "x", "access": "public"}])
    with pytest.raises(perm.NotFound):
        perm.who_can_read(fresh_store, "x")  # nothing was written
    assert perm.register_documents(fresh_store, []) == 0


# -- the readable-set cache ------------------------------------------------------------------------------


def test_readable_sets_match_the_path_query(demo: FalkorStore) -> None:
    docs = ["sales-plan", "fin-report", "board", "handbook", "mobile-spec", "ledger", "salaries"]
    for person in (OWNER, EAST, LEGAL, HR_PERSON, ACCOUNTANT, PROJECT_MEMBER, ADMIN):
        expected = {d for d in docs if perm.can_read(demo, person, d).allowed}
        assert perm.readable_document_ids(demo, person) == expected, person
    assert perm.readable_document_ids(demo, "nobody") == set()


def test_a_second_process_view_follows_the_graph_version(mutable: FalkorStore, graph_server: EmbeddedServer) -> None:
    """Two store objects have two caches, as two processes would; each follows the other's writes."""
    other = FalkorStore(graph_server, mutable.graph_name)
    try:
        cache = perm.cache_for(other)
        assert "ledger" not in cache.readable_document_ids(HR_PERSON)
        perm.share(mutable, OWNER, "ledger", "person", HR_PERSON)
        assert "ledger" in cache.readable_document_ids(HR_PERSON)

        # A membership change recorded by the org layer reaches the cached principals.
        assert "sales-plan" not in cache.readable_document_ids(HR_PERSON)
        mutable.run(org.LINK_MEMBERSHIPS, {"rows": [{"person_id": HR_PERSON, "department_id": dept("SALES-INTL")}]})
        cache.invalidate_person(HR_PERSON)
        assert "sales-plan" in cache.readable_document_ids(HR_PERSON)
        assert cache.rebuilds == 1

        # A log trimmed past this cache's version forces a full, still exact, rebuild.
        for _ in range(q.LOG_LENGTH // 100 + 1):
            perm.record_change(mutable, documents=[f"noise-{i}" for i in range(100)])
        perm.share(mutable, OWNER, "board", "person", HR_PERSON)
        assert "board" in cache.readable_document_ids(HR_PERSON)
        assert cache.rebuilds == 2
        cache.invalidate_all()
        assert "board" in cache.readable_document_ids(HR_PERSON) and cache.rebuilds == 3
    finally:
        other.close()


def test_a_replaced_graph_is_rebuilt_not_trusted(mutable: FalkorStore) -> None:
    cache = perm.cache_for(mutable)
    cache.warm()
    assert cache.rebuilds == 1
    assert "handbook" in cache.readable_document_ids(EAST)
    mutable.drop_all()
    load_demo_org(mutable, "pw-demo-123")  # the same graph name, its version counter starts again
    assert cache.readable_document_ids(EAST) == set()
    assert cache.rebuilds == 2


def test_a_real_second_process_sees_this_process_changes(mutable: FalkorStore) -> None:
    cache = perm.cache_for(mutable)
    assert "handbook" in cache.readable_document_ids(HR_PERSON)
    script = textwrap.dedent(f"""
        from graph import embedded_server, permissions
        from graph.falkordb_backend import FalkorStore
        from settings import load_settings
        store = FalkorStore(embedded_server(load_settings()), {mutable.graph_name!r})
        permissions.set_level(store, {OWNER!r}, "handbook", "secret")
        print(sorted(permissions.readable_document_ids(store, {HR_PERSON!r})))
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert "handbook" not in done.stdout
    assert "handbook" not in cache.readable_document_ids(HR_PERSON)
    assert not perm.can_read(mutable, HR_PERSON, "handbook").allowed
