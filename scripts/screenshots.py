"""Screenshots of the main pages in Chinese and English at 1440 and 390 px, into docs/screenshots/ (README).

Starts its own platform in a temporary data folder (embedded graph, the demo organisation, templates,
some documents with their thumbnails and history), serves it on a free loopback port and drives Chromium
with Playwright; nothing else needs to run (a fresh clone after ``scripts/setup.sh --dev``):

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--chromium /usr/bin/chromium]
        [--lang zh|en|all] [--only NAME,...]

Files are ``NAME-desktop.png`` / ``NAME-mobile.png`` (Chinese) and ``NAME-desktop-en.png`` /
``NAME-mobile-en.png`` (English), reduced to a 256-colour palette so the folder stays small.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ADMIN_PASSWORD = secrets.token_urlsafe(12)  # a throw-away platform: passwords of this run only
MEMBER_PASSWORD = secrets.token_urlsafe(12)
WIDTHS = {"desktop": (1440, 900), "mobile": (390, 844)}
LOCALES = {"zh": ("zh-CN", ""), "en": ("en-US", "-en")}
# (file name, who, path or ``@pattern`` of the first link to follow from the previous page of that person, or
# from the page after ``<``; ``{run}``: the run of the approver's first task). The documents list shows PDFs:
# their first pages are the thumbnails.
PAGES = [
    ("home", "member", "/"), ("documents", "member", "/documents?kind=pdf"),
    ("document", "member", r"@/documents/[0-9a-f-]{36}"), ("search", "member", "/search?q=预算"),
    ("picker", "member", "/documents/upload"), ("workflows", "member", "/workflows/"),
    ("start", "member", r"@/workflows/[\w-]+/start"), ("notifications", "member", "/notifications/"),
    ("inbox", "approver", "/inbox"), ("task", "approver", r"@/workflows/tasks/[\w-]+"),
    ("run", "approver", "/workflows/runs/{run}"),
    ("dashboard", "admin", "/manage/dashboard"), ("bottlenecks", "admin", "/manage/bottlenecks"),
    ("explorer", "admin", "/manage/explorer"), ("designer", "admin", "/workflows/design?key=expense"),
    ("audit", "admin", "/admin/audit"), ("org", "admin", "/admin/org/people"),
    ("not-found", "member", "/documents/no-such-document"),
]
# What a page must show before its picture is taken (the rest waits for "load" and a short pause).
READY = {"explorer": "#explorer[data-ready=true]", "dashboard": "html[data-charts-ready=true]",
         "document": "[data-pdf-preview] canvas[data-rendered=true]"}


def _serve(data_dir: Path) -> tuple[str, object, dict[str, str]]:
    os.environ.update(HUITONG_DATA_DIR=str(data_dir), HUITONG_ADMIN_PASSWORD=ADMIN_PASSWORD,
                      HUITONG_DEMO_DOCUMENTS="24")
    from werkzeug.serving import make_server

    from graph import accounts, embedded_server, open_store
    from settings import load_settings
    from webapp import create_app
    from webapp.demo import load_demo

    settings = load_settings()
    embedded_server(settings).ensure_running()
    store = open_store(settings)
    store.ensure_schema()
    load_demo(store, settings, documents=24, index=True, echo=lambda line: print("  " + line))
    member = next(p for p in accounts.list_people(store)
                  if p["roles"] == ["member"] and p["departments"][:1] == ["FIN-ACC"])
    accounts.set_password(store, member["id"], MEMBER_PASSWORD)
    approver = _busiest_approver(store, accounts.list_people(store))
    accounts.set_password(store, approver["id"], MEMBER_PASSWORD)
    server = make_server("127.0.0.1", 0, create_app(settings), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    from graph.workflows import inbox

    task = inbox.my_tasks(store, str(approver["id"]), now=int(time.time() * 1000), limit=1)[0]
    return (f"http://127.0.0.1:{server.server_port}", server,
            {"member": str(member["username"]), "approver": str(approver["username"]), "run": str(task["run_id"])})


def _busiest_approver(store: object, people: list[dict[str, object]]) -> dict[str, object]:
    """The person with the most open tasks in the demo history: their inbox, a task and its run are shown."""
    from graph.workflows import inbox

    now = int(time.time() * 1000)
    return max(people, key=lambda p: len(inbox.my_tasks(store, str(p["id"]), now=now, limit=200)))  # type: ignore[arg-type]


def _sign_in(browser, url: str, username: str, password: str, size: tuple[int, int],  # type: ignore[no-untyped-def]
             locale: str):
    context = browser.new_context(locale=locale, viewport={"width": size[0], "height": size[1]},
                                  reduced_motion="reduce")
    page = context.new_page()
    page.set_default_timeout(120_000)
    page.goto(url + "/login")
    page.fill("#login", username)
    page.fill("#password", password)
    page.click("form.form-stack button[type=submit]")
    page.wait_for_url(url + "/")
    return page


def _show(page, url: str, name: str, target: str) -> bool:  # type: ignore[no-untyped-def]
    """Open one page as it should be pictured; False when its link is not found."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    if target.startswith("@"):
        pattern, _, source = target[1:].partition("<")
        if source:
            page.goto(url + source)
        found = re.search(f'href="({pattern})"', page.content())
        if not found:
            print(f"skipped {name}: no link on {page.url}")
            return False
        target = found.group(1)
    page.goto(url + target)
    page.wait_for_load_state("load")
    if name in READY:
        try:
            page.wait_for_selector(READY[name], state="attached", timeout=60_000)
        except PlaywrightTimeout:
            print(f"{name}: {READY[name]} not seen in 60 s; pictured as it is")
    if name == "picker":  # the share picker's list open on a typed name
        field = page.locator("[data-picker] input[role=combobox]").first
        field.click()
        field.type("财务", delay=50)
        page.wait_for_selector(".picker-list:not([hidden]) .picker-option", timeout=30_000)
    page.wait_for_timeout(800)  # fonts, charts' first frame, htmx swaps after load
    return True


