"""What a picker offers: people, departments (with their place in the tree), positions and projects whose
name, English name, code or user name contains the typed text.

The organisation directory is open to every signed-in colleague (it is how they address each other), but
only its living part: deactivated people, closed departments and projects are never offered. The value a
picker puts into a form is what the form always took (a code, or a user name), so every door that
accepts codes keeps working unchanged.
"""

from __future__ import annotations

from typing import Any

from graph.actor import Actor
from graph.errors import InvalidInput
from graph.queries import pickers as q
from graph.store import GraphStore

KINDS = {"person": q.PICK_PEOPLE, "department": q.PICK_DEPARTMENTS, "position": q.PICK_POSITIONS,
         "project": q.PICK_PROJECTS}
LIMIT = 20
MAX_TEXT = 60


def search(store: GraphStore, actor: Actor, kind: str, text: str, *, lang: str = "zh",
           limit: int = LIMIT) -> list[dict[str, Any]]:
    """Up to ``limit`` choices ``{value, label, hint}``; an unknown kind is refused (field ``kind``)."""
    statement = KINDS.get(kind)
    if statement is None:
        raise InvalidInput("picker.unknown_kind", field="kind", kind=str(kind)[:40])
    wanted = str(text or "").strip().lower()[:MAX_TEXT]
    rows = store.run(statement, {"q": wanted, "limit": max(1, min(int(limit), 50))})
    english = lang.startswith("en")
    choices = []
    for row in rows:
        label = (row["name_en"] if english and row["name_en"] else row["name"]) or row["value"]
        if kind == "department":
            path = row["path_en"] if english and all(row["path_en"]) and row["path_en"] else row["path"]
            hint = " / ".join(reversed([p for p in path if p]))
        else:
            hint = (row["hint_en"] if english and row["hint_en"] else row["hint"]) or ""
        choices.append({"value": row["value"], "label": label, "hint": hint})
    return choices
