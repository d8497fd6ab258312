"""Keyword tokenisation shared by indexing, querying and snippet highlighting.

Mixed Chinese/English text is split into script runs first: CJK runs go to jieba, everything else
to a word regex + English stemmer. The index, the query and the highlighter all use the same
function, so a highlighted span is exactly a term that matched.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import NamedTuple

import bm25s.stopwords
import jieba
import Stemmer

# Han, kana and CJK punctuation-free ranges; jieba segments Han, kana falls back to characters.
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff]+")
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)
_CJK_CHAR = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff]")

_EN_STOP = frozenset(bm25s.stopwords.STOPWORDS_EN)
_ZH_STOP = frozenset(bm25s.stopwords.STOPWORDS_CHINESE)

_stemmer = Stemmer.Stemmer("english")
_stem_lock = threading.Lock()  # PyStemmer objects are not thread-safe
_jieba_lock = threading.Lock()
_jieba_ready = False


class Span(NamedTuple):
    term: str
    start: int
    end: int


def configure_jieba(cache_dir: Path) -> None:
    """Keep jieba's dictionary cache in our data dir (it defaults to the shared temp dir)."""
    global _jieba_ready
    with _jieba_lock:
        if _jieba_ready:
            return
        cache_dir.mkdir(parents=True, exist_ok=True)
        jieba.dt.tmp_dir = str(cache_dir)
        jieba.setLogLevel(60)
        jieba.initialize()
        _jieba_ready = True


def _latin_spans(text: str, offset: int, out: list[Span]) -> None:
    words = [(m.group().lower(), m.start(), m.end()) for m in _WORD.finditer(text)]
    words = [w for w in words if w[0] not in _EN_STOP]
    if not words:
        return
    with _stem_lock:
        stems = _stemmer.stemWords([w[0] for w in words])
    out.extend(Span(stem, offset + s, offset + e) for stem, (_, s, e) in zip(stems, words, strict=True))


def _cjk_spans(text: str, offset: int, out: list[Span]) -> None:
    # search mode also emits the dictionary words inside long compounds (首都北京 -> 首都, 北京, 首都北京),
    # so a query and a passage that segment a phrase differently still share terms
    for word, start, end in jieba.tokenize(text, mode="search"):
        if word not in _ZH_STOP and word.strip():
            out.append(Span(word, offset + start, offset + end))


def token_spans(text: str) -> list[Span]:
    """Terms of ``text`` with their character offsets, in text order."""
    out: list[Span] = []
    pos = 0
    for run in _CJK_RUN.finditer(text):
        if run.start() > pos:
            _latin_spans(text[pos : run.start()], pos, out)
        _cjk_spans(run.group(), run.start(), out)
        pos = run.end()
    if pos < len(text):
        _latin_spans(text[pos:], pos, out)
    return out


def tokenize(text: str) -> list[str]:
    return [span.term for span in token_spans(text)]


def detect_lang(text: str) -> str:
    """Coarse language tag for a chunk: 'zh' when CJK characters dominate the letters, else 'en'."""
    cjk = len(_CJK_CHAR.findall(text))
    letters = sum(1 for ch in text if ch.isalpha())
    if letters == 0:
        return "und"
    return "zh" if cjk / letters >= 0.3 else "en"
