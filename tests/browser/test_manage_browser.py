"""A manager explores collaboration and exports a chart, in a real Chromium against a live server.

The server serves a graph of its own holding the demo organisation and a year of demo history, so
the other browser tests' inboxes stay as they expect them. Script errors and CSP refusals fail the
test (the dashboard reads its data from a JSON script block that the CSP must let it read).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server
from workflow_support import Org

from graph import accounts
from graph.analytics.demo_history import load_demo_history
from graph.demo_org import build_org, load_demo_org
from graph.falkordb_backend import FalkorStore
from settings import Settings

pytestmark = pytest.mark.browser

PASSWORD = "manage browser pass"
ORG = Org()
FIN_HEAD = next(str(p["username"]) for p in build_org().people if p["id"] == ORG.head["FIN"])
BIG_GRAPH_NODES = 600
RENDER_BUDGET_MS = 4000


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
        page.goto(url + "/login")
        page.fill("#login", FIN_HEAD)
        page.fill("#password", PASSWORD)
        page.click("form.form-stack button[type=submit]")
        page.wait_for_url(url + "/")
        page.click("a.nav-manage")
        expect(page.locator("h1")).to_have_text("管理看板")

        # -- explorer: departments first, a click shows a department's people -------------------------------
        page.goto(url + "/manage/explorer")
        explorer = page.locator("#explorer")
        expect(explorer).to_have_attribute("data-ready", "true")
        departments_only = int(explorer.get_attribute("data-rendered-nodes") or 0)
        assert departments_only >= 20  # the demo organisation's departments
        box = page.locator("#cy").bounding_box()
        position = page.evaluate("""() => {
            const node = window.huitongExplorer.cy.getElementById('dept:会计组');
            const p = node.renderedPosition();
            return {x: p.x, y: p.y};
        }""")
        page.mouse.click(box["x"] + position["x"], box["y"] + position["y"])
        expect(explorer).not_to_have_attribute("data-rendered-nodes", str(departments_only))
        expanded = int(explorer.get_attribute("data-rendered-nodes") or 0)
        assert expanded > departments_only
        expect(page.locator("#explorer-details h3")).to_have_text("会计组")
        people = page.evaluate("() => window.huitongExplorer.cy.nodes('[kind = \"person\"]')"
                               ".map(n => n.data('department'))")
        assert people and set(people) == {"会计组"}

        # -- search focuses a department's node, the path joins two departments ----------------------------
        page.fill("#explorer-q", "法务部")
        page.click("#explorer-search button[type=submit]")
        expect(page.locator("#explorer-details h3")).to_have_text("法务部")
        page.select_option("#path-a", "会计组")
        page.select_option("#path-b", "法务部")
        page.click("#explorer-path button[type=submit]")
        expect(page.locator("#path-result")).to_contain_text("→")
        assert page.locator("#path-result").inner_text().startswith("会计组")

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
        assert errors == [], errors
    finally:
        context.close()
