"""Split extracted text blocks into overlapping, token-bounded chunks.

Token counts come from the embedding model's own tokenizer, so a chunk never exceeds what the
model reads (anything past its limit would be silently truncated and never searchable by meaning).
Cuts fall on paragraph, then sentence (Latin and CJK punctuation), then clause, then word
boundaries; only a single over-long word is cut by characters (never inside a code point).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

TokenCounter = Callable[[str], int]

_PARAGRAPH = re.compile(r"\n\s*\n")
# Latin sentence ends need following whitespace ("3.5" is not a sentence end); CJK ends do not.
_SENTENCE = re.compile(r"(?<=[.!?])\s+|(?<=[。！？；])\s*|(?<=[;])\s+|\n")
_CLAUSE = re.compile(r"(?<=[,，、:：])\s*")
_SPACE = re.compile(r"(?<=\s)(?=\S)")


@dataclass(frozen=True)
class Chunk:
    text: str
    ref: str
    ordinal: int
    text_hash: str


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _pieces(text: str, pattern: re.Pattern[str]) -> list[str]:
    return [p for p in pattern.split(text) if p and p.strip()]


def _split_by_chars(text: str, limit: int, count: TokenCounter) -> list[str]:
    """Last resort for one over-long word/run: the longest prefix that fits, repeatedly."""
    out: list[str] = []
    rest = text
    while rest:
        lo, hi = 1, len(rest)
        while lo < hi:  # largest prefix length whose token count fits
            mid = (lo + hi + 1) // 2
            if count(rest[:mid]) <= limit:
                lo = mid
            else:
                hi = mid - 1
        out.append(rest[:lo])
        rest = rest[lo:]
    return out


def _units(text: str, limit: int, count: TokenCounter) -> list[str]:
    """Sentence-sized units, each at most ``limit`` tokens."""
    units: list[str] = []
    for sentence in _pieces(text, _SENTENCE):
        if count(sentence) <= limit:
            units.append(sentence.strip())
            continue
        for clause in _pieces(sentence, _CLAUSE):
            if count(clause) <= limit:
                units.append(clause.strip())
                continue
            for word in _pack(_pieces(clause, _SPACE), limit, count, joiner=""):
                units.extend([word] if count(word) <= limit else _split_by_chars(word, limit, count))
    return [u for u in units if u]


def _join(left: str, right: str) -> str:
    if not left:
        return right
    # CJK text has no spaces between sentences; Latin text needs one.
    if left[-1].isascii() or right[0].isascii():
        return f"{left} {right}"
    return left + right


def _pack(units: list[str], limit: int, count: TokenCounter, joiner: str = " ") -> list[str]:
    """Greedy packing of consecutive units up to ``limit`` tokens (no overlap)."""
    out: list[str] = []
    current = ""
    for unit in units:
        candidate = (current + joiner + unit if joiner else current + unit) if current else unit
        if current and count(candidate) > limit:
            out.append(current.strip())
            current = unit
        else:
            current = candidate
    if current.strip():
        out.append(current.strip())
    return out


def _windows(units: list[str], target: int, overlap: int, count: TokenCounter) -> list[str]:
    """Pack units into ~target-token windows, repeating trailing units worth ~overlap tokens."""
    sizes = [count(u) for u in units]
    windows: list[str] = []
    start = 0
    while start < len(units):
        end, used = start, 0
        while end < len(units) and (end == start or used + sizes[end] <= target):
            used += sizes[end]
            end += 1
        text = ""
        for unit in units[start:end]:
            text = _join(text, unit)
        windows.append(text)
        if end >= len(units):
            break
        # step back over trailing units that fit in the overlap budget, but always advance
        back, carried = end, 0
        while back - 1 > start and carried + sizes[back - 1] <= overlap:
            back -= 1
            carried += sizes[back]
        start = back
    return windows


def chunk_blocks(
    blocks: Iterable[tuple[str, str]],
    count_tokens: TokenCounter,
    *,
    target_tokens: int = 200,
    max_tokens: int = 256,
    overlap_ratio: float = 0.15,
) -> list[Chunk]:
    """Chunks of ``blocks`` (``(text, ref)`` pairs); consecutive blocks with the same ref are merged.

    ``count_tokens`` must count the model's word pieces without special tokens; ``max_tokens`` is
    the model's limit minus its special tokens.
    """
    if target_tokens < 8 or max_tokens < target_tokens:
        raise ValueError("need 8 <= target_tokens <= max_tokens")
    if not 0 <= overlap_ratio < 0.5:
        raise ValueError("overlap_ratio must be in [0, 0.5)")
    merged: list[tuple[str, str]] = []
    for text, ref in blocks:
        if not isinstance(text, str) or not isinstance(ref, str):
            raise TypeError("blocks must be (text: str, ref: str) pairs")
        if merged and merged[-1][1] == ref:
            merged[-1] = (merged[-1][0] + "\n\n" + text, ref)
        else:
            merged.append((text, ref))
    overlap = int(target_tokens * overlap_ratio)
    chunks: list[Chunk] = []
    for text, ref in merged:
        units: list[str] = []
        for paragraph in _pieces(text, _PARAGRAPH):
            units.extend(_units(paragraph, max_tokens, count_tokens))
        for window in _windows(units, target_tokens, overlap, count_tokens):
            chunks.append(Chunk(window, ref, len(chunks), text_hash(window)))
    return chunks
