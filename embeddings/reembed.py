"""Re-embedding the stored chunks with a newly configured model, in slices a worker can run and resume.

Progress lives in the store itself (the embedding cache, keyed by model and text hash), so a crash
or a killed worker loses at most one batch, and the next slice carries on. Only one process works
at a time (a non-blocking file lock): a second slice started meanwhile returns at once.
"""

from __future__ import annotations

import fcntl
import time
from pathlib import Path

from embeddings import model_switch
from embeddings.embedder import get_embedder
from embeddings.model_switch import SwitchProgress
from embeddings.store import ChunkStore

BATCH = 64  # chunk texts embedded and committed together


def reembed_slice(data_dir: Path, configured: str, seconds: float = 50.0) -> SwitchProgress:
    """Embed chunk texts with ``configured`` for about ``seconds``; when none is left, build the new model's
    index snapshot and publish the model (searches switch to it on their next query)."""
    root = Path(data_dir) / "search"
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".reembed.lock", "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # another worker is on it
            return _progress(root, configured)
        store = ChunkStore(root / "chunks.sqlite3")
        try:
            if model_switch.serving_model(root, configured, store) == configured:
                return model_switch.progress(root, configured, store)
            embedder = get_embedder(configured)
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                batch = store.texts_without_vector(configured, BATCH)
                if not batch:
                    _publish(data_dir, configured)
                    break
                vectors = embedder.embed([text for _, text in batch])
                store.put_vectors(configured, list(zip([h for h, _ in batch], vectors, strict=True)))
            return model_switch.progress(root, configured, store)
        finally:
            store.close()


def _progress(root: Path, configured: str) -> SwitchProgress:
    store = ChunkStore(root / "chunks.sqlite3")
    try:
        return model_switch.progress(root, configured, store)
    finally:
        store.close()


def _publish(data_dir: Path, model: str) -> None:
    """Build and save the new model's in-memory index first, so readers switch by loading a snapshot."""
    from embeddings.search_index import SearchIndex

    index = SearchIndex(data_dir, model, serving=model)
    try:
        index.refresh(wait=True)  # chunks written since the last batch are embedded here (their vectors are missing)
        index.save_snapshot()
    finally:
        index.close()
    model_switch.publish(Path(data_dir) / "search", model)
