"""Duplicates across owners, found when text is extracted and in bulk for documents already stored.

Exact duplicates have the same bytes (the document's content hash). Near duplicates have nearly the same
text: small edits, reordered sections, another template header. Text becomes a set of shingles (2 tokens
in a row; a token is one CJK character or one latin word/number, after NFKC and lower-casing), the set a
MinHash signature (datasketch, 128 permutations), and candidates come from MinHash LSH; a pair is linked
when the signatures' estimated Jaccard similarity is at least :data:`NEAR_THRESHOLD` — chosen with
``bench/dedupe_bench.py`` (copies with 1 %, 5 %, 20 % of tokens edited, shuffled sections and a different
header must match; different documents from one template must not). Measured: 2-token shingles at 0.45
gave precision 1.0 with recall 0.88 (0.72 of the 20 % edits); 3-token shingles only 0.70 recall at 0.5;
lower thresholds began to match different documents of one template.

Each process keeps an LSH index of the current versions' signatures, which live on the ``Version`` nodes,
and catches up with those stored since its last look before every query (one indexed range lookup), so
two workers ingesting at once still see each other's documents.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from datasketch import LeanMinHash, MinHash, MinHashLSH

from graph import GraphUnavailable
from graph import duplicates as graph_duplicates
from graph.catch_up import PerStore, follow
from graph.duplicates import Pair
from graph.queries import duplicates as q
from graph.store import GraphStore

log = logging.getLogger(__name__)

NUM_PERM = 128
SHINGLE = 2
SEED = 16
NEAR_THRESHOLD = 0.45
MIN_SHINGLES = 8  # a text shorter than this says too little to call it a copy of anything
_TOKEN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[^\W_]+", re.UNICODE)
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
SCHEME = "affine32"  # hash values below 2**32: they fit the graph's integers
_TEMPLATE = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME)  # the permutations, computed once


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(unicodedata.normalize("NFKC", text or "").lower())


def shingles(text: str) -> set[bytes]:
    words = tokens(text)
    return {" ".join(words[i:i + SHINGLE]).encode() for i in range(max(len(words) - SHINGLE + 1, 0))}


def signature(text: str) -> np.ndarray | None:
    """The MinHash signature of a text (uint32 values), or None when the text is too short."""
    found = shingles(text)
    if len(found) < MIN_SHINGLES:
        return None
    minhash = MinHash(num_perm=NUM_PERM, seed=SEED, permutations=_TEMPLATE.permutations, scheme=SCHEME)
    minhash.update_batch(list(found))
    return minhash.hashvalues.copy()


def similarity(one: np.ndarray, other: np.ndarray) -> float:
    return float(np.count_nonzero(one == other)) / len(one)


def _lean(values: np.ndarray) -> LeanMinHash:
    return LeanMinHash(seed=SEED, hashvalues=values, scheme=SCHEME)


@dataclass
class NearIndex:
    """MinHash LSH over the current versions' signatures of one graph, kept up to date from the graph."""

    store: GraphStore
    threshold: float = NEAR_THRESHOLD
    lsh: MinHashLSH = field(init=False)
    signatures: dict[str, np.ndarray] = field(default_factory=dict)
    owners: dict[str, str | None] = field(default_factory=dict)
    since: int = -1
    lock: threading.RLock = field(default_factory=threading.RLock)

    def __post_init__(self) -> None:
        self.lsh = MinHashLSH(threshold=self.threshold, num_perm=NUM_PERM)

    def put(self, document_id: str, owner_id: str | None, values: np.ndarray) -> None:
        with self.lock:
            if document_id in self.signatures:
                self.lsh.remove(document_id)
            self.signatures[document_id] = values
            self.owners[document_id] = owner_id
            self.lsh.insert(document_id, _lean(values), check_duplication=False)

    def catch_up(self) -> None:
        """Signatures stored since the last look (by this or any other process)."""
        with self.lock:
            self.since = follow(self.store, q.SIGNATURES_SINCE, self.since, self._apply)

    def _apply(self, row: dict[str, Any]) -> None:
        if row["minhash"]:
            self.put(row["document_id"], row["owner_id"], np.asarray(row["minhash"], dtype=np.uint32))
        elif self.signatures.pop(row["document_id"], None) is not None:  # its text became too short
            self.lsh.remove(row["document_id"])

    def near(self, document_id: str, values: np.ndarray) -> list[tuple[str, float]]:
        """Documents whose signature is at least ``threshold`` similar (not the document itself)."""
        with self.lock:
            found = []
            for other in self.lsh.query(_lean(values)):
                if other != document_id:
                    score = similarity(values, self.signatures[other])
                    if score >= self.threshold:
                        found.append((other, score))
            return found


