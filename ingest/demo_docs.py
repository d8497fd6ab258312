"""Demo documents: a few hundred realistic business files, generated at demo time and run through
the real upload pipeline (blob store, extraction, mentions, search index).

Contents are written per business domain (expense policies, contracts, sales reports, meeting
minutes, budgets, hiring plans, technical designs...) in Chinese and English, name people,
departments and projects of the demo organisation (so mentions link them), and are shared the
way such files are shared in a company. A seeded generator and ids derived from the document
number make every run produce the same documents; a rerun adds nothing.

Rendering (DOCX with python-docx, XLSX with openpyxl, PDF with reportlab, Markdown) and the
pipeline live outside the graph layer, so they are imported where used.
"""

from __future__ import annotations

import io
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from graph import document_rows
from graph.demo_org import DEPARTMENTS, PROJECTS, build_org, node_id
from graph.store import GraphStore
from ingest import index_registry, processing, uploads
from ingest.demo_content import _TOP_DOMAIN, TEMPLATES, Context, DemoDoc, Person, _t, _top

DEFAULT_COUNT = 240
SEED = 20260301
DAY_MS = 24 * 3600 * 1000

@dataclass(frozen=True)
class Plan:
    number: int
    document_id: str
    owner: Person
    domain: str
    access: str
    shares: tuple[str, ...]
    doc: DemoDoc
    age_days: int
    revision: DemoDoc | None = None  # content of a second version, if any
    reviser: Person | None = None


@dataclass
class DemoDocsResult:
    planned: int
    created: int = 0
    versions: int = 0
    skipped: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    chunks: int = 0
    seconds: float = 0.0


LEVELS = [("public", 10), ("internal", 55), ("confidential", 28), ("secret", 7)]


def _revise(doc: DemoDoc, rng: random.Random, number: int) -> DemoDoc:
    """A second version: one paragraph reworded and a clause added, as a real revision would."""
    blocks = list(doc.blocks)
    paragraphs = [i for i, (kind, _) in enumerate(blocks) if kind == "p"]
    i = rng.choice(paragraphs)
    blocks[i] = ("p", blocks[i][1] + _t(doc.lang, "（本段已根据评审意见修订。）", " (Revised after review.)"))
    blocks.append(("p", _t(doc.lang, f"补充说明：自发布之日起执行，原第{number % 7 + 1}条同时废止。",
                           f"Addendum: effective on publication; former clause {number % 7 + 1} is withdrawn.")))
    return DemoDoc(doc.title, doc.lang, blocks, doc.fmt)


def plan_documents(count: int = DEFAULT_COUNT, seed: int = SEED) -> list[Plan]:
    """The demo documents, deterministically (same count and seed: same plans)."""
    org = build_org()
    dept_code = {node_id("dept", code): code for code, *_ in DEPARTMENTS}
    dept_of = {m["person_id"]: dept_code[str(m["department_id"])] for m in org.memberships}
    people = [Person(str(p["id"]), str(p["username"]), str(p["name"]), dept_of[str(p["id"])]) for p in org.people]
    name_counts = Counter(p.name for p in people)
    unique = [p for p in people if name_counts[p.name] == 1]
    by_top: dict[str, list[Person]] = {}
    for person in unique:
        by_top.setdefault(_top(person.dept), []).append(person)
    rng = random.Random(seed)
    weights = [t[3] for t in TEMPLATES]
    plans = []
    for number in range(1, count + 1):
        template, domain, sources, _ = rng.choices(TEMPLATES, weights)[0]
        owner = rng.choice(by_top[rng.choice(sources)])
        lang = "en" if (" " in owner.name and rng.random() < 0.8) or rng.random() < 0.15 else "zh"
        ctx = Context(rng, owner, lang, [p for p in unique if p != owner], number, rng.randint(1, 12))
        doc = template(ctx)
        doc.blocks.append(("p", _t(lang, f"文档编号：HT-DOC-{number:04d}", f"Document no. HT-DOC-{number:04d}")))
        access = rng.choices([lvl for lvl, _ in LEVELS], [w for _, w in LEVELS])[0]
        shares = _shares(rng, owner, access, unique)
        revision = _revise(doc, rng, number) if rng.random() < 0.12 else None
        # A colleague with an edit share sometimes makes the revision.
        editors = [s.split(":")[1] for s in shares if s.startswith("person:") and s.endswith(":edit")]
        reviser = next((p for p in unique if editors and p.username == editors[0]), owner)
        if rng.random() < 0.5:
            reviser = owner
        plans.append(Plan(number, node_id("document", f"demo-{number}"), owner,
                          domain or _TOP_DOMAIN[_top(owner.dept)], access, shares, doc, rng.randint(0, 180),
                          revision, reviser))
    return plans


