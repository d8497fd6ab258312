"""A manager explores collaboration and exports a chart, in a real Chromium against a live server.

The server serves a graph of its own holding the demo organisation and a year of demo history, so
the other browser tests' inboxes stay as they expect them. Script errors and CSP refusals fail the
test (the dashboard reads its data from a JSON script block that the CSP must let it read).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from itertools import pairwise

import pytest
from werkzeug.serving import make_server
from workflow_support import Org

from graph import accounts
from graph.analytics.demo_history import load_demo_history
from graph.demo_org import build_org, load_demo_org, node_id
from graph.falkordb_backend import FalkorStore
from settings import Settings

pytestmark = pytest.mark.browser

PASSWORD = "manage browser pass"
ORG = Org()
FIN_HEAD = next(str(p["username"]) for p in build_org().people if p["id"] == ORG.head["FIN"])
BIG_GRAPH_NODES = 600
RENDER_BUDGET_MS = 4000
ACCOUNTING = node_id("dept", "FIN-ACC")


@pytest.fixture(scope="module")
def manage_server(settings: Settings, graph_server) -> Iterator[str]:  # type: ignore[no-untyped-def]
    from webapp import create_app

    graph_name = f"t_manage_browser_{os.getpid()}"
    store = FalkorStore(graph_server, graph_name)
    store.ensure_schema()
    load_demo_org(store, os.environ["HUITONG_ADMIN_PASSWORD"])
    load_demo_history(store)
    accounts.set_password(store, ORG.head["FIN"], PASSWORD)
    app = create_app(settings.model_copy(update={"graph_name": graph_name}))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="manage-live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        store.drop_all()
        store.close()


def _synthetic(nodes: int, communities: int = 12) -> dict:
    """A collaboration graph of ``nodes`` people in departments and communities, ~4 links per person."""
    departments = [f"部门{i}" for i in range(communities * 2)]
    elements: dict[str, list] = {"nodes": [], "edges": []}
    for i, name in enumerate(departments):
        elements["nodes"].append({"data": {"id": f"dept:{name}", "label": name, "kind": "department",
                                           "department": name, "betweenness": 0.0, "community": i // 2,
                                           "degree": 1}})
    people = nodes - len(departments)
    for p in range(people):
        dept = departments[p % len(departments)]
        elements["nodes"].append({"data": {"id": f"person:p{p}", "label": f"员工 {p}", "kind": "person",
                                           "department": dept, "betweenness": 0.0,
                                           "community": (p % len(departments)) // 2, "degree": 1}})
        elements["edges"].append({"data": {"id": f"m{p}", "source": f"person:p{p}", "target": f"dept:{dept}",
                                           "weight": 1, "kinds": {"member": 1}}})
        for k in (1, 2, 7):
            q = (p + k * len(departments)) % people if k < 7 else (p * 31 + 17) % people
            if q != p:
                elements["edges"].append({"data": {"id": f"e{p}-{k}", "source": f"person:p{p}",
                                                   "target": f"person:p{q}", "weight": 1 + (p + q) % 5,
                                                   "kinds": {"co_assigned": 1}}})
    return {"elements": elements}


def _sign_in(page, url: str) -> None:  # type: ignore[no-untyped-def]
    """The head of finance signs in and lands on the home page."""
    page.goto(url + "/login")
    page.fill("#login", FIN_HEAD)
    page.fill("#password", PASSWORD)
    page.click("form.form-stack button[type=submit]")
    page.wait_for_url(url + "/")


def test_explore_expand_find_path_and_export_a_chart(browser, manage_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    url = manage_server
    context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(f"{m.text} @ {m.location['url']} on {page.url}")
            if ("Refused" in m.text or m.type == "error") and "favicon" not in m.location["url"] else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        _sign_in(page, url)
        page.click("a.nav-manage")
        expect(page.locator("h1")).to_have_text("管理看板")

        # -- explorer: departments first, a click shows a department's people -------------------------------
        page.goto(url + "/manage/explorer")
        explorer = page.locator("#explorer")
        # The first load computes betweenness over a year of history (~5 s on a quiet machine).
        expect(explorer).to_have_attribute("data-ready", "true", timeout=60_000)
        departments_only = int(explorer.get_attribute("data-rendered-nodes") or 0)
        assert departments_only >= 20  # the demo organisation's departments
        box = page.locator("#cy").bounding_box()
        position = page.evaluate("""id => {
            const p = window.huitongExplorer.cy.getElementById(id).renderedPosition();
            return {x: p.x, y: p.y};
        }""", f"dept:{ACCOUNTING}")
        page.mouse.click(box["x"] + position["x"], box["y"] + position["y"])
        assert page.evaluate("() => window.huitongExplorer.cy.zoom()") <= 2  # a click never over-zooms
        expect(explorer).not_to_have_attribute("data-rendered-nodes", str(departments_only))
        expanded = int(explorer.get_attribute("data-rendered-nodes") or 0)
        assert expanded > departments_only
        expect(page.locator("#explorer-details h3")).to_have_text("会计组")
        people = page.evaluate("() => window.huitongExplorer.cy.nodes('[kind = \"person\"]')"
                               ".map(n => n.data('department'))")
        assert people and set(people) == {ACCOUNTING}
        # -- aggregated links: one edge per pair, width by volume, colour by kind, and a legend --------------
        edges = page.evaluate("""() => window.huitongExplorer.cy.edges().map(e => ({
            weight: e.data('weight'), width: parseFloat(e.style('width')), colour: e.style('line-color'),
            kind: e.data('kind')}))""")
        assert len({(e["weight"], e["width"]) for e in edges}) > 1
        by_weight = sorted(edges, key=lambda e: e["weight"])
        assert by_weight[0]["width"] < by_weight[-1]["width"]  # wider means more interactions
        assert all(a["width"] <= b["width"] for a, b in pairwise(by_weight))
        assert len({e["colour"] for e in edges}) > 1 and len({e["kind"] for e in edges}) > 1
        expect(page.locator("[data-legend] [data-legend-kind]")).to_have_count(5)
        expect(page.locator("[data-legend-kind=handoffs]")).to_contain_text("流程交接")

        # -- search focuses a department's node, the path joins two departments ----------------------------
        page.fill("#explorer-q", "法务部")
        page.click("#explorer-search button[type=submit]")
        expect(page.locator("#explorer-details h3")).to_have_text("法务部")
        page.select_option("#path-a", "会计组")
        page.select_option("#path-b", "法务部")
        page.click("#explorer-path button[type=submit]")
        expect(page.locator("#path-result")).to_contain_text("→")
        assert page.locator("#path-result").inner_text().startswith("会计组")
        on_path = page.evaluate("() => window.huitongExplorer.cy.nodes('.on-path').map(n => n.data('label'))")
        assert {"会计组", "法务部"} <= set(on_path)  # the path is highlighted in the graph itself
        assert page.evaluate("() => window.huitongExplorer.cy.edges('.on-path').length") >= 1

        # -- 500+ nodes: the community layout, timed in the browser ---------------------------------------------
        ms = page.evaluate("data => window.huitongExplorer.show(data, true)", _synthetic(BIG_GRAPH_NODES))
        assert int(explorer.get_attribute("data-rendered-nodes") or 0) == BIG_GRAPH_NODES
        print(f"explorer render of {BIG_GRAPH_NODES} nodes: {ms} ms")
        assert ms < RENDER_BUDGET_MS, f"{BIG_GRAPH_NODES} nodes took {ms} ms to draw"

        # -- dashboard: charts drawn, one exported as PNG -----------------------------------------------------
        page.goto(url + "/manage/dashboard")
        expect(page.locator("html")).to_have_attribute("data-charts-ready", "true")
        expect(page.locator(".warning").first).to_be_visible()
        with page.expect_download() as download_info:
            page.click("button[data-png=handling]")
        download = download_info.value
        name = download.suggested_filename
        assert name.startswith("huitong-handling-") and name.endswith(".png")
        target = tmp_path / download.suggested_filename
        download.save_as(target)
        data = target.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
        # The PNG carries the chart's title (drawn by the export, not only shown on the page).
        png = page.evaluate("() => window.huitongDashboard.png('completion')")
        assert png["title"] == "各部门任务完成率" and png["url"].startswith("data:image/png")

        # -- the per-period table: collapsed, 25 rows a page ------------------------------------------------------
        rows = page.locator("table[data-table=dashboard]")
        expect(rows).to_be_hidden()
        page.click("#period-rows summary")
        expect(rows.locator("tbody tr")).to_have_count(25)
        page.locator("#period-rows a[rel=next]").click()
        expect(page.locator("table[data-table=dashboard]")).to_have_attribute("data-page", "2")
        expect(page.locator("table[data-table=dashboard]")).to_be_visible()
        assert errors == [], errors
    finally:
        context.close()


@pytest.mark.parametrize("width", (1440, 390))
@pytest.mark.parametrize("language", ("zh-CN", "en"))
def test_manager_pages_are_accessible_and_fit(browser, manage_server, width: int, language: str) -> None:  # type: ignore[no-untyped-def]
    """axe-core finds nothing serious or critical on the four manager pages, and nothing overflows at 390 px."""
    from test_ui_browser import AXE, SERIOUS, WIDEST

    context = browser.new_context(locale=language, viewport={"width": width, "height": 900}, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(60_000)
    problems: dict[str, list[str]] = {}
    try:
        _sign_in(page, manage_server)
        for path in ("/manage/dashboard", "/manage/bottlenecks", "/manage/explorer", "/manage/help"):
            page.goto(manage_server + path)
            page.wait_for_load_state("load")
            if path == "/manage/explorer":
                page.wait_for_selector("#explorer[data-ready=true]")
            assert page.locator("html").get_attribute("lang") == ("zh-CN" if language == "zh-CN" else "en")
            page.add_script_tag(path=str(AXE))
            found = [f"axe {v}" for v in page.evaluate(SERIOUS)]
            scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
            if scroll > inner:
                found.append(f"overflow: scrollWidth {scroll} > {inner}: {page.evaluate(WIDEST)}")
            if found:
                problems[path] = found
    finally:
        context.close()
    assert not problems, problems
