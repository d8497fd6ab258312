"""申请权限 in a real browser: a person opens a document they may not see, gets the neutral 404 with "request
access", sends it with a note; the owner finds the request in the notification centre (zh) and shares with
one click; the person now opens the document."""

from __future__ import annotations

import time

import pytest
from browser_support import sign_in
from document_pages_support import make_docx
from workflow_support import Org

from graph import accounts, org
from graph.falkordb_backend import FalkorStore
from ingest import uploads
from settings import Settings

pytestmark = pytest.mark.browser

PASSWORD = "access request browser pass"
ORG = Org()


def test_request_access_then_one_click_share(browser, live_server, demo: FalkorStore,  # type: ignore[no-untyped-def]
                                             settings: Settings) -> None:
    from playwright.sync_api import expect

    owner_id, asker_id = ORG.staff("LEGAL"), ORG.staff("IT-INF", 1)
    for person in (owner_id, asker_id):
        accounts.set_password(demo, person, PASSWORD)
    owner, asker = org.get_person(demo, owner_id), org.get_person(demo, asker_id)
    title = f"并购尽调备忘 {time.time_ns()}"
    made = uploads.upload(demo, settings, make_docx("尽调要点", title=title), "memo.docx", owner_id, "legal",
                          "confidential", title=title)
    url = live_server.url

    asker_context, asker_page = sign_in(browser, url, asker["username"], PASSWORD)
    missing = asker_page.goto(f"{url}/documents/{made.document_id}")
    assert missing is not None and missing.status == 404
    expect(asker_page.locator("main")).not_to_contain_text(title)
    asker_page.fill("#access-note", "我负责本季度的尽调汇总")
    asker_page.click("form.request-access button[type=submit]")
    expect(asker_page.locator("h1")).to_have_text("申请已发送")

    owner_context, owner_page = sign_in(browser, url, owner["username"], PASSWORD)
    owner_page.goto(url + "/notifications/")
    notice = owner_page.locator(".notices li", has_text="有人申请查看你的文档").filter(has_text=title)
    expect(notice).to_contain_text("我负责本季度的尽调汇总")
    notice.locator("form[action$='/share'] button").click()
    owner_page.wait_for_url(f"**/documents/{made.document_id}**")
    expect(owner_page.locator("main")).to_contain_text(asker["name"])  # the new share is listed

    opened = asker_page.goto(f"{url}/documents/{made.document_id}")
    assert opened is not None and opened.status == 200
    expect(asker_page.locator("main")).to_contain_text(title)
    owner_context.close()
    asker_context.close()
