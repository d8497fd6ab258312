"""Server time of the main pages, an older commit against this tree, in one run, on one graph.

Usage: python bench/pages_bench.py [--old-commit e7b0df2] [--rounds 3] [--repeat 5] [--pages /admin/org,/workflows/]
The same demo graph (organisation, templates, 16 documents, a fifth of the history) is served by the code of
``--old-commit`` (``git archive`` into a temp folder; default: main as it stood before the third round) and by
this tree, in alternating rounds; each page is opened signed in through the WSGI test client, so the time is the
server's alone: the member's pages as a member; a task and a run (``{run}``: the run of their first task) as
the person holding the most open tasks; the manager and admin pages as admin. A page whose address is a link
(``@pattern<source``) takes the first link matching the pattern on the source page, the same for both trees.
Ends with one JSON line of the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ["HUITONG_DATA_DIR"] = tempfile.mkdtemp(prefix="ht-bench-pages-")
sys.path.insert(0, str(ROOT / "bench"))
from documents_bench import _old_tree, _pct  # noqa: E402

GRAPH = "bench_ui_pages"
DEFAULT_OLD = "e7b0df2"  # main at 14:55 UTC on 2026-12-03, before the third round's merges
DOCUMENT, TASK = r"@/documents/[0-9a-f-]{36}(?=\")<", r"@/workflows/tasks/[\w-]+(?=\")<"
PAGES = {"member": ["/", "/documents", DOCUMENT + "/documents", "/search?q=预算", "/inbox",
                    r"@/workflows/[\w-]+/start(?=\")</workflows/", "/workflows/", "/notifications/", "/account"],
         "approver": [TASK + "/inbox", "/workflows/runs/{run}"],
         "admin": ["/workflows/design", "/manage/dashboard", "/manage/bottlenecks", "/manage/explorer/data.json",
                   "/admin/org/people", "/admin/audit"]}

_CLIENT = r"""
import json, re, sys, threading, time
from settings import load_settings
from webapp import create_app
who, pages, repeat = json.loads(sys.argv[1])
app = create_app(load_settings())
app.config.update(TESTING=True)
for thread in threading.enumerate():
    if thread.name == "search-warm-up":
        thread.join()
times = {}

def address(client, page):
    if not page.startswith("@"):
        return page
    pattern, _, source = page[1:].partition("<")
    found = re.search(pattern, client.get(address(client, source)).get_data(as_text=True))
    return found.group(0) if found else None

for role, (username, password) in who.items():
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    assert client.post("/login", data={"login": username, "password": password, "csrf_token": token}).status_code == 302
    for page in pages[role]:
        path = address(client, page)
        if path is None:
            print("no link for", page, file=sys.stderr)
            continue
        assert client.get(path).status_code == 200, path  # warm
        for _ in range(repeat):
            start = time.perf_counter()
            client.get(path)
            times.setdefault(page, []).append((time.perf_counter() - start) * 1000)
print(json.dumps(times))
"""


def _times(code: Path, settings: object, who: dict[str, list[str]], pages: dict[str, list[str]],
           repeat: int) -> dict[str, list[float]]:
    env = {**os.environ, "PYTHONPATH": str(code), "HUITONG_GRAPH_NAME": GRAPH,
           "HUITONG_DATA_DIR": str(settings.data_dir)}  # type: ignore[attr-defined]
    done = subprocess.run([sys.executable, "-c", _CLIENT, json.dumps([who, pages, repeat])], cwd=code, env=env,
                          capture_output=True, text=True, timeout=3600)
    if done.returncode != 0:
        raise RuntimeError(f"page run in {code} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _busiest_approver(store: object, people: list[dict[str, object]]) -> dict[str, object]:
    """The person with the most open tasks of the demo history (their inbox, a task and its run are timed)."""
    import time

    from graph.workflows import inbox

    now = int(time.time() * 1000)
    return max(people, key=lambda p: len(inbox.my_tasks(store, str(p["id"]), now=now, limit=200)))  # type: ignore[arg-type]


def _label(page: str) -> str:
    """A linked page's name in the figures: ``@/workflows/tasks/...<...`` -> ``/workflows/tasks/<id>``."""
    if not page.startswith("@"):
        return page
    pattern = page[1:].partition("<")[0]
    return re.sub(r"\[[^]]*\][+*]?(\{\d+\})?(\(\?=[^)]*\))?", "<id>", pattern).replace("(?=\\\")", "")


