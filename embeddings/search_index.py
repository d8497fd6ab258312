"""The search engine facade: write documents to the store, search them with permissions inside.

Writers (ingest workers) call ``add_document`` / ``delete_document``; each is one store
transaction. Readers (web processes) call ``search``; before each search the in-memory indexes
catch up with the store (a cheap watermark check), so another process's writes are visible on
the next query. The in-memory indexes are rebuilt from the store or a snapshot at any time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from embeddings import builder, feedback, matches, model_switch, snapshot
from embeddings import signals as signals_module
from embeddings.catalog import AllowedDocuments, Catalog, NumberedDocuments
from embeddings.chunker import chunk_blocks, text_hash
from embeddings.embedder import Embedder, get_embedder
from embeddings.hybrid import DocHead, fuse_heads, snippet
from embeddings.keyword_index import KeywordIndex
from embeddings.store import ChunkStore, Metadata, Watermark
from embeddings.text_tokens import configure_jieba, detect_lang, tokenize
from embeddings.vector_index import VectorIndex

Mode = Literal["hybrid", "dense", "keyword"]
SNAPSHOT_EVERY_ROWS = 20_000  # persist after this many rows indexed since the last snapshot
MIN_DEPTH = 200  # chunks taken from each signal before fusion
QUERY_CACHE_SIZE = 512
# Fusion weights, measured with bench/search_quality.py (test queries; the figures held on both halves of each
# set). Scores are max-normalised per signal and combined convexly (see embeddings.hybrid.fuse). Cranfield
# (English) nDCG@10: keyword weight 0.3-0.4 gives 0.406-0.409 (rank fusion: 0.399; keyword 0.356, dense 0.364).
# On CMRC 2018 (Chinese) all-MiniLM-L6-v2, an English model, ranks poorly (dense nDCG@10 0.28 vs 0.978 for BM25):
# keyword weight 0.4 gives 0.973, 0.6-0.75 gives 0.980, so Chinese queries lean on keywords with such a model.
DEFAULT_WEIGHTS = {"keyword": 0.4, "dense": 0.6}
_MINILM_WEIGHTS = (DEFAULT_WEIGHTS, {"zh": {"keyword": 0.7, "dense": 0.3}})
# multilingual-e5-small, tuned on the tuning halves of CMRC 2018 and of Cranfield's first 256 documents
# (bench/search_quality.py; the held-out halves: CMRC hybrid 0.983 vs keyword 0.980 / dense 0.922, Cranfield-256
# 0.507 vs 0.493 / 0.310): keyword weight 0.1 is best on both (Cranfield is flat from 0.1 to 0.4). Re-tuned on the
# full sets once the dense head stopped being cut at the similarity floor (keyword matches below it are ranked by
# their cosine too): 0.1 again in both languages, so no per-language override (held-out hybrid: Cranfield 0.369
# vs keyword 0.347 / dense 0.276, CMRC 0.993 vs 0.980 / 0.955). Tried and not kept (same halves): min-max or z-score
# normalisation (Cranfield +0.001 / +0.008, CMRC -0.001 / -0.002), rank fusion (Cranfield -0.001, CMRC -0.013),
# BM25 k1 0.9-2.0 x b 0.3-0.9 (within 0.006 of k1 1.2 / b 0.75).
_E5_WEIGHTS: tuple[dict[str, float], dict[str, dict[str, float]]] = ({"keyword": 0.1, "dense": 0.9}, {})
# (weights, overrides by query language) per model
MODEL_WEIGHTS: dict[str, tuple[dict[str, float], dict[str, dict[str, float]]]] = {
    "all-MiniLM-L6-v2": _MINILM_WEIGHTS, "sentence-transformers/all-MiniLM-L6-v2": _MINILM_WEIGHTS,
    "multilingual-e5-small": _E5_WEIGHTS, "intfloat/multilingual-e5-small": _E5_WEIGHTS,
}
# Pseudo-relevance feedback (embeddings.feedback) per model and query language, tuned on the tuning halves of
# bench/search_quality.py: for e5 on English (Cranfield), hybrid nDCG@10 0.408 -> 0.440 on the tuning half and
# 0.372 -> 0.404 held out (dense or keyword feedback alone: about +0.02 each); on Chinese (CMRC) the
# tuning half lost with dense feedback (0.989 -> 0.987-0.988), so Chinese queries go without. A second round
# from the first's ranking (best of 36 settings on the tuning half): 0.440 -> 0.445 there, 0.404 -> 0.415 held out.
_E5_FEEDBACK = {"en": feedback.Feedback(docs=2, term_docs=3, then=feedback.Feedback(docs=3, term_docs=5))}
MODEL_FEEDBACK: dict[str, dict[str, feedback.Feedback]] = {
    "multilingual-e5-small": _E5_FEEDBACK, "intfloat/multilingual-e5-small": _E5_FEEDBACK,
}


class SearchInputError(ValueError):
    """A search or write request is malformed."""


@dataclass(frozen=True)
class Range:
    """Inclusive numeric bounds on a metadata field (e.g. upload time in epoch ms); None = open."""

    low: float | None = None
    high: float | None = None

    def __contains__(self, value: object) -> bool:
        if not isinstance(value, int | float) or isinstance(value, bool):
            return False
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)


Filters = Mapping[str, Range | Iterable[str | int]]


@dataclass(frozen=True)
class DocumentInput:
    document_id: str
    version_id: str
    blocks: list[tuple[str, str]]
    metadata: Mapping[str, object] | None = None


@dataclass
class DocumentHit:
    document_id: str
    score: float
    snippet_html: str
    chunk_id: int
    ref: str
    ordinal: int
    metadata: Metadata
    ranks: dict[str, int]


@dataclass(frozen=True)
class Placed:
    """A document of the page: its fused score, its rank in each signal's head and the chunk to show."""

    document_id: str
    score: float
    metadata: Metadata
    ranks: dict[str, int]
    chunk_id: int