index_for = PerStore(NearIndex)


@dataclass
class Outcome:
    documents: int = 0
    pairs: list[Pair] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"documents": self.documents, "exact": sum(p.kind == "exact" for p in self.pairs),
                "near": sum(p.kind == "near" for p in self.pairs)}


def link(store: GraphStore, items: Sequence[tuple[str, str, str]], *, now: int | None = None) -> Outcome:
    """Sign the text of current versions (document id, version id, text) and link their cross-owner copies."""
    if not items:
        return Outcome()
    now = now or int(time.time() * 1000)
    signed = {document_id: (version_id, signature(text)) for document_id, version_id, text in items}
    rows = [{"document_id": d, "version_id": v, "minhash": None if s is None else [int(x) for x in s], "at": now}
            for d, (v, s) in signed.items()]
    facts = {row["id"]: row for row in store.run(q.SIGN, {"rows": rows})}
    pairs: list[Pair] = []
    for document_id, row in facts.items():
        for other, other_owner in row["same"]:
            if other_owner != row["owner_id"]:
                pairs.append(Pair.of(document_id, other, "exact", 1.0))
    index = index_for(store)
    index.catch_up()  # includes the signatures just stored
    exact_keys = {(p.a, p.b) for p in pairs}
    for document_id, (_, values) in signed.items():
        owner = facts.get(document_id, {}).get("owner_id")
        for other, score in ([] if values is None else index.near(document_id, values)):
            pair = Pair.of(document_id, other, "near", score)
            if index.owners.get(other) != owner and (pair.a, pair.b) not in exact_keys:
                pairs.append(pair)
    unique = list({(p.a, p.b): p for p in reversed(pairs)}.values())  # found from both ends; exact first
    graph_duplicates.relink(store, sorted(facts), unique)
    return Outcome(len(facts), unique)


def after_extraction(store: GraphStore, items: Iterable[tuple[str, str, str]]) -> Outcome:
    """The pipeline's hook: duplicates never fail an ingestion (only a graph outage is raised)."""
    try:
        return link(store, list(items))
    except GraphUnavailable:
        raise
    except Exception:  # a bad text must not cost the document its extraction
        log.exception("duplicate detection failed; the documents are stored without duplicate links")
        return Outcome()


def link_all(store: GraphStore, texts: Any, *, batch: int = 200) -> Outcome:
    """Every current version with stored text, in batches (documents stored before duplicates were linked).

    ``texts`` is an :class:`ingest.textstore.TextStore`; a version without stored text is skipped.
    """
    total = Outcome()
    skip = 0
    while True:
        rows = store.run(q.CURRENT_VERSIONS, {"skip": skip, "limit": batch})
        if not rows:
            return total
        skip += len(rows)
        items = []
        for row in rows:
            stored = texts.load(row["version_id"])
            if stored is not None:
                items.append((row["document_id"], row["version_id"], stored.text))
        done = link(store, items)
        total.documents += done.documents
        known = {(p.a, p.b) for p in total.pairs}
        total.pairs += [p for p in done.pairs if (p.a, p.b) not in known]
