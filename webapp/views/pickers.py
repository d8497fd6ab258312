"""``/pick/<kind>``: the search behind every picker (people, departments, positions, projects); with
``tree=1`` the department picker browses the tree (``pickers/_tree.html``) until something is typed.

A GET that changes nothing (so no CSRF token is involved); htmx sends what was typed and swaps the options
into the combobox's list. The options are rendered by ``pickers/_options.html``; the combobox itself is the
``picker`` macro of ``pickers/_picker.html`` with ``static/picker.js`` for the keyboard (ARIA combobox).
"""

from __future__ import annotations

import re

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l

from graph import pickers
from graph.errors import InvalidInput
from webapp import services
from webapp.i18n import current_language
from webapp.messages import message

bp = Blueprint("pickers", __name__, url_prefix="/pick")


# Form values that name a picker kind by another word (a head of department is picked among departments).
ALIASES = {"head": "department"}
KIND_LABELS = {"department": _l("department"), "person": _l("person"), "project": _l("project"),
               "position": _l("position")}


def _shares(text: str, lang: str) -> list[dict[str, str]]:
    """A list field of shares (``department:FIN, person:li.na``): the last entry is being typed; ``KIND:``
    narrows the search to that kind, otherwise departments and people are offered, as ``KIND:CODE``."""
    token = re.split(r"[,，\s]+", text)[-1]
    prefix, _, rest = token.partition(":")
    kinds = [prefix] if ":" in token and prefix in pickers.KINDS else ["department", "person"]
    wanted = rest if ":" in token and prefix in pickers.KINDS else token
    found = []
    for kind in kinds:
        for choice in pickers.search(services.store(), services.actor(), kind, wanted, lang=lang, limit=10):
            hint = " · ".join(h for h in (str(KIND_LABELS[kind]), choice["hint"]) if h)
            found.append({**choice, "value": f"{kind}:{choice['value']}", "hint": hint})
    return found


@bp.get("/<kind>")
def search(kind: str) -> ResponseReturnValue:
    kind = ALIASES.get(kind, kind)
    field = request.args.get("field", "q")
    text = request.args.get(field, request.args.get("q", ""))
    list_id = request.args.get("list", "picker")[:80]
    lang = "en" if current_language() == "en" else "zh"
    if request.args.get("multiple"):  # a comma-separated list: the last entry is the one being typed
        text = re.split(r"[,，]", text)[-1]
    try:
        if kind == "department" and request.args.get("tree") == "1":
            found = pickers.department_tree(services.store(), services.actor(), text, lang=lang,
                                            exclude=request.args.get("exclude") or None)
            return render_template("pickers/_tree.html", choices=found, list_id=list_id, browsing=not text.strip())
        if kind == "share":
            choices = _shares(text, lang)
        else:
            choices = pickers.search(services.store(), services.actor(), kind, text, lang=lang)
    except InvalidInput as error:
        return render_template("pickers/_options.html", choices=[], error=message(error), list_id=list_id), 404
    return render_template("pickers/_options.html", choices=choices, error=None, list_id=list_id)
