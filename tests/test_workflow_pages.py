"""The workflow pages through the Flask test client, on the demo organisation in a graph of their own.

Covers the designer (validation errors, versions), starting runs, task pages with exactly the
allowed actions, authorisation (404 for a run one takes no part in, 403 for a visible task one may
not act on), CSRF, the inbox (tabs, search,
paging, bulk approval), requests, feedback, notifications, the live SSE stream and the beat task.
"""

from __future__ import annotations

import email
import email.policy
import io
import json
import os
import re
import socketserver
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from web_support import SSE, csrf_token, login
from workflow_support import FORMS, HOUR, Org, current_tasks, queue_members

from graph import live as bus
from graph import org
from graph.demo_org import load_demo_org
from graph.falkordb_backend import FalkorStore
from graph.queries import workflows as q
from graph.workflows import inbox, runs, templates
from settings import Settings
from webapp import services
from workers import schedule

ADMIN_PASSWORD = os.environ["HUITONG_ADMIN_PASSWORD"]
ORG = Org()
INITIATOR = ORG.staff("RND-PLT")
HEAD = ORG.head["RND-PLT"]
OUTSIDER = ORG.staff("MKT-BRD")
COLLEAGUE = ORG.staff("RND-PLT", 1)


@pytest.fixture
def wf(app: Flask, fresh_store: FalkorStore, monkeypatch: pytest.MonkeyPatch) -> FalkorStore:
    """The app serves a fresh graph with the demo organisation and the built-in workflows."""
    load_demo_org(fresh_store, ADMIN_PASSWORD)
    templates.install_templates(fresh_store, now=int(time.time() * 1000))
    monkeypatch.setitem(app.extensions.setdefault(services.STORES, {}), os.getpid(), fresh_store)
    return fresh_store


def post(client: FlaskClient, path: str, data: dict[str, Any] | None = None, page: str = "/inbox"):  # type: ignore[no-untyped-def]
    return client.post(path, data={**(data or {}), "csrf_token": csrf_token(client, page)},
                       content_type="multipart/form-data")


def expense_form() -> dict[str, Any]:
    values = {f"f.{k}": v for k, v in FORMS["expense"].items() if k != "invoice"}
    values["f.invoice"] = (io.BytesIO(b"%PDF-1.4 invoice"), "invoice-001.pdf")
    return values


def start_expense(client: FlaskClient) -> str:
    response = post(client, "/workflows/expense/start", {**expense_form(), "title": "差旅报销 trip"},
                    "/workflows/expense/start")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return response.headers["Location"].rsplit("/", 1)[1]


def same_page(a: bytes, b: bytes) -> bool:
    """Equal but for the per-request CSRF token (it carries a timestamp)."""
    token = re.compile(rb'("X-CSRFToken": "|name="csrf_token" value=")[^"]*')
    return token.sub(rb"\1", a) == token.sub(rb"\1", b)


