"""The background step of an upload: extract, keep the text per version under ``data_dir/text``, store
status and metadata on the graph, link MENTIONS, index the current version, then tell the document's
watchers (web, CLI ``upload --wait``, Celery worker and bulk ingestion alike).

Safe to run twice (a retried task): every step replaces what an earlier run wrote.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePath

from graph import audit, document_rows, live, mentions
from graph import documents as docs
from graph.errors import GraphUnavailable
from graph.store import GraphStore, Row
from ingest import dedupe, thumbnails
from ingest.blobstore import BlobStore
from ingest.bulk import in_bulk
from ingest.extract import Extraction, FileKind, extract
from ingest.filetypes import Category
from ingest.index_registry import index_version, index_versions
from ingest.textstore import TextStore
from settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Processed:
    version_id: str
    document_id: str
    status: str
    reason: str | None
    current: bool
    mentions: int = 0
    chunks: int | None = None  # None: not indexed (not current, no text, or indexing off)
    timings_ms: dict[str, float] = field(default_factory=dict)


def _pages(extraction: Extraction) -> int | None:
    meta = extraction.metadata
    value = meta.get("pages", meta.get("slides"))
    return int(value) if isinstance(value, int) else None


def _text_title(extraction: Extraction) -> str | None:
    value = extraction.metadata.get("title")
    return value if isinstance(value, str) and value.strip() else None


def process_version_now(store: GraphStore, settings: Settings, version_id: str, *, index: bool = True) -> Processed:
    """Extract, store text, update status, link mentions and index one version, in this process.

    Safe to run twice (a retried task): every step replaces what an earlier run wrote.
    """
    done = process_versions_now(store, settings, [version_id], index=index)[version_id]
    if isinstance(done, Exception):
        raise done
    return done


WRITE_CHUNK = 8  # versions extracted before their graph writes are handed to the writer thread


def process_versions_now(store: GraphStore, settings: Settings, version_ids: list[str], *,
                         index: bool = True) -> dict[str, Processed | Exception]:
    """``process_version_now`` of many versions, with the graph writes of the lot in a few statements.

    The writes of a chunk of versions go to the graph from a second thread while the next chunk is being
    extracted, so waiting for the graph server overlaps with extraction. A version that fails (missing,
    unreadable blob, a write the graph refuses) gets its exception in its place; the others are processed.
    A graph outage is raised (after the writes already under way have finished).
    """
    found = document_rows.get_versions(store, version_ids)
    results: dict[str, Processed | Exception] = {}
    blobs, texts = BlobStore.from_settings(settings), TextStore.from_settings(settings)
    ids = list(dict.fromkeys(version_ids))
    chunks = [ids[i:i + WRITE_CHUNK] for i in range(0, len(ids), WRITE_CHUNK)]
    if len(chunks) <= 1:
        _record(store, settings, _extract_all(blobs, texts, found, ids, results), results, index)
        _thumbnails(settings, found, results)
        _announce(settings, results)
        return results
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-graph-writes") as writer:
        pending = [writer.submit(_record, store, settings, _extract_all(blobs, texts, found, chunk, results),
                                 results, index) for chunk in chunks]
    for future in pending:
        future.result()  # raises a graph outage met by the writer
    _thumbnails(settings, found, results)
    _announce(settings, results)
    return results


def _thumbnails(settings: Settings, found: dict[str, Row], results: dict[str, Processed | Exception]) -> None:
    """Thumbnails of the processed versions (images, first page of PDFs), before the watchers are told: a list
    that refreshes on the status event then shows the picture."""
    for version_id, done in results.items():
        if isinstance(done, Processed):
            version = found[version_id]["version"]
            thumbnails.prepare(settings, version.get("kind"), version["sha256"])


def _announce(settings: Settings, results: dict[str, Processed | Exception]) -> None:
    """Tell the watchers of each processed document its new status (whichever door started the work)."""
    for done in results.values():
        if isinstance(done, Processed):
            live.document_changed(settings, done.document_id, "status", version_id=done.version_id,
                                  status=done.status, current=done.current)


def _extract_all(blobs: BlobStore, texts: TextStore, found: dict[str, Row], version_ids: list[str],
                 results: dict[str, Processed | Exception]) -> list[tuple[Processed, Extraction]]:
    """Extract and keep the text of each version; failures go to ``results``."""
    done = []
    for version_id in version_ids:
        row = found.get(version_id)
        if row is None:
            results[version_id] = docs.NotFound(f"no version {version_id!r}")
            continue
        try:
            start = time.perf_counter()
            extraction = extract_row(blobs, row["version"])
            extracted = time.perf_counter()
            texts.save(version_id, extraction)
        except Exception as error:
            results[version_id] = error
            continue
        timings = {"extract": (extracted - start) * 1000, "text": (time.perf_counter() - extracted) * 1000}
        done.append((Processed(version_id, row["document"]["id"], extraction.status, extraction.reason,
                               bool(row["current"]), timings_ms=timings), extraction))
    return done


def _record(store: GraphStore, settings: Settings, done: list[tuple[Processed, Extraction]],
            results: dict[str, Processed | Exception], index: bool) -> None:
    """The graph writes (and indexing) of extracted versions; each version's outcome goes to ``results``."""

    def record(some: list[tuple[Processed, Extraction]]) -> None:
        docs.set_extractions(store, [_outcome(p.version_id, e) for p, e in some])
        audit.record_many(store, [audit.Event("document.extracted", target_kind="document", target_id=p.document_id,
                                              detail={"version_id": p.version_id, "status": e.status,
                                                      "reason": e.reason, "chars": len(e.text)})
                                  for p, e in some])

    def mention(some: list[tuple[Processed, Extraction]]) -> None:
        counts = mentions.link_mentions_many(store, [(p.document_id, p.version_id, e.text) for p, e in some])
        for p, _ in some:
            p.mentions = counts.get(p.document_id, 0)

    done = _keep(done, _timed(done, "graph", lambda: in_bulk(done, record)), results)
    # An older version's text is kept for diffs; the graph and the index follow the current one.
    current = [(p, e) for p, e in done if p.current]
    failed = _timed(current, "mentions", lambda: in_bulk(current, mention))
    current = _keep(current, failed, results)
    dedupe.after_extraction(store, [(p.document_id, p.version_id, e.text) for p, e in current])  # copies elsewhere
    if index:
        _index(store, settings, current, results)
    for processed, _ in done:
        results.setdefault(processed.version_id, processed)


