"""What the UI tests share: a graph with the whole demo (organisation, templates, documents, history)
served by the app, the people who walk it, and the main pages a walk visits.

English detection: the visible text of a page (and the labels screen readers read) minus names, codes
and document content. Content is marked in the templates with ``translate="no"`` (the HTML attribute
for "do not translate this"), links to documents carry their titles, and the demo's own names
(document titles, file names) come from the demo plan.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from typing import ClassVar

import pytest
from flask import Flask

from graph.demo_org import load_demo_org
from graph.falkordb_backend import FalkorStore
from webapp import services

ADMIN_PASSWORD = os.environ["HUITONG_ADMIN_PASSWORD"]
DEMO_DOCUMENTS = 16

# Words that stay as they are in a Chinese UI: product and format names, units, protocol names.
ALLOWED = {
    "huitong", "pdf", "docx", "xlsx", "xls", "csv", "png", "json", "md", "txt", "zip", "html", "api", "ocr",
    "webhook", "webhooks", "sla", "url", "http", "https", "english", "email", "e-mail", "mib", "kib", "gib",
    "kb", "mb", "gb", "id", "smtp", "falkordb", "celery", "hmac", "sha", "utc", "faiss", "cypher", "excel",
    "word", "markdown", "jpeg", "jpg", "tiff", "sse", "xml", "dingtalk", "wecom", "slack", "svg",
    "username", "ip", "powerpoint", "javascript", "yaml", "tar", "tgz", "gz",
    # method names, quoted as their authors named them
    "mann", "kendall", "mann-kendall", "theil", "sen", "theil-sen", "louvain",
}
# Codes the reader types or reads as they are: share targets (department:FIN, person:li.na:edit), headers.
CODES_IN_TEXT = re.compile(r"\b[a-z]+(?::[\w.-]+)+|\b[a-z]+:(?!\S)|(?<!\w):edit\b|\bX-[A-Za-z-]+")
DOCUMENT_LINK = re.compile(r"^/(documents|decisions)/[\w-]+(?:[/?#].*)?$")  # titles and file names
SKIP_TAGS = {"title", "script", "style", "pre", "code", "kbd", "samp", "textarea", "svg", "noscript", "template"}
LABEL_ATTRS = ("title", "placeholder", "aria-label", "alt")
WORD = re.compile(r"[A-Za-z][A-Za-z0-9_'’-]*(?:\.[A-Za-z0-9_-]+)*")
CODE = re.compile(r"^[A-Z0-9][A-Z0-9_.-]*$|^v\d+|\d|@|\.[a-z]{2,4}$")  # DEPT-CODES, v2, with digits, files


class _Text(HTMLParser):
    """Visible text and reader labels outside skipped tags and ``translate="no"`` / document links."""

    VOID: ClassVar[set[str]] = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
                                "track", "wbr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[bool] = []  # per open element: is it (or an ancestor) skipped?
        self.parts: list[str] = []

    def _skipped(self) -> bool:
        return bool(self.stack) and self.stack[-1]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        skip = (self._skipped() or tag in SKIP_TAGS or a.get("translate") == "no" or "hidden" in a
                or (tag == "a" and re.match(DOCUMENT_LINK, a.get("href") or "") is not None))
        if not skip:
            self.parts += [a[k] or "" for k in LABEL_ATTRS if a.get(k)]
            if tag == "input" and a.get("type") in ("submit", "button"):
                self.parts.append(a.get("value") or "")
        if tag not in self.VOID:
            self.stack.append(skip)

    def handle_endtag(self, tag: str) -> None:
        if tag not in self.VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if not self._skipped():
            self.parts.append(data)


def _visible_text(html: str, known: set[str], parser: _Text) -> str:
    """The page's visible text and reader labels (as ``parser`` sees them), without the known names."""
    parser.feed(html.split("<body", 1)[-1].split(">", 1)[-1])
    text = "\n".join(parser.parts)
    for name in sorted(known, key=len, reverse=True):
        text = text.replace(name, " ")
    return text


def english_words(html: str, known: set[str]) -> list[str]:
    """English words a Chinese reader would see on the page (names, codes and content excluded)."""
    text = CODES_IN_TEXT.sub(" ", _visible_text(html, known, _Text()))
    found = []
    for word in WORD.findall(text):
        if CODE.search(word) or word.lower().strip("'’-") in ALLOWED or len(word) < 3:
            continue
        found.append(word)
    return found


