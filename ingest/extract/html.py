"""HTML: visible text split at h1-h6 (ref = heading path); scripts, styles and markup dropped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bs4 import BeautifulSoup

from ingest.extract.charset import declared_html_charset, decode, read_bytes
from ingest.extract.model import Extraction, SectionBuilder, finish
from ingest.filetypes import FileKind

_INVISIBLE = ["script", "style", "noscript", "template", "head", "iframe", "object", "svg", "canvas"]
_BLOCKS = [
    "p", "div", "li", "tr", "ul", "ol", "table", "section", "article", "header", "footer", "nav", "aside",
    "main", "pre", "blockquote", "dd", "dt", "dl", "figure", "figcaption", "form", "fieldset", "address",
    "caption", "hr", "details", "summary",
]  # fmt: skip
_HEADINGS = ["h1", "h2", "h3", "h4", "h5", "h6"]
# Private-use characters cannot come from the page's own text after decoding as markup.
_MARK, _SEP = "\ue000", "\ue001"


def extract_html(path: Path) -> Extraction:
    data, cut = read_bytes(path)
    text, encoding = decode(data, declared_html_charset(data))
    soup = BeautifulSoup(text, "lxml")
    metadata: dict[str, Any] = {"encoding": encoding, "truncated": cut or None, **_head_metadata(soup)}
    for tag in soup(_INVISIBLE):
        tag.decompose()
    # Give the markup's structure to the text: line breaks after blocks, tabs between cells,
    # and a marker line per heading that the loop below turns into a section.
    for tag in soup.find_all("br"):
        tag.replace_with("\n")
    for tag in soup.find_all(["td", "th"]):
        tag.append("\t")
    for tag in soup.find_all(_BLOCKS):
        tag.append("\n")
    for tag in soup.find_all(_HEADINGS):
        title = " ".join(tag.get_text(" ").split())
        tag.replace_with(f"\n{_MARK}{tag.name[1]}{_SEP}{title}\n")
    builder = SectionBuilder(default_ref="body")
    for line in soup.get_text().split("\n"):
        if builder.full:
            break
        if line.startswith(_MARK):
            level, _, title = line[1:].partition(_SEP)
            builder.heading(int(level), title)
        else:
            builder.add("\t".join(" ".join(cell.split()) for cell in line.rstrip("\t").split("\t")).strip())
    return finish(FileKind.HTML, builder, metadata, "the page has no visible text")


def _head_metadata(soup: BeautifulSoup) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if soup.title is not None and soup.title.string:
        out["title"] = " ".join(soup.title.string.split())
    for name, key in (("author", "author"), ("description", "description"), ("keywords", "keywords")):
        meta = soup.find("meta", attrs={"name": name})
        if meta is not None and isinstance(meta.get("content"), str):
            out[key] = meta["content"].strip()
    return out
