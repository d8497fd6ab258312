"""The upload pipeline: validate, store the bytes, record the document, extract in the background.

``upload`` does only what must happen before the uploader gets an answer (type check from the
content, size limit, blob, graph nodes, shares, audit) and queues ``process_version`` on Celery.
``process_version_now`` is that background step run in the caller's process (worker, tests,
``huitong upload --wait``, the demo): extraction, text kept per version under ``data_dir/text``,
status and metadata on the graph, MENTIONS edges, then the search index.

Reading goes through here too (download, text, diff), so every read is permission-checked and
audited in one place.
"""

from __future__ import annotations

import logging
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any, BinaryIO, TypeVar

from graph import audit
from graph import documents as docs
from graph.classification import DomainCatalogue, data_type_for_kind
from graph.errors import GraphUnavailable
from graph.queries import documents as q
from graph.store import GraphStore, Row
from ingest import dedupe
from ingest.blobstore import BlobStore, BlobTooLarge, StagedBlob
from ingest.extract import Extraction, FileKind, extract
from ingest.filetypes import Category, FileTypeError, UnsupportedFile, detect_file, kind_from_name
from ingest.textstore import StoredText, TextStore
from ingest.versiondiff import TextDiff, diff_texts
from settings import Settings

log = logging.getLogger(__name__)

Source = bytes | Path | BinaryIO
Enqueue = Callable[[str], str | None]
MAX_FILENAME = 255


class UploadRejected(docs.DocumentError):
    """The upload was refused (type, size, classification, share...); nothing was stored."""


@dataclass(frozen=True)
class UploadResult:
    document_id: str
    version_id: str
    number: int
    created: bool  # a new document (False: a new version, or nothing new)
    unchanged: bool  # the same bytes were already this document's current version: nothing was added
    sha256: str
    size: int
    kind: str
    blob_reused: bool  # the same bytes were already stored (for any document)
    task_id: str | None = None
    shares: tuple[docs.ShareSpec, ...] = ()
    elapsed_ms: float = 0.0


def celery_enqueue(version_id: str) -> str | None:
    # Imported here: the pipeline is also used where no broker is configured (tests, --wait).
    from workers.tasks import enqueue_extraction

    return enqueue_extraction(version_id)


def _clean_filename(filename: str) -> str:
    name = PurePath(str(filename or "").replace("\\", "/")).name.strip()
    if not name or name in (".", ".."):
        raise UploadRejected("the file needs a name")
    return name[:MAX_FILENAME]


def _detect(path: Path, size: int, filename: str) -> FileKind:
    """The file's kind from its content (the name is only a hint); empty files keep the name's kind."""
    if size == 0:
        kind = kind_from_name(filename)
        if kind is None or not kind.supported:
            raise UploadRejected("the file is empty and its name does not say what it is")
        return kind
    try:
        return detect_file(path, filename)
    except UnsupportedFile as error:
        raise UploadRejected(f"{filename}: {error.reason}") from None
    except FileTypeError as error:
        raise UploadRejected(str(error)) from None


