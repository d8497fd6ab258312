"""In zh and en, at desktop (1440 px) and phone (390 px) width:

- 或签 to a department is ONE queue item: a member sees it under "My queues", claims it, and it becomes
  their task (nobody else in the department gets a task of their own, nothing is made only to be cancelled);
- notification preferences: a muted kind does not notify (no notice, no badge); ticked again, the next
  task arriving is counted live in the header badge;
- the designer's acceptance feedback is an explicit option that adds its step to the diagram.

Runs and requests are started through the use cases, as the CLI, the API or a worker would.
"""

from __future__ import annotations

import os
import time
import uuid

import pytest
from browser_support import sign_in
from workflow_support import Org

from graph import accounts, org
from graph.actor import Actor
from graph.falkordb_backend import FalkorStore
from graph.workflows import inbox, runs, usecases

pytestmark = pytest.mark.browser

PASSWORD = "queue browser pass"
ORG = Org()
HOUR = 3_600_000
CASES = [("zh-CN", 1440), ("zh-CN", 390), ("en-US", 1440), ("en-US", 390)]
OVERFLOW = "document.documentElement.scrollWidth > window.innerWidth"


def _now() -> int:
    return int(time.time() * 1000)


def _actor(store: FalkorStore, person_id: str) -> Actor:
    person = org.get_person(store, person_id)
    return Actor(person_id, person["username"], person["name"], frozenset(person.get("roles") or []), door="cli")


def _sign_in(browser, url: str, store: FalkorStore, person_id: str, locale: str, width: int):  # type: ignore[no-untyped-def]
    if person_id == ORG.admin:
        username, password = "admin", os.environ["HUITONG_ADMIN_PASSWORD"]
    else:
        accounts.set_password(store, person_id, PASSWORD)
        username, password = org.get_person(store, person_id)["username"], PASSWORD
    _, page = sign_in(browser, url, username, password, locale=locale, width=width)
    return page


def _publish_any_of(store: FalkorStore, department: str) -> str:
    key = f"anyof-{uuid.uuid4().hex[:6]}"
    usecases.publish_definition(store, _actor(store, ORG.admin), {
        "key": key, "name": {"zh": "部门或签测试", "en": "Department any-one test"},
        "description": {"zh": "", "en": ""},
        "form": [{"name": "subject", "type": "text", "label": {"zh": "主题", "en": "Subject"}, "required": False}],
        "steps": [{"key": "sign", "name": {"zh": "部门或签", "en": "Department sign-off"}, "approval": "any",
                   "responsible": [{"kind": "department", "code": department}], "sla": {"working_days": 2}}],
    }, now=_now())
    return key


@pytest.mark.parametrize(("locale", "width", "department"), [
    (*CASES[0], "SALES-EAST"), (*CASES[1], "SALES-NORTH"), (*CASES[2], "SALES-SOUTH"), (*CASES[3], "RND-MOB"),
])
def test_any_of_step_is_one_queue_item_a_member_claims(browser, live_server, demo: FalkorStore,  # type: ignore[no-untyped-def]
                                                        locale: str, width: int, department: str) -> None:
    from playwright.sync_api import expect

    url, english = live_server.url, locale.startswith("en")
    key = _publish_any_of(demo, department)
    title = f"或签 {department} {time.time_ns()}"
    run_id = usecases.start_run(demo, _actor(demo, ORG.staff("RND-QA")), key, {"subject": "x"}, now=_now(),
                                title=title)
    (task,) = [t for t in runs.run_view(demo, run_id)["tasks"] if t["kind"] == "approval"]
    assert task["assignee_kind"] == "department"  # one item in the department's queue, not one per member

    member = ORG.staff(department)
    page = _sign_in(browser, url, demo, member, locale, width)
    try:
        page.goto(url + f"/inbox?tab=queues&workflow={key}")
        rows = page.locator("#inbox-results tbody tr")
        expect(rows).to_have_count(1)
        expect(page.locator("main")).to_contain_text("My queues" if english else "我的队列")
        assert not page.evaluate(OVERFLOW)
        rows.first.locator("a[href*='/workflows/tasks/']").click()
        claim = page.locator("button[value=claim]")
        expect(claim).to_have_text("Claim" if english else "认领")
        assert not page.evaluate(OVERFLOW)
        claim.click()
        expect(page.locator(".flash-success")).to_contain_text("Claimed." if english else "已认领。")
        expect(page.locator("button[value=approve]")).to_be_visible()  # now the member's own task
        page.goto(url + f"/inbox?tab=queues&workflow={key}")
        expect(page.locator("#inbox-results tbody tr")).to_have_count(0)
        page.goto(url + f"/inbox?tab=mine&workflow={key}")
        expect(page.locator("#inbox-results tbody tr")).to_have_count(1)
    finally:
        page.context.close()
    tasks = [t for t in runs.run_view(demo, run_id)["tasks"] if t["kind"] == "approval"]
    assert len(tasks) == 1 and tasks[0]["assignee_id"] == member and tasks[0]["status"] == "open"


