"""Every word in the reader's language: a walk over the main pages (and their empty and error states)
in zh-CN as administrator, member and manager, failing on English words outside names, codes and
document content (see ui_support.english_words); and the same walk in en, failing on Chinese outside
names and content and on identifiers shown raw (see ui_support.raw_words_en)."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from ui_support import (  # noqa: F401  (demo_graph: a fixture)
    CJK,
    content_names,
    demo_graph,
    demo_names,
    english_words,
    graph_names,
    raw_words_en,
)
from web_support import login
from workflow_support import Org

from graph.cypher import cypher
from graph.falkordb_backend import FalkorStore

ORG = Org()
COMMON = ["/", "/inbox", "/notifications/", "/documents", "/documents?scope=mine", "/documents/upload",
          "/search?q=预算", "/search?q=zzzqqxx", "/workflows/", "/workflows/requests/new", "/decisions", "/account",
          "/account/password", "/documents/no-such-document", "/workflows/runs/no-such-run"]
ADMIN = ["/admin/org/", "/admin/org/people", "/admin/org/departments", "/admin/ingest", "/admin/audit",
         "/admin/audit?action=login", "/admin/webhooks", "/manage/dashboard", "/manage/bottlenecks",
         "/manage/explorer", "/manage/help", "/workflows/design"]
MANAGER = ["/manage/dashboard", "/manage/bottlenecks", "/manage/explorer", "/manage/help"]
MEMBER_REFUSED = ["/admin/audit", "/manage/dashboard"]  # the 403 page
FOLLOW = {  # one page of each kind found by following the first link of the pattern
    "document": re.compile(r'href="(/documents/[0-9a-f-]{8,})"'),
    "run": re.compile(r'href="(/workflows/runs/[\w-]+)"'),
    "task": re.compile(r'href="(/workflows/tasks/[\w-]+)"'),
    "workflow": re.compile(r'href="(/workflows/(?!runs|tasks|requests|design)[\w-]+)"'),
    "start": re.compile(r'href="(/workflows/[\w-]+/start)"'),
    "decision": re.compile(r'href="(/decisions/[\w-]+)"'),
}


Detector = Callable[[str, set[str], "str | None"], list[str]]


def _chinese_page(html: str, known: set[str], _kind: str | None) -> list[str]:
    return english_words(html, known)


def _walk(client: FlaskClient, paths: list[str], known: set[str], *, lang: str = "zh-CN",
          detect: Detector = _chinese_page) -> dict[str, list[str]]:
    """Visit the pages (and the first page of each kind they link to); ``detect`` lists a page's wrong words."""
    problems: dict[str, list[str]] = {}
    seen: set[str] = set()
    queue = list(paths)
    found_kinds: set[str] = set()
    while queue:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        response = client.get(path, follow_redirects=True)
        assert response.status_code in (200, 403, 404), f"{path}: {response.status_code}"
        html = response.get_data(as_text=True)
        assert f'lang="{lang}"' in html, f"{path} is not rendered in {lang}"
        kind = next((k for k, p in FOLLOW.items() if p.fullmatch(f'href="{path}"')), None)
        words = detect(html, known, kind)
        if words:
            problems[path] = sorted(set(words))
            if os.environ.get("HUITONG_UI_DUMP"):  # for fixing: the pages as the walk saw them
                dump = Path(os.environ["HUITONG_UI_DUMP"])
                dump.mkdir(parents=True, exist_ok=True)
                (dump / (lang + re.sub(r"\W+", "_", path) + ".html")).write_text(html)
                with (dump / "problems.txt").open("a") as report:
                    report.write(f"{lang}\t{path}\t{' '.join(problems[path])}\n")
        for name, pattern in FOLLOW.items():
            match = pattern.search(html)
            if name not in found_kinds and match:
                found_kinds.add(name)
                queue.append(match.group(1))
    return problems


@pytest.fixture(scope="module")
def known(demo_graph: FalkorStore) -> set[str]:  # noqa: F811
    return demo_names(demo_graph) | {"zzzqqxx"}  # the search words typed, echoed in "no results"


def _client(app: Flask, store: FalkorStore, person_id: str) -> FlaskClient:
    return login(app, store, person_id, language="zh-CN,zh;q=0.9")


def test_admin_sees_only_chinese(app: Flask, demo_graph: FalkorStore, known: set[str]) -> None:  # noqa: F811
    problems = _walk(_client(app, demo_graph, ORG.admin), COMMON + ADMIN, known)
    assert not problems, problems