def upload(store: GraphStore, settings: Settings, source: Source, filename: str, actor_id: str,
           domain: str | None = None, access: str | None = None, shares: Iterable[docs.ShareSpec | str] = (),
           note: str = "", document_id: str | None = None, *, title: str | None = None,
           new_document_id: str | None = None, enqueue: Enqueue | None = celery_enqueue, at: int | None = None,
           client: str | None = None, catalogue: DomainCatalogue | None = None,
           stored_sha256: str | None = None) -> UploadResult:
    """Store an upload as a new document, or as a new version of ``document_id``.

    Raises :class:`UploadRejected` (or another ``DocumentError``: ``Forbidden``, ``NotFound``) with a
    message for the uploader; then nothing is written. ``enqueue`` queues the extraction (None:
    the caller runs ``process_version_now`` itself). ``domain`` and ``access`` classify a new
    document; a new version keeps its document's (change them with ``update_metadata``).
    ``new_document_id`` fixes the id of a new
    document (demo data); ``at`` fixes the time (epoch ms). ``stored_sha256`` says the bytes are
    already in the blob store under that hash (bulk ingestion): ``source`` is then not read.
    """
    started = time.perf_counter()
    filename = _clean_filename(filename)
    if not store.run(q.PERSON_EXISTS, {"id": actor_id}):
        raise docs.NotFound("the uploader is not a known, active person")
    existing = docs.get_document(store, document_id) if document_id else None
    if document_id:
        if existing is None:
            raise docs.NotFound("no such document to add a version to")
        docs.require_edit(store, actor_id, document_id)
        domain_code, level = existing["domain"], existing["access"]
    else:
        domain_code, level = docs.validate_classification(domain or "", access or "", catalogue)
    specs = [docs.resolve_share(store, s) for s in shares]
    docs.check_shares_allowed(level, specs)

    with _staged(BlobStore.from_settings(settings), source, stored_sha256) as staged:
        kind = _detect(staged.temp_path, staged.size, filename)
        if existing is not None and existing["sha256"] == staged.sha256:
            return UploadResult(existing["id"], existing["current_version_id"], existing["current_number"], False,
                                True, staged.sha256, staged.size, existing["kind"], True)
        if existing is None:
            duplicate = _own_duplicate(store, actor_id, staged.sha256)
            if duplicate is not None:
                return UploadResult(duplicate["id"], duplicate["current_version_id"], duplicate["current_number"],
                                    False, True, staged.sha256, staged.size, duplicate["kind"], True)
        blob = staged.commit()

    version_id = docs.new_id()
    at = at if at is not None else docs.now_ms()
    if existing is None:
        document_id = new_document_id or docs.new_id()
        docs.create_document(store, _first_version(document_id, version_id, actor_id, title, filename, kind,
                                                   (domain_code, level), blob.sha256, blob.size, note, at),
                             client=client)
        number = 1
    else:
        assert document_id is not None
        number = docs.add_version(store, document_id=document_id, version_id=version_id, author_id=actor_id,
                                  sha256=blob.sha256, size=blob.size, filename=filename, kind=kind.value,
                                  mime=kind.mime, data_type=data_type_for_kind(kind.value).value, note=note, at=at,
                                  client=client).number
    made = tuple(docs.share(store, actor_id, document_id, spec, client=client) for spec in specs)
    task_id = _enqueue(enqueue, version_id)
    return UploadResult(document_id, version_id, number, existing is None, False, blob.sha256, blob.size,
                        kind.value, not blob.created, task_id, made, (time.perf_counter() - started) * 1000)


def _staged(blobs: BlobStore, source: Source | None, stored_sha256: str | None) -> StagedBlob:
    """The upload's bytes staged for the store, or the stored blob of that hash (nothing copied)."""
    try:
        if stored_sha256:
            return blobs.adopt(stored_sha256)
        assert source is not None
        return blobs.stage(source)
    except BlobTooLarge as error:
        raise UploadRejected(str(error)) from None
    except FileNotFoundError:
        raise UploadRejected("the stored bytes of this file are missing") from None


def _first_version(document_id: str, version_id: str, actor_id: str, title: str | None, filename: str,
                   kind: FileKind, classification: tuple[str, str], sha256: str, size: int, note: str,
                   at: int) -> docs.NewDocument:
    clean = docs.clean_title(title)
    domain_code, level = classification
    return docs.NewDocument(
        document_id=document_id, version_id=version_id, owner_id=actor_id,
        title=clean or PurePath(filename).stem or filename, title_source="user" if clean else "filename",
        kind=kind.value, mime=kind.mime, domain=domain_code, data_type=data_type_for_kind(kind.value).value,
        access=level, size=size, sha256=sha256, filename=filename, note=note, created_at=at,
    )


@dataclass(frozen=True)
class StoredUpload:
    """Bytes already in the blob store that are to become a new document (bulk ingestion)."""

    sha256: str
    filename: str
    document_id: str
    domain: str
    access: str
    shares: tuple[str, ...] = ()
    note: str = ""