@pytest.mark.parametrize(("locale", "width", "department"), [
    (*CASES[0], "SALES-INTL"), (*CASES[1], "MKT-BRD"), (*CASES[2], "HR-REC"), (*CASES[3], "RND-DATA"),
])
def test_muted_kinds_do_not_notify_and_the_badge_counts_live(browser, live_server, demo: FalkorStore,  # type: ignore[no-untyped-def]
                                                              locale: str, width: int, department: str) -> None:
    from playwright.sync_api import expect

    url = live_server.url
    member = ORG.staff(department)
    initiator = _actor(demo, ORG.staff("RND-QA"))
    page = _sign_in(browser, url, demo, member, locale, width)

    def ask(title: str) -> None:
        usecases.start_request(demo, initiator, title, [
            {"department": department, "content": "请提供数据", "criteria": "已上传", "deadline": _now() + 48 * HOUR}],
            now=_now())

    try:
        page.goto(url + "/notifications/")
        page.click("form[action$='/read-all'] button")  # the badge starts from nothing
        expect(page.locator("#inbox-badge [data-count=unread]")).to_have_count(0)

        page.goto(url + "/account")
        page.uncheck("#notification-prefs input[name=keep][value=task_arrived]")
        assert not page.evaluate(OVERFLOW)
        page.click("#notification-prefs button[type=submit]")
        expect(page.locator(".flash-success")).to_be_visible()
        expect(page.locator("#notification-prefs input[value=task_arrived]")).not_to_be_checked()

        muted = f"静音 {department} {time.time_ns()}"
        ask(muted)  # the notices are stored by the use case itself: nothing to wait for
        assert not [n for n in inbox.notifications(demo, member, limit=50) if n.get("title") == muted]
        page.reload()
        expect(page.locator("#inbox-badge [data-count=unread]")).to_have_count(0)

        page.check("#notification-prefs input[name=keep][value=task_arrived]")
        page.click("#notification-prefs button[type=submit]")
        expect(page.locator("#notification-prefs input[value=task_arrived]")).to_be_checked()
        ask(f"通知 {department} {time.time_ns()}")
        expect(page.locator("#inbox-badge [data-count=unread]")).to_have_text("1", timeout=30_000)  # live
    finally:
        page.context.close()


@pytest.mark.parametrize(("locale", "width"), CASES)
def test_acceptance_feedback_is_an_explicit_designer_option(browser, live_server, demo: FalkorStore,  # type: ignore[no-untyped-def]
                                                            locale: str, width: int) -> None:
    from playwright.sync_api import expect

    page = _sign_in(browser, live_server.url, demo, ORG.admin, locale, width)
    try:
        page.goto(live_server.url + "/workflows/design")
        option = page.locator('[data-bind="acceptance"]')
        expect(option).not_to_be_checked()  # not a silent extra step: off until chosen
        nodes = page.locator("#designer-diagram .wf-node")
        before = nodes.count()
        option.check()
        expect(nodes).to_have_count(before + 1)
        words = "acceptance feedback" if locale.startswith("en") else "验收反馈"
        expect(page.locator("#designer-diagram")).to_contain_text(words)
        option.uncheck()
        expect(nodes).to_have_count(before)
        assert not page.evaluate(OVERFLOW)
    finally:
        page.context.close()
