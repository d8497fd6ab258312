"""Demo documents: realistic, varied, linked to the organisation, shared, idempotent."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from documents_helpers import org_graph

from graph import permissions
from graph.cypher import cypher
from graph.embedded_server import EmbeddedServer
from graph.falkordb_backend import FalkorStore
from ingest.demo_docs import load_demo_documents, plan_documents, render
from settings import Settings

EDGE_COUNTS = cypher(
    "test.demo_docs_edges",
    "MATCH (:Document)-[r]->() RETURN type(r) AS type, count(r) AS count ORDER BY type",
)
DOCS = cypher(
    "test.demo_docs_rows",
    "MATCH (d:Document) RETURN d.id AS id, d.kind AS kind, d.domain AS domain, d.access AS access, "
    "d.status AS status, d.title AS title, d.version_count AS versions",
)
MENTIONED_PEOPLE = cypher(
    "test.demo_docs_mentioned_people",
    "MATCH (:Document)-[:MENTIONS]->(p:Person) RETURN count(DISTINCT p) AS people",
)

COUNT = 40


@pytest.fixture(scope="module")
def demo(graph_server: EmbeddedServer, settings: Settings) -> Iterator[tuple[FalkorStore, object]]:
    with org_graph(graph_server) as graph:
        yield graph, load_demo_documents(graph, settings, COUNT, index=False)


def test_plans_are_deterministic_and_varied() -> None:
    first, second = plan_documents(120), plan_documents(120)
    assert [(p.document_id, p.doc.title, p.shares) for p in first] == \
           [(p.document_id, p.doc.title, p.shares) for p in second]
    assert set(Counter(p.doc.fmt for p in first)) == {"docx", "xlsx", "pdf", "md"}
    assert set(Counter(p.doc.lang for p in first)) == {"zh", "en"}
    assert len(Counter(p.domain for p in first)) >= 8
    assert len({p.doc.title for p in first}) >= 110  # titles carry numbers, months, parties
    assert all(not any(s.startswith("department:") for s in p.shares) for p in first if p.access == "secret")


def test_every_format_renders_to_a_file_the_pipeline_reads(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from ingest.extract import extract

    seen = set()
    for plan in plan_documents(60):
        if plan.doc.fmt in seen:
            continue
        seen.add(plan.doc.fmt)
        path = tmp_path / f"demo.{plan.doc.fmt}"
        path.write_bytes(render(plan.doc, plan.owner.name))
        extraction = extract(path)
        assert extraction.status == "ok", (plan.doc.fmt, extraction.reason)
        assert plan.owner.name in extraction.text
    assert seen == {"docx", "xlsx", "pdf", "md"}


def test_demo_documents_are_processed_linked_and_shared(demo: tuple[FalkorStore, object]) -> None:
    store, result = demo
    assert result.created == COUNT and result.statuses == Counter({"ok": COUNT})  # type: ignore[attr-defined]
    rows = store.run(DOCS)
    assert len(rows) == COUNT and all(r["status"] == "ok" for r in rows)
    assert sum(r["versions"] > 1 for r in rows) == result.versions >= 1  # type: ignore[attr-defined]
    edges = {r["type"]: r["count"] for r in store.run(EDGE_COUNTS)}
    assert edges["SHARED_WITH"] >= COUNT * 0.8 and edges["MENTIONS"] >= COUNT * 2
    assert store.run(MENTIONED_PEOPLE)[0]["people"] >= 20
    # readers differ by department: the sharing is realistic, not "everyone sees everything"
    readable = [len(permissions.readable_document_ids(store, plan.owner.id)) for plan in plan_documents(COUNT)[:10]]
    assert 0 < min(readable) < max(readable) < COUNT


def test_rerun_adds_nothing(demo: tuple[FalkorStore, object], settings: Settings) -> None:
    store, _ = demo
    counts, edges = store.counts(), store.run(EDGE_COUNTS)
    again = load_demo_documents(store, settings, COUNT, index=False)
    assert (again.created, again.versions, again.skipped) == (0, 0, COUNT)
    assert store.counts() == counts and store.run(EDGE_COUNTS) == edges