def upload_stored(store: GraphStore, settings: Settings, actor_id: str, items: list[StoredUpload], *,
                  client: str | None = None, catalogue: DomainCatalogue | None = None
                  ) -> list[UploadResult | Exception]:
    """New documents from bytes already in the blob store, in a few statements for the lot (bulk ingestion).

    The caller has decided that each item is a new document (no document of the actor holds these bytes,
    ``document_id`` is free). Each item is checked as ``upload`` checks it (type from the content, size,
    classification, shares); an item refused or failing gets its exception in its place in the result,
    and the others are stored. The actor must be active (all the items fail otherwise).
    """
    started = time.perf_counter()
    blobs = BlobStore.from_settings(settings)
    at = docs.now_ms()
    results: list[UploadResult | Exception | None] = [None] * len(items)
    classes: dict[tuple[str, str], tuple[str, str]] = {}
    targets: dict[str, docs.ShareSpec] = {}
    prepared: list[tuple[int, docs.NewDocument, list[docs.ShareSpec]]] = []
    for i, item in enumerate(items):
        try:
            filename = _clean_filename(item.filename)
            if (item.domain, item.access) not in classes:
                classes[(item.domain, item.access)] = docs.validate_classification(item.domain, item.access,
                                                                                  catalogue)
            classification = classes[(item.domain, item.access)]
            specs = []
            for text in item.shares:
                if text not in targets:
                    targets[text] = docs.resolve_share(store, text)
                specs.append(targets[text])
            docs.check_shares_allowed(classification[1], specs)
            with _staged(blobs, None, item.sha256) as staged:
                kind = _detect(staged.temp_path, staged.size, filename)
            prepared.append((i, _first_version(item.document_id, docs.new_id(), actor_id, None, filename, kind,
                                               classification, staged.sha256, staged.size, item.note, at), specs))
        except GraphUnavailable:
            raise
        except Exception as error:
            results[i] = error
    created = in_bulk(prepared, lambda some: docs.create_documents(store, actor_id, [d for _, d, _ in some],
                                                                   client=client))
    for position, (i, doc, specs) in enumerate(prepared):
        if position in created:
            results[i] = created[position]
            continue
        try:
            made = tuple(docs.share(store, actor_id, doc.document_id, spec, client=client) for spec in specs)
        except GraphUnavailable:
            raise
        except Exception as error:
            results[i] = error
            continue
        results[i] = UploadResult(doc.document_id, doc.version_id, 1, True, False, doc.sha256, doc.size, doc.kind,
                                  True, None, made, (time.perf_counter() - started) * 1000)
    return [r if r is not None else RuntimeError("not processed") for r in results]


T = TypeVar("T")


def in_bulk(items: list[T], work: Callable[[list[T]], object]) -> dict[int, Exception]:
    """Run ``work`` on all the items at once; when that fails, on each item alone, so that one bad item fails
    by itself. Returns the failures by position (a graph outage is raised: the whole work is to be retried)."""
    if not items:
        return {}
    try:
        work(items)
        return {}
    except GraphUnavailable:
        raise
    except Exception:
        log.info("a bulk write failed; writing its %d items one by one", len(items), exc_info=True)
    failed: dict[int, Exception] = {}
    for position, item in enumerate(items):
        try:
            work([item])
        except GraphUnavailable:
            raise
        except Exception as error:
            failed[position] = error
    return failed


def _own_duplicate(store: GraphStore, owner_id: str, sha256: str) -> dict[str, Any] | None:
    """The uploader's own document whose current bytes are these (upload once, share with many)."""
    for row in store.run(q.DOCUMENTS_BY_SHA, {"sha256": sha256}):
        if row["owner_id"] == owner_id:
            return docs.get_document(store, row["id"])
    return None


def _enqueue(enqueue: Enqueue | None, version_id: str) -> str | None:
    if enqueue is None:
        return None
    try:
        return enqueue(version_id)
    except Exception:  # a broker outage must not lose the upload: the version stays "pending"
        log.warning("could not queue extraction of version %s; it stays pending", version_id, exc_info=True)
        return None


