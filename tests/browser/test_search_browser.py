"""Search with a real Chromium: live results while typing (Chinese, then English), the results page,
a facet, "why can I see this?", and opening a result."""

from __future__ import annotations

import re

import pytest
from test_search_api import search_docs  # noqa: F401 - a fixture

pytestmark = pytest.mark.browser


def _type(page, text: str) -> None:  # type: ignore[no-untyped-def]
    box = page.locator("#site-search-q")
    box.fill("")
    box.press_sequentially(text, delay=40)  # real key presses: the box listens for keyup


def test_live_results_results_page_facet_and_open(page, live_server, search_docs) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    from playwright.sync_api import expect

    page.goto(live_server.url + "/login")
    page.fill("#login", search_docs.member_username)
    page.fill("#password", search_docs.password)
    page.click("form.form-stack button[type=submit]")
    page.wait_for_url(live_server.url + "/")

    live = page.locator("#site-search-live")
    _type(page, "差旅费报销")
    expect(live.locator(".search-live-hit").first).to_contain_text("差旅费报销制度")
    expect(live.locator("mark").first).to_be_visible()
    for hidden in search_docs.hidden.values():
        expect(live.locator(f'a[href="/documents/{hidden}"]')).to_have_count(0)

    _type(page, "budget forecast")
    expect(live.locator(".search-live-hit").first).to_contain_text("Annual budget planning guide")
    page.locator("#site-search-q").press("Enter")
    page.wait_for_url(re.compile(r"/search\?q=budget\+forecast"))
    results = page.locator(".search-result")
    expect(results.first.locator("h3")).to_have_text("Annual budget planning guide")

    # a facet: only public documents
    page.locator('[data-facet="access"] a[data-value="public"]').click()
    page.wait_for_url(re.compile(r"access=public"))
    expect(page.locator(".search-result h3", has_text="Holiday calendar")).to_be_visible()
    expect(page.locator(".search-result h3", has_text="Annual budget planning guide")).to_have_count(0)
    selected = page.locator('[data-facet="access"] a.selected')
    expect(selected).to_have_attribute("data-value", "public")

    # why can I see this?
    why = page.locator(".search-result", has_text="Holiday calendar").locator("details.search-why")
    why.locator("summary").click()
    expect(why.locator(".search-why-text")).to_contain_text("公开")

    # back to every access level, open the first result
    selected.click()
    page.wait_for_url(re.compile(r"^(?!.*access=public)"))
    first = page.locator(".search-result h3 a").first
    title = first.inner_text()
    first.click()
    page.wait_for_url(re.compile(r"/documents/[^/]+$"))
    expect(page.locator("h1.doc-title")).to_have_text(title)
