"""Design a 3-step workflow in the visual editor, then run it through approval, rejection, return and feedback.

Real Chromium against the live server: the designer's script, the CSP, CSRF and the live inbox badge
(SSE) all take part, as they do for a person at a browser.
"""

from __future__ import annotations

import os
import re
import uuid

import pytest
from workflow_support import Org

from graph import accounts, org
from graph.falkordb_backend import FalkorStore

pytestmark = pytest.mark.browser

PASSWORD = "workflow browser pass"
ORG = Org()


def _person(store: FalkorStore, person_id: str) -> str:
    accounts.set_password(store, person_id, PASSWORD)
    return str(org.get_person(store, person_id)["username"])


def _sign_in(browser, url: str, username: str, password: str, height: int = 900):  # type: ignore[no-untyped-def]
    # A drag that has to scroll the page on the way is cancelled by the browser: the designer gets a tall window.
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": height})
    page = context.new_page()
    page.set_default_timeout(30_000)  # the machine is shared: allow for a slow moment
    response = page.goto(url + "/login")
    assert response is not None and response.ok, (response and response.status, page.content()[:2000])
    page.fill("#login", username)
    page.fill("#password", password)
    page.click("form.form-stack button[type=submit]")
    page.wait_for_url(url + "/")
    return page


def _open_my_task(page, url: str, key: str) -> None:  # type: ignore[no-untyped-def]
    # Filtered to this test's workflow: the inbox puts tasks with a deadline before tasks without one, so
    # an open task of another run (another test's expense approval on the same person) would come first.
    page.goto(url + f"/inbox?workflow={key}")
    page.locator("#inbox-results a[href*='/workflows/tasks/']").first.click()
    page.wait_for_url(re.compile(r"/workflows/tasks/"))