# -- background processing ---------------------------------------------------------------------------


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
    found = docs.get_versions(store, version_ids)
    results: dict[str, Processed | Exception] = {}
    blobs, texts = BlobStore.from_settings(settings), TextStore.from_settings(settings)
    ids = list(dict.fromkeys(version_ids))
    chunks = [ids[i:i + WRITE_CHUNK] for i in range(0, len(ids), WRITE_CHUNK)]
    if len(chunks) <= 1:
        _record(store, settings, _extract_all(blobs, texts, found, ids, results), results, index)
        return results
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-graph-writes") as writer:
        pending = [writer.submit(_record, store, settings, _extract_all(blobs, texts, found, chunk, results),
                                 results, index) for chunk in chunks]
    for future in pending:
        future.result()  # raises a graph outage met by the writer
    return results


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
            extraction = _extract_version(blobs, row["version"])
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
        counts = docs.link_mentions_many(store, [(p.document_id, p.version_id, e.text) for p, e in some])
        for p, _ in some:
            p.mentions = counts.get(p.document_id, 0)

    done = _keep(done, _timed(done, "graph", lambda: in_bulk(done, record)), results)
    # An older version's text is kept for diffs; the graph and the index follow the current one.
    current = [(p, e) for p, e in done if p.current]
    failed = _timed(current, "mentions", lambda: in_bulk(current, mention))
    current = _keep(current, failed, results)
    dedupe.after_extraction(store, [(p.document_id, p.version_id, e.text) for p, e in current])  # copies elsewhere
    for processed, extraction in current if index else []:
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
    for processed, _ in done:
        results.setdefault(processed.version_id, processed)


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


def _extract_version(blobs: BlobStore, version: Row) -> Extraction:
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


# -- the search index hook ------------------------------------------------------------------------------

_INDEXES: dict[tuple[str, str], Any] = {}
_INDEXES_LOCK = threading.Lock()


def search_index(settings: Settings) -> Any:
    """The process-wide search index of this data directory (embeddings.search_index.SearchIndex)."""
    from embeddings.search_index import SearchIndex

    key = (str(settings.data_dir.resolve()), settings.embedding_model)
    with _INDEXES_LOCK:
        index = _INDEXES.get(key)
        if index is None:
            index = _INDEXES[key] = SearchIndex(settings.data_dir, settings.embedding_model)
        return index


def index_metadata(store: GraphStore, document_id: str) -> dict[str, str | int | float | None]:
    """The facets the search engine filters and counts on, from the document node."""
    doc = docs.get_document(store, document_id)
    if doc is None:
        raise docs.NotFound("no such document")
    department = store.run(q.PRIMARY_DEPARTMENT, {"person_id": doc["owner_id"]})
    return {"title": doc["title"], "kind": doc["kind"], "domain": doc["domain"], "data_type": doc["data_type"],
            "access": doc["access"], "owner_id": doc["owner_id"], "filename": doc.get("filename"),
            "department_id": department[0]["id"] if department else None,
            "uploaded_at": doc["created_at"], "updated_at": doc["updated_at"]}


def index_version(store: GraphStore, settings: Settings, document_id: str, version_id: str,
                  sections: Iterable[Any]) -> int | None:
    """Put the current version's text into the search index (or take the document out when it has none)."""
    blocks = [(s.text, s.ref) for s in sections if s.text.strip()]
    index = search_index(settings)
    if not blocks:
        index.delete_document(document_id)
        return None
    return int(index.add_document(document_id, version_id, blocks, index_metadata(store, document_id)))


def index_documents(store: GraphStore, settings: Settings, document_ids: Iterable[str], *,
                    batch_size: int = 64) -> int:
    """Index the current versions of many documents, embedding their chunks in shared batches
    (bulk loads: much faster than one document at a time). Returns the number of chunks."""
    from embeddings.search_index import DocumentInput

    index = search_index(settings)
    texts = TextStore.from_settings(settings)
    pending: list[Any] = []
    chunks = 0
    for document_id in dict.fromkeys(document_ids):
        doc = docs.get_document(store, document_id)
        stored = texts.load(doc["current_version_id"]) if doc else None
        blocks = [(s.text, s.ref) for s in stored.sections if s.text.strip()] if stored else []
        if not blocks:
            continue
        pending.append(DocumentInput(document_id, stored.version_id, blocks, index_metadata(store, document_id)))
        if len(pending) >= batch_size:
            chunks += _flush(index, store, pending)
            pending = []
    if pending:
        chunks += _flush(index, store, pending)
    return chunks


