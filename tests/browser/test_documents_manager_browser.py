"""The documents list and page as a document manager in a real Chromium, in Chinese and English, at 1440 and
390 px: sorting by clicking a column header (aria-sort follows), the department tree opened and closed by
mouse and keyboard, bulk classification of ticked documents with its summary, a saved view that appears in
the navigation, and the PDF preview drawn by pdf.js under the app's own CSP, Chinese text in a font the PDF
does not embed included (pdf.js's CMaps served locally)."""

from __future__ import annotations

import re

import pytest
from documents_manager_support import cjk_pdf, red_pdf
from test_ui_browser import ADMIN_PASSWORD, ui_server  # noqa: F401 - the module's live server and demo graph

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CASES = [("zh-CN", 1440), ("en", 390), ("en", 1440), ("zh-CN", 390)]
MIDDLE_PIXEL = """() => { const c = document.querySelector('[data-pdf-preview] canvas');
  return Array.from(c.getContext('2d').getImageData(c.width / 2, c.height / 2, 1, 1).data.slice(0, 3)); }"""
INKED_PIXELS = """() => { const c = document.querySelector('[data-pdf-preview] canvas');
  const data = c.getContext('2d').getImageData(0, 0, c.width, c.height / 2).data; let dark = 0;
  for (let i = 0; i < data.length; i += 4) { if (data[i + 3] > 0 && data[i] < 128) dark += 1; }
  return dark; }"""
TEXT = {"zh-CN": {"classified": "已为 2 个文档分类。", "views": "已存视图"},
        "en": {"classified": "2 documents classified.", "views": "Saved views"}}


def _signed_in(browser, url: str, locale: str, width: int):  # type: ignore[no-untyped-def]
    """An administrator's tab (CSP enforced, as in production)."""
    context = browser.new_context(locale=locale, viewport={"width": width, "height": 900}, reduced_motion="reduce")
    page = context.new_page()
    page.set_default_timeout(60_000)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if "Refused" in m.text else None)  # the CSP's refusals
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url + "/login")
    page.fill("#login", "admin")
    page.fill("#password", ADMIN_PASSWORD)
    page.click("form.form-stack button[type=submit]")
    page.wait_for_url(url + "/")
    return page, errors


@pytest.mark.parametrize(("locale", "width"), CASES)
def test_list_sorts_collapses_bulk_classifies_and_saves_a_view(browser, ui_server, locale: str,  # type: ignore[no-untyped-def]  # noqa: F811
                                                               width: int) -> None:
    from playwright.sync_api import expect

    url, _ = ui_server
    page, errors = _signed_in(browser, url, locale, width)
    try:
        page.goto(url + "/documents")
        title = page.locator("th[data-sort=title]")
        expect(title).to_have_attribute("aria-sort", "none")
        title.locator("a").click()
        expect(page.locator("th[data-sort=title]")).to_have_attribute("aria-sort", "ascending")
        expect(page).to_have_url(re.compile(r"sort=title(&|$)"))
        page.locator("th[data-sort=title] a").click()
        expect(page.locator("th[data-sort=title]")).to_have_attribute("aria-sort", "descending")
        expect(page.locator("th[data-sort=updated]")).to_have_attribute("aria-sort", "none")
        titles = page.locator("#doc-results tbody td:nth-child(3) a").all_inner_texts()
        assert titles == sorted(titles, reverse=True) and len(titles) > 2

        # The department tree: closed branches, opened and closed with the mouse, and with the keyboard.
        toggle = page.locator(".folders .tree-toggle").first
        branch = page.locator("#" + toggle.get_attribute("aria-controls"))
        expect(toggle).to_have_attribute("aria-expanded", "false")
        expect(branch).to_be_hidden()
        shown, closed = re.compile(r"\bcollapse show\b"), re.compile(r"^folders collapse$")
        toggle.click()
        expect(toggle).to_have_attribute("aria-expanded", "true")
        expect(branch).to_have_class(shown)
        expect(branch).to_be_visible()
        toggle.focus()
        page.keyboard.press("Enter")
        expect(toggle).to_have_attribute("aria-expanded", "false")
        expect(branch).to_have_class(closed)
        expect(branch).to_be_hidden()
        page.keyboard.press("Space")
        expect(branch).to_have_class(shown)

        # Bulk: tick two documents, give them a domain; the summary says how many.
        boxes = page.locator("#doc-results input[name=document]")
        boxes.nth(0).check()
        boxes.nth(1).check()
        expect(page.locator("[data-bulk-count]")).to_have_text("(2)")
        page.locator(".bulk-actions summary").click()
        page.select_option("#bulk-domain", "legal")
        page.locator("button[name=action][value=classify]").click()
        expect(page.locator(".toast-body").first).to_contain_text(TEXT[locale]["classified"], timeout=20_000)
        expect(page.locator("th[data-sort=title]")).to_have_attribute("aria-sort", "descending")  # order kept

        # A saved view: named, then offered in the navigation on every page.
        name = f"view {locale} {width}"
        page.locator(".save-view summary").click()
        page.fill("#view-name", name)
        page.locator(".save-view button[type=submit]").click()
        expect(page).to_have_url(re.compile(r"/documents\?.*sort=title_desc.*view="))
        expect(page.locator(".view-chip[aria-current]")).to_contain_text(name)
        page.goto(url + "/")
        expect(page.locator(".nav-views .dropdown-item", has_text=name)).to_have_count(1)
        if width > 1000:  # on a phone the navigation sits behind the menu button
            page.locator(".nav-views > button").click()
            expect(page.locator(".nav-views > button")).to_contain_text(TEXT[locale]["views"])
            page.locator(".nav-views .dropdown-item", has_text=name).click()
            expect(page).to_have_url(re.compile(r"view="))
        scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert scroll <= inner
        assert errors == []
    finally:
        page.context.close()


