"""The managers' figures in the reader's language: trend warnings, bottleneck reasons, path failures and the
explorer's kinds of links arrive from :mod:`graph.usecases.analytics` as codes with figures; they are
worded here, at the edge, in zh-CN or en. Durations read in hours."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from graph.analytics import trend_words

WARNINGS: dict[str, Any] = {code: _l(text) for code, text in trend_words.WARNINGS.items()}
WARNING_TITLES: dict[str, Any] = {"rising_handling_time": _l("Handling time rising"),
                                  "sla_breach_expected": _l("SLA breaches ahead")}
REASONS: dict[str, Any] = {
    "bottleneck.load": _l("holds %(load)s tasks on average, over %(count)s tasks"),
    "bottleneck.handling": _l("median handling %(median_h)s h (P90 %(p90_h)s h)"),
    "bottleneck.wait": _l("median wait before anyone opens it %(median_h)s h"),
    "bottleneck.breach": _l("%(rate)s past their time limit"),
    "bottleneck.rework": _l("%(rate)s rework"),
}
PATH_REASONS: dict[str, Any] = {
    "path.no_activity": _l("No collaboration is recorded for %(department)s in this range."),
    "path.not_connected": _l("These departments are not connected in this range."),
}
LINK_KINDS: dict[str, Any] = {"handoffs": _l("Workflow handoffs"), "co_assigned": _l("Worked on the same runs"),
                              "shared_documents": _l("Shared documents"), "comments": _l("Comments"),
                              "member": _l("Membership")}


def _word(catalogue: dict[str, Any], code: str, params: dict[str, Any]) -> str:
    text = catalogue.get(code)
    if text is None:
        return code
    return trend_words.fill(str(text), params)


def warning_text(warning: dict[str, Any]) -> str:
    return _word(WARNINGS, warning.get("code", ""), warning.get("params", {}))


def notice_text(notice: dict[str, Any]) -> str:
    """A notification's text in the reader's language (a trend code worded; an old stored text as it is)."""
    return trend_words.notice_text(notice, _)


def warning_title(warning: dict[str, Any]) -> str:
    return str(WARNING_TITLES.get(warning.get("kind", ""), _("Trend warning")))


def reasons_text(reasons: list[dict[str, Any]] | None) -> str:
    """A bottleneck's reasons as one line ("；" joins them in Chinese, "; " in English)."""
    return _("; ").join(_word(REASONS, r["code"], r.get("params", {})) for r in reasons or [])


def path_reason(found: dict[str, Any]) -> str:
    return _word(PATH_REASONS, found.get("reason") or "", found.get("params") or {})


def hours(seconds: float | int | None) -> float | None:
    """Seconds as hours, rounded as a reader wants them: one decimal, two below a tenth of an hour."""
    if seconds is None or seconds == "":
        return None
    value = float(seconds) / 3600
    return round(value, 1) if abs(value) >= 0.1 else round(value, 2)


def explorer_words() -> dict[str, str]:
    """What the explorer's script shows, in the reader's language."""
    return {f"kind_{k}": str(v) for k, v in LINK_KINDS.items()} | {
        "betweenness": _("Bridging score"), "department": _("Department"), "person": _("Person"),
        "legend": _("Kinds of links"), "interactions": _("interactions"),
    }
