"""Demo knowledge: copies kept by other departments and decisions, some resting on a superseded version."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from documents_helpers import org_graph
from knowledge_support import actor

from graph import decisions
from graph.cypher import cypher
from graph.demo_org import node_id
from graph.embedded_server import EmbeddedServer
from graph.falkordb_backend import FalkorStore
from ingest.demo_docs import load_demo_documents
from ingest.demo_knowledge import load_demo_knowledge
from settings import Settings

COUNT = 40
LINKS = cypher("test.demo_knowledge_links",
               "MATCH (a:Document)-[e:DUPLICATE_OF]->(b:Document) RETURN a.id AS a, b.id AS b, e.kind AS kind")


@pytest.fixture(scope="module")
def demo(graph_server: EmbeddedServer, settings: Settings) -> Iterator[tuple[FalkorStore, object]]:
    with org_graph(graph_server) as graph:
        load_demo_documents(graph, settings, COUNT, index=False)
        yield graph, load_demo_knowledge(graph, settings, COUNT)


def test_copies_and_decisions_are_in_the_demo(demo, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    store, result = demo
    assert result.copies >= 4 and result.decisions >= 4
    links = store.run(LINKS)
    copies = {node_id("document", f"demo-copy-{n}") for n in range(8)}
    kinds = {row["kind"] for row in links if {row["a"], row["b"]} & copies}
    assert kinds == {"exact", "near"}
    admin = actor(store, node_id("person", "admin"))
    stale = [d for d in decisions.latest(store, admin) if any(b["stale"] for b in d["bases"])]
    assert stale, "some demo decisions rest on a version that was revised since"
    again = load_demo_knowledge(store, settings, COUNT)
    assert (again.copies, again.decisions) == (0, 0)
