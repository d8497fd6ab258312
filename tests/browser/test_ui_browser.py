"""The design system in a real browser: every main page at 1440 and 390 px, zh-CN and en, as administrator
and member: no serious or critical axe-core violations, no horizontal overflow at 390 px, 44 px touch targets
on the mobile approval pages, and keyboard navigation reaches the main navigation.

The walk: the pages below, plus the first link of each FOLLOW kind found on them (a document, a task, its
run, a start form, a saved view, a person, a department, a position, a project, a workflow), and the error
pages (403, 404, 500, a refused CSRF token) and the signed-out login page."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from ui_support import demo_platform_graph, serving
from werkzeug.serving import make_server
from workflow_support import Org

from graph import accounts, org
from graph.falkordb_backend import FalkorStore

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
PASSWORD = "ui browser pass"
ADMIN_PASSWORD = os.environ["HUITONG_ADMIN_PASSWORD"]
ORG = Org()
WIDTHS = (1440, 390)
MEMBER_PAGES = ["/", "/inbox", "/notifications/", "/documents", "/documents/upload", "/search?q=预算", "/workflows/",
                "/decisions", "/account", "/account/tokens", "/account/password", "/trash", "/workflows/requests/new",
                "/documents/no-such-document"]
ADMIN_PAGES = ["/admin/org/", "/admin/org/people", "/admin/ingest", "/admin/audit", "/admin/webhooks", "/manage/",
               "/manage/dashboard", "/manage/bottlenecks", "/manage/explorer", "/manage/help", "/manage/duplicates",
               "/workflows/design", "/admin/org/departments", "/admin/org/positions", "/admin/org/projects",
               "/admin/org/import", "/admin/org/people/new"]
FOLLOW = {"document": r"/documents/[0-9a-f-]{36}", "task": r"/workflows/tasks/[\w-]+", "run": r"/workflows/runs/[\w-]+",
          "start": r"/workflows/[\w-]+/start", "view": r"/documents/views/[\w-]+",
          "person": r"/admin/org/people/(?!new\b)[\w-]+", "department": r"/admin/org/departments/(?!new\b)[\w-]+",
          "position": r"/admin/org/positions/(?!new\b)[\w-]+", "project": r"/admin/org/projects/(?!new\b)[\w-]+",
          "workflow": r"/workflows/(?!design\b|requests\b|tasks\b|runs\b)[\w-]+"}
MEMBER_KINDS = {"document", "start", "view", "workflow"}
ADMIN_KINDS = {"person", "department", "position", "project"}
FAILURE = "/test-only/failure"  # a view that raises: the 500 page
MOBILE_TOUCH = ("task", "start", "/inbox", "/notifications/", "document")
SERIOUS = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.filter(v => v.impact === "serious" || v.impact === "critical")
    .map(v => v.id + ": " + v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(" | "));
}"""
WIDEST = """() => {
  const clipped = e => { for (let p = e.parentElement; p; p = p.parentElement) {
    if (getComputedStyle(p).overflowX !== "visible") return true; } return false; };
  return [...document.querySelectorAll("body *")].filter(e => e.getBoundingClientRect().right > innerWidth + 1)
    .filter(e => !clipped(e)).slice(-3)
    .map(e => e.tagName + "." + e.className + " " + Math.round(e.getBoundingClientRect().right));
}"""
SMALL_TARGETS = """() => [...document.querySelectorAll(
    "main button, main select, main input:not([type=hidden]):not([type=checkbox]):not([type=radio]), main .btn")]
  .filter(e => e.offsetParent !== null)
  .filter(e => { const r = e.getBoundingClientRect(); return r.height < 43.5; })
  .map(e => e.outerHTML.slice(0, 120))"""


@pytest.fixture(scope="module")
def ui_server(graph_server, settings) -> Iterator[tuple[str, FalkorStore]]:  # type: ignore[no-untyped-def]
    from webapp import create_app

    with demo_platform_graph(graph_server, settings) as store:
        app = create_app(settings)
        with serving(app, store):
            app.add_url_rule(FAILURE, "test_failure", _failure)
            server = make_server("127.0.0.1", 0, app, threaded=True)
            thread = threading.Thread(target=server.serve_forever, daemon=True)
            thread.start()
            assert requests.get(f"http://127.0.0.1:{server.server_port}/login", timeout=60).ok  # warmed up
            try:
                yield f"http://127.0.0.1:{server.server_port}", store
            finally:
                server.shutdown()
                thread.join(timeout=10)


