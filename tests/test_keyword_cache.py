"""The keyword index's term cache changes nothing: identical rows and scores, and growth invalidates it."""

from __future__ import annotations

import numpy as np

from embeddings.catalog import AllowedRows
from embeddings.keyword_index import KeywordIndex

WORDS = [f"w{i}" for i in range(40)]


def corpus(rng: np.random.Generator, n: int) -> list[list[str]]:
    # a skewed vocabulary: a few words in most rows (long postings), most words rare
    weights = 1.0 / np.arange(1, len(WORDS) + 1)
    weights /= weights.sum()
    return [list(rng.choice(WORDS, rng.integers(1, 30), p=weights)) for _ in range(n)]


def test_cached_matches_equal_uncached_ones_and_rows_added_later_count() -> None:
    rng = np.random.default_rng(1)
    index, reference = KeywordIndex(), KeywordIndex()
    reference.term_cache_bytes = 0
    rows = corpus(rng, 3000)
    index.add(rows)
    reference.add(rows)
    sets = [AllowedRows(rng.random(3000) < share) for share in (0.1, 0.5)] + [AllowedRows(np.ones(3000, bool))]
    queries = [list(rng.choice(WORDS, rng.integers(1, 5))) for _ in range(60)]
    for round_ in range(2):  # the second round is answered from the cache
        for allowed in sets:
            for terms in queries:
                got, want = index.matches(terms, allowed), reference.matches(terms, allowed)
                assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1]), (round_, terms)
    assert index._term_cache._bytes > 0
    everything = sets[2]
    before = index.matches(["w0"], everything)

    more = corpus(rng, 500)
    index.add(more)  # cached rows are copies: the posting arrays can still grow
    reference.add(more)
    grown = AllowedRows(np.concatenate([sets[0].mask, np.ones(500, bool)]))
    for terms in queries:
        got, want = index.matches(terms, grown), reference.matches(terms, grown)
        assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])
        assert (got[0] >= 3000).any() or not (want[0] >= 3000).any()
    # the same row set object after growth: the key holds the row count, so nothing stale is served
    everything.mask = np.ones(3500, bool)
    everything.__dict__.pop("count", None)
    after, want = index.matches(["w0"], everything), reference.matches(["w0"], AllowedRows(np.ones(3500, bool)))
    assert len(after[0]) > len(before[0]) and np.array_equal(after[1], want[1])


def test_the_cache_stays_within_its_bytes() -> None:
    rng = np.random.default_rng(2)
    index = KeywordIndex()
    index._term_cache._capacity = 20_000
    index.add(corpus(rng, 2000))
    for share in np.linspace(0.2, 1.0, 30):
        allowed = AllowedRows(rng.random(2000) < share)
        for word in WORDS[:10]:
            index.matches([word], allowed)
            assert index._term_cache._bytes <= 20_000
