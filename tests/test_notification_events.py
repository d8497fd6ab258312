"""Notices for every event that concerns a person, raised by the use cases (so every door notifies), the
webhook events behind them, per-person preferences, and the worker that mails them (at once or as a digest)."""

from __future__ import annotations

import email
import email.policy
import socketserver
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from test_workflow_pages import _SMTPHandler
from workflow_support import FORMS, HOUR, NOW, Org, current_tasks, queue_members, step_inputs

from graph import notifications, org
from graph.actor import Actor
from graph.cypher import cypher
from graph.demo_org import load_demo_org
from graph.errors import InvalidInput
from graph.falkordb_backend import FalkorStore
from graph.usecases import Context
from graph.usecases import comments as comment_cases
from graph.usecases import documents as document_cases
from graph.workflows import actions, runs, templates, usecases
from ingest import uploads
from settings import Settings
from workers import notify

ORG = Org()
INITIATOR = ORG.staff("RND-PLT")
HEAD = ORG.head["RND-PLT"]
OUTSIDER = ORG.staff("MKT-BRD")

NOTICES = cypher(
    "test.notices_of",
    """
    MATCH (p:Person {id: $person_id})<-[:TO]-(n:Notification)
    RETURN n.kind AS kind, n.task_id AS task_id, n.run_id AS run_id, n.document_id AS document_id,
           n.by_name AS by_name, n.text AS text, n.outcome AS outcome
    ORDER BY n.created_at
    """,
)
AUDITED = cypher(
    "test.notices_audited",
    "MATCH (e:AuditEvent) WHERE e.action IN $actions RETURN e.action AS action, e.target_id AS target",
)


@pytest.fixture
def wf(fresh_store: FalkorStore) -> Iterator[FalkorStore]:
    load_demo_org(fresh_store, "pw")
    templates.install_templates(fresh_store, now=NOW)
    yield fresh_store


def actor(store: FalkorStore, person_id: str) -> Actor:
    person = org.get_person(store, person_id)
    return Actor(person_id, person["username"], person["name"], door="cli")


def notices(store: FalkorStore, person_id: str, kind: str | None = None) -> list[dict[str, Any]]:
    rows = store.run(NOTICES, {"person_id": person_id})
    return [r for r in rows if kind is None or r["kind"] == kind]


def start(store: FalkorStore, settings: Settings, key: str, now: int = NOW) -> str:
    """Start a run as the initiator through the use case, with real stored files in its file fields."""
    form = dict(FORMS[key])
    for spec in runs.current_definition(store, key)["definition"]["form"]:
        if spec["type"] == "file":
            stored = uploads.upload(store, settings, f"{key} {spec['name']} {now}".encode(), f"{spec['name']}.txt",
                                     INITIATOR, "finance", "internal", (), "", enqueue=None)
            ref = {"name": f"{spec['name']}.txt", "document_id": stored.document_id, "version_id": stored.version_id}
            form[spec["name"]] = [ref] if spec.get("multiple") else ref
    return usecases.start_run(store, actor(store, INITIATOR), key, form, now=now)


def approve(store: FalkorStore, task: dict[str, Any], person_id: str, now: int) -> None:
    usecases.act(store, actor(store, person_id), task["id"], "approve", lambda event: actions.approve(
        store, task["id"], person_id, now=now, event=event, **step_inputs(store, task)), now=now)


def test_a_run_notifies_each_person_it_concerns_once(wf: FalkorStore, settings: Settings) -> None:
    run_id = start(wf, settings, "expense", NOW)
    (head_task,) = current_tasks(wf, run_id)
    (arrived,) = notices(wf, head_task["assignee_id"], "task_arrived")
    assert arrived["task_id"] == head_task["id"] and arrived["by_name"] == ORG.names[INITIATOR]
    assert not notices(wf, INITIATOR)  # nobody is told about their own action
    step, previous = 0, INITIATOR
    while runs.run_view(wf, run_id)["run"]["status"] == "running":
        (task,) = current_tasks(wf, run_id)
        people = [task["assignee_id"]] if task["assignee_kind"] == "person" else queue_members(wf, task)
        for person in people:  # a queue item: every member hears of it, once (not the one whose act made it)
            expected = 0 if person == previous else 1
            assert [n["task_id"] for n in notices(wf, person, "task_arrived")].count(task["id"]) == expected
        previous = people[0]
        approve(wf, task, previous, NOW + step * HOUR)
        step += 1
    (approved,) = notices(wf, INITIATOR, "run_approved")
    assert approved["run_id"] == run_id and approved["outcome"] == "approved"
    audited = wf.run(AUDITED, {"actions": ["task.created", "run.finished"]})
    tasks = [t for t in runs.run_view(wf, run_id)["tasks"]]
    assert sorted(a["target"] for a in audited if a["action"] == "task.created") == sorted(t["id"] for t in tasks)
    assert [a["target"] for a in audited if a["action"] == "run.finished"] == [run_id]  # webhooks see both


