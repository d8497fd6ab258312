"""Sending deliveries: outgoing webhooks and group-robot notices, with retries, backoff and a log.

One beat task (``huitong.deliveries`` in workers/tasks.py, every few seconds) first turns new audit events into webhook
deliveries (:func:`graph.webhooks.collect`), then sends whatever is due. Each delivery is claimed
with a lease in one atomic statement before it is sent, so two workers never send the same one at
once; a worker that dies mid-send leaves the lease to expire and the delivery is sent again later
with the same ``X-Huitong-Delivery`` id (receivers deduplicate on it). Failures back off
exponentially (``HUITONG_DELIVERY_RETRY_SECONDS`` x 3^n, capped at 6 h) until
``HUITONG_DELIVERY_MAX_ATTEMPTS``; then the delivery is ``failed`` and waits for a replay.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

from graph import webhooks
from graph.store import GraphStore, Row
from settings import Settings

log = logging.getLogger("huitong.webhooks")

TIMEOUT_SECONDS = 10.0
LEASE_MS = 60_000  # longer than a send can take (TIMEOUT_SECONDS per attempt)
MAX_BACKOFF_SECONDS = 6 * 3600
USER_AGENT = "Huitong-Webhook/1"
ROUND_SECONDS = 20.0


@dataclass(frozen=True)
class RetryPolicy:
    base_seconds: float = 10.0
    max_attempts: int = 8

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(settings.delivery_retry_seconds, settings.delivery_max_attempts)

    def delay_ms(self, attempts: int) -> int:
        """Wait after the ``attempts``-th failure (1-based)."""
        return int(min(self.base_seconds * 3 ** (attempts - 1), MAX_BACKOFF_SECONDS) * 1000)


@dataclass(frozen=True)
class Request:
    url: str
    body: bytes
    headers: dict[str, str]
    # A 2xx answer may still be a refusal (robots say so in their JSON): text -> error or None.
    check: Callable[[str], str | None] | None = None


class TargetGone(Exception):
    """The hook or channel was removed or switched off after the delivery was queued."""


def signature(secret: str, body: bytes) -> str:
    """``X-Huitong-Signature``: ``sha256=`` + hex HMAC-SHA256 of the exact body bytes with the hook's secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def webhook_request(store: GraphStore, delivery: Row, now_ms: int) -> Request:
    hook = webhooks.hook_for_sending(store, delivery["target_id"])
    if hook is None or not hook["active"]:
        raise TargetGone("webhook removed")
    body = delivery["body"].encode()
    return Request(hook["url"], body, {
        "Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT,
        "X-Huitong-Event": delivery["event"], "X-Huitong-Delivery": delivery["id"],
        "X-Huitong-Signature": signature(hook["secret"], body),
    })


Preparer = Callable[[GraphStore, Row, int], Request]


def _preparers() -> dict[str, Preparer]:
    from workers import channels

    return {"webhook": webhook_request, "robot": channels.robot_request}


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirected POST would arrive as a GET without its body: treat a redirect as a failed attempt."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def post(request: Request, timeout: float = TIMEOUT_SECONDS) -> tuple[int | None, str | None]:
    """POST once; (status code, error text or None when the receiver accepted it with a 2xx)."""
    # The scheme was checked (http/https) when the hook or channel was registered.
    http = urllib.request.Request(request.url, data=request.body, headers=request.headers,  # noqa: S310
                                  method="POST")
    try:
        with _OPENER.open(http, timeout=timeout) as response:
            code, text = response.status, response.read(2048).decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, f"HTTP {error.code}"
    except (urllib.error.URLError, OSError, ValueError) as error:
        return None, str(getattr(error, "reason", error))[:500]
    if not 200 <= code < 300:
        return code, f"HTTP {code}: {text[:200]}"
    return code, request.check(text) if request.check else None


def send_one(store: GraphStore, delivery_id: str, policy: RetryPolicy, *, now: int | None = None,
             preparers: dict[str, Preparer] | None = None) -> str | None:
    """Claim, send and record one delivery; returns its new status (None when another sender has it)."""
    now = int(time.time() * 1000) if now is None else now
    claimed = webhooks.claim(store, delivery_id, now=now, lease_ms=LEASE_MS)
    if claimed is None:
        return None
    delivery, token = claimed
    prepare = (preparers or _preparers()).get(delivery["channel"])
    try:
        if prepare is None:
            raise TargetGone(f"unknown channel {delivery['channel']}")
        code, error = post(prepare(store, delivery, now))
    except TargetGone as gone:
        code, error = None, str(gone)
        attempts = policy.max_attempts  # nothing to retry against
    else:
        attempts = delivery["attempts"] + 1
    ok = error is None
    status = "delivered" if ok else ("failed" if attempts >= policy.max_attempts else "pending")
    finished = int(time.time() * 1000)
    next_at = finished + policy.delay_ms(attempts) if status == "pending" else finished
    webhooks.finish(store, delivery_id, token, status=status, now=finished, code=code, error=error, next_at=next_at)
    if not ok:
        log.info("delivery %s (%s) attempt %d: %s", delivery_id, delivery["channel"], attempts, error)
    return status


def dispatch(store: GraphStore, settings: Settings, *, now: int | None = None, policy: RetryPolicy | None = None,
             limit: int = 200) -> dict[str, int]:
    """One round: new events become deliveries, due deliveries are sent. Figures for the log."""
    policy = policy or RetryPolicy.from_settings(settings)
    now = int(time.time() * 1000) if now is None else now
    made = webhooks.collect(store, now=now)
    figures: dict[str, int] = {"queued": made, "delivered": 0, "pending": 0, "failed": 0}
    preparers = _preparers()
    # A receiver that swallows connections costs TIMEOUT_SECONDS per attempt: end the round after a while so a
    # worker process is not held from extraction; what is left is due at the next round.
    stop_at = time.monotonic() + ROUND_SECONDS
    for delivery_id in webhooks.due(store, now=now, limit=limit):
        if time.monotonic() > stop_at:
            break
        status = send_one(store, delivery_id, policy, preparers=preparers)
        if status is not None:
            figures[status] += 1
    return figures