def text(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def action_buttons(page: str) -> set[str]:
    return set(re.findall(r'name="do" value="([a-z_]+)"', page))


# -- designer -------------------------------------------------------------------------------------------


def designed(key: str, people: list[str]) -> dict[str, Any]:
    return {"key": key, "name": {"zh": "测试流程", "en": "Test flow"}, "allow_withdraw": True,
            "form": [{"name": "subject", "type": "text", "label": {"zh": "主题", "en": "Subject"}, "required": True}],
            "steps": [{"key": f"s{i + 1}", "name": {"zh": f"第{i + 1}步", "en": f"Step {i + 1}"},
                       "responsible": [{"kind": "person", "username": u}], "sla": {"hours": 8}}
                      for i, u in enumerate(people)]}


def test_designer_shows_errors_next_to_paths_and_publishes_versions(app: Flask, wf: FalkorStore) -> None:
    admin = login(app, wf, ORG.admin)
    page = text(admin.get("/workflows/design"))
    assert 'id="designer-data"' in page and "workflow-designer.js" in page and "onclick" not in page
    bad = designed("trial", ["nobody.at.all"])
    bad["steps"][0]["sla"] = {"hours": -1}
    bad["steps"].append({"key": "s1", "name": "", "responsible": {"kind": "department"}})
    refused = post(admin, "/workflows/design", {"definition": json.dumps(bad)}, "/workflows/design")
    assert refused.status_code == 422
    data = json.loads(re.search(r'id="designer-data">(.*?)</script>', text(refused), re.S).group(1))
    paths = {e["path"] for e in data["errors"]}
    assert {"steps[0].sla.hours", "steps[1].key", "steps[1].name", "steps[1].responsible[0].code"} <= paths
    assert data["definition"]["key"] == "trial"  # what was typed comes back: nothing is lost
    assert wf.run(q.WORKFLOW_VERSIONS, {"key": "trial"}) == []
    garbage = post(admin, "/workflows/design", {"definition": "{not json"}, "/workflows/design")
    assert garbage.status_code == 422 and "not valid JSON" in text(garbage)

    people = [org.get_person(wf, p)["username"] for p in (HEAD, COLLEAGUE)]
    first = post(admin, "/workflows/design", {"definition": json.dumps(designed("trial", people))},
                 "/workflows/design")
    assert first.status_code == 302 and first.headers["Location"].endswith("/workflows/trial")
    again = designed("trial", people[::-1])  # reordered steps
    second = post(admin, "/workflows/design", {"definition": json.dumps(again)}, "/workflows/design")
    assert second.status_code == 302
    detail = text(admin.get("/workflows/trial"))
    assert "v1" in detail and "v2" in detail and "Published version 2 of trial" in detail
    assert runs.current_definition(wf, "trial")["definition"]["steps"][0]["responsible"][0]["username"] == people[1]
    editing = text(admin.get("/workflows/design?key=trial"))
    assert people[1] in editing and 'name="editing"' in editing


def test_only_designers_design(app: Flask, wf: FalkorStore) -> None:
    member = login(app, wf, OUTSIDER)
    assert member.get("/workflows/design").status_code == 403
    refused = post(member, "/workflows/design", {"definition": json.dumps(designed("x", ["admin"]))})
    assert refused.status_code == 403
    assert wf.run(q.WORKFLOW_VERSIONS, {"key": "x"}) == []
    listing = text(member.get("/workflows/"))
    assert "Expense approval" in listing and "Design a new workflow" not in listing


# -- running: start, task page, authorisation, CSRF ----------------------------------------------------------


def test_start_approve_and_authorisation(app: Flask, wf: FalkorStore) -> None:
    initiator = login(app, wf, INITIATOR)
    bad = post(initiator, "/workflows/expense/start", {**expense_form(), "f.amount": "12.345", "f.reason": ""},
               "/workflows/expense/start")
    assert bad.status_code == 422
    assert "at most two decimal places" in text(bad) and 'aria-invalid="true"' in text(bad)
    assert "WorkflowRun" not in wf.counts()

    run_id = start_expense(initiator)
    run_page = text(initiator.get(f"/workflows/runs/{run_id}"))
    assert "version 1" in run_page and "invoice-001.pdf" in run_page and "差旅报销 trip" in run_page
    assert "Department head approval" in run_page and "not reached yet" in run_page
    (task,) = current_tasks(wf, run_id)
    assert task["assignee_id"] == HEAD

    outsider = login(app, wf, OUTSIDER)
    # An outsider meets exactly the answer for a missing run or task: nothing about it is disclosed.
    for real, fake in ((f"/workflows/tasks/{task['id']}", "/workflows/tasks/no-such-task"),
                       (f"/workflows/runs/{run_id}", "/workflows/runs/no-such-run")):
        answer, nothing = outsider.get(real), outsider.get(fake)
        assert answer.status_code == nothing.status_code == 404
        assert same_page(answer.data.replace(real.encode(), fake.encode()), nothing.data), real
    refused = post(outsider, f"/workflows/tasks/{task['id']}/approve", {"comment": "sneaky"})
    assert refused.status_code == 404 and "sneaky" not in text(refused)
    # The initiator may look at the task but not decide it.
    assert action_buttons(text(initiator.get(f"/workflows/tasks/{task['id']}"))) == {"urge"}
    assert post(initiator, f"/workflows/tasks/{task['id']}/approve").status_code == 403
    assert current_tasks(wf, run_id)[0]["id"] == task["id"]

    head = login(app, wf, HEAD)
    page = text(head.get(f"/workflows/tasks/{task['id']}"))
    assert action_buttons(page) == {"approve", "reject", "return", "request_info", "delegate", "add_signer"}
    assert runs.run_view(wf, run_id)["tasks"][0].get("first_opened_at")
    no_csrf = head.post(f"/workflows/tasks/{task['id']}/approve", data={"comment": "ok"})
    assert no_csrf.status_code == 400 and current_tasks(wf, run_id)[0]["id"] == task["id"]
    done = post(head, f"/workflows/tasks/{task['id']}/approve", {"comment": "同意"})
    assert done.status_code == 303
    (budget,) = current_tasks(wf, run_id)
    assert budget["step_key"] == "budget"
    timeline = text(initiator.get(f"/workflows/runs/{run_id}"))
    assert "同意" in timeline and "approved" in timeline

    # The budget step has a checklist: approving without ticking it is refused next to the item.
    owner = login(app, wf, budget["assignee_id"])
    missing = post(owner, f"/workflows/tasks/{budget['id']}/approve", {"comment": "ok"})
    assert missing.status_code == 422 and "approve-checklist-within_budget-error" in text(missing)
    ticked = post(owner, f"/workflows/tasks/{budget['id']}/approve", {"comment": "ok", "checklist": "within_budget"})
    assert ticked.status_code == 303 and current_tasks(wf, run_id)[0]["step_key"] == "finance"
    # Finance is a queue: a member sees claim among the actions, and a non-member is refused.
    finance = current_tasks(wf, run_id)[0]
    assert finance["assignee_kind"] == "position"
    member = queue_members(wf, finance)[0]
    accountant = login(app, wf, member)
    assert "claim" in action_buttons(text(accountant.get(f"/workflows/tasks/{finance['id']}")))
    assert post(head, f"/workflows/tasks/{finance['id']}/claim").status_code == 403


def test_reject_returns_to_initiator_who_resubmits_then_feedback(app: Flask, wf: FalkorStore) -> None:
    initiator = login(app, wf, INITIATOR)
    run_id = start_expense(initiator)
    (task,) = current_tasks(wf, run_id)
    head = login(app, wf, HEAD)
    empty = post(head, f"/workflows/tasks/{task['id']}/reject", {"comment": " "})
    assert empty.status_code == 422 and "required" in text(empty)
    assert post(head, f"/workflows/tasks/{task['id']}/reject", {"comment": "缺发票 missing"}).status_code == 303
    (revise,) = current_tasks(wf, run_id)
    assert revise["kind"] == "revise" and revise["assignee_id"] == INITIATOR
    page = text(initiator.get(f"/workflows/tasks/{revise['id']}"))
    assert action_buttons(page) == {"resubmit"} and "Withdraw this run" in page
    resubmitted = post(initiator, f"/workflows/tasks/{revise['id']}/resubmit",
                       {"f.amount": "99.00", "comment": "fixed"})
    assert resubmitted.status_code == 303
    view = runs.run_view(wf, run_id)
    assert view["run"]["form"]["amount"] == "99.00" and view["run"]["form"]["reason"]  # other values kept
    # Withdrawn by the initiator from the page after nobody acted in the new round is refused: the head acted.
    refused = post(initiator, f"/workflows/runs/{run_id}/withdraw", {"comment": "never mind"})
    assert refused.status_code == 303 and runs.run_view(wf, run_id)["run"]["status"] == "running"


def test_feedback_form_closes_the_run(app: Flask, wf: FalkorStore) -> None:
    from workflow_support import approve_to_end

    initiator = login(app, wf, INITIATOR)
    now = int(time.time() * 1000)
    # Only a workflow whose definition asks for acceptance feedback ends with it (the project template does).
    run_id = runs.start_run(wf, "project-initiation", INITIATOR, FORMS["project-initiation"], now=now)
    approve_to_end(wf, run_id, now)
    (feedback,) = current_tasks(wf, run_id)
    page = text(initiator.get(f"/workflows/tasks/{feedback['id']}"))
    assert action_buttons(page) == {"feedback"}
    bad = post(initiator, f"/workflows/tasks/{feedback['id']}/feedback", {"accepted": "yes", "rating": "9"})
    assert bad.status_code == 422
    good = post(initiator, f"/workflows/tasks/{feedback['id']}/feedback",
                {"accepted": "yes", "rating": "4", "comment": "好 good"})
    assert good.status_code == 303
    run = runs.run_view(wf, run_id)["run"]
    assert run["status"] == "closed" and run["rating"] == 4 and run["accepted"] is True


# -- inbox ---------------------------------------------------------------------------------------------------


def test_inbox_tabs_search_paging_and_bulk_approve(app: Flask, wf: FalkorStore, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from webapp.views import inbox as inbox_views

    monkeypatch.setattr(inbox_views, "PAGE_SIZE", 2)
    initiator = login(app, wf, INITIATOR)
    run_ids = [start_expense(initiator) for _ in range(3)]
    contract = {f"f.{k}": v for k, v in FORMS["contract-review"].items() if k != "contract"}
    contract["f.contract"] = (io.BytesIO("服务器采购合同 contract text".encode()), "contract.txt")
    assert post(initiator, "/workflows/contract-review/start", contract, "/workflows/contract-review/start"
                ).status_code == 302
    head = login(app, wf, HEAD)
    first = text(head.get("/inbox"))
    assert first.count('name="task"') == 2 and 'rel="next"' in first and "Approve selected" in first
    second = text(head.get("/inbox?page=2"))
    assert 'rel="prev"' in second and 'rel="next"' not in second
    found = text(head.get("/inbox?q=合同&tab=mine", headers={"HX-Request": "true", "HX-Target": "inbox-results"}))
    assert "<html" not in found and found.count("/workflows/tasks/") == 1
    filtered = text(head.get("/inbox?workflow=expense&page=2"))
    assert filtered.count("/workflows/tasks/") == 1
    assert "差旅报销 trip" in text(initiator.get("/inbox?tab=started"))
    assert "Nothing here." in text(initiator.get("/inbox?tab=copied"))

    tasks = [current_tasks(wf, r)[0]["id"] for r in run_ids[:2]]
    outsider = login(app, wf, OUTSIDER)
    sneaky = post(outsider, "/inbox/approve", {"task": tasks, "comment": "x"})
    assert sneaky.status_code == 303 and all(current_tasks(wf, r)[0]["step_key"] == "head" for r in run_ids)
    bulk = post(head, "/inbox/approve", {"task": tasks, "comment": "批量同意"})
    assert bulk.status_code == 303
    assert [current_tasks(wf, r)[0]["step_key"] for r in run_ids] == ["budget", "budget", "head"]
    # The budget step has a checklist: it is not offered for bulk approval, and refused if forced.
    owner_id = current_tasks(wf, run_ids[0])[0]["assignee_id"]
    owner = login(app, wf, owner_id)
    assert 'name="task"' not in text(owner.get("/inbox"))
    forced = post(owner, "/inbox/approve", {"task": [current_tasks(wf, run_ids[0])[0]["id"]]})
    assert "needs its own page" in text(owner.get(forced.headers["Location"]))
    assert current_tasks(wf, run_ids[0])[0]["step_key"] == "budget"


def test_cross_department_request_and_progress(app: Flask, wf: FalkorStore) -> None:
    initiator = login(app, wf, INITIATOR)
    assert "Part 3" in text(initiator.get("/workflows/requests/new"))
    bad = post(initiator, "/workflows/requests/new", {
        "rows": "3", "title": "年会筹备", "parts-0-department": "HR", "parts-0-content": "场地",
        "parts-0-criteria": "", "parts-0-deadline": "2099-01-10T18:00",
        "parts-2-department": "NOPE", "parts-2-content": "x", "parts-2-criteria": "y",
        "parts-2-deadline": "2000-01-01T00:00"}, "/workflows/requests/new")
    page = text(bad)
    assert bad.status_code == 422
    assert 'id="parts-0-criteria-error"' in page and 'id="parts-2-department-error"' in page
    assert 'id="parts-2-deadline-error"' in page and "WorkflowRun" not in wf.counts()
    good = post(initiator, "/workflows/requests/new", {
        "rows": "3", "title": "年会筹备 annual party", "parts-0-department": "HR", "parts-0-content": "场地 venue",
        "parts-0-criteria": "签约 signed", "parts-0-deadline": "2099-01-10T18:00", "parts-1-department": "FIN",
        "parts-1-content": "预算 budget", "parts-1-criteria": "批准 approved", "parts-1-deadline": "2099-01-12T18:00"},
        "/workflows/requests/new")
    assert good.status_code == 302
    run_id = good.headers["Location"].rsplit("/", 1)[1]
    progress = text(initiator.get(f"/workflows/requests/{run_id}"))
    assert "0 of 2 parts done" in progress and "waiting in the queue" in progress
    part = next(t for t in current_tasks(wf, run_id) if t["department_code"] == "HR")
    hr_member = ORG.staff("HR", 0) if "HR" in ORG.members else ORG.head["HR"]
    hr = login(app, wf, hr_member)
    page = text(hr.get(f"/workflows/tasks/{part['id']}"))
    assert {"approve", "reject", "claim"} <= action_buttons(page) and "签约 signed" in page
    assert post(hr, f"/workflows/tasks/{part['id']}/approve", {"comment": "done"}).status_code == 303
    assert "1 of 2 parts done" in text(initiator.get(f"/workflows/requests/{run_id}"))
    assert login(app, wf, OUTSIDER).get(f"/workflows/requests/{run_id}").status_code == 404


# -- notifications, live events, beat --------------------------------------------------------------------------


def _sla_run(store: FalkorStore, now: int) -> str:
    return runs.start_run(store, "expense", INITIATOR, FORMS["expense"], now=now)


def test_notification_centre_lists_and_marks_read(app: Flask, wf: FalkorStore, settings: Settings) -> None:
    from workers.notify import deliver_reminders

    now = int(time.time() * 1000)
    _sla_run(wf, now - 30 * 24 * HOUR)  # long overdue: reminders, warnings and an escalation
    figures = deliver_reminders(wf, settings, now=now)
    assert figures["notifications"] >= 2 and figures["mailed"] == 0  # no SMTP configured: in-app only
    head = login(app, wf, HEAD)
    page = text(head.get("/notifications/"))
    assert "Overdue" in page and "报销审批" in page
    assert re.search(r'class="count" data-count="unread">\d+<', text(head.get("/inbox/badge")))
    unread = inbox.notifications(wf, HEAD, unread_only=True)
    other = login(app, wf, OUTSIDER)
    post(other, f"/notifications/{unread[0]['id']}/read")  # not theirs: nothing happens
    assert len(inbox.notifications(wf, HEAD, unread_only=True)) == len(unread)
    response = post(head, f"/notifications/{unread[0]['id']}/read", {"next": "/workflows/tasks/x"})
    assert response.status_code == 303 and response.headers["Location"] == "/workflows/tasks/x"
    assert len(inbox.notifications(wf, HEAD, unread_only=True)) == len(unread) - 1
    _sla_run(wf, now - 30 * 24 * HOUR)
    deliver_reminders(wf, settings, now=now)
    assert inbox.notifications(wf, HEAD, unread_only=True)
    post(head, "/notifications/read-all")
    assert inbox.notifications(wf, HEAD, unread_only=True) == []


@pytest.fixture
def fast_sse(app: Flask) -> Iterator[None]:
    app.config.update(HUITONG_SSE_HEARTBEAT=0.2, HUITONG_SSE_MAX_SECONDS=30)
    yield
    app.config.pop("HUITONG_SSE_HEARTBEAT")
    app.config.pop("HUITONG_SSE_MAX_SECONDS")


def test_sse_streams_only_my_events(app: Flask, wf: FalkorStore, fast_sse: None) -> None:
    assert app.test_client().get("/events").status_code in (302, 401)  # anonymous: login first
    head_stream = SSE(login(app, wf, HEAD), "/events")
    other_stream = SSE(login(app, wf, OUTSIDER), "/events")
    try:
        assert ("ready", "{}") in head_stream.events(10, until="ready")
        assert ("ready", "{}") in other_stream.events(10, until="ready")
        for stream in (head_stream, other_stream):
            assert (stream.status, stream.mimetype) == (200, "text/event-stream")
        run_id = start_expense(login(app, wf, INITIATOR))
        heard = head_stream.events(5, until="inbox")
        assert [json.loads(d) for e, d in heard if e == "inbox"] == [{"run_id": run_id}]
        assert other_stream.events(1.0) == []  # keep-alives only: nothing of anybody else's
    finally:
        head_stream.close()
        other_stream.close()


def test_page_header_connects_the_live_badge(app: Flask, wf: FalkorStore) -> None:
    page = text(login(app, wf, HEAD).get("/inbox"))
    assert 'sse-connect="/events"' in page and 'hx-trigger="sse:inbox, sse:notification"' in page


class _SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP to accept messages (test scaffolding standing in for a mail server)."""

    def handle(self) -> None:
        self.wfile.write(b"220 test ESMTP\r\n")
        data = False
        lines: list[bytes] = []
        for raw in self.rfile:
            if data:
                if raw in (b".\r\n", b".\n"):
                    self.server.messages.append(b"".join(lines).decode())  # type: ignore[attr-defined]
                    lines, data = [], False
                    self.wfile.write(b"250 queued\r\n")
                else:
                    lines.append(raw)
                continue
            command = raw.strip().upper()
            if command.startswith(b"EHLO") or command.startswith(b"HELO"):
                self.wfile.write(b"250 test\r\n")
            elif command == b"DATA":
                data = True
                self.wfile.write(b"354 go on\r\n")
            elif command == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


def test_beat_task_reminds_live_and_by_mail_once(wf: FalkorStore, settings: Settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from workers import tasks
    from workers.celery_app import app as celery

    assert celery.conf.beat_schedule["workflow-reminders"]["task"] == tasks.workflow_reminders.name
    assert schedule.BEAT_SCHEDULE["workflow-reminders"]["schedule"] == 60.0
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SMTPHandler)
    server.messages = []  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    mail_settings = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": server.server_address[1],
                                                "smtp_security": "none"})
    monkeypatch.setattr(tasks, "_store", lambda: wf)
    monkeypatch.setattr("settings.get_settings", lambda: mail_settings)
    org.update_person(wf, HEAD, {"name": org.get_person(wf, HEAD)["name"], "email": "head@example.test"})
    started = int(time.time() * 1000) - 3 * 24 * HOUR
    _sla_run(wf, started)
    listener = bus.client(settings).pubsub(ignore_subscribe_messages=True)
    listener.subscribe(bus.person_channel(HEAD))
    try:
        before = tasks.workflow_reminders.apply(kwargs={"now": started + HOUR}).get()
        assert before["notifications"] == 0  # nothing due yet at that moment
        figures = tasks.workflow_reminders.apply(kwargs={"now": started + 3 * 24 * HOUR}).get()
        assert figures["notifications"] >= 1 and figures["mailed"] >= 1 and figures["live"] >= 1
        heard = [listener.get_message(timeout=1.0) for _ in range(2)]
        assert any(m and json.loads(m["data"])["event"] == "notification" for m in heard)
        again = tasks.workflow_reminders.apply(kwargs={"now": started + 3 * 24 * HOUR + 60_000}).get()
        assert again["notifications"] == 0 and again["mailed"] == 0  # idempotent: nobody is told twice
    finally:
        listener.close()
        server.shutdown()
        server.server_close()
    mails = [email.message_from_string(m, policy=email.policy.default) for m in server.messages]  # type: ignore[attr-defined]
    to_head = [m for m in mails if m["To"] == "head@example.test"]
    assert len(to_head) == 1 and "任务已逾期 / Task overdue" in to_head[0]["Subject"]
    assert "报销审批" in to_head[0].get_content()


def test_pages_speak_chinese(app: Flask, wf: FalkorStore) -> None:
    initiator = login(app, wf, INITIATOR)
    initiator.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    run_id = start_expense(initiator)
    run_page = text(initiator.get(f"/workflows/runs/{run_id}"))
    assert "时间线" in run_page and "版本 1" in run_page and "尚未到达" in run_page and "部门负责人审批" in run_page
    assert "我的待办" in text(initiator.get("/inbox"))
    assert "跨部门协作" in text(initiator.get("/workflows/requests/new"))
    admin = login(app, wf, ORG.admin)
    admin.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    labels = re.search(r'id="designer-labels">(.*?)</script>', text(admin.get("/workflows/design")), re.S).group(1)
    assert json.loads(labels)["approval_all"] == "会签（全部）"
