"""Screenshots of the main pages in Chinese at 1440 and 390 px, into docs/screenshots/ (for the README).

Starts its own platform in a temporary data folder (embedded graph, the demo organisation, templates,
some documents and history), serves it on a free loopback port and drives Chromium with Playwright:

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--chromium /usr/bin/chromium]
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
# (file name, who, path or a pattern of the first link to follow from the previous page)
PAGES = [
    ("home", "member", "/"), ("inbox", "member", "/inbox"), ("task", "member", r"@/workflows/tasks/[\w-]+"),
    ("documents", "member", "/documents"), ("document", "member", r"@/documents/[0-9a-f-]{36}"),
    ("search", "member", "/search?q=预算"), ("workflows", "member", "/workflows/"),
    ("start", "member", r"@/workflows/[\w-]+/start"), ("notifications", "member", "/notifications/"),
    ("dashboard", "admin", "/manage/dashboard"), ("audit", "admin", "/admin/audit"),
    ("org", "admin", "/admin/org/people"), ("not-found", "member", "/documents/no-such-document"),
]


def _serve(data_dir: Path) -> tuple[str, object, str]:
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
    server = make_server("127.0.0.1", 0, create_app(settings), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", server, str(member["username"])


def _sign_in(browser, url: str, username: str, password: str, size: tuple[int, int]):  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="zh-CN", viewport={"width": size[0], "height": size[1]})
    page = context.new_page()
    page.set_default_timeout(120_000)
    page.goto(url + "/login")
    page.fill("#login", username)
    page.fill("#password", password)
    page.click("form.form-stack button[type=submit]")
    page.wait_for_url(url + "/")
    return page


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--chromium", default=os.environ.get("HUITONG_CHROMIUM", "/usr/bin/chromium"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="huitong-shots-") as data:
        started = time.monotonic()
        url, server, member = _serve(Path(data))
        print(f"platform ready in {time.monotonic() - started:.0f} s at {url}")
        who = {"admin": ("admin", ADMIN_PASSWORD), "member": (member, MEMBER_PASSWORD)}
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=args.chromium, args=["--no-sandbox", "--disable-gpu"])
            for width_name, size in WIDTHS.items():
                pages = {role: _sign_in(browser, url, *who[role], size) for role in who}
                for name, role, target in PAGES:
                    page = pages[role]
                    if target.startswith("@"):
                        found = re.search(f'href="({target[1:]})"', page.content())
                        if not found:
                            print(f"skipped {name}: no link on {page.url}")
                            continue
                        target = found.group(1)
                    page.goto(url + target)
                    page.wait_for_load_state("networkidle")
                    path = args.out / f"{name}-{width_name}.png"
                    page.screenshot(path=str(path), full_page=False)
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