def test_member_sees_only_chinese(app: Flask, demo_graph: FalkorStore, known: set[str]) -> None:  # noqa: F811
    problems = _walk(_client(app, demo_graph, ORG.staff("FIN-ACC")), COMMON + MEMBER_REFUSED, known)
    assert not problems, problems


def test_manager_sees_only_chinese(app: Flask, demo_graph: FalkorStore, known: set[str]) -> None:  # noqa: F811
    problems = _walk(_client(app, demo_graph, ORG.head["FIN"]), COMMON + MANAGER, known)
    assert not problems, problems


def test_the_detector_finds_english() -> None:
    """The walk can fail: an English UI sentence is found, names and content are not."""
    html = ('<body><p>请 Click here</p><a href="/documents/abc-123">Annual budget</a>'
            '<span translate="no">Alice</span><input placeholder="Type a name">'
            '<p>FIN-ACC · report.pdf · v2 · 12 MiB</p><p>状态 initiator_head</p></body>')
    assert english_words(html, set()) == ["Click", "here", "Type", "name", "initiator_head"]


# -- English: no Chinese outside names and content, no identifiers shown raw -------------------------------
# Pages whose Chinese is content by nature in the demo: a run shows the form its initiator filled in.
EN_CONTENT_PAGES = {"run", "task"}


def _english_page(html: str, known: set[str], kind: str | None) -> list[str]:
    words = raw_words_en(html, known)
    return [w for w in words if kind not in EN_CONTENT_PAGES or not CJK.fullmatch(w)]


@pytest.fixture(scope="module")
def known_en(demo_graph: FalkorStore, known: set[str]) -> set[str]:  # noqa: F811
    # The search word typed (echoed back) and the demo uploads' version note: the uploader's own words. The
    # manager pages name workflows and steps in English wherever their definitions do (Chinese only where
    # there is no English name): names from the graph, not UI words.
    return known | content_names(demo_graph) | graph_names(demo_graph) | {"预算", "首次上传"}


@pytest.mark.parametrize("who", ["admin", "member", "manager"])
def test_english_pages_show_no_chinese_or_raw_codes(app: Flask, demo_graph: FalkorStore, known_en: set[str],  # noqa: F811
                                                    who: str) -> None:
    person, extra = {"admin": (ORG.admin, ADMIN), "member": (ORG.staff("FIN-ACC"), MEMBER_REFUSED),
                     "manager": (ORG.head["FIN"], MANAGER)}[who]
    client = login(app, demo_graph, person, language="en")
    problems = _walk(client, COMMON + extra, known_en, lang="en", detect=_english_page)
    assert not problems, problems


def test_the_english_detector_finds_raw_words() -> None:
    """The English walk can fail: Chinese UI words and stored codes are found, names and titles are not."""
    html = ('<body><p>Status: 待处理 · initiator_head</p><a href="/workflows/runs/r1">差旅报销</a>'
            '<span translate="no">李娜</span><p>汇通 · 中文</p><p>王芳 approved</p></body>')
    assert raw_words_en(html, {"王芳"}) == ["待处理", "initiator_head"]


# -- pages no link leads to from the walk: a document's version comparison -----------------------------------


TWO_VERSIONS = cypher("tests.ui_two_versions", """
    MATCH (d:Document)-[:HAS_VERSION]->(v:Version)
    WITH d, count(v) AS versions WHERE versions > 1
    RETURN d.id AS id, d.owner_id AS owner ORDER BY id LIMIT 1
""")


def _comparison(store: FalkorStore) -> tuple[str, str]:
    """(owner id, comparison page) of a demo document with two versions."""
    rows = store.run(TWO_VERSIONS, {})
    assert rows, "the demo has a document with two versions"
    return rows[0]["owner"], f"/documents/{rows[0]['id']}/diff"


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_version_comparison_in_the_readers_language(app: Flask, demo_graph: FalkorStore, known: set[str],  # noqa: F811
                                                    known_en: set[str], lang: str) -> None:
    owner, path = _comparison(demo_graph)
    client = login(app, demo_graph, owner, language=lang)
    page = client.get(path)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'class="diff"' in html
    assert "diff_next" not in html  # difflib's "f", "n", "t" links are not shown
    if lang == "en":
        problems = _walk(client, [path], known_en, lang="en", detect=_english_page)
    else:
        problems = _walk(client, [path], known)
    assert not problems, problems
