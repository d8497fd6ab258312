"""On-disk snapshots of a process's in-memory indexes, so a large index loads without rebuilding.

A snapshot is a directory written in full, then published by atomically replacing a small
pointer file. A crash at any point leaves the previous snapshot (or none) in force; the store
stays the truth and a reader simply catches up from the watermark the snapshot covers.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from embeddings.catalog import Catalog, GrowArray
from embeddings.keyword_index import KeywordIndex
from embeddings.store import Watermark
from embeddings.vector_index import VectorIndex

FORMAT = 1
_KEEP_OLD_SECONDS = 120  # another process may still be reading a just-superseded snapshot


@dataclass
class Snapshot:
    watermark: Watermark
    catalog: Catalog
    vectors: VectorIndex
    keywords: KeywordIndex


def _slug(model: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", model)[-80:]


def _pointer(root: Path, model: str) -> Path:
    return root / f"CURRENT-{_slug(model)}"


def save(root: Path, model: str, snap: Snapshot) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    mark = snap.watermark
    name = f"{_slug(model)}-{mark.chunk_id}-{mark.tombstone_seq}-{uuid.uuid4().hex[:8]}"
    tmp = root / f".tmp-{name}"
    tmp.mkdir()
    try:
        snap.vectors.save(tmp / "vectors.faiss")
        snap.keywords.save(tmp / "keywords.npz")
        cat = snap.catalog
        with open(tmp / "catalog.npz", "wb") as handle:
            np.savez(handle, chunk_ids=cat.chunk_ids.view, row_doc=cat.row_doc.view, alive=cat.alive.view)
        meta = {
            "format": FORMAT,
            "model": model,
            "dim": snap.vectors.dim,
            "watermark": [mark.chunk_id, mark.tombstone_seq],
            "doc_ids": cat.doc_ids,
            "doc_meta": cat.doc_meta,
        }
        (tmp / "meta.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        for path in tmp.iterdir():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
        final = root / name
        os.replace(tmp, final)
        pointer_tmp = root / f".tmp-pointer-{uuid.uuid4().hex[:8]}"
        pointer_tmp.write_text(name, encoding="utf-8")
        os.replace(pointer_tmp, _pointer(root, model))
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _prune(root, model, keep=name)
    return final


def _prune(root: Path, model: str, keep: str) -> None:
    now = time.time()
    prefix = _slug(model) + "-"
    for path in root.iterdir():
        stale = path.name != keep and (path.name.startswith(prefix) or path.name.startswith(".tmp-"))
        if stale and now - path.stat().st_mtime > _KEEP_OLD_SECONDS:
            shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)


def load(root: Path, model: str, dim: int) -> Snapshot | None:
    """The published snapshot for ``model``, or None if there is none or it is unusable."""
    try:
        name = _pointer(root, model).read_text(encoding="utf-8").strip()
        folder = root / name
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        if meta["format"] != FORMAT or meta["model"] != model or meta["dim"] != dim:
            return None
        catalog = Catalog()
        with np.load(folder / "catalog.npz", allow_pickle=False) as data:
            catalog.chunk_ids = GrowArray(np.int64, data["chunk_ids"])
            catalog.row_doc = GrowArray(np.int32, data["row_doc"])
            catalog.alive = GrowArray(np.bool_, data["alive"])
        catalog.doc_ids = list(meta["doc_ids"])
        catalog.doc_index = {d: i for i, d in enumerate(catalog.doc_ids)}
        catalog.doc_meta = list(meta["doc_meta"])
        catalog.live_rows = int(catalog.alive.view.sum())
        vectors = VectorIndex.load(folder / "vectors.faiss", dim)
        keywords = KeywordIndex.load(folder / "keywords.npz")
    except (OSError, ValueError, KeyError, RuntimeError):
        return None  # missing, pruned under us or damaged: rebuild from the store instead
    if not (vectors.rows == keywords.rows == catalog.rows):
        return None
    return Snapshot(Watermark(*meta["watermark"]), catalog, vectors, keywords)
