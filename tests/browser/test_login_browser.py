"""A person signs in with a real Chromium, sees the home page, switches language and signs out."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.browser


def test_sign_in_switch_language_sign_out(page, live_server, demo_user) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    page.goto(live_server.url + "/")
    expect(page).to_have_url(re.compile(r"/login\?next=/$"))
    expect(page.locator("h1")).to_have_text("登录汇通")

    page.fill("#login", demo_user.username)
    page.fill("#password", "not the password")
    page.click("form.form-stack button[type=submit]")
    expect(page.locator("[role=alert]")).to_contain_text("用户名、邮箱或密码错误")

    page.fill("#password", demo_user.password)
    page.click("form.form-stack button[type=submit]")
    expect(page).to_have_url(live_server.url + "/")
    expect(page.locator("h1")).to_have_text("欢迎使用汇通")

    page.select_option("#lang-select", "en")
    page.click(".lang-switch button[type=submit]")
    expect(page.locator("h1")).to_have_text("Welcome to Huitong")
    expect(page).to_have_url(live_server.url + "/")

    page.goto(live_server.url + "/account")
    expect(page.locator("dd").first).to_have_text(demo_user.name)
    page.click(".logout-form button[type=submit]")
    expect(page).to_have_url(live_server.url + "/login")
    expect(page.locator("h1")).to_have_text("Sign in to Huitong")
    expect(page.locator(".flash")).to_contain_text("You have signed out.")

    page.goto(live_server.url + "/")
    expect(page).to_have_url(re.compile(r"/login\?next=/$"))


def test_session_cookie_is_not_readable_by_scripts(page, live_server, demo_user) -> None:  # type: ignore[no-untyped-def]
    page.goto(live_server.url + "/login")
    page.fill("#login", demo_user.username)
    page.fill("#password", demo_user.password)
    page.click("form.form-stack button[type=submit]")
    page.wait_for_url(live_server.url + "/")
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["session"]["httpOnly"] is True and cookies["session"]["sameSite"] == "Lax"
    assert "session=" not in page.evaluate("document.cookie")
