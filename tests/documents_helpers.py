"""Shared pieces of the document tests: an organisation graph and people picked by department."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from graph.cypher import cypher
from graph.demo_org import load_demo_org
from graph.embedded_server import EmbeddedServer
from graph.falkordb_backend import FalkorStore

PEOPLE_IN = cypher(
    "test.documents_people_in",
    """
    MATCH (p:Person)-[:MEMBER_OF]->(d:Department {code: $code})
    WHERE NOT (p)-[:HEADS]->(:Department)
    RETURN p.id AS id, p.username AS username, p.name AS name
    ORDER BY username
    """,
)
EDGES = cypher(
    "test.documents_edges",
    "MATCH (d:Document {id: $id})-[r]->(t) RETURN type(r) AS type, labels(t)[0] AS label, t.id AS target",
)
VERSION_CHAIN = cypher(
    "test.documents_version_chain",
    "MATCH (v:Version {id: $id})-[:PREVIOUS*]->(p:Version) RETURN p.number AS number ORDER BY number DESC",
)


@contextmanager
def org_graph(server: EmbeddedServer) -> Iterator[FalkorStore]:
    """A graph of its own holding the demo organisation."""
    graph = FalkorStore(server, f"t_docs_{uuid.uuid4().hex[:10]}")
    graph.ensure_schema()
    load_demo_org(graph, "org-test-password")
    try:
        yield graph
    finally:
        graph.drop_all()
        graph.close()


class People:
    """Demo people by department code, with unique Chinese or English names."""

    def __init__(self, store: FalkorStore) -> None:
        self.store = store

    def of(self, code: str, n: int = 1) -> list[dict[str, str]]:
        rows = self.store.run(PEOPLE_IN, {"code": code})
        assert len(rows) >= n, f"not enough people in {code}"
        return rows[:n]

    def one(self, code: str, index: int = 0) -> dict[str, str]:
        return self.of(code, index + 1)[index]