def demo_names(store: FalkorStore) -> set[str]:
    """Names that are content, not UI: people's names and user names, the demo documents' titles."""
    from graph import accounts, org
    from ingest.demo_docs import plan_documents

    names: set[str] = set()
    for person in accounts.list_people(store):
        names.update(n for n in (person.get("name"), person.get("username"), person.get("email")) if n)
    for node in org.department_tree(store)[1].values():  # departments keep an English name beside the Chinese one
        names.update(n for n in (node.row.get("name"), node.row.get("name_en")) if n)
    for plan in plan_documents(DEMO_DOCUMENTS):
        for doc in (plan.doc, getattr(plan, "revision", None)):
            if doc is not None:
                names.add(doc.title)
    return {n for n in names if n}


@contextmanager
def demo_platform_graph(graph_server, settings) -> Iterator[FalkorStore]:  # type: ignore[no-untyped-def]
    """A graph of its own with the whole demo (organisation, templates, documents, some history)."""
    from graph.analytics.demo_history import load_demo_history
    from graph.workflows.templates import install_templates
    from ingest.demo_docs import load_demo_documents

    store = FalkorStore(graph_server, f"t_ui_{os.getpid()}_{uuid.uuid4().hex[:6]}")
    store.ensure_schema()
    load_demo_org(store, ADMIN_PASSWORD)
    install_templates(store, now=int(time.time() * 1000))
    load_demo_documents(store, settings, DEMO_DOCUMENTS, index=False)
    load_demo_history(store, scale=0.2)
    try:
        yield store
    finally:
        store.drop_all()
        store.close()


@contextmanager
def serving(app: Flask, store: FalkorStore) -> Iterator[None]:
    """``app`` serves ``store`` in this process while the block runs."""
    stores = app.extensions.setdefault(services.STORES, {})
    # Under the services' lock: a new app's search warm-up may be opening the default store right now, and
    # would otherwise put it in place after ours.
    with services._lock:
        previous = stores.get(os.getpid())
        stores[os.getpid()] = store
    try:
        yield
    finally:
        if previous is None:
            stores.pop(os.getpid(), None)
        else:
            stores[os.getpid()] = previous


@pytest.fixture(scope="module")
def demo_graph(app: Flask, graph_server, settings) -> Iterator[FalkorStore]:  # type: ignore[no-untyped-def]
    """The whole demo, served by the test app while the module runs."""
    with demo_platform_graph(graph_server, settings) as store, serving(app, store):
        yield store


# -- the English pages: untranslated words shown raw -----------------------------------------------------
# Chinese left on an English page (a msgid translated the wrong way, a label built in Chinese) and identifiers
# shown as they are stored (snake_case codes such as initiator_head or awaiting_feedback).
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
SNAKE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
CJK_ALLOWED = {"汇通", "中文", "简体中文"}  # the brand, and the language switch naming Chinese in Chinese
CONTENT_LINK = re.compile(r"^/(documents|decisions|workflows/runs|workflows/tasks|workflows/requests)/[\w-]+"
                          r"(?:[/?#].*)?$")  # titles people gave their documents, decisions and runs


class _EnglishText(_Text):
    """As :class:`_Text`, and links to runs and tasks carry their (people's) titles too."""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href") or ""
        if tag == "a" and CONTENT_LINK.match(href):
            attrs = [*attrs, ("translate", "no")]
        super().handle_starttag(tag, attrs)


def raw_words_en(html: str, known: set[str]) -> list[str]:
    """Words an English reader should not see: Chinese outside names and content, stored identifiers."""
    text = _visible_text(html, known, _EnglishText())
    return [w for w in CJK.findall(text) if w not in CJK_ALLOWED] + SNAKE.findall(text)


def content_names(store: FalkorStore) -> set[str]:
    """Titles people gave the demo's runs and decisions: content, in whatever language they wrote it."""
    from graph.cypher import cypher

    statement = cypher("tests.ui_content_titles", """
        MATCH (r:WorkflowRun) RETURN r.title AS text
        UNION MATCH (d:Decision) RETURN d.title AS text
    """)
    return {str(r["text"]) for r in store.run(statement, {}) if r["text"]}


def graph_names(store: FalkorStore, lang: str = "en") -> set[str]:
    """Names the graph gives its workflows and their steps as a reader of ``lang`` sees them (the English name
    where one is defined, else the Chinese one: :func:`graph.names.in_language`): names, not UI words."""
    from graph.analytics.tasks import step_names, workflow_keys
    from graph.names import in_language

    rows = [*workflow_keys(store), *step_names(store)]
    return {name for r in rows if (name := in_language(r.get("name"), r.get("name_en"), lang))}
