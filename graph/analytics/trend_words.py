"""Trend warnings' wording, shared by every edge that words them: the ``/manage`` pages and the notification
centre (through gettext in the reader's language) and the e-mails and group robots the workers send (zh
and en, from the same compiled catalogue). The analysis itself only ever yields a code and figures; a
notice stores both (``code``, ``params`` as JSON: graph properties hold no maps) and never an English text.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any


def N_(message: str) -> str:  # the gettext convention: marked here, translated where it is shown
    return message


WARNINGS: dict[str, str] = {
    "trend.rising_handling_time": N_(
        "%(scope)s: the weekly median handling time rises by %(slope_h)s hours a week over %(weeks)s weeks "
        "(+%(rise)s over the period)."),
    "trend.sla_breach_expected": N_(
        "%(scope)s: %(arrived)s tasks arrived and %(finished)s were completed in %(recent_days)s days; the "
        "%(queue)s open tasks take %(clearing_days)s days to clear against a time limit of %(sla_days)s days: "
        "new tasks will miss it in about %(days)s days."),
    "trend.sla_breached": N_(
        "%(scope)s: %(arrived)s tasks arrived and %(finished)s were completed in %(recent_days)s days; the "
        "%(queue)s open tasks take %(clearing_days)s days to clear against a time limit of %(sla_days)s days: "
        "tasks are missing it already."),
}
RATES = ("rate", "rise")  # shares, shown as percentages


def shown(params: Mapping[str, Any]) -> dict[str, str]:
    """Figures as the reader sees them: shares in %, a missing figure as a dash."""
    out = {}
    for key, value in params.items():
        if value is None:
            out[key] = "—"
        elif key in RATES:
            out[key] = f"{float(value):.0%}"
        else:
            out[key] = str(value)
    return out


def fill(template: str, params: Mapping[str, Any]) -> str:
    """A translated template with its figures; a template that does not fit them is shown bare."""
    try:
        return template % shown(params)
    except (KeyError, ValueError, TypeError):
        return template


SCOPE_KEYS = ("workflow", "step", "department_id")  # what a warning is about, by key and id: named when shown


def notice_fields(warning: Mapping[str, Any]) -> dict[str, str]:
    """What a trend notice stores of its warning: the code, the figures (JSON) and its scope's keys and ids
    (JSON), so the scope is named in the reader's language when shown (the figures' ``scope`` is the Chinese
    name, for what has no reader)."""
    scope = {key: str(warning[key]) for key in SCOPE_KEYS if warning.get(key)}
    return {"code": str(warning["code"]), "params": json.dumps(warning.get("params") or {}, ensure_ascii=False),
            "scope": json.dumps(scope, ensure_ascii=False)}


def notice_scope(notice: Mapping[str, Any]) -> dict[str, str]:
    """The keys and ids of a trend notice's scope (empty for notices stored before they were kept)."""
    return {k: str(v) for k, v in _json_map(notice.get("scope")).items() if k in SCOPE_KEYS and v}


def notice_params(notice: Mapping[str, Any]) -> dict[str, Any]:
    """The figures a notice stored (empty when none or unreadable)."""
    return _json_map(notice.get("params"))


def _json_map(raw: object) -> dict[str, Any]:
    if isinstance(raw, Mapping):
        return dict(raw)
    try:
        found = json.loads(raw) if isinstance(raw, str) else {}
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def notice_text(notice: Mapping[str, Any], translate: Callable[[str], str]) -> str:
    """A notice's text in the language of ``translate`` (a gettext): a trend code worded with its figures;
    a notice stored before codes keeps its stored text."""
    template = WARNINGS.get(str(notice.get("code") or ""))
    if template is None:
        return str(notice.get("text") or "")
    params = notice_params(notice)
    if notice.get("scope_name"):  # named for this reader (graph.analytics.notices.named)
        params["scope"] = notice["scope_name"]
    return fill(translate(template), params)