def main() -> None:
    import shutil
    import time

    from graph import accounts, embedded_server
    from graph.analytics.demo_history import load_demo_history
    from graph.demo_org import load_demo_org
    from graph.falkordb_backend import FalkorStore
    from graph.workflows.templates import install_templates
    from ingest.demo_docs import load_demo_documents
    from settings import load_settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old-commit", default=DEFAULT_OLD)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--pages", default="", help="comma-separated parts of page names: time only those")
    args = parser.parse_args()
    wanted = [part for part in args.pages.split(",") if part]
    settings = load_settings()
    server = embedded_server(settings)
    server.ensure_running()
    store = FalkorStore(server, GRAPH)
    store.ensure_schema()
    old = _old_tree(args.old_commit)
    # Compiled catalogues are not in git: both trees render in Chinese, as people see them.
    subprocess.run([str(Path(sys.executable).parent / "pybabel"), "compile", "-d",
                    str(old / "webapp" / "translations")], check=True)
    password = secrets.token_urlsafe(12)
    try:
        load_demo_org(store, password)
        install_templates(store, now=int(time.time() * 1000))
        load_demo_documents(store, settings, 16, index=False)
        load_demo_history(store, scale=0.2)
        member = next(p for p in accounts.list_people(store)
                      if p["roles"] == ["member"] and p["departments"][:1] == ["FIN-ACC"])
        accounts.set_password(store, member["id"], password)
        approver = _busiest_approver(store, accounts.list_people(store))
        accounts.set_password(store, approver["id"], password)
        from graph.workflows import inbox

        run = inbox.my_tasks(store, str(approver["id"]), now=int(time.time() * 1000), limit=1)[0]["run_id"]
        pages = {role: [p.replace("{run}", str(run)) for p in paths
                        if not wanted or any(part in _label(p) for part in wanted)] for role, paths in PAGES.items()}
        who = {"member": [member["username"], password], "approver": [approver["username"], password],
               "admin": ["admin", password]}
        before: dict[str, list[float]] = {}
        after: dict[str, list[float]] = {}
        for _ in range(args.rounds):
            for target, code in ((before, old), (after, ROOT)):
                for path, values in _times(code, settings, who, pages, args.repeat).items():
                    target.setdefault(path, []).extend(values)
    finally:
        store.drop_all()
        shutil.rmtree(old, ignore_errors=True)
        server.stop()
    figures: dict[str, object] = {"old_commit": args.old_commit, "requests_per_page": len(next(iter(after.values())))}
    ratios = []
    for page in after:
        path = _label(page.replace(str(run), "<id>"))
        if page not in before:
            print(f"{path}: not served by {args.old_commit}")
            continue
        b50, a50 = statistics.median(before[page]), statistics.median(after[page])
        ratios.append(a50 / max(b50, 0.1))
        figures[path] = {"before_ms_p50": round(b50, 1), "after_ms_p50": round(a50, 1),
                         "before_ms_p95": _pct(before[page], 0.95), "after_ms_p95": _pct(after[page], 0.95),
                         "ratio_p50": round(a50 / max(b50, 0.1), 3)}
        print(f"{path:30} p50 {b50:7.1f} -> {a50:7.1f} ms   p95 {_pct(before[page], 0.95):7.1f} -> "
              f"{_pct(after[page], 0.95):7.1f} ms   x{a50 / max(b50, 0.1):.2f}")
    figures["after_over_before_p50_median"] = round(statistics.median(ratios), 3)
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
