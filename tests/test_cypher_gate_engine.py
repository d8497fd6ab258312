"""The engine half of the Cypher conformance gate: every catalogue statement runs on embedded FalkorDB.

(The other half lints the same statements with Neo4j's own Cypher front-end.)
"""

from __future__ import annotations

import pytest

from graph.cypher import Statement, all_statements
from graph.falkordb_backend import FalkorStore

STATEMENTS = all_statements()


def test_catalogue_is_populated() -> None:
    names = {s.name for s in STATEMENTS}
    assert "store.count_by_label" in names
    assert any(name.startswith("org.") for name in names)
    assert not any(name.startswith("test.") for name in names), "ad-hoc test statements leaked into the catalogue"


@pytest.mark.parametrize("statement", STATEMENTS, ids=lambda s: s.name)
def test_statement_runs_on_falkordb(fresh_store: FalkorStore, statement: Statement) -> None:
    rows = fresh_store.run(statement, statement.example)
    assert isinstance(rows, list)


def test_write_statements_declare_it() -> None:
    for statement in STATEMENTS:
        text = f" {statement.text.upper()} "
        mutates = any(word in text for word in (" CREATE ", " MERGE ", " SET ", " DELETE ", " REMOVE "))
        assert statement.writes or not mutates, f"{statement.name} writes but is not declared writes=True"
