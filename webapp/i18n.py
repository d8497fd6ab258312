"""Languages of the UI (zh-CN and English) and how one is chosen for a request."""

from __future__ import annotations

from functools import cached_property

from babel.support import NullTranslations
from flask import g, request, session
from flask_babel import Babel, Domain, get_locale

LANGUAGES: dict[str, str] = {"zh_CN": "中文", "en": "English"}
DEFAULT_LANGUAGE = "zh_CN"


class RequestDomain(Domain):
    """Flask-Babel's message domain, with the request's catalogue found once per request and locale.

    Flask-Babel finds the catalogue again for every word (application globals, domain, locale, cache key),
    which costs more than the look-up itself: a page of tables says hundreds of words. The catalogue is kept
    on the request's ``g`` beside the locale object it was found for, so a ``force_locale`` block (which sets
    a locale object of its own) finds its own catalogue, and the request's again afterwards."""

    def get_translations(self) -> NullTranslations:
        try:
            state = g._get_current_object().__dict__
        except RuntimeError:  # outside an application context
            return super().get_translations()
        locale = getattr(state.get("_flask_babel"), "babel_locale", None)
        found = state.get("huitong_translations")
        if found is not None and locale is not None and found[0] is locale:
            return found[1]  # type: ignore[no-any-return]
        translations = super().get_translations()
        state["huitong_translations"] = (getattr(state.get("_flask_babel"), "babel_locale", None), translations)
        return translations  # type: ignore[no-any-return]


class _Babel(Babel):
    @cached_property
    def domain_instance(self) -> Domain:
        return RequestDomain(domain=self.domain)


babel = _Babel()


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