def _flush(index: Any, store: GraphStore, pending: list[Any]) -> int:
    counts = index.add_documents(pending)
    for item, count in zip(pending, counts, strict=True):
        docs.set_indexed(store, item.version_id, count)
    return int(sum(counts))


def update_metadata(store: GraphStore, settings: Settings, actor_id: str, document_id: str, revision: int, *,
                    title: str | None = None, domain: str | None = None, access: str | None = None,
                    client: str | None = None, reindex: bool = True) -> int:
    """``graph.documents.update_metadata`` plus a refresh of the search facets; returns the new revision."""
    new_revision = docs.update_metadata(store, actor_id, document_id, revision, title=title, domain=domain,
                                        access=access, client=client)
    if reindex:
        doc = docs.get_document(store, document_id)
        stored = TextStore.from_settings(settings).load(doc["current_version_id"]) if doc else None
        if stored is not None and stored.sections:
            # Vectors are cached by text hash: re-adding unchanged text costs no embedding.
            index_version(store, settings, document_id, stored.version_id, stored.sections)
    return new_revision


# -- reading --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Download:
    path: Path
    filename: str
    mime: str
    size: int
    sha256: str
    version_id: str
    number: int


def open_download(store: GraphStore, settings: Settings, viewer_id: str, document_id: str,
                  version_id: str | None = None, *, client: str | None = None) -> Download:
    """Where the bytes of a (current) version are, after the permission check; audited."""
    docs.require_read(store, viewer_id, document_id)
    version = docs.version_of_document(store, document_id, version_id)
    path = BlobStore.from_settings(settings).path(version["sha256"])
    if not path.is_file():
        raise docs.NotFound("the stored file of this version is missing")
    audit.record(store, action="document.download", actor_id=viewer_id, target_kind="document",
                 target_id=document_id, client=client,
                 detail={"version_id": version["id"], "number": version["number"]})
    return Download(path, version["filename"], version["mime"], version["size"], version["sha256"], version["id"],
                    int(version["number"]))


def read_text(store: GraphStore, settings: Settings, viewer_id: str, document_id: str,
              version_id: str | None = None, *, client: str | None = None) -> StoredText | None:
    """The extracted text of a (current) version; None while extraction has not run. Audited."""
    docs.require_read(store, viewer_id, document_id)
    version = docs.version_of_document(store, document_id, version_id)
    audit.record(store, action="document.read", actor_id=viewer_id, target_kind="document", target_id=document_id,
                 client=client, detail={"version_id": version["id"], "number": version["number"]})
    return TextStore.from_settings(settings).load(version["id"])


def diff_versions(store: GraphStore, settings: Settings, viewer_id: str, document_id: str, old_version_id: str,
                  new_version_id: str, *, client: str | None = None) -> TextDiff:
    """Line diff of the extracted text of two versions of one document (unified and HTML side by side)."""
    docs.require_read(store, viewer_id, document_id)
    texts = TextStore.from_settings(settings)
    sides = []
    for version_id in (old_version_id, new_version_id):
        version = docs.version_of_document(store, document_id, version_id)
        stored = texts.load(version["id"])
        if stored is None:
            raise docs.DocumentError(f"version {version['number']} has not been extracted yet")
        sides.append((f"v{version['number']} {version['filename']}", stored.text))
    audit.record(store, action="document.diff", actor_id=viewer_id, target_kind="document", target_id=document_id,
                 client=client, detail={"old_version_id": old_version_id, "new_version_id": new_version_id})
    (old_label, old_text), (new_label, new_text) = sides
    return diff_texts(old_text, new_text, old_label, new_label)
