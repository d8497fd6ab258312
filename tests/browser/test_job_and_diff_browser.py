"""The two pages the main sweep (test_ui_browser) cannot reach by following links: an ingest job's page, for a job
a real worker has run (with failures listed), and a document's version comparison. In zh-CN and en at 1440 and
390 px: no serious or critical axe-core violation, no horizontal overflow, and every word in the reader's
language (the language walk's detectors: names, paths and document text aside)."""

from __future__ import annotations

import os
import re
import subprocess
import uuid
import zipfile
from pathlib import Path

import pytest
from ui_support import demo_names, english_words, raw_words_en
from workflow_support import Org

from graph.actor import Actor
from graph.falkordb_backend import FalkorStore
from settings import Settings

pytestmark = pytest.mark.browser

CASES = [("zh-CN", 1440), ("zh-CN", 390), ("en-US", 1440), ("en-US", 390)]
ADMIN_PASSWORD = os.environ["HUITONG_ADMIN_PASSWORD"]


def _archive(path: Path, tag: str) -> None:
    """A small archive: two documents, one climbing out of its folder, one password-protected member."""
    from test_ingest_support import add_encrypted

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("财务/预算说明.md", f"# 预算说明 {tag}\n\n财务部年度预算编制说明。\n")
        zf.writestr("研发/readme.txt", f"研发部说明 {tag}\n")
        zf.writestr("../evil.txt", b"escaped")
    add_encrypted(path, "secret/salaries.txt", f"confidential {tag}\n".encode())


def _docx(*lines: str) -> bytes:
    from document_pages_support import make_docx

    return bytes(make_docx(*lines))


def _sign_in(browser, url: str, locale: str, width: int):  # type: ignore[no-untyped-def]
    context = browser.new_context(locale=locale, viewport={"width": width, "height": 900}, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(url + "/login")
    page.fill("#login", "admin")
    page.fill("#password", ADMIN_PASSWORD)
    page.click("form.form-stack button[type=submit]")
    page.wait_for_url(url + "/")
    return page


@pytest.fixture(scope="module")
def finished_job(browser, live_server, demo: FalkorStore, celery_worker: subprocess.Popen[bytes],  # type: ignore[no-untyped-def]
                 tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """(job page path, archive name) of a job uploaded through the page and run to the end by the worker."""
    from playwright.sync_api import expect

    name = f"扫描{uuid.uuid4().hex[:6]}.zip"
    archive = tmp_path_factory.mktemp("sweep") / name
    _archive(archive, uuid.uuid4().hex)
    page = _sign_in(browser, live_server.url, "zh-CN", 1440)
    try:
        page.goto(live_server.url + "/admin/ingest")
        page.set_input_files("#archive", str(archive))
        page.locator("input[name=index]").uncheck()  # extraction only: the model is not what this is about
        page.locator("form.form-stack button[type=submit]").click()
        page.wait_for_url(re.compile(r"/admin/ingest/[0-9a-f-]{36}$"))
        expect(page.locator('#ingest-progress a[href$="report.csv"]')).to_be_visible(timeout=240_000)
        expect(page.locator('#ingest-progress [data-field="failed"]')).to_have_text("2")
        return page.url.removeprefix(live_server.url), name
    finally:
        page.context.close()


@pytest.fixture(scope="module")
def two_versions(demo: FalkorStore, settings: Settings) -> tuple[str, set[str]]:
    """(comparison page path, its document's words) of a document with two versions, owned by the admin."""
    from graph.usecases import Context
    from ingest import usecases as ingest_cases

    actor = Actor(Org().admin, "admin", roles=frozenset({"admin"}))
    tag = uuid.uuid4().hex[:6]
    old = ["季度报告 Quarterly report " + tag, "第一行保持不变。", "旧的数字：一百二十万元。"]
    new = ["季度报告 Quarterly report " + tag, "第一行保持不变。", "新的数字：一百三十万元，另加一段说明。"]
    ctx = Context(demo, settings)
    names = (f"报告{tag}.docx", f"报告{tag}-v2.docx")
    first = ingest_cases.upload(ctx, actor, ingest_cases.Upload(_docx(*old), names[0]), title=f"季度报告{tag}",
                                domain="general", access="internal")
    second = ingest_cases.upload(ctx, actor, ingest_cases.Upload(_docx(*new), names[1]),
                                 document_id=first.document_id)
    for made in (first, second):  # the text each version holds (what the worker does after an upload)
        ingest_cases.process(ctx, made.version_id, index=False)
    return f"/documents/{first.document_id}/diff", {*old, *new, f"季度报告{tag}", *names}


def _problems(page, path: str, width: int, locale: str, known: set[str]) -> list[str]:  # type: ignore[no-untyped-def]
    from test_ui_browser import AXE, SERIOUS, WIDEST

    page.add_script_tag(path=str(AXE))
    found = [f"axe {v}" for v in page.evaluate(SERIOUS)]
    scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    if scroll > inner:
        found.append(f"overflow: scrollWidth {scroll} > {inner}: {page.evaluate(WIDEST)}")
    html = page.content()
    words = english_words(html, known) if locale.startswith("zh") else raw_words_en(html, known)
    found += [f"{'English' if locale.startswith('zh') else 'raw'} word: {w}" for w in sorted(set(words))]
    return [f"{path}: {p}" for p in found]


@pytest.mark.parametrize(("locale", "width"), CASES)
def test_job_and_comparison_pages(browser, live_server, demo: FalkorStore, finished_job: tuple[str, str],  # type: ignore[no-untyped-def]
                                  two_versions: tuple[str, set[str]], locale: str, width: int) -> None:
    job_path, archive_name = finished_job
    diff_path, document_words = two_versions
    known = demo_names(demo) | {archive_name} | document_words
    page = _sign_in(browser, live_server.url, locale, width)
    problems: list[str] = []
    try:
        page.goto(live_server.url + job_path)
        assert page.locator("#ingest-progress tbody tr").count() == 2  # the failures are on the page, worded
        problems += _problems(page, job_path, width, locale, known)
        page.goto(live_server.url + diff_path)
        assert page.locator(".diff .diff_add, .diff .diff_chg, .diff .diff_sub").count() > 0
        problems += _problems(page, diff_path, width, locale, known)
    finally:
        page.context.close()
    assert not problems, problems


def test_failure_reasons_in_chinese(browser, live_server, demo: FalkorStore,  # type: ignore[no-untyped-def]
                                    finished_job: tuple[str, str]) -> None:
    page = _sign_in(browser, live_server.url, "zh-CN", 1440)
    try:
        page.goto(live_server.url + finished_job[0])
        reasons = page.locator("#ingest-progress tbody td:nth-child(2)").all_inner_texts()
    finally:
        page.context.close()
    assert len(reasons) == 2 and not english_words(" ".join(f"<p>{r}</p>" for r in reasons), set()), reasons
