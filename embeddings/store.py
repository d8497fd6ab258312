"""The chunk store: the single source of truth of the search index (one SQLite file, WAL mode).

Every change to a document is one transaction, so a crash leaves either the old or the new
chunks, never a mix. Chunk ids only grow (AUTOINCREMENT) and every removal leaves a tombstone,
so any process can catch up with "chunks after id X, tombstones after seq Y".
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from embeddings.chunker import Chunk

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    document_id TEXT PRIMARY KEY,
    version_id  TEXT NOT NULL,
    metadata    TEXT NOT NULL,
    updated_ms  INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    document_id TEXT NOT NULL REFERENCES documents(document_id),
    version_id  TEXT NOT NULL,
    ordinal     INTEGER NOT NULL,
    ref         TEXT NOT NULL,
    text        TEXT NOT NULL,
    text_hash   TEXT NOT NULL,
    lang        TEXT NOT NULL,
    UNIQUE (document_id, ordinal)
);
CREATE INDEX IF NOT EXISTS chunks_text_hash ON chunks (text_hash);
CREATE TABLE IF NOT EXISTS tombstones (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    chunk_id INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS embedding_cache (
    model     TEXT NOT NULL,
    text_hash TEXT NOT NULL,
    vector    BLOB NOT NULL,
    PRIMARY KEY (model, text_hash)
) WITHOUT ROWID;
"""

Metadata = dict[str, str | int | float | None]
# Reads through a memory map of the file instead of a read() per page: the 10 snippet chunks of a search at 1M
# chunks (365 MB store) took 4-5 ms p50 and 15-26 ms p95 through SQLite's 2 MB page cache on a busy machine,
# 0.2 ms mapped. Only the address range is reserved; SQLite caps it at its compiled maximum (~2 GB).
MMAP_BYTES = 2 << 30
# (distinct chunk texts, how many have a vector of the model bound as the one parameter)
VECTOR_COVERAGE_SQL = (
    "SELECT COUNT(*), COUNT(e.text_hash) FROM (SELECT DISTINCT text_hash FROM chunks) c "
    "LEFT JOIN embedding_cache e ON e.model = ? AND e.text_hash = c.text_hash"
)


@dataclass(frozen=True)
class Watermark:
    """How far a reader has seen the store: last chunk id and last tombstone seq."""

    chunk_id: int = 0
    tombstone_seq: int = 0


@dataclass(frozen=True)
class StoredChunk:
    id: int
    document_id: str
    version_id: str
    ordinal: int
    ref: str
    text: str
    lang: str


@dataclass(frozen=True)
class NewRow:
    """A chunk a reader has not indexed yet, with what the indexes need."""

    id: int
    document_id: str
    text: str
    metadata: Metadata
    vector: bytes | None  # None when the cache holds no vector for the reader's model


class ChunkStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # Born 0600 whatever the umask: SQLite gives its -wal and -shm files the database file's mode.
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=60)
        self._lock = threading.RLock()
        with self._lock:
            self._conn.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode survives a killed process; only an OS crash may drop the last commits
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute("PRAGMA foreign_keys=ON")
            self._conn.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
            self._conn.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """A consistent read snapshot across several statements."""
        with self._lock:
            self._conn.execute("BEGIN")
            try:
                yield self._conn
            finally:
                self._conn.execute("COMMIT")

    # ---- embedding cache -------------------------------------------------------------------
    def cached_vectors(self, model: str, hashes: Sequence[str]) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        unique = list(dict.fromkeys(hashes))
        with self._lock:
            for start in range(0, len(unique), 500):
                part = unique[start : start + 500]
                marks = ",".join("?" * len(part))  # only placeholders are interpolated, values stay bound
                rows = self._conn.execute(
                    f"SELECT text_hash, vector FROM embedding_cache WHERE model = ? AND text_hash IN ({marks})",  # noqa: S608
                    [model, *part],
                )
                found.update(rows)
        return found

    def put_vectors(self, model: str, items: Sequence[tuple[str, np.ndarray]]) -> None:
        with self._write() as conn:
            self._insert_vectors(conn, model, items)

    @staticmethod
    def _insert_vectors(conn: sqlite3.Connection, model: str, items: Sequence[tuple[str, np.ndarray]]) -> None:
        conn.executemany(
            "INSERT OR IGNORE INTO embedding_cache (model, text_hash, vector) VALUES (?, ?, ?)",
            [(model, h, np.asarray(v, dtype=np.float32).tobytes()) for h, v in items],
        )

    def vector_coverage(self, model: str) -> tuple[int, int]:
        """(distinct chunk texts, how many of them have a vector of ``model``)."""
        with self._lock:
            row = self._conn.execute(VECTOR_COVERAGE_SQL, (model,)).fetchone()
        return int(row[0]), int(row[1])

    def most_cached_model(self) -> str | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT model FROM embedding_cache GROUP BY model ORDER BY COUNT(*) DESC, model LIMIT 1"
            ).fetchone()
        return row[0] if row else None

    def texts_without_vector(self, model: str, limit: int) -> list[tuple[str, str]]:
        """Up to ``limit`` (text hash, text) of stored chunks that have no vector of ``model`` yet."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT c.text_hash, MIN(c.text) FROM chunks c LEFT JOIN embedding_cache e "
                "ON e.model = ? AND e.text_hash = c.text_hash WHERE e.text_hash IS NULL "
                "GROUP BY c.text_hash LIMIT ?",
                (model, limit),
            ).fetchall()
        return [(h, t) for h, t in rows]

    # ---- writers ---------------------------------------------------------------------------
    def replace_document(
        self,
        document_id: str,
        version_id: str,
        metadata: Metadata,
        chunks: Sequence[Chunk],
        langs: Sequence[str],
        model: str,
        new_vectors: Sequence[tuple[str, np.ndarray]],
    ) -> bool:
        """Make ``chunks`` the document's only chunks, atomically. False if nothing changed."""
        meta_json = json.dumps(metadata, sort_keys=True, ensure_ascii=False)
        with self._write() as conn:
            current = conn.execute(
                "SELECT version_id, metadata FROM documents WHERE document_id = ?", (document_id,)
            ).fetchone()
            old = conn.execute(
                "SELECT id, text_hash FROM chunks WHERE document_id = ? ORDER BY ordinal", (document_id,)
            ).fetchall()
            if current == (version_id, meta_json) and [h for _, h in old] == [c.text_hash for c in chunks]:
                return False  # a retried task after a crash: already done, do not churn ids
            self._insert_vectors(conn, model, new_vectors)
            self._remove_chunks(conn, [chunk_id for chunk_id, _ in old])
            conn.execute(
                "INSERT INTO documents (document_id, version_id, metadata, updated_ms) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (document_id) DO UPDATE SET version_id = excluded.version_id, "
                "metadata = excluded.metadata, updated_ms = excluded.updated_ms",
                (document_id, version_id, meta_json, int(time.time() * 1000)),
            )
            conn.executemany(
                "INSERT INTO chunks (document_id, version_id, ordinal, ref, text, text_hash, lang) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (document_id, version_id, c.ordinal, c.ref, c.text, c.text_hash, lang)
                    for c, lang in zip(chunks, langs, strict=True)
                ],
            )
        return True

    def delete_document(self, document_id: str) -> bool:
        with self._write() as conn:
            ids = [row[0] for row in conn.execute("SELECT id FROM chunks WHERE document_id = ?", (document_id,))]
            self._remove_chunks(conn, ids)
            gone = conn.execute("DELETE FROM documents WHERE document_id = ?", (document_id,)).rowcount
        return bool(gone)

    @staticmethod
    def _remove_chunks(conn: sqlite3.Connection, ids: list[int]) -> None:
        if not ids:
            return
        conn.executemany("INSERT INTO tombstones (chunk_id) VALUES (?)", [(i,) for i in ids])
        conn.executemany("DELETE FROM chunks WHERE id = ?", [(i,) for i in ids])

    # ---- readers ---------------------------------------------------------------------------
    def watermark(self) -> Watermark:
        with self._read() as conn:
            chunk_id = conn.execute("SELECT COALESCE(MAX(id), 0) FROM chunks").fetchone()[0]
            seq = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM tombstones").fetchone()[0]
        return Watermark(chunk_id, seq)

    def pending_rows(self, seen: Watermark) -> int:
        """Chunks added after ``seen`` (an index range count: cheap)."""
        with self._read() as conn:
            return int(conn.execute("SELECT COUNT(*) FROM chunks WHERE id > ?", (seen.chunk_id,)).fetchone()[0])

    def changes_since(
        self, seen: Watermark, model: str, batch: int = 5000, limit: int | None = None
    ) -> tuple[Watermark, list[NewRow], list[int]]:
        """Chunks added and chunk ids removed after ``seen``, from one consistent snapshot; with ``limit``, the
        first ``limit`` chunks only (the watermark then stops at the last one returned)."""
        rows: list[NewRow] = []
        with self._read() as conn:
            last = seen.chunk_id
            while True:
                size = batch if limit is None else min(batch, limit - len(rows))
                part = conn.execute(
                    "SELECT c.id, c.document_id, c.text, d.metadata, e.vector FROM chunks c "
                    "JOIN documents d ON d.document_id = c.document_id "
                    "LEFT JOIN embedding_cache e ON e.model = ? AND e.text_hash = c.text_hash "
                    "WHERE c.id > ? ORDER BY c.id LIMIT ?",
                    (model, last, size),
                ).fetchall()
                rows.extend(NewRow(i, d, t, json.loads(m), v) for i, d, t, m, v in part)
                if len(part) < size or (limit is not None and len(rows) >= limit):
                    break
                last = part[-1][0]
            tomb = conn.execute(
                "SELECT seq, chunk_id FROM tombstones WHERE seq > ? ORDER BY seq", (seen.tombstone_seq,)
            ).fetchall()
            top_chunk = conn.execute("SELECT COALESCE(MAX(id), 0) FROM chunks").fetchone()[0]
            if limit is not None and len(rows) >= limit:
                top_chunk = rows[-1].id  # more may follow: the next call starts after the last row returned
        new_mark = Watermark(
            max(seen.chunk_id, top_chunk, rows[-1].id if rows else 0),
            tomb[-1][0] if tomb else seen.tombstone_seq,
        )
        return new_mark, rows, [chunk_id for _, chunk_id in tomb]

    def chunks_by_id(self, ids: Sequence[int]) -> dict[int, StoredChunk]:
        out: dict[int, StoredChunk] = {}
        with self._lock:
            for start in range(0, len(ids), 500):
                part = list(ids[start : start + 500])
                marks = ",".join("?" * len(part))  # only placeholders are interpolated, values stay bound
                sql = f"SELECT id, document_id, version_id, ordinal, ref, text, lang FROM chunks WHERE id IN ({marks})"  # noqa: S608
                for row in self._conn.execute(sql, part):
                    out[row[0]] = StoredChunk(*row)
        return out

    def document_ids(self) -> list[str]:
        with self._lock:
            return [row[0] for row in self._conn.execute("SELECT document_id FROM documents ORDER BY document_id")]

    def document(self, document_id: str) -> tuple[str, Metadata] | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT version_id, metadata FROM documents WHERE document_id = ?", (document_id,)
            ).fetchone()
        return (row[0], json.loads(row[1])) if row else None

    def chunk_count(self, document_id: str | None = None) -> int:
        with self._lock:
            if document_id is None:
                return self._conn.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
            return self._conn.execute("SELECT COUNT(*) FROM chunks WHERE document_id = ?", (document_id,)).fetchone()[0]

    def integrity_problems(self) -> list[str]:
        """Consistency checks used after crashes (and by tests)."""
        with self._read() as conn:
            problems = [row[0] for row in conn.execute("PRAGMA integrity_check") if row[0] != "ok"]
            orphans = conn.execute(
                "SELECT COUNT(*) FROM chunks c LEFT JOIN documents d ON d.document_id = c.document_id "
                "WHERE d.document_id IS NULL"
            ).fetchone()[0]
            mixed = conn.execute(
                "SELECT COUNT(*) FROM chunks c JOIN documents d ON d.document_id = c.document_id "
                "WHERE c.version_id <> d.version_id"
            ).fetchone()[0]
        if orphans:
            problems.append(f"{orphans} chunks without a document")
        if mixed:
            problems.append(f"{mixed} chunks of a superseded version")
        return problems
