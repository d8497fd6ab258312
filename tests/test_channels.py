"""DingTalk, WeCom and Feishu group robots against a real HTTP receiver on 127.0.0.1 that checks each
platform's signature scheme the way the platform does, and answers like it (HTTP 200 + errcode)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

from helpers import run_cli
from webhook_support import Received, Receiver, free_port

from graph import accounts, webhooks
from graph.actor import Actor
from graph.demo_org import load_demo_org
from graph.falkordb_backend import FalkorStore
from graph.workflows import reminders
from settings import Settings
from workers.notify import deliver
from workers.webhooks import RetryPolicy, dispatch

ADMIN = Actor(person_id="", username="test", roles=frozenset({"admin"}), door="cli")
DING_SECRET = "SECdingtalk-signing-secret"
FEISHU_SECRET = "feishu-signing-secret"
WECOM_KEY = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"


def _platform_answer(got: Received) -> tuple[int, dict]:  # type: ignore[type-arg]
    """What each platform would answer: errcode 0 only for a correctly signed, fresh message."""
    now_ms = int(time.time() * 1000)
    if got.path == "/robot/send":  # DingTalk
        stamp, sign = got.query.get("timestamp", [""])[0], got.query.get("sign", [""])[0]
        wanted = base64.b64encode(hmac.new(DING_SECRET.encode(), f"{stamp}\n{DING_SECRET}".encode(),
                                           hashlib.sha256).digest()).decode()
        if not stamp or abs(now_ms - int(stamp)) > 3600_000 or sign != wanted:
            return 200, {"errcode": 310000, "errmsg": "sign not match"}
        return 200, {"errcode": 0, "errmsg": "ok"} if got.json()["msgtype"] == "text" else {"errcode": 1}
    if got.path.startswith("/open-apis/bot/v2/hook/"):  # Feishu
        body = got.json()
        wanted = base64.b64encode(hmac.new(f"{body.get('timestamp')}\n{FEISHU_SECRET}".encode(), b"",
                                           hashlib.sha256).digest()).decode()
        if body.get("sign") != wanted or abs(now_ms // 1000 - int(body.get("timestamp", 0))) > 3600:
            return 200, {"code": 19021, "msg": "sign match fail or timestamp is not within one hour from current time"}
        return 200, {"code": 0, "msg": "success"}
    if got.path == "/cgi-bin/webhook/send":  # WeCom
        if got.query.get("key") != [WECOM_KEY]:
            return 200, {"errcode": 93000, "errmsg": "invalid webhook url"}
        return 200, {"errcode": 0, "errmsg": "ok"}
    return 404, {}


def test_robots_get_signed_notices_once_per_group(fresh_store: FalkorStore, settings: Settings) -> None:
    load_demo_org(fresh_store, "admin-test-password")
    people = [p for p in accounts.list_people(fresh_store) if p["departments"]]
    department = people[0]["departments"][0]
    members = [p["id"] for p in people if department in p["departments"]][:3]
    outsider = next(p["id"] for p in people if department not in p["departments"])
    receiver = Receiver(free_port(), _platform_answer)
    base = receiver.url
    ding = webhooks.add_channel(fresh_store, ADMIN, "dingtalk", f"{base}/robot/send?access_token=abc", department,
                                secret=DING_SECRET)
    feishu = webhooks.add_channel(fresh_store, ADMIN, "feishu", f"{base}/open-apis/bot/v2/hook/xyz", department,
                                  secret=FEISHU_SECRET, kinds=["overdue"])
    wecom = webhooks.add_channel(fresh_store, ADMIN, "wecom", f"{base}/cgi-bin/webhook/send?key={WECOM_KEY}",
                                 department, kinds=["escalation"])
    # A channel whose signature is wrong: the platform refuses, and that is a failed delivery, not a success.
    wrong = webhooks.add_channel(fresh_store, ADMIN, "dingtalk", f"{base}/robot/send?access_token=zzz", department,
                                 secret="not-the-secret")

    now = int(time.time() * 1000)
    task = {"id": "task-robot-1", "title": "采购申请 #42", "step_name": "部门审批", "due_at": now - 3600_000}
    notices = [reminders.notification("overdue", task, person, now, key="d1")["props"] for person in members]
    notices.append(reminders.notification("overdue", task, outsider, now, key="d1")["props"])
    deliver(fresh_store, settings, notices)
    deliver(fresh_store, settings, notices)  # the same notices again (a repeated scan): no second message

    receiver.start()
    try:
        policy = RetryPolicy(base_seconds=0.2, max_attempts=2)
        for _ in range(20):
            dispatch(fresh_store, settings, policy=policy)
            if not webhooks.list_deliveries(fresh_store, ADMIN, status="pending"):
                break
            time.sleep(0.25)
    finally:
        receiver.stop()

    log = {r["target_id"]: r for r in webhooks.list_deliveries(fresh_store, ADMIN, channel="robot")}
    assert log[ding]["status"] == "delivered" and log[feishu]["status"] == "delivered"
    assert wecom not in log  # it only takes escalations
    assert log[wrong]["status"] == "failed" and "310000" in log[wrong]["last_error"]
    assert log[wrong]["attempts"] == 2
    accepted = [g for g in receiver.received if _platform_answer(g)[1] in ({"errcode": 0, "errmsg": "ok"},
                                                                             {"code": 0, "msg": "success"})]
    assert len(accepted) == 2  # one per group, however many of its members were notified
    texts = [g.json().get("text", {}).get("content") or g.json()["content"]["text"] for g in accepted]
    assert all("任务已逾期" in t and "采购申请 #42" in t for t in texts)

    escalation = reminders.notification("escalation", task, members[0], now, key="d1")["props"]
    deliver(fresh_store, settings, [escalation])
    receiver.start()
    try:
        dispatch(fresh_store, settings, policy=RetryPolicy(base_seconds=0.2, max_attempts=2))
    finally:
        receiver.stop()
    wecom_log = webhooks.list_deliveries(fresh_store, ADMIN, target_id=wecom)
    assert [r["status"] for r in wecom_log] == ["delivered"]
    assert any(g.path == "/cgi-bin/webhook/send" and "逾期任务升级" in g.json()["text"]["content"]
               for g in receiver.received)


def test_channel_cli_refuses_unknown_department(store: FalkorStore) -> None:
    refused = run_cli("channel", "add", "dingtalk", "http://127.0.0.1:9/robot/send", "--department", "NO-SUCH")
    assert refused.returncode == 1 and "no department with code NO-SUCH" in refused.stderr
