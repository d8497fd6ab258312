"""Delivering notifications: live to the browser, and by e-mail when SMTP is configured (at once, or in a
daily digest when the person chose that on their account page).

The notifications themselves are graph nodes made by :func:`graph.workflows.reminders.run_reminders`
(idempotent, so a scan repeated by several beats or workers never notifies twice); this module only
tells people about the new ones. Without ``HUITONG_SMTP_HOST`` they stay in-app.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections import defaultdict
from datetime import datetime
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

from graph import notifications, org
from graph.store import GraphStore
from graph.workflows import reminders
from settings import Settings
from workers import notice_words

log = logging.getLogger("huitong.notify")

SUBJECTS = {
    "due_soon": ("任务即将到期", "Task due soon"),
    "overdue": ("任务已逾期", "Task overdue"),
    "escalation": ("逾期任务升级", "Overdue task escalated"),
    "urge": ("催办提醒", "Reminder from the initiator"),
    "info_requested": ("需要补充信息", "Information requested"),
    "task_arrived": ("新的待办任务", "A task for you"),
    "run_approved": ("申请已通过", "Your request was approved"),
    "run_rejected": ("申请被驳回", "Your request was rejected"),
    "run_returned": ("申请被退回修改", "Your request was returned for changes"),
    "run_finished": ("申请已办结", "Your request is finished"),
    "run_withdrawn": ("申请已撤回", "A request was withdrawn"),
    "feedback_requested": ("请验收反馈", "Your acceptance feedback is requested"),
    "mentioned": ("有人@了你", "You were mentioned"),
    "document_shared": ("文档已共享给你", "A document was shared with you"),
    "access_requested": ("有人申请查看你的文档", "Someone asks for access to your document"),
    "trend_warning": ("趋势预警", "Trend warning"),
}
PENDING_BATCH = 500
DEFAULT_POLICY = reminders.ReminderPolicy()


def deliver_reminders(store: GraphStore, settings: Settings, *, now: int,
                      policy: reminders.ReminderPolicy = DEFAULT_POLICY) -> dict[str, int]:
    """Run the reminder scan at ``now`` (the use case writes, audits and announces) and send what it produced
    by e-mail and to the group robots; returns figures for the log."""
    created = reminders.scan(store, settings, reminders.scheduler(), now=now, policy=policy)
    return {**send_out(store, settings, created), "live": len({n["person_id"] for n in created})}


def send_out(store: GraphStore, settings: Settings, notifications: list[dict[str, Any]]) -> dict[str, int]:
    """E-mail (when SMTP is configured) and group robots for notices already announced in the app."""
    by_person: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for notice in notifications:
        by_person[notice["person_id"]].append(notice)
    mailed = send_mails(store, settings, by_person) if settings.smtp_host else 0
    robots = queue_robots(store, notifications)
    return {"notifications": len(notifications), "people": len(by_person), "mailed": mailed, "robots": robots}


def deliver(store: GraphStore, settings: Settings, notices: list[dict[str, Any]]) -> dict[str, int]:
    """Notices made outside a use case that announces them (trend warnings): live, then e-mail and robots."""
    live = notifications.announce(settings, notices)
    return {**send_out(store, settings, notices), "live": live}


def deliver_pending(store: GraphStore, settings: Settings, *, limit: int = PENDING_BATCH) -> dict[str, int]:
    """Beat, every few seconds: the notices the use cases raised (already shown in the app) go out by e-mail —
    except to people who chose the daily digest — and to their departments' group robots. Each notice is
    claimed once (the claim unmarks it), so several workers never send one twice."""
    claimed = notifications.claim_pending(store, limit=limit)
    notices = [notice for notice, _ in claimed]
    now_mail: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for notice, digest in claimed:
        if not digest:
            now_mail[notice["person_id"]].append(notice)
    mailed = send_mails(store, settings, now_mail) if settings.smtp_host and now_mail else 0
    robots = queue_robots(store, notices) if notices else 0
    return {"notifications": len(notices), "mailed": mailed, "robots": robots}


def send_digests(store: GraphStore, settings: Settings, *, now: int) -> dict[str, int]:
    """Beat, daily: one e-mail per person who chose the digest, with their unread notices since the last one."""
    if not settings.smtp_host:
        return {"people": 0, "mailed": 0}
    by_person = notifications.take_digests(store, now=now)
    return {"people": len(by_person), "mailed": send_mails(store, settings, by_person, digest=True)}


def queue_robots(store: GraphStore, notifications: list[dict[str, Any]]) -> int:
    """Queue the notices for the group robots of the recipients' departments (sent by the deliveries task,
    with retries); a failure here is logged and never blocks the in-app notices."""
    from graph.errors import GraphError
    from workers.channels import queue_notices

    try:
        return queue_notices(store, notifications)
    except GraphError as error:
        log.warning("robot notices not queued: %s", error)
        return 0


def send_mails(store: GraphStore, settings: Settings, by_person: dict[str, list[dict[str, Any]]], *,
               digest: bool = False) -> int:
    """One e-mail per person with all their new notices; a failing server is logged, never raised."""
    messages = []
    for person_id, notices in by_person.items():
        try:
            person = org.get_person(store, person_id)
        except org.NotFound:
            continue
        if person.get("email") and person.get("active", True):
            messages.append(compose(settings, person, notices, digest=digest))
    if not messages:
        return 0
    try:
        with _connect(settings) as smtp:
            for message in messages:
                smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as error:
        log.warning("e-mail notifications not sent (%d messages): %s", len(messages), error)
        return 0
    return len(messages)


def compose(settings: Settings, person: dict[str, Any], notices: list[dict[str, Any]], *,
            digest: bool = False) -> EmailMessage:
    message = EmailMessage()
    first = SUBJECTS.get(notices[0]["kind"], ("工作流通知", "Workflow notification"))
    if digest:
        first = (f"每日通知摘要（{len(notices)} 条）", f"Daily digest ({len(notices)} notices)")
    more = f" (+{len(notices) - 1})" if len(notices) > 1 and not digest else ""
    message["Subject"] = f"[汇通 Huitong] {first[0]} / {first[1]}{more}"
    message["From"] = settings.smtp_from
    message["To"] = person["email"]
    lines = [f"{person.get('name') or person.get('username')}:", ""]
    zone = ZoneInfo(settings.timezone)  # the organisation's zone, as on every page
    for notice in notices:
        zh, en = SUBJECTS.get(notice["kind"], ("通知", "Notification"))
        due = notice.get("due_at") or notice.get("created_at")
        when = datetime.fromtimestamp(due / 1000, zone).strftime("%Y-%m-%d %H:%M") if due else "-"
        where = " · ".join(str(notice[k]) for k in ("title", "step_name", "by_name") if notice.get(k))
        lines.append(f"- {zh} / {en}: {where} · {when}")
        lines += [f"  {said}" for said in notice_words.texts(notice)]
    lines += ["", "汇通 Huitong"]
    message.set_content("\n".join(lines))
    return message


def _connect(settings: Settings) -> smtplib.SMTP:
    timeout = 20
    if settings.smtp_security == "ssl":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port, timeout=timeout,
                                              context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout)
        if settings.smtp_security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
    if settings.smtp_user:
        smtp.login(settings.smtp_user, settings.smtp_password.get_secret_value())
    return smtp