def _shares(rng: random.Random, owner: Person, access: str, people: list[Person]) -> tuple[str, ...]:
    """Shares as a company makes them: with the owner's department, a partner department or project,
    a position; secret files only with named people."""
    if access == "secret":
        return tuple(f"person:{p.username}" for p in rng.sample(people, 2) if p != owner)
    shares = [f"department:{_top(owner.dept)}"]
    if rng.random() < 0.4:
        shares.append(f"department:{rng.choice(['FIN', 'LEGAL', 'GMO', 'SALES', 'RND', 'HR'])}")
    if rng.random() < 0.25:
        shares.append(f"project:{rng.choice(PROJECTS)[0]}")
    if access == "internal" and rng.random() < 0.15:
        shares.append(f"position:{rng.choice(['DEPT-MGR', 'BUDGET-OWNER', 'TEAM-LEAD'])}")
    if rng.random() < 0.2:
        shares.append(f"person:{rng.choice(people).username}:edit")
    return tuple(dict.fromkeys(s for s in shares if not s.startswith(f"person:{owner.username}")))


# -- rendering ----------------------------------------------------------------------------------------------

EXTENSIONS = {"docx": ".docx", "xlsx": ".xlsx", "pdf": ".pdf", "md": ".md"}


def render(doc: DemoDoc, author: str) -> bytes:
    return {"docx": _docx, "xlsx": _xlsx, "pdf": _pdf, "md": _markdown}[doc.fmt](doc, author)


def _docx(doc: DemoDoc, author: str) -> bytes:
    import docx

    document = docx.Document()
    document.core_properties.author = author
    document.core_properties.title = doc.title
    document.add_heading(doc.title, level=0)
    for kind, value in doc.blocks:
        if kind == "h":
            document.add_heading(value, level=1)
        elif kind == "p":
            document.add_paragraph(value)
        else:
            table = document.add_table(rows=len(value), cols=len(value[0]))
            for r, row in enumerate(value):
                for c, cell in enumerate(row):
                    table.cell(r, c).text = str(cell)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _xlsx(doc: DemoDoc, author: str) -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.properties.creator = author
    workbook.properties.title = doc.title
    sheet = workbook.active
    sheet.title = _t(doc.lang, "数据", "Data")
    sheet.append([doc.title])
    notes = workbook.create_sheet(_t(doc.lang, "说明", "Notes"))
    for kind, value in doc.blocks:
        if kind == "table":
            for row in value:
                sheet.append(list(row))
        else:
            notes.append([value])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _pdf(doc: DemoDoc, author: str) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    font = "Helvetica"
    if doc.lang == "zh":
        font = "STSong-Light"
        if font not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(UnicodeCIDFont(font))
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4, invariant=1)
    pdf.setAuthor(author)
    pdf.setTitle(doc.title)
    width, height = A4
    y = height - 72

    def line(text: str, size: int) -> None:
        nonlocal y
        limit = width - 144
        while text:
            cut = len(text)
            while pdfmetrics.stringWidth(text[:cut], font, size) > limit:
                cut -= 1
            if doc.lang == "en" and cut < len(text) and " " in text[:cut]:
                cut = text[:cut].rfind(" ") + 1
            if y < 72:
                pdf.showPage()
                y = height - 72
            pdf.setFont(font, size)
            pdf.drawString(72, y, text[:cut].strip())
            y -= size * 1.6
            text = text[cut:]

    line(doc.title, 16)
    for kind, value in doc.blocks:
        if kind == "table":
            for row in value:
                line("    ".join(str(c) for c in row), 10)
        else:
            line(value, 13 if kind == "h" else 11)
    pdf.save()
    return out.getvalue()


