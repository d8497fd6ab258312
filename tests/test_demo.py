"""The demo organisation loads idempotently and looks like a real company."""

from __future__ import annotations

from graph.cypher import cypher
from graph.demo_org import load_demo_org
from graph.falkordb_backend import FalkorStore
from graph.passwords import verify_password
from graph.queries import org

EDGE_COUNTS = cypher(
    "test.demo_edge_counts",
    "MATCH ()-[r]->() RETURN type(r) AS type, count(r) AS count ORDER BY type",
)
TREE_DEPTH = cypher(
    "test.demo_tree_depth",
    "MATCH path = (d:Department)-[:PART_OF*]->(root:Department {code: 'HQ'}) RETURN max(length(path)) AS depth",
)
CHINESE_AND_ENGLISH = cypher(
    "test.demo_names",
    "MATCH (p:Person) RETURN p.name AS name",
)


def test_demo_twice_creates_no_duplicates(fresh_store: FalkorStore) -> None:
    first = load_demo_org(fresh_store, "pw-one-123")
    counts = fresh_store.counts()
    edges = fresh_store.run(EDGE_COUNTS)
    second = load_demo_org(fresh_store, "")
    assert first.created and not second.created
    assert fresh_store.counts() == counts
    assert fresh_store.run(EDGE_COUNTS) == edges
    assert second.admin_password is None  # an existing admin password is never replaced silently


def test_demo_organisation_is_realistic(fresh_store: FalkorStore) -> None:
    load_demo_org(fresh_store, "pw")
    counts = fresh_store.counts()
    assert 150 <= counts["Person"] <= 250
    assert counts["Department"] >= 20 and counts["Position"] >= 10 and counts["Project"] >= 5
    assert fresh_store.run(TREE_DEPTH)[0]["depth"] >= 2
    names = [row["name"] for row in fresh_store.run(CHINESE_AND_ENGLISH)]
    assert sum(any("\u4e00" <= ch <= "\u9fff" for ch in n) for n in names) > 100
    assert sum(n.isascii() for n in names) > 15
    edges = {row["type"]: row["count"] for row in fresh_store.run(EDGE_COUNTS)}
    for kind in ("MEMBER_OF", "PART_OF", "HOLDS", "HEADS", "REPORTS_TO", "HAS_ROLE"):
        assert edges.get(kind, 0) > 0, kind


def test_admin_password_from_setting_or_generated(fresh_store: FalkorStore) -> None:
    result = load_demo_org(fresh_store, "")
    assert result.admin_password and len(result.admin_password) >= 12
    [admin] = fresh_store.run(org.PERSON_BY_USERNAME, {"username": "admin"})
    assert verify_password(admin["password_hash"], result.admin_password)
    assert "admin" in admin["roles"]
    # Setting a password explicitly replaces it.
    load_demo_org(fresh_store, "explicit-pw-456")
    [admin] = fresh_store.run(org.PERSON_BY_USERNAME, {"username": "admin"})
    assert verify_password(admin["password_hash"], "explicit-pw-456")
    assert not verify_password(admin["password_hash"], result.admin_password)
