"""Browser-test helpers shared by tests/browser/ (Playwright, real Chromium)."""

from __future__ import annotations

from typing import Any


def sign_in(browser: Any, url: str, username: str, password: str, *, locale: str = "zh-CN",
            width: int = 1280, height: int = 900) -> tuple[Any, Any]:
    """A new browser context signed in as ``username`` on the start page: (context, page)."""
    context = browser.new_context(locale=locale, viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(url + "/login")
    page.fill("#login", username)
    page.fill("#password", password)
    page.click("form.form-stack button[type=submit]")
    page.wait_for_url(url + "/")
    return context, page
