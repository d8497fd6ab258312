"""Outgoing webhooks: who wants which events, and the outbox that turns events into deliveries.

Why the audit trail is the outbox: every event worth announcing is already written there, in the
same statement as (or right after) the change it describes, by whichever door made the change. A
dispatcher reading "audit events not yet in the outbox" therefore sees every event exactly once
however the change was made (web, CLI, workers, bulk ingestion) and needs no hook in any of those
code paths; events from areas that start auditing later (workflow runs, decisions) flow as soon as
their audit actions carry the names below. Publishing from each code path instead would miss any
path that forgets to publish, and would lose the event if the process died between its write and
its publish.

Exactly-once bookkeeping: each audit event becomes one ``OutboxEvent`` (keyed by the event id) and
one ``Delivery`` per subscribed hook (keyed by a hash of event id + hook id), created together in
one MERGE statement, so two dispatchers racing create each once. Deliveries carry their id to the
receiver (``X-Huitong-Delivery``) as an idempotency key for the one case no sender can rule out: a
crash after the receiver answered but before the answer was recorded.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from graph.actor import Actor
from graph.errors import InvalidInput, NotPermitted, ObjectMissing
from graph.queries import meta as meta_q
from graph.queries import webhooks as q
from graph.store import GraphStore, Row

EVENTS = ("document.created", "document.version_added", "document.shared", "run.started", "run.finished",
          "task.created", "task.overdue", "decision.recorded")
# Audit actions whose names predate the webhook event names.
ALIASES = {"document.upload": "document.created", "document.version": "document.version_added",
           "document.share": "document.shared", "workflow.start": "run.started", "decision.record": "decision.recorded"}
ACTIONS = tuple(sorted({*EVENTS, *ALIASES}))
CURSOR_KEY = "outbox.cursor"
# Events are scanned from this long before the newest one already seen: an event whose time was taken
# just before a later one's but committed after it is still picked up (the outbox mark skips the rest).
LATE_MS = 5 * 60 * 1000
SCAN_LIMIT = 500
MIN_SECRET = 16
ROBOT_KINDS = ("dingtalk", "wecom", "feishu")
NOTICE_KINDS = ("task_arrived", "due_soon", "overdue", "escalation", "trend_warning")
DEFAULT_NOTICE_KINDS = ("task_arrived", "overdue", "escalation", "trend_warning")


@dataclass(frozen=True)
class Hook:
    id: str
    url: str
    events: tuple[str, ...]
    created_at: int
    active: bool


def _require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise NotPermitted("webhook.admin_only")


def check_url(url: str, field: str = "url") -> str:
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 2000:
        raise InvalidInput("webhook.bad_url", field=field, value=url[:200])
    return url


def parse_events(raw: Iterable[str] | str) -> list[str]:
    names = [e.strip() for e in (raw.split(",") if isinstance(raw, str) else raw) if e and e.strip()]
    unknown = [e for e in names if e not in EVENTS]
    if not names or unknown:
        raise InvalidInput("webhook.bad_events", field="events", value=",".join(unknown) or "-",
                           known=", ".join(EVENTS))
    return sorted(set(names))


def add_hook(store: GraphStore, actor: Actor, url: str, events: Iterable[str] | str, secret: str, *,
             now: int | None = None) -> Hook:
    """Register ``url`` for ``events``; the secret signs every body and is never shown again."""
    _require_admin(actor)
    url, names = check_url(url), parse_events(events)
    if len(secret or "") < MIN_SECRET:
        raise InvalidInput("webhook.short_secret", field="secret", min=MIN_SECRET)
    now = int(time.time() * 1000) if now is None else now
    hook_id = uuid.uuid4().hex
    store.run(q.HOOK_CREATE, {"id": hook_id, "url": url, "events": names, "secret": secret, "now": now,
                              "by": actor.person_id or None})
    _start_cursor(store, now)
    _audit(store, actor, "webhook.add", hook_id, {"url": url, "events": names})
    return Hook(hook_id, url, tuple(names), now, True)


def list_hooks(store: GraphStore, actor: Actor) -> list[Hook]:
    _require_admin(actor)
    return [Hook(r["id"], r["url"], tuple(r["events"] or ()), r["created_at"], bool(r["active"]))
            for r in store.run(q.HOOK_LIST)]


def remove_hook(store: GraphStore, actor: Actor, hook_id: str) -> None:
    _require_admin(actor)
    if not store.run(q.HOOK_REMOVE, {"id": hook_id}):
        raise ObjectMissing("webhook.missing", id=hook_id)
    _audit(store, actor, "webhook.remove", hook_id, {})


def add_channel(store: GraphStore, actor: Actor, kind: str, url: str, department: str, *, secret: str = "",
                kinds: Iterable[str] = DEFAULT_NOTICE_KINDS, now: int | None = None) -> str:
    """Register a DingTalk/WeCom/Feishu group robot for a department and its sub-departments (admins only)."""
    _require_admin(actor)
    if kind not in ROBOT_KINDS:
        raise InvalidInput("channel.bad_kind", field="kind", value=kind, known=", ".join(ROBOT_KINDS))
    chosen = sorted({k.strip() for k in kinds if k.strip()})
    if not chosen or any(k not in NOTICE_KINDS for k in chosen):
        raise InvalidInput("channel.bad_kinds", field="kinds", known=", ".join(NOTICE_KINDS))
    channel_id = uuid.uuid4().hex
    rows = store.run(q.CHANNEL_CREATE, {
        "id": channel_id, "kind": kind, "url": check_url(url), "secret": secret, "department": department,
        "kinds": chosen, "now": int(time.time() * 1000) if now is None else now})
    if not rows:
        raise ObjectMissing("channel.no_department", department=department)
    _audit(store, actor, "channel.add", channel_id, {"kind": kind, "department": department, "kinds": chosen})
    return channel_id


def list_channels(store: GraphStore, actor: Actor) -> list[Row]:
    _require_admin(actor)
    return store.run(q.CHANNEL_LIST)


def remove_channel(store: GraphStore, actor: Actor, channel_id: str) -> None:
    _require_admin(actor)
    if not store.run(q.CHANNEL_REMOVE, {"id": channel_id}):
        raise ObjectMissing("channel.missing", id=channel_id)
    _audit(store, actor, "channel.remove", channel_id, {})


def _audit(store: GraphStore, actor: Actor, action: str, target_id: str, detail: Mapping[str, Any]) -> None:
    from graph import audit

    audit.record(store, action=action, actor_id=actor.person_id or None, target_kind=action.split(".")[0],
                 target_id=target_id,
                 client=actor.address or actor.door, detail=dict(detail))


def _start_cursor(store: GraphStore, now: int) -> None:
    """The outbox starts at the first hook: earlier history (demo data, imports) is never sent out."""
    if not store.run(meta_q.GET_META, {"key": CURSOR_KEY}):
        store.run(meta_q.SET_META, {"key": CURSOR_KEY, "value": str(now)})


def _cursor(store: GraphStore) -> int | None:
    rows = store.run(meta_q.GET_META, {"key": CURSOR_KEY})
    return int(rows[0]["value"]) if rows and rows[0]["value"] is not None else None


def event_body(event: Row, name: str) -> str:
    """The JSON body receivers get (the bytes that are signed; stored so a replay sends the same bytes)."""
    try:
        detail = json.loads(event["detail"]) if event.get("detail") else {}
    except ValueError:
        detail = {"text": event["detail"]}
    return json.dumps({"id": event["id"], "event": name, "occurred_at": event["at"], "actor_id": event["actor_id"],
                       "target": {"kind": event["target_kind"], "id": event["target_id"]}, "detail": detail},
                      ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def delivery_id(event_id: str, target_id: str) -> str:
    return hashlib.sha256(f"{event_id}:{target_id}".encode()).hexdigest()[:32]


def collect(store: GraphStore, *, now: int | None = None, limit: int = SCAN_LIMIT) -> int:
    """Turn audit events not yet in the outbox into deliveries for the hooks subscribed; returns deliveries made."""
    now = int(time.time() * 1000) if now is None else now
    cursor = _cursor(store)
    if cursor is None:
        return 0  # no hook was ever registered
    hooks = [r for r in store.run(q.HOOK_LIST) if r["active"]]
    events = store.run(q.NEW_EVENTS, {"since": cursor - LATE_MS, "actions": list(ACTIONS), "limit": limit})
    if not events:
        return 0
    rows = []
    for event in events:
        name = str(ALIASES.get(event["action"], event["action"]))
        body = event_body(event, name)
        deliveries = [{"id": delivery_id(event["id"], h["id"]), "channel": "webhook", "target_id": h["id"],
                       "event": name, "body": body}
                      for h in hooks if name in (h["events"] or ()) and h["created_at"] <= event["at"]]
        rows.append({"id": event["id"], "at": event["at"], "action": event["action"], "deliveries": deliveries})
    made = store.run(q.ENQUEUE, {"events": rows, "now": now})
    newest = max(e["at"] for e in events)
    if newest > cursor:
        store.run(meta_q.SET_META, {"key": CURSOR_KEY, "value": str(newest)})
    return int(made[0]["deliveries"]) if made else 0


def enqueue_messages(store: GraphStore, channel: str, messages: list[tuple[str, str, str, str]], *,
                     now: int | None = None) -> int:
    """Deliveries that do not come from the audit trail (robot notices): (key, target id, event, body) each.

    ``key`` identifies the message (e.g. the notification id), so the same notice queued twice is one delivery."""
    now = int(time.time() * 1000) if now is None else now
    rows = [{"id": f"{channel}:{key}:{target}", "at": now, "action": event,
             "deliveries": [{"id": delivery_id(key, target), "channel": channel, "target_id": target, "event": event,
                             "body": body}]}
            for key, target, event, body in messages]
    if not rows:
        return 0
    made = store.run(q.ENQUEUE, {"events": rows, "now": now})
    return int(made[0]["deliveries"]) if made else 0


def list_deliveries(store: GraphStore, actor: Actor, *, channel: str | None = None, status: str | None = None,
                    target_id: str | None = None, offset: int = 0, limit: int = 50) -> list[Row]:
    _require_admin(actor)
    return store.run(q.LIST_DELIVERIES, {"channel": channel, "status": status, "target_id": target_id,
                                         "skip": max(offset, 0), "limit": max(min(limit, 1000), 0)})


def replay(store: GraphStore, actor: Actor, delivery: str, *, now: int | None = None) -> Row:
    """Send a delivery again (same id and body) at the next dispatch, whatever became of it."""
    _require_admin(actor)
    rows = store.run(q.REPLAY, {"id": delivery, "now": int(time.time() * 1000) if now is None else now})
    if not rows:
        raise ObjectMissing("webhook.delivery_missing", id=delivery)
    return rows[0]


# -- the sending side (workers/webhooks.py, workers/channels.py): claim, send, record -------------------------------


def due(store: GraphStore, *, now: int, limit: int) -> list[str]:
    """Ids of deliveries a sender may take now, oldest due first."""
    return [row["id"] for row in store.run(q.DUE, {"now": now, "limit": limit})]


def claim(store: GraphStore, delivery_id: str, *, now: int, lease_ms: int) -> tuple[Row, str] | None:
    """Take one due delivery for ``lease_ms`` (checked and taken in one statement: one sender per delivery);
    returns the delivery and the lease token its :func:`finish` must show, or None when it is not ours."""
    token = uuid.uuid4().hex
    rows = store.run(q.CLAIM, {"id": delivery_id, "now": now, "until": now + lease_ms, "token": token})
    return (rows[0], token) if rows else None


def finish(store: GraphStore, delivery_id: str, token: str, *, status: str, now: int, code: int | None,
           error: str | None, next_at: int) -> bool:
    """Record the outcome of an attempt (only by the holder of the lease); False when the lease was lost."""
    return bool(store.run(q.FINISH, {"id": delivery_id, "token": token, "status": status, "now": now, "code": code,
                                     "error": error, "next_at": next_at}))


def hook_for_sending(store: GraphStore, hook_id: str) -> Row | None:
    rows = store.run(q.HOOK_FOR_SENDING, {"id": hook_id})
    return rows[0] if rows else None


def channel_for_sending(store: GraphStore, channel_id: str) -> Row | None:
    rows = store.run(q.CHANNEL_FOR_SENDING, {"id": channel_id})
    return rows[0] if rows else None


def channels_of_person(store: GraphStore, person_id: str) -> list[Row]:
    """The group robots serving one of the person's departments."""
    return store.run(q.CHANNELS_OF_PERSON, {"person_id": person_id})