def _index(store: GraphStore, settings: Settings, current: list[tuple[Processed, Extraction]],
           results: dict[str, Processed | Exception]) -> None:
    """Index the current versions: all their chunks embedded together (the encoder's rate, not one small call
    per file); if that fails, one by one, so one bad file costs only itself."""
    if not current:
        return
    start = time.perf_counter()
    try:
        counts = index_versions(store, settings, [(p.document_id, p.version_id, e.sections) for p, e in current])
    except GraphUnavailable:
        raise
    except Exception:
        log.info("indexing %d versions together failed; indexing them one by one", len(current), exc_info=True)
        counts = None
    if counts is not None:
        share = (time.perf_counter() - start) * 1000 / len(current)
        for (processed, _), count in zip(current, counts, strict=True):
            processed.chunks = count
            processed.timings_ms["index"] = share
            try:
                docs.set_indexed(store, processed.version_id, count)
            except GraphUnavailable:
                raise
            except Exception as error:
                results[processed.version_id] = error
        return
    for processed, extraction in current:
        start = time.perf_counter()
        try:
            processed.chunks = index_version(store, settings, processed.document_id, processed.version_id,
                                             extraction.sections)
            docs.set_indexed(store, processed.version_id, processed.chunks)
        except GraphUnavailable:
            raise
        except Exception as error:
            results[processed.version_id] = error
        processed.timings_ms["index"] = (time.perf_counter() - start) * 1000


def _outcome(version_id: str, extraction: Extraction) -> docs.ExtractionOutcome:
    return docs.ExtractionOutcome(version_id, extraction.status, extraction.reason, _pages(extraction),
                                  _author(extraction), len(extraction.text), _text_title(extraction))


def _timed(items: list[tuple[Processed, Extraction]], step: str,
           work: Callable[[], dict[int, Exception]]) -> dict[int, Exception]:
    """Run a bulk step and give each item its share of the time."""
    start = time.perf_counter()
    failed = work()
    share = (time.perf_counter() - start) * 1000 / max(len(items), 1)
    for processed, _ in items:
        processed.timings_ms[step] = share
    return failed


def _keep(items: list[tuple[Processed, Extraction]], failed: dict[int, Exception],
          results: dict[str, Processed | Exception]) -> list[tuple[Processed, Extraction]]:
    """The items that did not fail; the failures go to ``results``."""
    for position, error in failed.items():
        results[items[position][0].version_id] = error
    return [item for position, item in enumerate(items) if position not in failed]


def extract_row(blobs: BlobStore, version: Row) -> Extraction:
    """The text of stored bytes described by ``sha256``, ``kind`` and ``filename`` (a version or a kept upload)."""
    blob_path = blobs.path(version["sha256"])
    kind = FileKind(version["kind"])
    if _reads_by_name(kind):
        with _named_view(blob_path, version["filename"]) as path:
            return extract(path, kind, filename=version["filename"])
    return extract(blob_path, kind, filename=version["filename"])


def _reads_by_name(kind: FileKind) -> bool:
    """Readers that judge a file by its name as well as its bytes: the CSV reader (.tsv means tabs)
    and mutagen (audio/video); every other reader takes the hash-named blob as it is."""
    return kind is FileKind.CSV or kind.category in (Category.AUDIO, Category.VIDEO)


@contextmanager
def _named_view(blob_path: Path, filename: str) -> Iterator[Path]:
    """The blob under a name with the upload's extension, for the readers that judge a file by its name."""
    with tempfile.TemporaryDirectory(prefix="ht-extract-") as folder:
        view = Path(folder) / ("blob" + PurePath(filename).suffix.lower())
        view.symlink_to(blob_path.resolve())
        yield view


def _author(extraction: Extraction) -> str | None:
    value = extraction.metadata.get("author")
    return value[:200] if isinstance(value, str) and value.strip() else None