def _placed(heads: dict[str, DocHead], doc: int, score: float, catalog: Catalog) -> Placed:
    """Document number ``doc`` of the page: its 1-based rank in each signal's head, and the chunk to show: the
    keyword one (it holds the terms to highlight), else the dense one; -1 past the heads (a page far down the
    list: no snippet)."""
    found = {name: head.find(doc) for name, head in heads.items()}
    ranks = {name: place[0] for name, place in found.items() if place is not None}
    shown = next((place[1] for name in ("keyword", "dense") if (place := found.get(name)) is not None), None)
    chunk = -1 if shown is None else int(catalog.chunk_ids.view[shown])
    return Placed(catalog.doc_ids[doc], score, catalog.doc_meta[doc], ranks, chunk)


@dataclass
class SearchResults:
    hits: list[DocumentHit]
    total: int
    page: int
    per_page: int
    facets: dict[str, list[tuple[str, int]]]
    timings_ms: dict[str, float] = field(default_factory=dict)


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_mtime_ns, info.st_ino


def _check_metadata(metadata: Mapping[str, object] | None) -> Metadata:
    clean: Metadata = {}
    for key, value in (metadata or {}).items():
        if not isinstance(key, str) or not (value is None or isinstance(value, str | int | float)):
            raise SearchInputError(f"metadata {key!r}: values must be str, int, float or None")
        clean[key] = value
    return clean


