"""Every workflow statement runs on embedded FalkorDB with its declared example parameters.

(The Neo4j side — Neo4j 5's own Cypher front-end — is the catalogue-wide lint gate.)
"""

from __future__ import annotations

import pytest

from graph.cypher import Statement, all_statements

WORKFLOW_STATEMENTS = [s for s in all_statements() if s.name.startswith("workflows.")]


def test_the_engine_declares_its_statements() -> None:
    names = {s.name for s in WORKFLOW_STATEMENTS}
    assert {"workflows.start_run", "workflows.decide", "workflows.inbox_mine", "workflows.notify"} <= names


@pytest.mark.parametrize("statement", WORKFLOW_STATEMENTS, ids=lambda s: s.name)
def test_statement_runs_on_falkordb(statement: Statement, fresh_store) -> None:  # type: ignore[no-untyped-def]
    rows = fresh_store.run(statement, statement.example)
    assert isinstance(rows, list)