def test_rejection_return_feedback_and_withdrawal_notify(wf: FalkorStore, settings: Settings) -> None:
    run_id = start(wf, settings, "expense", NOW)
    (task,) = current_tasks(wf, run_id)
    usecases.act(wf, actor(wf, HEAD), task["id"], "reject", lambda event: actions.reject(
        wf, task["id"], HEAD, now=NOW + HOUR, comment="缺发票", event=event), now=NOW + HOUR)
    (rejected,) = notices(wf, INITIATOR, "run_rejected")  # back to the initiator for changes
    (revise,) = current_tasks(wf, run_id)
    assert rejected["task_id"] == revise["id"]
    usecases.withdraw(wf, actor(wf, INITIATOR), run_id, now=NOW + 2 * HOUR)
    assert not notices(wf, INITIATOR, "run_withdrawn")  # their own withdrawal
    # Acceptance feedback, asked for by the project template: the initiator is asked, with the outcome.
    project = start(wf, settings, "project-initiation", NOW)
    step = 0
    while runs.run_view(wf, project)["run"]["status"] == "running":
        for task in current_tasks(wf, project):
            person = task["assignee_id"] if task["assignee_kind"] == "person" else queue_members(wf, task)[0]
            approve(wf, task, person, NOW + step * HOUR)
            step += 1
            if runs.run_view(wf, project)["run"]["round"] != task["round"]:
                break
    (asked,) = notices(wf, INITIATOR, "feedback_requested")
    assert asked["run_id"] == project and asked["outcome"] == "approved"
    assert not notices(wf, INITIATOR, "run_approved")  # one notice for one event


def test_or_sign_department_withdrawal_tells_the_queue(wf: FalkorStore, settings: Settings) -> None:
    run_id = start(wf, settings, "contract-review", NOW)
    (task,) = current_tasks(wf, run_id)
    usecases.withdraw(wf, actor(wf, INITIATOR), run_id, now=NOW + HOUR)
    (told,) = notices(wf, task["assignee_id"], "run_withdrawn")
    assert told["run_id"] == run_id


def test_mentions_in_run_and_document_comments_reach_only_who_may_open_them(wf: FalkorStore,
                                                                          settings: Settings) -> None:
    run_id = start(wf, settings, "expense", NOW)
    head, outsider = org.get_person(wf, HEAD), org.get_person(wf, OUTSIDER)
    usecases.comment(wf, actor(wf, INITIATOR), run_id, f"请 @{head['name']}看一下，也请 @{outsider['username']} 知悉",
                     now=NOW + HOUR)
    (mention,) = notices(wf, HEAD, "mentioned")
    assert mention["run_id"] == run_id and head["name"] in mention["text"]
    assert not notices(wf, OUTSIDER, "mentioned")  # takes no part in the run: could not open it
    ctx = Context(wf, settings)
    upload = uploads.upload(wf, settings, "季度预算说明".encode(), "预算.txt", INITIATOR, "finance", "internal",
                             ("department:RND-PLT",), "", enqueue=None)
    comment_cases.add_comment(ctx, actor(wf, INITIATOR), upload.document_id,
                              f"@{head['username']} @{outsider['username']} 请审阅")
    assert [n["document_id"] for n in notices(wf, HEAD, "mentioned")][-1] == upload.document_id
    assert not notices(wf, OUTSIDER, "mentioned")
    # Sharing with a person: they are told (and only the people the share made readers).
    document_cases.share(ctx, actor(wf, INITIATOR), upload.document_id, f"person:{outsider['username']}")
    (shared,) = notices(wf, OUTSIDER, "document_shared")
    assert shared["document_id"] == upload.document_id
    assert not notices(wf, HEAD, "document_shared")  # could read it already


def test_muted_kinds_are_not_raised_and_unknown_kinds_refused(wf: FalkorStore, settings: Settings) -> None:
    with pytest.raises(InvalidInput) as refused:
        notifications.set_preferences(wf, HEAD, muted=["no_such_kind"], digest=False)
    assert refused.value.code == "notification.unknown_kind"
    saved = notifications.set_preferences(wf, HEAD, muted=["task_arrived"], digest=True)
    assert notifications.preferences(wf, HEAD) == saved == {"muted": ["task_arrived"], "digest": True}
    start(wf, settings, "expense", NOW)
    assert not notices(wf, HEAD)


def _mail_server() -> socketserver.ThreadingTCPServer:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SMTPHandler)
    server.messages = []  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_worker_mails_each_notice_once_and_the_digest_daily(wf: FalkorStore, settings: Settings) -> None:
    server = _mail_server()
    mail = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": server.server_address[1],
                                       "smtp_security": "none"})
    try:
        notify.deliver_pending(wf, mail)  # whatever an earlier test left pending
        org.update_person(wf, HEAD, {"name": ORG.names[HEAD], "email": "head@example.test"})
        start(wf, settings, "expense", NOW)
        sent = notify.deliver_pending(wf, mail)
        assert sent["notifications"] >= 1 and sent["mailed"] >= 1
        assert notify.deliver_pending(wf, mail)["notifications"] == 0  # claimed: never twice
        notifications.set_preferences(wf, HEAD, muted=[], digest=True)
        start(wf, settings, "expense", NOW + HOUR)
        assert notify.deliver_pending(wf, mail)["mailed"] == 0  # kept for the digest
        digest = notify.send_digests(wf, mail, now=NOW + 2 * HOUR)
        assert digest == {"people": 1, "mailed": 1}
        assert notify.send_digests(wf, mail, now=NOW + 2 * HOUR)["mailed"] == 0
    finally:
        server.shutdown()
        server.server_close()
    mails = [email.message_from_string(m, policy=email.policy.default) for m in server.messages]  # type: ignore[attr-defined]
    to_head = [m for m in mails if m["To"] == "head@example.test"]
    assert len(to_head) == 2
    assert "新的待办任务 / A task for you" in to_head[0]["Subject"]
    assert "每日通知摘要" in to_head[1]["Subject"] and "报销" in to_head[1].get_content()