class SearchIndex:
    def __init__(
        self,
        data_dir: Path | str | None = None,
        model_name: str | None = None,
        embedder: Embedder | None = None,
        weights: Mapping[str, float] | None = None,
        language_weights: Mapping[str, Mapping[str, float]] | None = None,
        serving: str | None = None,
    ) -> None:
        """``model_name``: the configured model; the index serves the model of ``search/active_model.json`` (see
        embeddings.model_switch) unless ``serving`` names one (building a new model's index before publishing it).
        ``weights``: fusion weight per signal; ``language_weights``: overrides by query language ('zh', 'en')."""
        if data_dir is None or model_name is None:
            from settings import get_settings

            config = get_settings()
            data_dir = config.data_dir if data_dir is None else data_dir
            model_name = config.embedding_model if model_name is None else model_name
        self.root = Path(data_dir) / "search"
        self.configured_model = model_name
        configure_jieba(self.root / "jieba")
        self.store = ChunkStore(self.root / "chunks.sqlite3")
        self._active_stamp = _stamp(self.root / model_switch.ACTIVE_FILE)
        self.model_name = serving or model_switch.serving_model(self.root, model_name, self.store)
        self._pinned = serving is not None
        self._embedder = embedder
        self._weights_given = weights, language_weights
        self._set_weights()
        self._lock = threading.RLock()
        self._state: snapshot.Snapshot | None = None
        self._rows_since_snapshot = 0
        self._build = builder.BackgroundBuild(self.root / builder.PROGRESS_DIR)
        self._query_vectors: dict[tuple[str, str], np.ndarray] = {}
        self.count_all = False  # True: rank every allowed chunk by meaning (no similarity floor)

    @property
    def similarity_floor(self) -> float | None:
        """Cosine a chunk needs to count as a dense match: keyword matches always count, dense ones only
        above this floor, so a query that matches nothing finds nothing. ``None``: no floor (uncalibrated
        model, or ``count_all``)."""
        if self.count_all:
            return None
        return self.embedder.similarity_floor

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None or self._embedder.model_name != self.model_name:
            self._embedder = get_embedder(self.model_name)
        return self._embedder

    def _set_weights(self) -> None:
        weights, language_weights = self._weights_given
        default, default_languages = MODEL_WEIGHTS.get(self.model_name, (DEFAULT_WEIGHTS, {}))
        self.weights = dict(weights or default)
        self.feedback = dict(MODEL_FEEDBACK.get(self.model_name, {}))
        chosen = default_languages if language_weights is None else language_weights
        self.language_weights = {lang: dict(w) for lang, w in chosen.items()}

    def _follow_switch(self) -> None:
        """Start serving another model once the workers published it (its index is complete by then)."""
        stamp = _stamp(self.root / model_switch.ACTIVE_FILE)
        if stamp == self._active_stamp or self._pinned:
            return
        active = model_switch.read_active(self.root)
        if active is not None and active != self.model_name:
            embedder = get_embedder(active)  # loaded before the swap: searches go on meanwhile
            with self._lock:
                self.model_name, self._embedder = active, embedder
                self._state = None  # the new model's snapshot (written before publishing) loads next
                self._query_vectors.clear()
                self._set_weights()
        self._active_stamp = stamp

    def close(self) -> None:
        self.store.close()

    # ---- writing ----------------------------------------------------------------------------
    def _embed_cached(self, texts: Sequence[str], hashes: Sequence[str]) -> tuple[np.ndarray, list]:
        """Vectors for ``texts``, embedding only those whose hash the cache does not hold."""
        cached = self.store.cached_vectors(self.model_name, hashes)
        missing = list(dict.fromkeys(h for h in hashes if h not in cached))
        fresh: list[tuple[str, np.ndarray]] = []
        if missing:
            text_of = dict(zip(hashes, texts, strict=True))
            vectors = self.embedder.embed([text_of[h] for h in missing])
            fresh = list(zip(missing, vectors, strict=True))
        table = {h: np.frombuffer(v, dtype=np.float32) for h, v in cached.items()}
        table.update(fresh)
        dim = self.embedder.dim if not table else len(next(iter(table.values())))
        matrix = np.stack([table[h] for h in hashes]) if hashes else np.zeros((0, dim), np.float32)
        return matrix, fresh

    def add_document(
        self,
        document_id: str,
        version_id: str,
        blocks: Iterable[tuple[str, str]],
        metadata: Mapping[str, object] | None = None,
    ) -> int:
        """Index ``blocks`` as the document's current version (replacing any older one); returns chunk count."""
        return self.add_documents([DocumentInput(document_id, version_id, list(blocks), metadata)])[0]

    def add_documents(self, documents: Sequence[DocumentInput]) -> list[int]:
        """Like ``add_document`` for many documents, embedding all their new chunks in shared batches.

        Each document is still its own transaction: a crash keeps the documents already written.
        """
        self._follow_switch()  # write vectors of the model that serves searches
        prepared = []
        for doc in documents:  # validate everything before embedding anything
            if not isinstance(doc.document_id, str) or not doc.document_id.strip():
                raise SearchInputError("document_id must be a non-empty string")
            if not isinstance(doc.version_id, str) or not doc.version_id.strip():
                raise SearchInputError("version_id must be a non-empty string")
            clean_meta = _check_metadata(doc.metadata)
            try:
                chunks = chunk_blocks(doc.blocks, self.embedder.count_tokens, max_tokens=self.embedder.max_tokens)
            except TypeError as error:
                raise SearchInputError(f"{doc.document_id}: {error}") from error
            prepared.append((doc, clean_meta, chunks))
        all_chunks = [c for _, _, chunks in prepared for c in chunks]
        _, fresh = self._embed_cached([c.text for c in all_chunks], [c.text_hash for c in all_chunks])
        fresh_of = dict(fresh)
        for doc, clean_meta, chunks in prepared:
            mine = list({c.text_hash: fresh_of[c.text_hash] for c in chunks if c.text_hash in fresh_of}.items())
            langs = [detect_lang(c.text) for c in chunks]
            self.store.replace_document(
                doc.document_id, doc.version_id, clean_meta, chunks, langs, self.model_name, mine
            )
        return [len(chunks) for _, _, chunks in prepared]

    def delete_document(self, document_id: str) -> bool:
        return self.store.delete_document(document_id)

    # ---- catching up ------------------------------------------------------------------------
    def _load_state(self) -> snapshot.Snapshot:
        dim = self.embedder.dim
        state = snapshot.load(self.root / "snapshots", self.model_name, dim)
        if state is None:
            state = snapshot.Snapshot(Watermark(), Catalog(), VectorIndex(dim), KeywordIndex())
        return state

    def refresh(self, wait: bool = False) -> int:
        """Apply the store's changes since the last look; returns the number of rows added or removed. A catch-up
        of more than ``builder.BACKGROUND_ROWS`` rows is built aside (embeddings.builder): searches answer from the
        current indexes until it is swapped in. ``wait``: block until every change is applied (tools, benches)."""
        self._follow_switch()
        if wait and self._build.running:
            self._build.wait()
        with self._lock:
            if self._state is None:
                self._state = self._load_state()
            built = self._build.take(self.model_name)
            if built is not None:
                self._state, self._rows_since_snapshot = built, 0
            state = self._state
            if self._build.running or self.store.watermark() == state.watermark:
                return 0
            pending = self.store.pending_rows(state.watermark)
            if not wait and pending > builder.BACKGROUND_ROWS:
                self._build.start(self.model_name, pending, self._build_aside)
                return 0
            mark, rows, removed = self.store.changes_since(state.watermark, self.model_name)
            if rows:
                self._index_rows(state, rows)
            state.catalog.remove(removed)
            state.watermark = mark
            self._rows_since_snapshot += len(rows)
            if self._rows_since_snapshot >= SNAPSHOT_EVERY_ROWS:
                self.save_snapshot()
            return len(rows) + len(removed)

    def build_progress(self) -> dict[str, object] | None:
        """The last background build's progress (rows done of total, running, error), None if there was none."""
        return None if self._build.progress is None else self._build.progress.as_dict()

    def _build_aside(self, progress: builder.BuildProgress) -> snapshot.Snapshot:
        """Runs in the build thread on a state of its own (searches never read it until it is swapped in)."""
        model, state = progress.model, self._load_state()
        progress.rows_total = self.store.pending_rows(state.watermark)  # from the snapshot's watermark
        return builder.build_in_steps(
            progress, state, lambda mark, limit: self.store.changes_since(mark, model, limit=limit),
            self._index_rows, lambda state: snapshot.save(self.root / "snapshots", model, state),
        )

    def _index_rows(self, state: snapshot.Snapshot, rows: list) -> None:
        # a row without a cached vector for our model (e.g. the configured model changed) is embedded here
        missing = [i for i, r in enumerate(rows) if r.vector is None]
        filled: dict[int, np.ndarray] = {}
        if missing:
            texts = [rows[i].text for i in missing]
            vectors, fresh = self._embed_cached(texts, [text_hash(t) for t in texts])
            if fresh:
                self.store.put_vectors(self.model_name, fresh)
            filled = dict(zip(missing, vectors, strict=True))
        matrix = np.stack(
            [filled[i] if r.vector is None else np.frombuffer(r.vector, np.float32) for i, r in enumerate(rows)]
        )
        # all three structures grow together: a failure before this point leaves them untouched
        tokens = [tokenize(r.text) for r in rows]
        state.vectors.add(matrix)
        state.keywords.add(tokens)
        state.catalog.append([r.id for r in rows], [r.document_id for r in rows], [r.metadata for r in rows])

    def save_snapshot(self) -> Path:
        with self._lock:
            if self._state is None:
                self.refresh(wait=True)
            assert self._state is not None
            path = snapshot.save(self.root / "snapshots", self.model_name, self._state)
            self._rows_since_snapshot = 0
            return path

    # ---- searching --------------------------------------------------------------------------
    def _doc_mask(
        self, catalog: Catalog, allowed: AllowedDocuments | None, filters: Filters | None
    ) -> np.ndarray | None:
        mask = catalog.doc_mask(allowed)
        if not filters:
            return mask
        tests = {name: cond if isinstance(cond, Range) else {str(v) for v in cond} for name, cond in filters.items()}
        candidates = range(len(catalog.doc_ids)) if mask is None else np.flatnonzero(mask).tolist()
        out = np.zeros(len(catalog.doc_ids), dtype=np.bool_)
        for doc in candidates:
            meta = catalog.doc_meta[doc]
            if all(
                (meta.get(name) in test) if isinstance(test, Range) else (str(meta.get(name)) in test)
                for name, test in tests.items()
            ):
                out[doc] = True
        return out

    def _query_vector(self, query: str) -> np.ndarray:
        """Recent queries' vectors are reused (paging through results asks for the same query again)."""
        embedder = self.embedder
        key = (embedder.model_name, query)  # a vector belongs to its model's space
        with self._lock:
            vector = self._query_vectors.pop(key, None)
        if vector is None:
            vector = embedder.embed_query(query)
        with self._lock:
            self._query_vectors[key] = vector  # re-inserted: most recent last (an LRU)
            while len(self._query_vectors) > QUERY_CACHE_SIZE:
                self._query_vectors.pop(next(iter(self._query_vectors)))
        return vector

    def search(
        self,
        query: str,
        allowed_document_ids: AllowedDocuments | None,
        *,
        per_page: int = 10,
        page: int = 1,
        mode: Mode = "hybrid",
        filters: Filters | None = None,
        facet_fields: Sequence[str] = (),
        depth: int | None = None,
        snippets: bool = True,
    ) -> SearchResults:
        """Documents matching ``query`` among ``allowed_document_ids`` (None = no restriction).

        ``allowed_document_ids`` is a set of ids, or a :class:`NumberedDocuments` (e.g. a permission
        bitmap's numbers), which selects the same documents without hashing every id per query.

        The permission set and filters restrict the rows BEFORE scoring; results, total, facets and
        snippets therefore only ever come from allowed documents.
        """
        if not isinstance(query, str) or not query.strip():
            raise SearchInputError("query must be a non-empty string")
        if mode not in ("hybrid", "dense", "keyword"):
            raise SearchInputError(f"unknown mode {mode!r}")
        if per_page < 1 or page < 1 or per_page > 1000:
            raise SearchInputError("need 1 <= per_page <= 1000 and page >= 1")
        if allowed_document_ids is not None and not isinstance(
            allowed_document_ids, set | frozenset | NumberedDocuments
        ):
            raise SearchInputError("allowed_document_ids must be a set of ids, NumberedDocuments or None")
        timings: dict[str, float] = {}
        started = time.perf_counter()
        query = query.strip()
        qvec = None
        self._follow_switch()
        model = self.model_name
        if mode != "keyword":  # embed outside the lock: concurrent searches only share the index walk
            qvec = self._query_vector(query)
            timings["query_embedding"] = (time.perf_counter() - started) * 1000
        self.refresh()
        with self._lock:
            assert self._state is not None
            if qvec is not None and model != self.model_name:  # switched meanwhile: never mix vector spaces
                qvec = self._query_vector(query)
            catalog = self._state.catalog
            start = time.perf_counter()
            rows_mask = catalog.allowed_rows(self._doc_mask(catalog, allowed_document_ids, filters))
            timings["filter"] = (time.perf_counter() - start) * 1000
            depth = depth or max(MIN_DEPTH, 3 * page * per_page)
            state = self._state
            ranked = signals_module.ranked_rows(
                state.vectors, state.keywords, query if mode != "dense" else "", qvec, rows_mask, depth,
                self.similarity_floor, timings,
            )
            row_doc = catalog.row_doc.view
            start = time.perf_counter()
            lang = detect_lang(query)
            weights = self.language_weights.get(lang, self.weights)
            heads, fused = fuse_heads(ranked, catalog, weights)
            everything = [every for _, every in ranked.values()]
            matched = matches.matched_documents(row_doc, len(catalog.doc_ids), everything)
            fused = matches.counted_only(fused, matched)
            config = self.feedback.get(lang) if mode == "hybrid" else None
            if config is not None and fused:  # re-ranks the head only: what counts stays the same
                start_feedback = time.perf_counter()
                pool = feedback.Pool(ranked, state.vectors, state.keywords, rows_mask, query)
                for step in config.rounds():  # each round's documents: the best of the ranking before it
                    first = [doc for doc, _ in fused[: max(step.docs, step.term_docs)]]
                    fed = feedback.rerank(step, pool, first, qvec, row_doc, self._row_texts)  # the first pass's heads
                    heads, fused = fuse_heads(fed, catalog, weights)
                    fused = matches.counted_only(fused, matched)
                timings["feedback"] = (time.perf_counter() - start_feedback) * 1000
            facets = matches.facets(catalog.facet_columns(facet_fields), matched, catalog.doc_meta)
            end = page * per_page
            if end > len(fused):  # a page past the fused head
                fused += matches.beyond_head(fused, everything, row_doc, end - len(fused))
            page_docs = [_placed(heads, doc, score, catalog) for doc, score in fused[(page - 1) * per_page : end]]
            timings["fusion_counts_facets"] = (time.perf_counter() - start) * 1000
        start = time.perf_counter()
        hits = self._hits(page_docs, query if snippets else "")
        timings["snippets"] = (time.perf_counter() - start) * 1000
        timings["total"] = (time.perf_counter() - started) * 1000
        return SearchResults(hits, len(matched), page, per_page, facets, timings)

    def _row_texts(self, rows: list[int]) -> list[str]:
        """Texts of index rows (feedback reads its documents' best chunks)."""
        assert self._state is not None
        ids = [int(c) for c in self._state.catalog.chunk_ids.view[rows]]
        stored = self.store.chunks_by_id(ids)
        return [stored[c].text for c in ids if c in stored]

    def _hits(self, page_docs: list[Placed], query: str) -> list[DocumentHit]:
        stored = self.store.chunks_by_id([p.chunk_id for p in page_docs]) if query else {}
        terms = set(tokenize(query))
        hits = []
        for p in page_docs:
            chunk = stored.get(p.chunk_id)
            if chunk is None:  # replaced between catching up and now: show the document, no snippet
                text, ref, ordinal = "", "", -1
            else:
                text, ref, ordinal = chunk.text, chunk.ref, chunk.ordinal
            hits.append(DocumentHit(p.document_id, p.score, snippet(text, terms), p.chunk_id, ref, ordinal,
                                    p.metadata, p.ranks))
        return hits

