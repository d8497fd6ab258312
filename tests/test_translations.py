"""Every UI string marked for translation has a Chinese translation, and the catalogue compiles."""

from __future__ import annotations

import subprocess
import sys

from babel.messages.pofile import read_po
from helpers import ROOT

CATALOGUE = ROOT / "webapp" / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"


def test_every_marked_string_is_translated(tmp_path) -> None:  # type: ignore[no-untyped-def]
    template = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-k", "_l", "-k", "N_",
         "-o", str(template), "."],
        cwd=ROOT, check=True, capture_output=True,
    )
    with template.open("rb") as handle:
        extracted = read_po(handle)
    with CATALOGUE.open("rb") as handle:
        translated = read_po(handle)
    missing = [m.id for m in extracted if m.id and (m.id not in translated or not translated[m.id].string)]
    assert not missing, f"{len(missing)} strings lack a zh-CN translation, e.g. {missing[:10]}"


def test_chinese_is_the_default_and_english_is_one_click_away(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/login")
    assert page.status_code == 200
    assert '<html lang="zh-CN">' in page.get_data(as_text=True)
    english = client.get("/login", headers={"Accept-Language": "en"})
    assert '<html lang="en">' in english.get_data(as_text=True)
