"""A file attached to a workflow run is a real document, for the run's participants only.

Real Chromium against the live server and a real worker: the initiator attaches an invoice on the
start form; the approver downloads it from the run page; an outsider asking for the same file gets
the missing-object page; once the worker has indexed it, search finds it for the approver and not
for the outsider.
"""

from __future__ import annotations

import re
import time
import uuid

import pytest
from workflow_support import FORMS, Org

from graph import accounts, org
from graph.falkordb_backend import FalkorStore
from graph.workflows import templates

# The worker loads the embedding model on its first indexing task: allow for it on a shared machine.
pytestmark = [pytest.mark.browser, pytest.mark.timeout(1200)]

PASSWORD = "attachment browser pass"
ORG = Org()
WORKER_SECONDS = 900


def _person(store: FalkorStore, person_id: str) -> str:
    accounts.set_password(store, person_id, PASSWORD)
    return str(org.get_person(store, person_id)["username"])


def _sign_in(browser, url: str, username: str):  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(120_000)  # the machine is shared: a page may take long under load
    page.goto(url + "/login")
    page.fill("#login", username)
    page.fill("#password", PASSWORD)
    page.click("form.form-stack button[type=submit]")
    page.wait_for_url(url + "/")
    return page


def _found_by_search(page, url: str, word: str) -> bool:  # type: ignore[no-untyped-def]
    page.goto(f"{url}/search?q={word}", timeout=300_000)  # a search page may wait for the model to load
    return page.locator(".search-result", has_text=word).count() > 0


def test_attach_download_refuse_and_search(browser, live_server, demo, celery_worker) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    url = live_server.url
    templates.install_templates(demo, now=int(time.time() * 1000))  # idempotent: the expense workflow is there
    initiator, approver, outsider = (_person(demo, p) for p in (ORG.staff("RND-DATA"), ORG.head["RND-DATA"],
                                                                 ORG.staff("MKT-BRD")))
    word = f"invoice{uuid.uuid4().hex[:10]}"
    name = f"{word}.txt"
    content = f"发票 {word} 金额 1280.50 元\nInvoice {word}, amount 1280.50 CNY\n".encode()

    # -- the initiator attaches a real file on the start form ----------------------------------------------
    page = _sign_in(browser, url, initiator)
    page.goto(url + "/workflows/expense/start")
    form = FORMS["expense"]
    page.fill("#title", f"报销 {word}")
    page.fill("#f-amount", form["amount"])
    page.select_option("#f-category", form["category"])
    page.select_option("#f-project", form["project"])
    page.fill("#f-spent_on", form["spent_on"])
    page.fill("#f-reason", form["reason"])
    page.set_input_files("#f-invoice", {"name": name, "mimeType": "text/plain", "buffer": content})
    page.click("form.form-stack button[type=submit]")
    page.wait_for_url(re.compile(r"/workflows/runs/[0-9a-f-]{36}$"))
    link = page.locator(".run-files a", has_text=name)
    expect(link).to_be_visible()
    file_url = url + str(link.get_attribute("href"))

    # -- a participant (the approver) downloads it from the run page ---------------------------------------
    head = _sign_in(browser, url, approver)
    head.goto(page.url)
    with head.expect_download() as download:
        head.locator(".run-files a", has_text=name).click()
    with open(download.value.path(), "rb") as fh:
        assert fh.read() == content

    # -- an outsider gets exactly the missing-object answer ---------------------------------------------------
    other = _sign_in(browser, url, outsider)
    refused = other.request.get(file_url)
    missing = other.request.get(re.sub(r"/files/[^/]+$", "/files/no-such-document", file_url))
    assert refused.status == missing.status == 404
    token = re.compile(r'("X-CSRFToken": "|name="csrf_token" value=")[^"]*')  # per request, timestamped
    fake_path = re.sub(r"/files/[^/]+$", "/files/no-such-document", file_url)[len(url):]
    assert token.sub(r"\1", refused.text().replace(file_url[len(url):], fake_path)) == token.sub(r"\1", missing.text())

    # -- search finds it for participants only (once the worker has extracted and indexed it) ----------------
    deadline = time.monotonic() + WORKER_SECONDS
    while not _found_by_search(head, url, word):
        assert time.monotonic() < deadline, "the attachment never became searchable for the approver"
        time.sleep(2)
    assert _found_by_search(page, url, word)  # the initiator owns it
    assert not _found_by_search(other, url, word)
