"""A task arriving reaches its people at once: the header badge counts it live (SSE), the notification
centre names it in the reader's language and opens the task; phone width (390 px) and desktop, zh and en.

The request is started through the use case itself, as the CLI, the API or a worker would: every door
notifies the same way.
"""

from __future__ import annotations

import time

import pytest
from browser_support import sign_in
from workflow_support import Org

from graph import accounts, org
from graph.actor import Actor
from graph.falkordb_backend import FalkorStore
from graph.workflows import usecases

pytestmark = pytest.mark.browser

PASSWORD = "notification browser pass"
ORG = Org()
HOUR = 3_600_000


# The elements that stick out to the right (empty when the page does not scroll sideways).
_WIDER = """() => document.documentElement.scrollWidth <= window.innerWidth ? [] :
  Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
    .slice(0, 8).map(e => e.tagName + '.' + e.className + '#' + e.id)"""


def _overflowing(page) -> list[str]:  # type: ignore[no-untyped-def]
    return list(page.evaluate(_WIDER))


@pytest.mark.parametrize(("locale", "width", "department", "words"), [
    ("zh-CN", 390, "IT-INF", "给你的新任务"),
    ("en-US", 1440, "HR-PAY", "A task for you"),
])
def test_a_task_arriving_is_counted_live_and_opens_from_the_centre(browser, live_server, demo: FalkorStore,  # type: ignore[no-untyped-def]
                                                                   locale: str, width: int, department: str,
                                                                   words: str) -> None:
    from playwright.sync_api import expect

    url = live_server.url
    member = ORG.staff(department)
    accounts.set_password(demo, member, PASSWORD)
    username = org.get_person(demo, member)["username"]
    context, page = sign_in(browser, url, username, PASSWORD, locale=locale, width=width, height=844)
    page.goto(url + "/notifications/")
    page.click("form[action$='/read-all'] button")  # mark everything read: the badge starts from nothing
    expect(page.locator("#inbox-badge [data-count=unread]")).to_have_count(0)

    initiator = ORG.staff("RND-QA")
    person = org.get_person(demo, initiator)
    title = f"协作 {department} {time.time_ns()}"
    usecases.start_request(demo, Actor(initiator, person["username"], person["name"], door="cli"), title, [
        {"department": department, "content": "请提供数据", "criteria": "已上传",
         "deadline": int(time.time() * 1000) + 48 * HOUR}], now=int(time.time() * 1000))
    expect(page.locator("#inbox-badge [data-count=unread]")).to_have_text("1", timeout=15_000)  # live, no reload

    page.goto(url + "/notifications/")
    notice = page.locator(".notices li", has_text=title)
    expect(notice).to_contain_text(words)
    assert not _overflowing(page)  # no sideways scrolling
    notice.locator("button").first.click()
    page.wait_for_url("**/workflows/tasks/**")
    expect(page.locator("main")).to_contain_text(title)
    assert not _overflowing(page)
    context.close()