def _markdown(doc: DemoDoc, author: str) -> bytes:
    lines = [f"# {doc.title}", "", f"> {_t(doc.lang, '作者', 'Author')}: {author}", ""]
    for kind, value in doc.blocks:
        if kind == "h":
            lines += [f"## {value}", ""]
        elif kind == "p":
            lines += [value, ""]
        else:
            lines.append("| " + " | ".join(str(c) for c in value[0]) + " |")
            lines.append("|" + "---|" * len(value[0]))
            lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in value[1:]]
            lines.append("")
    return "\n".join(lines).encode("utf-8")


# -- loading ------------------------------------------------------------------------------------------------


def load_demo_documents(store: GraphStore, settings: Any, count: int = DEFAULT_COUNT, *, index: bool = True,
                        progress: Callable[[int, int], None] | None = None) -> DemoDocsResult:
    """Generate and upload the demo documents through the real pipeline, processing each at once.

    Needs the demo organisation. Documents already present (same id) are skipped, so a rerun adds nothing.
    """
    started = time.perf_counter()
    plans = plan_documents(count)
    result = DemoDocsResult(planned=len(plans))
    now = int(time.time() * 1000)
    touched: list[str] = []
    for done, plan in enumerate(plans, start=1):
        existing = document_rows.get_document(store, plan.document_id)
        at = now - plan.age_days * DAY_MS - plan.number * 1000
        if existing is None:
            ext = EXTENSIONS[plan.doc.fmt]
            uploaded = uploads.upload(
                store, settings, render(plan.doc, plan.owner.name), _filename(plan.doc.title, ext), plan.owner.id,
                plan.domain, plan.access, plan.shares, _t(plan.doc.lang, "首次上传", "first upload"),
                title=plan.doc.title, new_document_id=plan.document_id, enqueue=None, at=at, client="demo")
            if uploaded.unchanged:  # the owner already holds these bytes as another document
                result.skipped += 1
            else:
                processed = processing.process_version_now(store, settings, uploaded.version_id, index=False)
                result.statuses[processed.status] += 1
                result.created += 1
                touched.append(plan.document_id)
        else:
            result.skipped += 1
        if plan.revision is not None and (existing is None or existing.get("version_count", 1) < 2):
            reviser = plan.reviser or plan.owner
            ext = EXTENSIONS[plan.revision.fmt]
            added = uploads.upload(
                store, settings, render(plan.revision, plan.owner.name), _filename(plan.revision.title, ext),
                reviser.id, note=_t(plan.doc.lang, "根据评审意见修订", "revised after review"),
                document_id=plan.document_id, enqueue=None, at=at + min(plan.age_days, 3) * DAY_MS // 2 + 1,
                client="demo")
            if not added.unchanged:
                processing.process_version_now(store, settings, added.version_id, index=False)
                result.versions += 1
                touched.append(plan.document_id)
        if progress:
            progress(done, len(plans))
    if index and touched:
        # One bulk pass: shared embedding batches are several times faster than document by document.
        result.chunks = index_registry.index_documents(store, settings, touched)
    result.seconds = time.perf_counter() - started
    return result


def _filename(title: str, ext: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_ ()（）" else "_" for c in title).strip()
    return (safe[:80] or "document") + ext
