"""Bulk ingestion with a real Chromium: an administrator uploads an archive, watches the live progress
reach the end with every failure listed, and gets the report links; a file that is not an archive is
refused on the form with a message and starts nothing."""

from __future__ import annotations

import os
import re
import subprocess
import uuid
from pathlib import Path

import pytest
from test_ingest_support import mixed_archive

pytestmark = pytest.mark.browser


def _sign_in_as_admin(page, live_server) -> None:  # type: ignore[no-untyped-def]
    page.goto(live_server.url + "/login")
    page.fill("#login", "admin")
    page.fill("#password", os.environ["HUITONG_ADMIN_PASSWORD"])
    page.click("form.form-stack button[type=submit]")
    page.wait_for_url(live_server.url + "/")


def test_upload_watch_progress_and_reports(page, live_server, tmp_path: Path,  # type: ignore[no-untyped-def]
                                           celery_worker: subprocess.Popen[bytes]) -> None:
    from playwright.sync_api import expect

    archive = tmp_path / "浏览器上传.zip"
    expected = mixed_archive(archive, tag=uuid.uuid4().hex[:8])
    _sign_in_as_admin(page, live_server)
    page.goto(live_server.url + "/admin/ingest")
    page.set_input_files("#archive", str(archive))
    page.locator("input[name=index]").uncheck()  # extraction only: the model is not what this test is about
    page.locator("form.form-stack button[type=submit]").click()
    page.wait_for_url(re.compile(r"/admin/ingest/[0-9a-f-]{36}$"))
    expect(page.locator("h1")).to_contain_text("浏览器上传.zip")

    progress = page.locator("#ingest-progress")
    # the fragment polls itself every second; the report links appear once the job is done
    expect(progress.locator('a[href$="report.csv"]')).to_be_visible(timeout=240_000)
    expect(progress.locator('[data-field="ingested"]')).to_have_text(str(len(expected.stored)))
    expect(progress.locator('[data-field="duplicates"]')).to_have_text(str(len(expected.duplicates)))
    expect(progress.locator('[data-field="failed"]')).to_have_text(str(len(expected.failed)))
    expect(progress.locator("progress")).to_have_attribute("value", str(expected.files))
    failures = progress.locator("table tbody tr")
    expect(failures).to_have_count(len(expected.failed))
    for path in expected.failed:
        expect(failures.filter(has_text=path)).to_have_count(1)
    expect(progress.locator('a[href$="report.json"]')).to_be_visible()

    page.goto(live_server.url + "/admin/ingest")  # the job is in the history
    expect(page.locator("table.admin-list a", has_text="浏览器上传.zip").first).to_be_visible()


def test_a_file_that_is_not_an_archive_is_refused_with_a_message(page, live_server,  # type: ignore[no-untyped-def]
                                                                  tmp_path: Path) -> None:
    from playwright.sync_api import expect

    fake = tmp_path / "not-an-archive.zip"
    fake.write_text("just some text, not a zip", encoding="utf-8")
    _sign_in_as_admin(page, live_server)
    page.goto(live_server.url + "/admin/ingest")
    page.set_input_files("#archive", str(fake))
    page.locator("form.form-stack button[type=submit]").click()
    alert = page.locator(".flash-error[role=alert]")
    expect(alert).to_be_visible()
    expect(alert.locator("li")).to_have_count(1)
    assert re.search(r"/admin/ingest$", page.url)  # still on the form: nothing was started
