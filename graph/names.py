"""Which of a thing's two names a reader sees: workflows, their steps and forms are named in Chinese and, where
their authors gave one, in English. English readers get the English name where there is one, everyone else the
Chinese one, and either falls back to the other, so nothing is left unnamed for want of a translation. The
workflow pages and the managers' analytics choose names by this one rule."""

from __future__ import annotations


def in_language(zh: object, en: object, lang: str) -> str:
    """The name for a reader of ``lang`` (``en``… or ``zh``…) from its Chinese and English forms ("" if none)."""
    first, second = (en, zh) if str(lang).startswith("en") else (zh, en)
    return str(first or second or "")
