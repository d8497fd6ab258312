"""The store interface on the real embedded FalkorDB: statements in, plain rows out."""

from __future__ import annotations

import pytest

from graph import GraphError
from graph.cypher import Statement, cypher
from graph.falkordb_backend import FalkorStore

UPSERT = cypher(
    "test.upsert_people",
    "UNWIND $rows AS row MERGE (p:Person {id: row.id}) SET p.name = row.name RETURN count(p) AS count",
    writes=True,
)
READ = cypher(
    "test.read_person",
    "MATCH (p:Person {id: $id}) RETURN p AS node, p.name AS name, [1, 2.5, 'x'] AS list, {k: true} AS map",
)
CREATE = cypher("test.create_person", "CREATE (p:Person {id: $id}) RETURN p.id AS id", writes=True)
LINK = cypher(
    "test.link",
    "MATCH (a:Person {id: $a}), (b:Person {id: $b}) MERGE (a)-[r:REPORTS_TO {since: $since}]->(b) RETURN r",
    writes=True,
)


def test_parameters_round_trip_any_text(fresh_store: FalkorStore) -> None:
    tricky = 'quote " backslash \\ newline \n 中文 emoji 🙂 $param {brace}'
    fresh_store.run(UPSERT, {"rows": [{"id": "a", "name": tricky}]})
    [row] = fresh_store.run(READ, {"id": "a"})
    assert row["name"] == tricky
    assert row["node"] == {"id": "a", "name": tricky}
    assert row["list"] == [1, 2.5, "x"]
    assert row["map"] == {"k": True}


def test_relationships_come_back_as_dicts(fresh_store: FalkorStore) -> None:
    fresh_store.run(UPSERT, {"rows": [{"id": "a", "name": "A"}, {"id": "b", "name": "B"}]})
    [row] = fresh_store.run(LINK, {"a": "a", "b": "b", "since": 1700000000000})
    assert row["r"] == {"since": 1700000000000, "_type": "REPORTS_TO"}


def test_transactions_run_statements(fresh_store: FalkorStore) -> None:
    def work(tx) -> int:  # type: ignore[no-untyped-def]
        tx.run(UPSERT, {"rows": [{"id": "t1", "name": "one"}]})
        return len(tx.run(READ, {"id": "t1"}))

    assert fresh_store.write(work) == 1
    assert fresh_store.read(lambda tx: tx.run(READ, {"id": "t1"}))[0]["name"] == "one"


def test_write_refused_in_read_transaction(fresh_store: FalkorStore) -> None:
    with pytest.raises(GraphError):
        fresh_store.read(lambda tx: tx.run(CREATE, {"id": "x"}))
    assert fresh_store.run(READ, {"id": "x"}) == []


def test_only_catalogue_statements_run(fresh_store: FalkorStore) -> None:
    with pytest.raises(TypeError):
        fresh_store.run("MATCH (n) RETURN n")  # type: ignore[arg-type]


def test_unique_keys_are_enforced(fresh_store: FalkorStore) -> None:
    fresh_store.run(CREATE, {"id": "dup"})
    with pytest.raises(GraphError, match="unique"):
        fresh_store.run(CREATE, {"id": "dup"})
    assert fresh_store.counts() == {"Person": 1}


def test_schema_bootstrap_is_idempotent(fresh_store: FalkorStore) -> None:
    fresh_store.ensure_schema()
    fresh_store.ensure_schema()
    fresh_store.run(CREATE, {"id": "p"})
    assert fresh_store.counts() == {"Person": 1}


def test_reading_an_empty_graph_finds_nothing(fresh_store: FalkorStore) -> None:
    fresh_store.drop_all()
    assert fresh_store.run(READ, {"id": "nobody"}) == []
    assert fresh_store.counts() == {}


def test_engine_errors_are_graph_errors(fresh_store: FalkorStore) -> None:
    broken = Statement(name="test.broken", text="MATCH (n RETURN n")
    with pytest.raises(GraphError):
        fresh_store.run(broken)


def test_duplicate_statement_names_with_other_text_are_refused() -> None:
    cypher("test.same_name", "RETURN 1 AS one")
    cypher("test.same_name", "RETURN 1 AS one")  # same text: fine (module reloads)
    with pytest.raises(ValueError, match="declared twice"):
        cypher("test.same_name", "RETURN 2 AS two")
