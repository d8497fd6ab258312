"""Entity linking: which known people, departments and projects a document's text names.

Chinese names are matched as substrings (Chinese is written without spaces) but only from two
characters up: a one-character name would match inside countless words. Latin names and codes
match as whole words, case-sensitively (``IT`` the department, not "it" the pronoun). Among
overlapping candidates the longest wins (``FIN-ACC`` before ``FIN``, 华东销售组 before 销售组).
A name shared by several entities links to all of them, flagged ``ambiguous``.
"""

from __future__ import annotations

import re
import threading
import time
import weakref
from collections import Counter
from dataclasses import dataclass

from graph.queries import mentions as q
from graph.store import GraphStore

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
MIN_CJK_CHARS = 2
MIN_LATIN_CHARS = 2
CACHE_SECONDS = 30.0


@dataclass(frozen=True)
class Mention:
    label: str
    id: str
    count: int
    ambiguous: bool


class Matcher:
    """Compiled surface forms of the known entities."""

    def __init__(self, rows: list[dict[str, object]]) -> None:
        self._owners: dict[str, set[tuple[str, str]]] = {}
        for row in rows:
            key = (str(row["label"]), str(row["id"]))
            for form in (row.get("name"), row.get("name_en"), row.get("code")):
                if isinstance(form, str) and _usable(form.strip()):
                    self._owners.setdefault(form.strip(), set()).add(key)
        cjk = sorted((f for f in self._owners if _CJK.search(f)), key=len, reverse=True)
        latin = sorted((f for f in self._owners if not _CJK.search(f)), key=len, reverse=True)
        self._cjk = re.compile("|".join(map(re.escape, cjk))) if cjk else None
        self._latin = (re.compile(r"(?<![A-Za-z0-9])(?:" + "|".join(map(re.escape, latin)) + r")(?![A-Za-z0-9])")
                       if latin else None)

    def find(self, text: str) -> list[Mention]:
        forms: Counter[str] = Counter()
        for pattern in (self._cjk, self._latin):
            if pattern is not None:
                forms.update(m.group(0) for m in pattern.finditer(text))
        counts: Counter[tuple[str, str]] = Counter()
        ambiguous: set[tuple[str, str]] = set()
        for form, n in forms.items():
            owners = self._owners[form]
            if len(owners) > 1:
                ambiguous |= owners
            for owner in owners:
                counts[owner] += n
        return [Mention(label, id_, n, (label, id_) in ambiguous) for (label, id_), n in counts.most_common()]


def _usable(form: str) -> bool:
    if _CJK.search(form):
        return len(form) >= MIN_CJK_CHARS
    return len(form) >= MIN_LATIN_CHARS and any(c.isalpha() for c in form)


_CACHE: weakref.WeakKeyDictionary[GraphStore, tuple[float, Matcher]] = weakref.WeakKeyDictionary()
_CACHE_LOCK = threading.Lock()


def matcher_for(store: GraphStore, *, refresh: bool = False) -> Matcher:
    """The matcher of the store's current people and departments (rebuilt every ``CACHE_SECONDS``)."""
    with _CACHE_LOCK:
        cached = _CACHE.get(store)
        if cached and not refresh and time.monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1]
    matcher = Matcher(store.run(q.KNOWN_ENTITIES))
    with _CACHE_LOCK:
        _CACHE[store] = (time.monotonic(), matcher)
    return matcher


def link_mentions_many(store: GraphStore, items: list[tuple[str, str, str]]) -> dict[str, int]:
    """Replace the MENTIONS edges of many documents with those found in their current text, in two statements;
    ``items`` are (document id, version id, text). Returns the number of mentions found per document."""
    if not items:
        return {}
    matcher = matcher_for(store)
    found: dict[str, int] = {}
    rows = []
    for document_id, version_id, text in items:
        hits = matcher.find(text)
        found[document_id] = len(hits)
        rows.extend({"document_id": document_id, "version_id": version_id, "label": m.label, "id": m.id,
                     "count": m.count, "ambiguous": m.ambiguous} for m in hits if m.label in q.MENTION_LABELS)
    store.run(q.CLEAR_MENTIONS_MANY, {"document_ids": [document_id for document_id, _, _ in items]})
    if rows:
        store.run(q.LINK_MENTIONS_MANY, {"rows": rows})
    return found
