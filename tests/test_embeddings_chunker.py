"""Chunking with the real model tokenizer: limits, overlap, boundaries, Chinese and English."""

from __future__ import annotations

import hashlib
import itertools
import re

import pytest

from embeddings.chunker import chunk_blocks
from embeddings.embedder import get_embedder


@pytest.fixture(scope="module")
def count():
    return get_embedder().count_tokens


@pytest.fixture(scope="module")
def limit():
    return get_embedder().max_tokens


ENGLISH = " ".join(
    f"Sentence number {i} describes the boundary layer of a swept wing at Mach {i % 7}.{i % 10} in detail."
    for i in range(120)
)
CHINESE = "".join(
    f"第{i}段说明了知识图谱在跨部门协作中的作用，包括文档共享与权限控制{'。！？；'[i % 4]}" for i in range(150)
)


def test_english_chunks_respect_limit_target_and_overlap(count, limit):
    chunks = chunk_blocks([(ENGLISH, "p. 1")], count, target_tokens=200, max_tokens=limit)
    assert len(chunks) > 5
    sizes = [count(c.text) for c in chunks]
    assert max(sizes) <= limit
    assert all(150 <= s <= 210 for s in sizes[:-1]), sizes
    for previous, current in itertools.pairwise(chunks):
        first_sentence = re.match(r".*?\.(?=\s|$)", current.text).group()
        assert first_sentence in previous.text, "consecutive chunks share an overlapping sentence"
        assert current.text.startswith("Sentence number"), "chunks start on a sentence boundary"
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    assert all(c.ref == "p. 1" for c in chunks)
    assert all(c.text_hash == hashlib.sha256(c.text.encode()).hexdigest() for c in chunks)
    assert "Sentence number 119 " in chunks[-1].text and "Sentence number 0 " in chunks[0].text


def test_chinese_splits_on_chinese_punctuation_and_covers_everything(count, limit):
    chunks = chunk_blocks([(CHINESE, "slide 2")], count, target_tokens=200, max_tokens=limit)
    assert len(chunks) > 3
    assert max(count(c.text) for c in chunks) <= limit
    for chunk in chunks:
        assert chunk.text[-1] in "。！？；", chunk.text[-10:]
        assert chunk.text.startswith("第")
        assert " " not in chunk.text, "no spaces are inserted between Chinese sentences"
    joined = "".join(c.text for c in chunks)
    for i in range(150):
        assert f"第{i}段" in joined


def test_overlong_unpunctuated_text_is_split_by_characters_within_limit(count, limit):
    text = "汇通知识图谱" * 400 + " " + "x" * 3000
    chunks = chunk_blocks([(text, "")], count, max_tokens=limit)
    assert all(count(c.text) <= limit for c in chunks)
    assert "".join(c.text for c in chunks).replace(" ", "").count("汇通知识图谱") >= 400


def test_blocks_keep_refs_and_same_ref_blocks_merge(count):
    blocks = [("First page text.", "p. 1"), ("More of page one.", "p. 1"), ("Second page.", "p. 2"), ("  ", "p. 3")]
    chunks = chunk_blocks(blocks, count)
    assert [(c.ref, c.text) for c in chunks] == [
        ("p. 1", "First page text. More of page one."),
        ("p. 2", "Second page."),
    ]


def test_mixed_chinese_english_sentence(count):
    chunks = chunk_blocks([("我们使用 FAISS 做向量检索。Then BM25 ranks keywords.", "h1 > h2")], count)
    assert chunks[0].text == "我们使用 FAISS 做向量检索。 Then BM25 ranks keywords."


def test_bad_input_is_rejected(count):
    with pytest.raises(TypeError):
        chunk_blocks([(b"bytes", "p. 1")], count)
    with pytest.raises(ValueError):
        chunk_blocks([("text", "p")], count, target_tokens=300, max_tokens=256)
    with pytest.raises(ValueError):
        chunk_blocks([("text", "p")], count, overlap_ratio=0.9)
    assert chunk_blocks([], count) == []
