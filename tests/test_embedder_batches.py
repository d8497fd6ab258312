"""How the encoder's texts are grouped into batches (embeddings.embedder.length_batches): by token count, so a
batch pads little, whatever mix of Chinese and English or long and short texts one call brings; and the
vectors do not depend on the grouping."""

from __future__ import annotations

import numpy as np

from embeddings.embedder import get_embedder, length_batches
from settings import get_settings


def test_a_batch_holds_texts_of_similar_token_counts_longest_first() -> None:
    lengths = [510, 170, 509, 505, 160, 20, 18, 300]
    assert length_batches(lengths, 48) == [[0, 2, 3], [7], [1, 4], [5, 6]]
    # short texts differ by a few tokens only: one batch, not one per length
    assert length_batches([30, 12, 25, 3], 48) == [[0, 2, 1, 3]]


def test_the_batch_size_caps_a_batch_and_equal_lengths_keep_their_order() -> None:
    assert length_batches([100] * 5, 2) == [[0, 1], [2, 3], [4]]
    assert length_batches([], 48) == []
    lengths = list(np.random.default_rng(3).integers(1, 512, 500))
    batches = length_batches(lengths, 32)
    assert sorted(i for batch in batches for i in batch) == list(range(500))  # each text once
    for batch in batches:
        longest = lengths[batch[0]]
        assert len(batch) <= 32 and all(min(longest * 0.8, longest - 32) <= lengths[i] <= longest for i in batch)


def test_vectors_of_a_mixed_call_are_those_of_each_text_alone() -> None:
    embedder = get_embedder(get_settings().embedding_model)
    texts = ["差旅费报销需要部门经理审批，金额超过五千元时还需财务总监签字。" * 12,
             "Travel expenses above five thousand yuan also need the finance director's signature. " * 20,
             "合同编号", "Quarterly report", "采购申请单" * 30, "The supplier delivered the goods late. " * 3]
    together = embedder.embed(texts)
    alone = np.stack([embedder.embed([text])[0] for text in texts])
    assert together.shape == (len(texts), embedder.dim) and together.dtype == np.float32
    assert np.min(np.sum(together * alone, axis=1)) > 0.9999
