"""Documents in a real Chromium against the live server and the real Celery worker: upload a DOCX by
drag and drop, watch it appear, open it, read its extracted text and why it is visible, upload a new
version and compare the two."""

from __future__ import annotations

import base64
import re
import uuid

import pytest
from document_pages_support import make_docx

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WORKER_TIMEOUT_MS = 240_000  # the worker loads the embedding model on its first indexing task
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

# A real drop: a DataTransfer built in the page from the file's bytes, dispatched on the drop zone.
DROP = """([name, data, mime]) => {
  const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], name, {type: mime}));
  const zone = document.getElementById("dropzone");
  for (const type of ["dragenter", "dragover", "drop"]) {
    zone.dispatchEvent(new DragEvent(type, {dataTransfer: transfer, bubbles: true, cancelable: true}));
  }
}"""


def test_drop_upload_read_why_new_version_and_diff(page, live_server, demo_user, celery_worker) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    url, errors = live_server.url, []
    page.on("console", lambda m: errors.append(m.text) if "Refused" in m.text else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url + "/login")
    page.fill("#login", demo_user.username)
    page.fill("#password", demo_user.password)
    page.click("form.form-stack button[type=submit]")
    page.wait_for_url(url + "/")

    name = f"browser-{uuid.uuid4().hex[:8]}"
    first = make_docx("汇通浏览器测试 第一版", "unchanged closing line")
    page.goto(url + "/documents/upload")
    page.select_option("#domain", "finance")
    page.evaluate(DROP, [f"{name}.docx", base64.b64encode(first).decode(), DOCX_MIME])
    stored = page.locator("#upload-queue .upload-ok a")
    expect(stored).to_have_attribute("href", re.compile(r"^/documents/[0-9a-f-]{36}$"))
    document_url = url + stored.get_attribute("href")

    page.goto(url + "/documents?tab=mine")
    listed = page.locator("#doc-results a", has_text=name)
    expect(listed).to_be_visible()
    listed.click()
    page.wait_for_url(document_url)
    # The text part refreshes itself when the worker's status event arrives over SSE.
    expect(page.locator("pre.doc-text")).to_contain_text("汇通浏览器测试 第一版", timeout=WORKER_TIMEOUT_MS)
    expect(page.locator("#doc-summary [data-status]")).not_to_have_attribute("data-status", "pending")
    expect(page.locator(".why summary")).to_be_visible()
    expect(page.locator(".why-text")).to_have_text("您是该文档的所有者。")

    second = make_docx("汇通浏览器测试 第二版", "unchanged closing line")
    page.set_input_files("#version-file", {"name": f"{name}-v2.docx", "mimeType": DOCX_MIME, "buffer": second})
    page.fill("#version-note", "第二版修订")
    page.click(".version-form button[type=submit]")
    expect(page.locator(".version-form .upload-status")).not_to_be_empty()
    expect(page.locator("#doc-versions tr.current")).to_contain_text("v2")
    expect(page.locator("#doc-versions")).to_contain_text("第二版修订")
    expect(page.locator("pre.doc-text")).to_contain_text("第二版", timeout=WORKER_TIMEOUT_MS)

    page.click(".diff-form button[type=submit]")
    page.wait_for_url(re.compile(r"/diff\?"))
    # One line changed, one character in it: difflib marks the character inside the changed line.
    changed = page.locator("table.diff tr", has=page.locator(".diff_chg"))
    expect(changed).to_have_count(1)
    expect(changed).to_contain_text("第一版")
    expect(changed).to_contain_text("第二版")
    expect(page.locator("table.diff")).to_contain_text("unchanged closing line")
    assert errors == []
