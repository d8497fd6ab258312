"""Demo knowledge that links documents: copies kept by other departments, and decisions resting on versions.

Loaded after the demo documents (``webapp/demo.py``), idempotently: copies have fixed document ids,
decisions fixed ids. Some copies are byte-identical (exact), some reworded under another department's
header (near); they go through the real upload pipeline, so the duplicate links are made by ingestion
itself. Some decisions rest on the first version of a document that was revised since, so the document
page warns "based on v1, now v2".
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from graph import decisions, document_rows
from graph.actor import Actor
from graph.demo_org import node_id
from graph.queries import decisions as dq
from graph.queries import documents as q
from graph.store import GraphStore
from ingest import processing, uploads
from ingest.blobstore import BlobStore
from ingest.demo_docs import EXTENSIONS, DemoDoc, Plan, _filename, _t, _top, plan_documents, render

SEED = 20261203
COPIES = 8
DECISIONS = 8


@dataclass
class DemoKnowledgeResult:
    copies: int = 0
    decisions: int = 0

    def summary(self) -> str:
        return f"demo knowledge: {self.copies} copies kept by other departments, {self.decisions} decisions"


def _reworded(doc: DemoDoc, department: str) -> DemoDoc:
    """The same text under another department's header, with one paragraph tweaked (a near copy)."""
    header = ("p", _t(doc.lang, f"{department} 转发存档", f"Filed by {department}"))
    blocks = [header, *doc.blocks]
    paragraphs = [i for i, (kind, _) in enumerate(blocks) if kind == "p"]
    last = paragraphs[-1]
    blocks[last] = ("p", str(blocks[last][1]) + _t(doc.lang, "（转发时补充。）", " (noted on filing)"))
    return DemoDoc(doc.title, doc.lang, blocks, doc.fmt)


def _copies(store: GraphStore, settings: Any, plans: list[Plan], rng: random.Random) -> int:
    people: dict[str, Any] = {}
    for plan in plans:
        people.setdefault(_top(plan.owner.dept), plan.owner)
    made = 0
    blobs = BlobStore.from_settings(settings)
    candidates = [p for p in plans
                  if p.access in ("internal", "public") and document_rows.get_document(store, p.document_id)]
    for n, plan in enumerate(rng.sample(candidates, min(COPIES, len(candidates)))):
        copy_id = node_id("document", f"demo-copy-{n}")
        others = [p for top, p in sorted(people.items()) if top != _top(plan.owner.dept)]
        if not others or document_rows.get_document(store, copy_id) is not None:
            continue
        keeper = rng.choice(others)
        original = document_rows.get_document(store, plan.document_id) or {}
        # Every other copy is the very file (same bytes), the others are reworded under another header.
        data = (blobs.read(original["sha256"]) if n % 2 == 0 and original.get("sha256") else
                render(_reworded(plan.doc, keeper.dept), plan.owner.name))
        uploaded = uploads.upload(
            store, settings, data, _filename(plan.doc.title, EXTENSIONS[plan.doc.fmt]),
            keeper.id, plan.domain, "internal", [f"department:{_top(keeper.dept)}"],
            _t(plan.doc.lang, "转存一份", "kept a copy"), title=plan.doc.title, new_document_id=copy_id,
            enqueue=None, client="demo")
        if not uploaded.unchanged:
            processing.process_version_now(store, settings, uploaded.version_id, index=False)
            made += 1
    return made


def _versions(store: GraphStore, document_id: str) -> list[str]:
    """Version ids, first version first."""
    rows = store.run(q.LIST_VERSIONS, {"id": document_id})
    return [row["version"]["id"] for row in sorted(rows, key=lambda r: r["version"]["number"])]


def _decisions(store: GraphStore, plans: list[Plan], rng: random.Random) -> int:
    revised = [p for p in plans if p.revision is not None]
    plain = [p for p in plans if p.revision is None and p.shares]
    chosen = rng.sample(revised, min(DECISIONS // 2, len(revised))) + rng.sample(plain, min(DECISIONS // 2,
                                                                                          len(plain)))
    made = 0
    for n, plan in enumerate(chosen):
        decision_id = node_id("decision", f"demo-{n}")
        versions = _versions(store, plan.document_id)
        if not versions or store.run(dq.FACTS, {"ids": [decision_id]}):
            continue
        participants = [s.split(":")[1] for s in plan.shares if s.startswith("person:")][:2]
        title = _t(plan.doc.lang, f"依据《{plan.doc.title}》执行", f"Adopt “{plan.doc.title}”")
        owner = Actor(plan.owner.id, plan.owner.username, plan.owner.name, door="worker")
        decisions.record(store, owner, title=title, based_on=[versions[0]], participants=participants,
                         affects=[_top(plan.owner.dept)], decision_id=decision_id,
                         text=_t(plan.doc.lang, "经讨论一致同意，按该文件执行。", "Agreed after discussion."))
        made += 1
    meeting_id = node_id("decision", "demo-meeting")
    if plans and not store.run(dq.FACTS, {"ids": [meeting_id]}):
        chair = plans[0].owner
        decisions.record(store, Actor(chair.id, chair.username, chair.name, door="worker"),
                         title="季度经营会议：下季度差旅预算压缩 10%",
                         participants=[p.owner.username for p in plans[1:4]],
                         affects=[_top(chair.dept)], decision_id=meeting_id, source="meeting")
        made += 1
    return made


def load_demo_knowledge(store: GraphStore, settings: Any, count: int) -> DemoKnowledgeResult:
    """Copies and decisions over the first ``count`` demo documents (those must be loaded)."""
    plans = plan_documents(count)
    rng = random.Random(SEED)
    result = DemoKnowledgeResult()
    result.copies = _copies(store, settings, plans, rng)
    result.decisions = _decisions(store, plans, rng)
    return result
