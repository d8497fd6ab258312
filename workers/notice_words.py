"""Notices worded for what leaves the web (e-mails, group robots): these have no reader's language, so they
carry Chinese and English, from the same message catalogue the pages use. A trend notice stores a code with
figures (:mod:`graph.analytics.trend_words`); a notice stored before that keeps its own text."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.support import NullTranslations, Translations

from graph.analytics import trend_words

# The compiled catalogue of the web pages (a data directory, read as files: workers never import webapp).
CATALOGUE = Path(__file__).resolve().parents[1] / "webapp" / "translations"


@lru_cache(maxsize=1)
def _chinese() -> NullTranslations:
    return Translations.load(str(CATALOGUE), ["zh_Hans_CN"])


def texts(notice: Mapping[str, Any]) -> list[str]:
    """The notice's text, Chinese then English (one line when both read the same; none when it has none)."""
    english = trend_words.notice_text(notice, lambda message: message)
    chinese = trend_words.notice_text(notice, _chinese().gettext)
    return [t for t in dict.fromkeys((chinese, english)) if t]
