"""The Neo4j backend as far as it can be checked without a Neo4j server.

Its schema DDL goes through Neo4j's own Cypher front-end; the driver is configured from settings and
an unreachable server surfaces as GraphUnavailable quickly instead of hanging a request.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import pytest

from graph import GraphUnavailable, open_store
from graph.neo4j_backend import Neo4jStore, schema_statements
from graph.schema import LOOKUP_INDEXES, UNIQUE_KEYS
from graph.store import COUNT_BY_LABEL
from settings import load_settings
from tests.cypher_lint import lint_statements


@dataclass(frozen=True)
class _DDL:
    name: str
    text: str


def test_schema_ddl_lints_clean_with_neo4j_front_end() -> None:
    ddl = [_DDL(f"neo4j.ddl.{i}", text) for i, text in enumerate(schema_statements())]
    assert len(ddl) == len(UNIQUE_KEYS) + sum(len(p) for p in LOOKUP_INDEXES.values())
    problems = lint_statements(ddl)
    assert not any(problems.values()), problems


def test_schema_ddl_is_idempotent_and_unique() -> None:
    ddl = schema_statements()
    assert all("IF NOT EXISTS" in text for text in ddl)
    names = [text.split()[2] for text in ddl]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("uri", ["bolt://127.0.0.1:9", "neo4j://127.0.0.1:9"])
def test_unreachable_server_is_graph_unavailable(uri: str) -> None:
    settings = load_settings(graph="neo4j", neo4j_uri=uri, neo4j_password="x")
    configured = open_store(settings)
    assert isinstance(configured, Neo4jStore)
    configured.close()
    store = Neo4jStore(uri, "neo4j", "x", "neo4j", retry_seconds=1.0)
    started = time.monotonic()
    with pytest.raises(GraphUnavailable):
        store.ping()
    with pytest.raises(GraphUnavailable):
        store.run(COUNT_BY_LABEL)
    assert time.monotonic() - started < 20
    store.close()


def test_only_catalogue_statements_run() -> None:
    store = Neo4jStore("bolt://127.0.0.1:9", "neo4j", "x", "neo4j")
    with pytest.raises(TypeError):
        store.run("MATCH (n) RETURN n")  # type: ignore[arg-type]
    store.close()