def _small(path: Path) -> None:
    """A 256-colour palette PNG: UI pictures lose nothing visible and shrink to about a third."""
    from PIL import Image

    with Image.open(path) as image:
        reduced = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    reduced.save(path, optimize=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--chromium", default=os.environ.get("HUITONG_CHROMIUM", "/usr/bin/chromium"))
    parser.add_argument("--lang", choices=["zh", "en", "all"], default="all")
    parser.add_argument("--only", default="", help="comma-separated page names (default: all)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    only = {n for n in args.only.split(",") if n}
    locales = [args.lang] if args.lang != "all" else list(LOCALES)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="huitong-shots-") as data:
        started = time.monotonic()
        url, server, usernames = _serve(Path(data))
        print(f"platform ready in {time.monotonic() - started:.0f} s at {url}")
        who = {"admin": ("admin", ADMIN_PASSWORD), "member": (usernames["member"], MEMBER_PASSWORD),
               "approver": (usernames["approver"], MEMBER_PASSWORD)}
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=args.chromium, args=["--no-sandbox", "--disable-gpu"])
            for lang in locales:
                locale, suffix = LOCALES[lang]
                for width_name, size in WIDTHS.items():
                    pages = {role: _sign_in(browser, url, *who[role], size, locale) for role in who}
                    for name, role, target in PAGES:
                        if only and name not in only:
                            continue
                        page = pages[role]
                        if not _show(page, url, name, target.replace("{run}", usernames["run"])):
                            continue
                        path = args.out / f"{name}-{width_name}{suffix}.png"
                        page.screenshot(path=str(path), full_page=False)
                        _small(path)
                        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
                    for page in pages.values():
                        page.context.close()
            browser.close()
        server.shutdown()  # type: ignore[attr-defined]
        from graph import embedded_server
        from settings import load_settings

        embedded_server(load_settings()).stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