def _failure() -> str:
    raise RuntimeError("a failing view, for the 500 page")


def _page(browser, url: str, username: str, password: str, width: int,  # type: ignore[no-untyped-def]
          locale: str = "zh-CN"):
    # bypass_csp: axe is injected from node_modules as an inline script, which the app's CSP refuses.
    context = browser.new_context(locale=locale, viewport={"width": width, "height": 900}, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(120_000)  # the first search loads the model; the machine is shared
    page.goto(url + "/login")
    page.fill("#login", username)
    page.fill("#password", password)
    page.click("form.form-stack button[type=submit]")
    page.wait_for_load_state("load")
    assert page.url == url + "/", page.content()[-3000:]
    return page


def _check(page, url: str, paths: list[str], width: int,  # type: ignore[no-untyped-def]
           kinds: set[str] | None = None) -> dict[str, list[str]]:
    """Findings per page of the walk; ``kinds``: FOLLOW kinds the walk must have found a link of."""
    problems: dict[str, list[str]] = {}
    queue, seen, found = list(paths), set(), set()
    while queue:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        page.goto(url + path)
        page.wait_for_load_state("load")
        html = page.content()
        for kind, pattern in FOLLOW.items():
            match = re.search(f'href="({pattern})"', html)
            if kind not in found and match:
                found.add(kind)
                queue.append(match.group(1))
        _inspect(page, path, width, problems)
    missing = (kinds or set()) - found
    if missing:
        problems["walk"] = [f"no link of kind {kind} on the walked pages" for kind in sorted(missing)]
    return problems


def _inspect(page, path: str, width: int, problems: dict[str, list[str]]) -> None:  # type: ignore[no-untyped-def]
    """axe on the page as it stands; at 390 px its overflow, and the touch targets of the approval pages."""
    page.add_script_tag(path=str(AXE))
    found_here = [f"axe {v}" for v in page.evaluate(SERIOUS)]
    if width < 500:
        scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        if scroll > inner:
            found_here.append(f"overflow: scrollWidth {scroll} > {inner}: {page.evaluate(WIDEST)}")
        kind = next((k for k, p in FOLLOW.items() if re.fullmatch(p, path)), path)
        if kind in MOBILE_TOUCH:
            found_here += [f"touch target < 44 px: {e}" for e in page.evaluate(SMALL_TARGETS)]
    if found_here:
        problems[path] = found_here
        if os.environ.get("HUITONG_UI_DUMP"):  # for fixing: every finding in full
            with open(os.path.join(os.environ["HUITONG_UI_DUMP"], f"browser-{width}.txt"), "a") as report:
                report.write(f"{path}\n  " + "\n  ".join(found_here) + "\n")


def _member(store: FalkorStore) -> str:
    person_id = ORG.staff("FIN-ACC")
    accounts.set_password(store, person_id, PASSWORD)
    return str(org.get_person(store, person_id)["username"])


def _saved_view(store: FalkorStore) -> str:
    """A saved view of the member's (the navigation lists it; its page is walked)."""
    from graph.actor import Actor
    from graph.usecases import Context, saved_views

    person = org.get_person(store, ORG.staff("FIN-ACC"))
    made = saved_views.save_view(Context(store), Actor(person["id"], person["username"], person["name"]),
                                 "财务 finance", {"domain": "finance"})
    return f"/documents/views/{made['id']}"


def _decision(store: FalkorStore) -> str:
    """A decision page the member may see (they recorded it): the decision pages are walked too."""
    from graph import decisions
    from graph.actor import Actor

    person = org.get_person(store, ORG.staff("FIN-ACC"))
    made = decisions.record(store, Actor(person["id"], person["username"], person["name"]),
                            title="采购流程调整 Procurement change", text="会议决定 decided in the meeting")
    return f"/decisions/{made['id']}"


@pytest.mark.parametrize("width", WIDTHS)
def test_member_pages_are_accessible_and_fit(browser, ui_server, width: int) -> None:  # type: ignore[no-untyped-def]
    url, store = ui_server
    page = _page(browser, url, _member(store), PASSWORD, width)
    try:
        problems = _check(page, url, [*MEMBER_PAGES, _decision(store), _saved_view(store)], width, MEMBER_KINDS)
    finally:
        page.context.close()
    assert not problems, problems


@pytest.mark.parametrize("width", WIDTHS)
def test_admin_pages_are_accessible_and_fit(browser, ui_server, width: int) -> None:  # type: ignore[no-untyped-def]
    url, _ = ui_server
    page = _page(browser, url, "admin", ADMIN_PASSWORD, width)
    try:
        problems = _check(page, url, ADMIN_PAGES, width, ADMIN_KINDS)
    finally:
        page.context.close()
    assert not problems, problems


@pytest.mark.parametrize("width", WIDTHS)
def test_pages_in_english_are_accessible_and_fit(browser, ui_server, width: int) -> None:  # type: ignore[no-untyped-def]
    """The same look in en: the member's and the administrator's main pages, axe and overflow as above."""
    url, store = ui_server
    problems: dict[str, list[str]] = {}
    for username, password, paths in ((_member(store), PASSWORD, [*MEMBER_PAGES, _decision(store), _saved_view(store)]),
                                      ("admin", ADMIN_PASSWORD, ADMIN_PAGES)):
        page = _page(browser, url, username, password, width, locale="en-US")
        try:
            problems.update(_check(page, url, paths, width))
        finally:
            page.context.close()
    assert not problems, problems


@pytest.mark.parametrize(("locale", "width"), [("zh-CN", 1440), ("zh-CN", 390), ("en", 1440), ("en", 390)])
def test_error_pages_are_accessible_and_fit(browser, ui_server, locale: str, width: int) -> None:  # type: ignore[no-untyped-def]
    """403 (a member on an administrator's page), 404, 500 (a view that fails), a refused CSRF token, and the
    signed-out login page: styled, translated, axe-clean, no overflow at 390 px."""
    url, store = ui_server
    problems: dict[str, list[str]] = {}
    page = _page(browser, url, _member(store), PASSWORD, width, locale=locale)
    try:
        for path, status in (("/admin/audit", 403), ("/no-such-page", 404), (FAILURE, 500)):
            answer = page.goto(url + path)
            assert answer is not None and answer.status == status, (path, answer and answer.status)
            assert page.locator("nav").count() > 0, path  # the page has the navigation
            _inspect(page, path, width, problems)
        page.goto(url + "/documents")  # a form posted with a token that is not the session's
        with page.expect_navigation():
            page.evaluate("""() => { const form = document.createElement("form"); form.method = "post";
              form.action = "/account/password"; const token = document.createElement("input");
              token.name = "csrf_token"; token.value = "not-the-token"; form.appendChild(token);
              document.body.appendChild(form); form.submit(); }""")
        assert page.locator("h1").count() == 1
        _inspect(page, "csrf", width, problems)
        page.context.clear_cookies()
        page.goto(url + "/login")
        _inspect(page, "/login", width, problems)
    finally:
        page.context.close()
    assert not problems, problems


def test_keyboard_reaches_the_navigation(browser, ui_server) -> None:  # type: ignore[no-untyped-def]
    """Tab from the top: the skip link first, then the main navigation in order; Enter follows a link."""
    url, store = ui_server
    page = _page(browser, url, _member(store), PASSWORD, 1440)
    try:
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className") == "skip-link"
        reached = []
        for _ in range(8):
            page.keyboard.press("Tab")
            reached.append(page.evaluate("document.activeElement.getAttribute('href') || ''"))
        assert "/documents" in reached, reached
        while page.evaluate("document.activeElement.getAttribute('href')") != "/documents":
            page.keyboard.press("Shift+Tab")
        page.keyboard.press("Enter")
        page.wait_for_url(url + "/documents")
    finally:
        page.context.close()
