"""Notices to people about events that concern them, whatever door the event came through.

The use cases raise them (:mod:`graph.workflows.notices` for runs and tasks, the share and comment use
cases for documents): each notice is a ``(:Notification)-[:TO]->(:Person)`` node, told to the person's
browsers at once over the live bus (the header badge refreshes), and marked ``:PendingNotice`` for the
worker (:mod:`workers.notify`), which mails it (or keeps it for the person's daily digest) and posts it to
their department's group robots. A notice's id is derived from the event, so an event replayed by a retry
notifies once. A person who muted a kind gets no notice of it at all.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from typing import Any

from graph import live
from graph.errors import InvalidInput
from graph.queries import notifications as q
from graph.store import GraphStore
from settings import Settings

_NAMESPACE = uuid.UUID("5d1f7a02-93c4-4b8e-8a51-2f6c0e9d7b13")

# Events raised by the use cases.
EVENT_KINDS = ("task_arrived", "run_approved", "run_rejected", "run_returned", "run_finished", "run_withdrawn",
               "feedback_requested", "mentioned", "document_shared", "access_requested")
# Raised by the reminder scan, the initiator or the trend analysis (graph.workflows.reminders and friends).
REMINDER_KINDS = ("due_soon", "overdue", "escalation", "urge", "info_requested", "trend_warning")
KINDS = EVENT_KINDS + REMINDER_KINDS
MAX_RECIPIENTS = 500  # a share with a large department notifies its first 500 new readers, not thousands
# A handle runs to the next space or punctuation; dots belong to user names (``@li.na``).
_HANDLE = re.compile(r"@([^\s@,，。;；:：!！?？()（）、]{1,40})")


def notice(kind: str, person_id: str, *, event: str, now: int, title: str = "", text: str = "",
           task: dict[str, Any] | None = None, run_id: str | None = None, document_id: str | None = None,
           by_name: str | None = None, **extra: Any) -> dict[str, Any]:
    """A row for :func:`send`; ``event`` names the event (the same event never notifies a person twice)."""
    task = task or {}
    props = {"id": str(uuid.uuid5(_NAMESPACE, f"{kind}:{event}:{person_id}")), "kind": kind, "person_id": person_id,
             "task_id": task.get("id"), "run_id": run_id or task.get("run_id"), "document_id": document_id,
             "title": title or task.get("title"), "step_name": task.get("step_name"),
             "step_name_en": task.get("step_name_en"), "due_at": task.get("due_at"), "text": text or None,
             "by_name": by_name, "created_at": now, **extra}
    return {"person_id": person_id, "task_id": task.get("id"),
            "props": {k: v for k, v in props.items() if v is not None}}


def send(store: GraphStore, settings: Settings | None, rows: Iterable[dict[str, Any]]) -> list[str]:
    """Store the notices (muted kinds dropped), tell the browsers of their recipients; returns the new ids."""
    wanted = list({r["props"]["id"]: r for r in rows}.values())
    if not wanted:
        return []
    result = store.run(q.NOTIFY_EVENTS, {"rows": wanted, "token": uuid.uuid4().hex})
    fresh = [r for r in result if r["created"]]
    if fresh and settings is not None:
        live.publish_to_people(settings, sorted({r["person_id"] for r in fresh}), "notification",
                               {"count": len(fresh)})
    return [str(r["id"]) for r in fresh]


def announce(settings: Settings, notices: Iterable[dict[str, Any]]) -> int:
    """Tell the recipients' browsers about notices already stored: their notice count, and their inbox badge
    (overdue and due-soon counts change with reminders). Returns what the bus reported delivered."""
    per_person: dict[str, int] = {}
    for notice in notices:
        per_person[notice["person_id"]] = per_person.get(notice["person_id"], 0) + 1
    told = 0
    for person_id, count in sorted(per_person.items()):
        told += live.publish_to_people(settings, [person_id], "notification", {"count": count})
        live.publish_to_people(settings, [person_id], "inbox", {})
    return told


# -- preferences -----------------------------------------------------------------------------------------


def preferences(store: GraphStore, person_id: str) -> dict[str, Any]:
    """``{"muted": [kinds], "digest": bool}`` of a person (nothing muted, immediate e-mail by default)."""
    rows = store.run(q.PREFERENCES, {"person_id": person_id})
    if not rows:
        return {"muted": [], "digest": False}
    return {"muted": sorted(str(k) for k in rows[0]["muted"] or []), "digest": bool(rows[0]["digest"])}


def set_preferences(store: GraphStore, person_id: str, *, muted: Iterable[str], digest: bool) -> dict[str, Any]:
    """Save a person's own preferences; an unknown kind is refused (field ``muted``)."""
    chosen = sorted(set(muted))
    unknown = [k for k in chosen if k not in KINDS]
    if unknown:
        raise InvalidInput("notification.unknown_kind", field="muted", kind=", ".join(unknown))
    store.run(q.SET_PREFERENCES, {"person_id": person_id, "muted": chosen, "digest": bool(digest)})
    return {"muted": chosen, "digest": bool(digest)}


# -- mentions --------------------------------------------------------------------------------------------


def mentioned(store: GraphStore, text: str) -> list[dict[str, Any]]:
    """People named by ``@user.name`` or ``@姓名`` in a text (the longest name that starts each handle)."""
    handles = sorted(set(_HANDLE.findall(text or "")))
    if not handles:
        return []
    people = store.run(q.MENTIONED_PEOPLE, {"handles": handles})
    found: dict[str, dict[str, Any]] = {}
    for handle in handles:
        best = max(((len(form), p) for p in people for form in (p["username"], p["name"])
                    if form and handle.startswith(form)), key=lambda pair: pair[0], default=None)
        if best is not None:
            found[best[1]["id"]] = dict(best[1])
    return list(found.values())


# -- going out (workers/notify.py): each notice claimed once ------------------------------------------------


def claim_pending(store: GraphStore, *, limit: int) -> list[tuple[dict[str, Any], bool]]:
    """Notices raised since the last claim, each with whether its person chose the daily digest (a claim
    unmarks them, so several workers never send one twice)."""
    return [(dict(r["notification"]), bool(r["digest"])) for r in store.run(q.CLAIM_PENDING, {"limit": limit})]


def take_digests(store: GraphStore, *, now: int, limit: int = 200) -> dict[str, list[dict[str, Any]]]:
    """Per person who chose the digest: their unread notices since their last digest (which is now taken)."""
    by_person: dict[str, list[dict[str, Any]]] = {}
    for person in store.run(q.DIGEST_PEOPLE):
        rows = store.run(q.TAKE_DIGEST, {"person_id": person["id"], "since": person["since"], "now": now,
                                         "limit": limit})
        if rows:
            by_person[person["id"]] = [dict(r["notification"]) for r in rows]
    return by_person
