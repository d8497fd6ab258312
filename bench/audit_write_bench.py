"""Writes with their audit event in ONE statement versus the former two (write, then audit.record), on the
same graph in alternating rounds: a comment on a document, and a share followed by its removal.

Usage: python bench/audit_write_bench.py [--writes 300] [--rounds 3]
Ends with one JSON line: p50/p95 per variant in milliseconds and the ratio one-statement / two-statement.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HUITONG_DATA_DIR", tempfile.mkdtemp(prefix="ht-bench-audit-"))


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)


def main() -> None:
    from graph import audit, embedded_server
    from graph.classification import ShareKind
    from graph.cypher import cypher
    from graph.falkordb_backend import FalkorStore
    from graph.queries import comments as cq
    from graph.queries import permissions as pq
    from settings import load_settings

    parser = argparse.ArgumentParser()
    parser.add_argument("--writes", type=int, default=300, help="writes per variant and round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    seed = cypher("bench.audit_write.seed", """
        CREATE (:Person {id: 'p-owner', username: 'owner', name: 'Owner', active: true})
        CREATE (:Person {id: 'p-other', username: 'other', name: 'Other', active: true})
        CREATE (:Document {id: 'doc-1', title: 'Plan', access: 'internal', owner_id: 'p-owner'})
        """, writes=True)
    server = embedded_server(load_settings())
    server.ensure_running()
    store = FalkorStore(server, f"bench_audit_{uuid.uuid4().hex[:8]}")
    store.ensure_schema()
    store.run(seed)
    share_row = {"rows": [{"document_id": "doc-1", "target_id": "p-other", "access": "read"}],
                 "actor_id": "p-owner", "now": 1}
    unshare_row = {"document_id": "doc-1", "target_id": "p-other"}

    def event(action: str) -> audit.Event:
        return audit.Event(action, "p-owner", "document", "doc-1", "bench", {"n": 1})

    def comment_two() -> None:
        store.run(cq.ADD_DOCUMENT_COMMENT, {"document_id": "doc-1", "actor_id": "p-owner", "id": uuid.uuid4().hex,
                                            "text": "ok", "at": 1, "version_id": None})
        audit.record(store, action="document.comment", actor_id="p-owner", target_kind="document",
                     target_id="doc-1", client="bench", detail={"n": 1})

    def comment_one() -> None:
        store.run(cq.ADD_DOCUMENT_COMMENT_AUDITED, {
            "document_id": "doc-1", "actor_id": "p-owner", "id": uuid.uuid4().hex, "text": "ok", "at": 1,
            "version_id": None, **event("document.comment").statement_params()})

    def share_two() -> None:
        store.run(pq.SHARE[ShareKind.PERSON], share_row)
        audit.record(store, action="document.share", actor_id="p-owner", target_kind="document", target_id="doc-1",
                     client="bench", detail={"n": 1})
        store.run(pq.UNSHARE[ShareKind.PERSON], unshare_row)
        audit.record(store, action="document.unshare", actor_id="p-owner", target_kind="document",
                     target_id="doc-1", client="bench", detail={"n": 1})

    def share_one() -> None:
        store.run(pq.SHARE_AUDITED[ShareKind.PERSON], {**share_row, **event("document.share").statement_params()})
        store.run(pq.UNSHARE_AUDITED[ShareKind.PERSON],
                  {**unshare_row, **event("document.unshare").statement_params()})

    variants = {"comment_two": comment_two, "comment_one": comment_one, "share_unshare_two": share_two,
                "share_unshare_one": share_one}
    times: dict[str, list[float]] = {name: [] for name in variants}
    try:
        for write in variants.values():  # warm-up
            for _ in range(20):
                write()
        for _ in range(args.rounds):
            for name, write in variants.items():
                for _ in range(args.writes):
                    started = time.perf_counter()
                    write()
                    times[name].append((time.perf_counter() - started) * 1000)
    finally:
        store.drop_all()
        store.close()
    figures: dict[str, object] = {"writes": args.writes * args.rounds, "load": os.getloadavg()[0]}
    for name, values in times.items():
        figures[f"{name}_ms_p50"] = _pct(values, 0.5)
        figures[f"{name}_ms_p95"] = _pct(values, 0.95)
        print(f"{name}: p50 {figures[f'{name}_ms_p50']} ms, p95 {figures[f'{name}_ms_p95']} ms")
    for kind in ("comment", "share_unshare"):
        figures[f"{kind}_p50_ratio_one_to_two"] = round(
            float(figures[f"{kind}_one_ms_p50"]) / max(float(figures[f"{kind}_two_ms_p50"]), 1e-9), 2)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
