"""Languages of the UI (zh-CN and English) and how one is chosen for a request."""

from __future__ import annotations

from flask import request, session
from flask_babel import Babel, get_locale

LANGUAGES: dict[str, str] = {"zh_CN": "中文", "en": "English"}
DEFAULT_LANGUAGE = "zh_CN"

babel = Babel()


def select_locale() -> str:
    """The user's explicit choice, else the browser's preference, else Chinese."""
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return chosen
    preferred = request.accept_languages.best_match(["zh-CN", "zh", "en"])
    return "en" if preferred == "en" else DEFAULT_LANGUAGE


def current_language() -> str:
    """The request's UI language as one of :data:`LANGUAGES`' codes."""
    locale = get_locale()
    return "zh_CN" if locale is not None and locale.language == "zh" else "en"