def test_design_publish_run_approve_reject_return_finish(browser, live_server, demo) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    url = live_server.url
    initiator_id, approver_id, rejecter_id = ORG.staff("RND-PLT"), ORG.head["RND-PLT"], ORG.staff("RND-PLT", 1)
    initiator, approver, rejecter = (_person(demo, p) for p in (initiator_id, approver_id, rejecter_id))
    key = f"trial-{uuid.uuid4().hex[:6]}"
    errors: list[str] = []

    # -- design ------------------------------------------------------------------------------------------
    admin = _sign_in(browser, url, "admin", os.environ["HUITONG_ADMIN_PASSWORD"], height=3000)
    # Script errors and CSP refusals fail the test (a favicon 404 or the expected 422 below do not).
    admin.on("console", lambda m: errors.append(m.text) if "Refused" in m.text else None)
    admin.on("pageerror", lambda e: errors.append(str(e)))
    admin.goto(url + "/workflows/design")
    admin.fill('[data-bind="key"]', key)
    admin.fill('[data-bind="name.zh"]', "浏览器测试流程")
    admin.fill('[data-bind="name.en"]', "Browser test flow")
    admin.click(".dz-workflow .dz-fields .dz-add")  # a start-form field
    admin.fill('[data-bind="form[0].name"]', "subject")
    admin.fill('[data-bind="form[0].label.zh"]', "主题")
    admin.check('[data-bind="form[0].required"]')
    admin.click("#add-step")
    admin.click("#add-step")
    expect(admin.locator(".dz-step")).to_have_count(3)
    # Acceptance feedback is an explicit choice; the diagram beside the form follows every change.
    admin.check('[data-bind="acceptance"]')
    expect(admin.locator("#designer-diagram .wf-node")).to_have_count(6)  # start, 3 steps, feedback, end
    plan = [("review", "初审", approver), ("check", "复核", rejecter), ("final", "终审", approver)]
    for i, (step_key, name, _who) in enumerate(plan):
        admin.fill(f'[data-bind="steps[{i}].key"]', step_key)
        admin.fill(f'[data-bind="steps[{i}].name.zh"]', name)
        admin.select_option(f'[data-bind="steps[{i}].responsible[0].kind"]', "person")
    admin.fill('[data-bind="steps[0].responsible[0].username"]', approver)
    admin.fill('[data-bind="steps[2].responsible[0].username"]', approver)
    # Keyboard alternative to dragging: move the last step up and back down again.
    admin.click('[data-focus="up-2"]')
    expect(admin.locator('[data-bind="steps[1].key"]')).to_have_value("final")
    admin.click('[data-focus="down-1"]')
    expect(admin.locator('[data-bind="steps[2].key"]')).to_have_value("final")
    # Drag and drop by the handle: the first step to the second place, and back.
    admin.locator(".dz-step").nth(0).locator(".dz-handle").drag_to(admin.locator(".dz-step").nth(1).locator("h3"))
    expect(admin.locator('[data-bind="steps[1].key"]')).to_have_value("review")
    admin.locator(".dz-step").nth(1).locator(".dz-handle").drag_to(admin.locator(".dz-step").nth(0).locator("h3"))
    expect(admin.locator('[data-bind="steps[0].key"]')).to_have_value("review")

    # The second step's person is missing: the server refuses and the error sits next to that field.
    admin.click("#publish")
    error = admin.locator('[data-path="steps[1].responsible[0].username"] .dz-error')
    expect(error).to_be_visible()
    expect(admin.locator('[data-bind="key"]')).to_have_value(key)  # nothing typed was lost
    # The person is picked from the organisation with the keyboard: type, arrow down, Enter (Escape closes).
    field = admin.locator('[data-bind="steps[1].responsible[0].username"]')
    field.fill(rejecter)
    expect(admin.locator(f".picker-list:visible [data-value='{rejecter}']")).to_be_visible()
    field.press("Escape")
    expect(field).to_have_attribute("aria-expanded", "false")
    field.press("ArrowDown")  # opens the list on its first option: the exact match comes first
    expect(field).to_have_attribute("aria-activedescendant", re.compile(r".+"))
    field.press("Enter")
    expect(field).to_have_value(rejecter)
    expect(field).to_have_attribute("aria-expanded", "false")
    admin.select_option('[data-bind="steps[1].on_reject"]', "initiator")
    admin.click("#publish")
    admin.wait_for_url(url + f"/workflows/{key}")
    expect(admin.locator("h1")).to_contain_text("v1")
    assert errors == [], errors

    # -- run: start, approve, reject --------------------------------------------------------------------
    starter = _sign_in(browser, url, initiator, PASSWORD)
    starter.goto(url + f"/workflows/{key}/start")
    starter.click("form.form-stack button[type=submit]")  # the required subject is missing
    expect(starter.locator("#f-subject-error")).to_be_visible()
    starter.fill("#f-subject", "采购显示器 monitors")
    starter.click("form.form-stack button[type=submit]")
    starter.wait_for_url(re.compile(r"/workflows/runs/"))
    expect(starter.locator(".run-meta .badge")).to_contain_text("1")  # the version it follows
    starter.goto(url + "/inbox?tab=started")
    expect(starter.locator("#inbox-results")).to_contain_text("浏览器测试流程")

    first = _sign_in(browser, url, approver, PASSWORD)
    _open_my_task(first, url, key)
    first.fill("#approve-comment", "同意 ok")
    first.click("button[value=approve]")
    expect(first.locator(".flash-success")).to_be_visible()

    second = _sign_in(browser, url, rejecter, PASSWORD)
    _open_my_task(second, url, key)
    expect(second.locator("button[value=approve]")).to_be_visible()
    second.fill("#reject-comment", "型号不对 wrong model")
    starter.goto(url + "/inbox")  # the initiator waits on the inbox: the badge must update by itself
    expect(starter.locator("#inbox-badge [data-count=mine]")).to_have_count(0)
    second.click("button[value=reject]")
    expect(starter.locator("#inbox-badge [data-count=mine]")).to_have_text("1", timeout=15_000)

    # -- the return: the initiator corrects and resubmits, and the run goes round again --------------------
    _open_my_task(starter, url, key)
    expect(starter.locator("section[aria-labelledby=history-title]")).to_contain_text("型号不对")
    starter.fill("#f-subject", "采购显示器 27寸 monitors")
    starter.click("button[value=resubmit]")
    expect(starter.locator(".flash-success")).to_be_visible()

    for page in (first, second, first):
        _open_my_task(page, url, key)
        page.click("button[value=approve]")
        expect(page.locator(".flash-success")).to_be_visible()

    _open_my_task(starter, url, key)
    starter.select_option("select[name=rating]", "5")
    starter.click("button[value=feedback]")
    expect(starter.locator(".run-meta .status-closed")).to_be_visible()
    timeline = starter.locator("section[aria-labelledby=timeline-title] tbody tr")
    expect(timeline).to_have_count(7)  # review, check (rejected), revise, review, check, final, feedback
