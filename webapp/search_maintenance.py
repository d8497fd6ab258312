"""Keeping the search index in step with the graph: drift report (``huitong check``) and ``huitong reindex``.

The graph says which documents exist and whether their text was extracted; the index holds the
text of each document's current version. Drift is a document whose extraction succeeded but that
the index does not hold, or an indexed document the graph no longer has.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import dataclass, field

from graph.store import GraphStore
from ingest import index_registry
from ingest.index_registry import graph_document_ids as _graph_documents
from settings import Settings

EXAMPLES = 5


@dataclass
class Drift:
    missing: list[str] = field(default_factory=list)  # status ok in the graph, absent from the index
    orphans: list[str] = field(default_factory=list)  # in the index, absent from the graph

    @property
    def clean(self) -> bool:
        return not self.missing and not self.orphans

    def as_json(self) -> dict[str, object]:
        return {"missing": len(self.missing), "orphans": len(self.orphans),
                "missing_examples": self.missing[:EXAMPLES], "orphan_examples": self.orphans[:EXAMPLES]}

    def describe(self) -> str:
        if self.clean:
            return "index in step with the graph"
        return (f"{len(self.missing)} extracted documents missing from the index, {len(self.orphans)} indexed "
                "documents not in the graph; run `huitong reindex`")


def indexed_document_ids(settings: Settings) -> set[str]:
    """Documents the index holds, read straight from its store file (read-only: no model, no lock held)."""
    path = settings.data_dir / "search" / "chunks.sqlite3"
    if not path.is_file():
        return set()
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)) as conn:
        try:
            return {row[0] for row in conn.execute("SELECT document_id FROM documents")}
        except sqlite3.OperationalError:  # created but never written
            return set()


def model_progress(settings: Settings) -> dict[str, object]:
    """Which embedding model serves search and how far re-embedding with the configured one has come
    (read-only: no model is loaded). While ``switching``, search answers from the ``serving`` model."""
    from embeddings import model_switch
    from embeddings.store import VECTOR_COVERAGE_SQL

    root = settings.data_dir / "search"
    path = root / "chunks.sqlite3"
    if not path.is_file():
        return {"serving": settings.embedding_model, "configured": settings.embedding_model, "switching": False,
                "reembedded": 0, "total": 0}
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)) as conn:
        try:
            total, done = conn.execute(VECTOR_COVERAGE_SQL, (settings.embedding_model,)).fetchone()
        except sqlite3.OperationalError:  # created but never written
            total = done = 0
    serving = model_switch.read_active(root) or settings.embedding_model
    return model_switch.SwitchProgress(serving, settings.embedding_model, done, total).as_json()


def drift(store: GraphStore, settings: Settings) -> Drift:
    extracted = set(_graph_documents(store, "ok"))
    known = set(_graph_documents(store, None))
    indexed = indexed_document_ids(settings)
    return Drift(sorted(extracted - indexed), sorted(indexed - known))


@dataclass
class ReindexReport:
    documents: int
    chunks: int
    removed: int
    drift_after: Drift

    def as_json(self) -> dict[str, object]:
        return {"documents": self.documents, "chunks": self.chunks, "removed": self.removed,
                "drift_after": self.drift_after.as_json()}


def reindex(store: GraphStore, settings: Settings) -> ReindexReport:
    """Index every extracted document's current text from the text store and drop documents the graph lost.

    Re-adding unchanged text costs no embedding (vectors are cached by text hash), so this is safe
    to run on a healthy index too.
    """
    extracted = list(_graph_documents(store, "ok"))
    chunks = index_registry.index_documents(store, settings, extracted)
    index = index_registry.search_index(settings)
    orphans = drift(store, settings).orphans
    removed = sum(1 for document_id in orphans if index.delete_document(document_id))
    return ReindexReport(len(extracted), chunks, removed, drift(store, settings))
