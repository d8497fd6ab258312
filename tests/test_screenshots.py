"""The README's screenshots: the script's pages are real routes, every picture the README shows is in
docs/screenshots/, the folder holds only what the script makes, and it stays small."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

from werkzeug.exceptions import MethodNotAllowed, NotFound

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "docs" / "screenshots"
MAX_BYTES = 8 * 1024 * 1024


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("screenshots", ROOT / "scripts" / "screenshots.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_pages_pictured_are_routes_of_the_app(app) -> None:  # type: ignore[no-untyped-def]
    script = _script()
    urls = app.url_map.bind("localhost")
    for name, _, target in script.PAGES:
        path = target if not target.startswith("@") else target.partition("<")[2]
        if not path:
            continue
        try:
            endpoint, _ = urls.match(path.split("?")[0], method="GET")
        except (NotFound, MethodNotAllowed):
            endpoint = None
        if name == "not-found":
            assert endpoint == "documents.page"  # a document id that names nothing
        else:
            assert endpoint, (name, path)


def test_the_folder_holds_the_pictures_the_readme_shows_and_stays_small() -> None:
    script = _script()
    made = {f"{name}-{width}{suffix}.png" for name, _, _ in script.PAGES for width in script.WIDTHS
            for _, suffix in script.LOCALES.values()}
    present = {path.name for path in SHOTS.glob("*.png")}
    assert present <= made, f"pictures no page of the script makes: {sorted(present - made)}"
    shown = set(re.findall(r"\(docs/screenshots/([\w.-]+\.png)\)", (ROOT / "README.md").read_text(encoding="utf-8")))
    assert shown and shown <= present, sorted(shown - present)
    assert any(n.endswith("-en.png") for n in shown) and any("-mobile" in n for n in shown)
    assert sum(path.stat().st_size for path in SHOTS.glob("*.png")) < MAX_BYTES
