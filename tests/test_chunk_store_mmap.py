"""The chunk store reads through a memory map and still sees another connection's writes at once."""

from __future__ import annotations

from pathlib import Path

from embeddings.store import ChunkStore


def _write(store: ChunkStore, chunk_id: int, text: str) -> None:
    conn = store._conn
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT OR IGNORE INTO documents VALUES ('d', 'v1', '{}', 0)")
    conn.execute(
        "INSERT INTO chunks (id, document_id, version_id, ordinal, ref, text, text_hash, lang) "
        "VALUES (?, 'd', 'v1', ?, 'p. 1', ?, 'h', 'en')",
        (chunk_id, chunk_id, text),
    )
    conn.execute("COMMIT")


def test_mapped_reads_see_other_writers(tmp_path: Path) -> None:
    reader, writer = ChunkStore(tmp_path / "c.sqlite3"), ChunkStore(tmp_path / "c.sqlite3")
    assert reader._conn.execute("PRAGMA mmap_size").fetchone()[0] > 0
    _write(writer, 1, "first " * 2000)  # spans overflow pages
    assert reader.chunks_by_id([1])[1].text == "first " * 2000
    for i in range(2, 300):
        _write(writer, i, f"chunk {i} " * 50)
    found = reader.chunks_by_id([1, 150, 299])
    assert [found[i].text for i in (150, 299)] == ["chunk 150 " * 50, "chunk 299 " * 50]
    assert reader.watermark().chunk_id == 299
    reader.close()
    writer.close()
