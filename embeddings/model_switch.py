"""Which model's vectors answer searches, and moving the index to another model without downtime.

The index serves ONE model at a time (vectors of two models live in different spaces and are never
mixed). ``search/active_model.json`` names it. When the configured model differs, the workers
re-embed every stored chunk into the embedding cache under the new model's name (batch by batch:
a crash keeps what was done), write a snapshot of the new model's in-memory index, and only then
replace the pointer file atomically; readers notice on their next search and load that snapshot.
Until then every search answers from the previous model's vectors.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

from embeddings.store import ChunkStore

ACTIVE_FILE = "active_model.json"


@dataclass(frozen=True)
class SwitchProgress:
    serving: str
    configured: str
    done: int  # distinct chunk texts with a vector of the configured model
    total: int  # distinct chunk texts in the index

    @property
    def switching(self) -> bool:
        return self.serving != self.configured

    def as_json(self) -> dict[str, object]:
        return {"serving": self.serving, "configured": self.configured, "switching": self.switching,
                "reembedded": self.done, "total": self.total}


def read_active(root: Path) -> str | None:
    try:
        return str(json.loads((root / ACTIVE_FILE).read_text(encoding="utf-8"))["model"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def publish(root: Path, model: str) -> None:
    """Make ``model`` the serving model, atomically (a reader sees the old or the new name, never a mix)."""
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f".tmp-active-{uuid.uuid4().hex[:8]}"
    tmp.write_text(json.dumps({"model": model}), encoding="utf-8")
    os.replace(tmp, root / ACTIVE_FILE)


def serving_model(root: Path, configured: str, store: ChunkStore) -> str:
    """The model whose vectors answer searches; decided once for an index without a pointer file:
    the configured model if the index is empty or fully embedded with it, else the model that embedded
    most of it (an index built before the pointer existed)."""
    active = read_active(root)
    if active is not None:
        return active
    total, done = store.vector_coverage(configured)
    chosen = configured
    if total and done < total:
        chosen = store.most_cached_model() or configured
    publish(root, chosen)
    return chosen


def progress(root: Path, configured: str, store: ChunkStore) -> SwitchProgress:
    serving = read_active(root) or configured
    total, done = store.vector_coverage(configured)
    return SwitchProgress(serving, configured, done, total)
