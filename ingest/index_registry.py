"""The search index of this data directory, and what the graph tells it about each document (the facets
the engine filters and counts on)."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from typing import Any

from graph import document_rows
from graph import documents as docs
from graph.queries import browse as bq
from graph.queries import documents as q
from graph.store import GraphStore
from ingest.textstore import TextStore
from settings import Settings

_INDEXES: dict[tuple[str, str], Any] = {}
_INDEXES_LOCK = threading.Lock()


def search_index(settings: Settings) -> Any:
    """The process-wide search index of this data directory (embeddings.search_index.SearchIndex)."""
    from embeddings.search_index import SearchIndex

    key = (str(settings.data_dir.resolve()), settings.embedding_model)
    with _INDEXES_LOCK:
        index = _INDEXES.get(key)
        if index is None:
            index = _INDEXES[key] = SearchIndex(settings.data_dir, settings.embedding_model)
        return index


def index_metadata(store: GraphStore, document_id: str, doc: dict[str, Any] | None = None,
                   departments: dict[str, str | None] | None = None) -> dict[str, str | int | float | None]:
    """The facets the search engine filters and counts on, from the document node (``doc`` when the caller
    has just read it; ``departments``: owner id -> primary department, shared by the documents of one bulk call,
    which mostly have one owner)."""
    doc = doc if doc is not None else document_rows.get_document(store, document_id)
    if doc is None:
        raise docs.NotFound("no such document")
    owner, known = doc["owner_id"], departments if departments is not None else {}
    if owner not in known:
        rows = store.run(q.PRIMARY_DEPARTMENT, {"person_id": owner})
        known[owner] = rows[0]["id"] if rows else None
    return {"title": doc["title"], "kind": doc["kind"], "domain": doc["domain"], "data_type": doc["data_type"],
            "access": doc["access"], "owner_id": doc["owner_id"], "filename": doc.get("filename"),
            "department_id": known[owner],
            "uploaded_at": doc["created_at"], "updated_at": doc["updated_at"]}


def index_version(store: GraphStore, settings: Settings, document_id: str, version_id: str,
                  sections: Iterable[Any]) -> int | None:
    """Put the current version's text into the search index (or take the document out when it has none)."""
    blocks = [(s.text, s.ref) for s in sections if s.text.strip()]
    index = search_index(settings)
    if not blocks:
        index.delete_document(document_id)
        return None
    return int(index.add_document(document_id, version_id, blocks, index_metadata(store, document_id)))


def index_versions(store: GraphStore, settings: Settings,
                   versions: list[tuple[str, str, Iterable[Any]]]) -> list[int | None]:
    """``index_version`` of many (document id, version id, sections) at once: the chunks of all of them are
    embedded in one call (the encoder sorts them by length and batches them), each document still written
    as its own transaction. Any failure raises for the lot; the caller then indexes them one by one."""
    from embeddings.search_index import DocumentInput

    index = search_index(settings)
    blocks = [[(s.text, s.ref) for s in sections if s.text.strip()] for _, _, sections in versions]
    for (document_id, _, _), mine in zip(versions, blocks, strict=True):
        if not mine:
            index.delete_document(document_id)
    inputs = [DocumentInput(document_id, version_id, mine, index_metadata(store, document_id))
              for (document_id, version_id, _), mine in zip(versions, blocks, strict=True) if mine]
    added = iter(index.add_documents(inputs) if inputs else [])
    return [int(next(added)) if mine else None for mine in blocks]


def index_documents(store: GraphStore, settings: Settings, document_ids: Iterable[str], *,
                    batch_size: int = 64) -> int:
    """Index the current versions of many documents, embedding their chunks in shared batches
    (bulk loads: much faster than one document at a time). Returns the number of chunks."""
    return index_prepared(store, settings, prepared_documents(store, settings, document_ids), batch_size=batch_size)


def prepared_documents(store: GraphStore, settings: Settings, document_ids: Iterable[str]) -> Iterator[Any]:
    """What indexing needs of each document (its current version's stored text and its facets), one
    ``DocumentInput`` at a time (a reindex of everything never holds all the texts); documents without text are
    left out. Apart from ``index_prepared`` so a bulk job reads these while the encoder is busy with other files."""
    from embeddings.search_index import DocumentInput

    texts = TextStore.from_settings(settings)
    departments: dict[str, str | None] = {}
    for document_id in dict.fromkeys(document_ids):
        doc = document_rows.get_document(store, document_id)
        stored = texts.load(doc["current_version_id"]) if doc else None
        blocks = [(s.text, s.ref) for s in stored.sections if s.text.strip()] if stored else []
        if blocks:
            metadata = index_metadata(store, document_id, doc, departments)
            yield DocumentInput(document_id, stored.version_id, blocks, metadata)


def index_prepared(store: GraphStore, settings: Settings, documents: Iterable[Any], *, batch_size: int = 64) -> int:
    """Index ``prepared_documents``' inputs, ``batch_size`` documents per embedding call; returns the chunks."""
    index = search_index(settings)
    pending: list[Any] = []
    chunks = 0
    for item in documents:
        pending.append(item)
        if len(pending) >= batch_size:
            chunks += _flush(index, store, pending)
            pending = []
    if pending:
        chunks += _flush(index, store, pending)
    return chunks


def _flush(index: Any, store: GraphStore, pending: list[Any]) -> int:
    counts = index.add_documents(pending)
    for item, count in zip(pending, counts, strict=True):
        docs.set_indexed(store, item.version_id, count)
    return int(sum(counts))


def refresh_facets(store: GraphStore, settings: Settings, document_id: str) -> None:
    """After a metadata change: the index's facets follow the graph (the current text is re-added; vectors are
    cached by text hash, so unchanged text costs no embedding)."""
    doc = document_rows.get_document(store, document_id)
    current_id = doc.get("current_version_id") if doc else None
    current = document_rows.get_version(store, current_id) if current_id else None
    if current is None or not current["version"].get("indexed_at"):
        return  # not searchable yet: indexing it will read the facets then
    stored = TextStore.from_settings(settings).load(doc["current_version_id"])
    if stored is not None and stored.sections:
        index_version(store, settings, document_id, stored.version_id, stored.sections)


PAGE = 5000


def graph_document_ids(store: GraphStore, status: str | None) -> Iterator[str]:
    """Every document id of the graph (with this extraction status, or any), oldest upload first, page by page
    (index maintenance: drift reports and ``huitong reindex``)."""
    params = {**bq.FILTER_EXAMPLE, "ids": [], "status": status, "limit": PAGE}
    skip = 0
    while True:
        rows = store.run(bq.BROWSE[("all", "created")], {**params, "skip": skip})
        yield from (row["id"] for row in rows)
        if len(rows) < PAGE:
            return
        skip += PAGE