@pytest.mark.parametrize(("locale", "width"), [("zh-CN", 1440), ("en", 390)])
def test_pdf_preview_is_drawn_by_pdfjs_under_the_csp(browser, ui_server, locale: str, width: int) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    from playwright.sync_api import expect

    url, _ = ui_server
    page, errors = _signed_in(browser, url, locale, width)
    try:
        document_id = _upload(page, url, f"preview-{locale}-{width}.pdf", red_pdf())
        page.goto(f"{url}/documents/{document_id}")
        canvases = page.locator("[data-pdf-preview] canvas[data-rendered=true]")
        expect(canvases).to_have_count(2)  # both pages of the file
        drawn = page.evaluate(MIDDLE_PIXEL)
        assert drawn[0] > 180 and drawn[1] < 80, drawn
        scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert scroll <= inner
        assert errors == []
    finally:
        page.context.close()


def _upload(page, url: str, name: str, content: bytes) -> str:  # type: ignore[no-untyped-def]
    page.goto(url + "/documents/upload")
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    answer = page.request.post(url + "/api/v1/documents", headers={"Accept": "application/json"}, multipart={
        "csrf_token": token, "domain": "finance", "access": "internal",
        "file": {"name": name, "mimeType": "application/pdf", "buffer": content}})
    assert answer.status == 201, answer.text()
    return str(answer.json()["results"][0]["document_id"])


@pytest.mark.parametrize(("locale", "width"), [("zh-CN", 1440), ("en", 390)])
def test_pdf_preview_draws_chinese_in_a_font_the_pdf_does_not_embed(browser, ui_server, locale: str,  # type: ignore[no-untyped-def]  # noqa: F811
                                                                   width: int) -> None:
    """STSong-Light is named, not embedded: pdf.js fetches the UniGB-UCS2-H CMap from this server (npm's
    pdfjs-dist, no CDN) and draws the characters; without the CMap the page stays white."""
    from playwright.sync_api import expect

    url, _ = ui_server
    page, errors = _signed_in(browser, url, locale, width)
    fetched: list[str] = []
    page.on("requestfinished", lambda request: fetched.append(request.url))
    try:
        document_id = _upload(page, url, f"cjk-{locale}-{width}.pdf", cjk_pdf())
        page.goto(f"{url}/documents/{document_id}")
        expect(page.locator("[data-pdf-preview] canvas[data-rendered=true]")).to_have_count(1)
        cmaps = [u for u in fetched if u.startswith(url + "/static/vendor/pdfjs/cmaps/")]
        assert any(u.endswith("/UniGB-UCS2-H.bcmap") for u in cmaps), fetched
        assert page.evaluate(INKED_PIXELS) > 2000  # three lines of 48 pt characters, not a blank page
        assert errors == []
    finally:
        page.context.close()
