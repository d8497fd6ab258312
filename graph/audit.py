"""The append-only audit trail: who did what to which node, when, from where.

``record`` is called by every mutation and by every document read or download. Events are only
ever created: no statement of the catalogue updates or deletes an ``AuditEvent`` (a test checks
the whole catalogue), and no route offers it.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from graph.queries import audit as q
from graph.store import GraphStore, Row

TARGET_KINDS = tuple(q.TARGET_LABELS)  # what an event may be about (the audit page's filter)
MAX_DETAIL_CHARS = 4000
ACTION_MAX_CHARS = 64


@dataclass(frozen=True)
class AuditFilter:
    """Which events to list; ``None`` means "any". Times are epoch milliseconds, ``until`` exclusive."""

    actor_id: str | None = None
    action: str | None = None
    target_kind: str | None = None
    target_id: str | None = None
    since: int = 0
    until: int = 2**53

    def params(self) -> dict[str, Any]:
        return {"actor_id": self.actor_id, "action": self.action, "target_kind": self.target_kind,
                "target_id": self.target_id, "since": self.since, "until": self.until}


def _detail_text(detail: Mapping[str, Any] | str | None) -> str:
    if detail is None:
        return ""
    text = detail if isinstance(detail, str) else json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str)
    return text[:MAX_DETAIL_CHARS]


@dataclass(frozen=True)
class Event:
    """One event to append (see :func:`record`)."""

    action: str
    actor_id: str | None = None
    target_kind: str | None = None
    target_id: str | None = None
    client: str | None = None
    detail: Mapping[str, Any] | str | None = None
    at: int | None = None

    def params(self) -> dict[str, Any]:
        if not self.action or len(self.action) > ACTION_MAX_CHARS:
            raise ValueError("an audit action is a non-empty dotted name of at most 64 characters")
        return {"id": str(uuid.uuid4()), "at": self.at if self.at is not None else int(time.time() * 1000),
                "actor_id": self.actor_id, "action": self.action, "target_kind": self.target_kind,
                "target_id": self.target_id, "client": self.client, "detail": _detail_text(self.detail)}

    def statement_params(self) -> dict[str, Any]:
        """The ``$audit_*`` parameters of a write statement that records this event itself
        (:func:`graph.queries.audit.with_event`)."""
        return {f"audit_{k}": v for k, v in self.params().items()}

    @property
    def linked_kind(self) -> str:
        """The target kind the event is linked under ("" when it links to its actor only)."""
        return self.target_kind if self.target_id and self.target_kind in q.TARGET_LABELS else ""


class _Decision(Protocol):
    @property
    def allowed(self) -> bool: ...

    @property
    def reason_kind(self) -> str: ...


D = TypeVar("D", bound=_Decision)
NOT_THERE = frozenset({"unknown_document", "unknown_person", "unknown"})


def refusal(store: GraphStore, actor_id: str | None, target_kind: str, target_id: str, decision: D,
            client: str | None = None) -> D:
    """Record ``access.refused`` when ``decision`` refuses an object that exists; returns ``decision``.

    The person still gets the neutral answer (404, as for a missing object); the trail keeps who asked for
    what they may not see, which is what an administrator reviewing a leak or a probe needs to know.
    """
    if not decision.allowed and decision.reason_kind not in NOT_THERE:
        record(store, action="access.refused", actor_id=actor_id, target_kind=target_kind, target_id=target_id,
               client=client, detail={"reason": decision.reason_kind,
                                      "mode": str(getattr(getattr(decision, "mode", None), "value", "") or "")})
    return decision


def record(store: GraphStore, *, action: str, actor_id: str | None = None, target_kind: str | None = None,
           target_id: str | None = None, client: str | None = None,
           detail: Mapping[str, Any] | str | None = None, at: int | None = None) -> str:
    """Append one event; links it to its actor (a Person) and to its target when the target kind is known.

    ``action`` is a dotted name such as ``login.success`` or ``document.download``. Returns the event id.
    """
    event = Event(action, actor_id, target_kind, target_id, client, detail, at)
    params = event.params()
    store.run(q.RECORD_ON.get(event.linked_kind, q.RECORD), params)
    return str(params["id"])


def record_many(store: GraphStore, events: Iterable[Event]) -> list[str]:
    """Append many events in one statement per target kind (bulk work); each is the event ``record`` would
    have written. Returns the event ids in order. Nothing is written when one of them is malformed."""
    groups: dict[str, list[dict[str, Any]]] = {}
    ids = []
    for event in events:
        params = event.params()
        groups.setdefault(event.linked_kind, []).append(params)
        ids.append(str(params["id"]))
    for kind, rows in groups.items():
        store.run(q.RECORD_MANY_ON.get(kind, q.RECORD_MANY), {"events": rows})
    return ids


def list_events(store: GraphStore, where: AuditFilter, *, offset: int = 0, limit: int = 50) -> list[Row]:
    """Newest first."""
    return store.run(q.LIST_EVENTS, {**where.params(), "skip": max(offset, 0), "limit": max(limit, 0)})


def count_events(store: GraphStore, where: AuditFilter) -> int:
    rows = store.run(q.COUNT_EVENTS, where.params())
    return int(rows[0]["count"]) if rows else 0


def iter_events(store: GraphStore, where: AuditFilter, *, page_size: int = 1000) -> Iterator[Row]:
    """Every matching event, newest first, fetched page by page (for exports)."""
    # Freeze the end of the range so events appended during the export cannot shift the pages.
    now = int(time.time() * 1000) + 1
    where = AuditFilter(**{**where.params(), "until": min(where.until, now)})
    offset = 0
    while True:
        page = list_events(store, where, offset=offset, limit=page_size)
        yield from page
        if len(page) < page_size:
            return
        offset += page_size


def known_actions(store: GraphStore) -> list[str]:
    return [row["action"] for row in store.run(q.ACTIONS) if row["action"]]


def run_audited(store: GraphStore, plain: Any, audited: Any, params: Mapping[str, Any],
                event: Event | None) -> list[Row]:
    """Run the write ``plain``, or, when there is an ``event`` to record, its twin ``audited`` that records
    the event in the same statement (:func:`graph.queries.audit.audited`): both stored or neither."""
    if event is None:
        return store.run(plain, dict(params))
    return store.run(audited, {**params, **event.statement_params()})

