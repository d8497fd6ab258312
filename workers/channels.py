"""Group robots of DingTalk, WeCom (企业微信) and Feishu (飞书) as notification channels, per department.

A channel serves one department and its sub-departments: a notice for any of their members (task
arrived, overdue, escalation, trend warning) is posted once to the group, whoever else in that
department got the same notice. Notices are queued as deliveries (:mod:`graph.webhooks`) and sent by
the same dispatcher as webhooks, with its retries, backoff, log and replay. Each platform's signing:

* DingTalk: ``timestamp`` (ms) and ``sign`` = base64(HMAC-SHA256(key=secret, msg=timestamp + "\\n" +
  secret)), URL-encoded, appended to the webhook URL's query string.
* Feishu: ``timestamp`` (s) and ``sign`` = base64(HMAC-SHA256(key=timestamp + "\\n" + secret, msg=""))
  in the JSON body.
* WeCom: no signature; the robot's ``key`` is part of its webhook URL (keep the URL secret).

All three answer HTTP 200 even when they refuse a message; the refusal is in the JSON (``errcode`` /
``code``), which is checked, so a refused message is retried and logged like a failed one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import quote_plus

from graph import webhooks
from graph.store import GraphStore, Row
from workers import notice_words

TITLES = {
    "task_arrived": ("新任务", "New task"),
    "due_soon": ("任务即将到期", "Task due soon"),
    "overdue": ("任务已逾期", "Task overdue"),
    "escalation": ("逾期任务升级", "Overdue task escalated"),
    "trend_warning": ("趋势预警", "Trend warning"),
}


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def feishu_sign(secret: str, timestamp_s: int) -> str:
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _platform_error(text: str) -> str | None:
    """The refusal inside a 200 answer, or None when the robot accepted the message."""
    try:
        answer = json.loads(text or "{}")
    except ValueError:
        return f"not a robot answer: {text[:120]}"
    code = answer.get("errcode", answer.get("code", answer.get("StatusCode", 0)))
    if code in (0, None):
        return None
    return f"refused ({code}): {answer.get('errmsg') or answer.get('msg') or answer.get('StatusMessage') or ''}"[:300]


def robot_request(store: GraphStore, delivery: Row, now_ms: int) -> Any:
    """The signed HTTP request for a robot delivery (signed at send time: the platforms reject stale stamps)."""
    from workers.webhooks import Request, TargetGone

    channel = webhooks.channel_for_sending(store, delivery["target_id"])
    if channel is None or not channel["active"]:
        raise TargetGone("channel removed")
    kind, url, secret = channel["kind"], channel["url"], channel["secret"] or ""
    text = json.loads(delivery["body"])["text"]
    if kind == "feishu":
        payload: dict[str, Any] = {"msg_type": "text", "content": {"text": text}}
        if secret:
            stamp = now_ms // 1000
            payload = {"timestamp": str(stamp), "sign": feishu_sign(secret, stamp), **payload}
    else:
        payload = {"msgtype": "text", "text": {"content": text}}
        if kind == "dingtalk" and secret:
            joiner = "&" if "?" in url else "?"
            url = f"{url}{joiner}timestamp={now_ms}&sign={quote_plus(dingtalk_sign(secret, now_ms))}"
    body = json.dumps(payload, ensure_ascii=False).encode()
    return Request(url, body, {"Content-Type": "application/json; charset=utf-8"}, _platform_error)


def message(notice: dict[str, Any]) -> str:
    zh, en = TITLES.get(notice.get("kind", ""), ("工作流通知", "Workflow notification"))
    lines = [f"【汇通 Huitong】{zh} / {en}", str(notice.get("title") or "")]
    if notice.get("step_name"):
        lines.append(str(notice["step_name"]))
    if notice.get("due_at"):
        lines.append(time.strftime("%Y-%m-%d %H:%M", time.gmtime(int(notice["due_at"]) / 1000 + 8 * 3600)))
    lines += notice_words.texts(notice)
    return "\n".join(line for line in lines if line)


def _coded(notice: dict[str, Any]) -> list[Any]:
    # Trend notices differ by their code and figures, not a text; other notices keep their earlier key.
    return [notice["code"], notice.get("params")] if notice.get("code") else []


def queue_notices(store: GraphStore, notices: list[dict[str, Any]], *, now: int | None = None) -> int:
    """One robot delivery per (notice, channel serving a department of its recipient); returns how many are new.

    The same notice sent to several people of one department is one group message: the delivery key is
    the notice's kind, task, deadline and text, not the person."""
    messages: list[tuple[str, str, str, str]] = []
    channels_of: dict[str, list[Row]] = {}
    for notice in notices:
        person = notice.get("person_id")
        if not person:
            continue
        if person not in channels_of:
            channels_of[person] = webhooks.channels_of_person(store, person)
        key = hashlib.sha256(json.dumps([notice.get("kind"), notice.get("task_id"), notice.get("due_at"),
                                         notice.get("text"), *_coded(notice)], default=str).encode()).hexdigest()[:24]
        body = json.dumps({"text": message(notice)}, ensure_ascii=False)
        for channel in channels_of[person]:
            if notice.get("kind") in (channel["kinds"] or ()):
                messages.append((key, channel["id"], str(notice.get("kind")), body))
    return webhooks.enqueue_messages(store, "robot", list(dict.fromkeys(messages)), now=now)
