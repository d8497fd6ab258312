"""Uploads: validate, store the bytes, record the document or version, queue the background step.

``upload`` does only what must happen before the uploader gets an answer (type check from the content,
size limit, blob, graph nodes, shares, audit) and hands the new version to ``enqueue`` (given by the
door: the Celery queue on the web, None where the caller processes it itself). ``upload_stored`` is the
bulk form for bytes already in the blob store (archive ingestion).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any, BinaryIO

from graph import document_rows, live
from graph import documents as docs
from graph.classification import DomainCatalogue, data_type_for_kind
from graph.errors import GraphUnavailable
from graph.queries import documents as q
from graph.store import GraphStore
from ingest.blobstore import BlobStore, BlobTooLarge, StagedBlob
from ingest.bulk import in_bulk
from ingest.extract import FileKind
from ingest.filenames import clean_filename
from ingest.filetypes import FileTypeError, UnsupportedFile, detect_file, kind_from_name
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


def _clean_filename(filename: str) -> str:
    name = clean_filename(filename)  # no path parts, control or invisible characters (headers, logs, eyes)
    if not name:
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
           new_document_id: str | None = None, enqueue: Enqueue | None = None, at: int | None = None,
           client: str | None = None, catalogue: DomainCatalogue | None = None,
           stored_sha256: str | None = None, base_version: int | None = None) -> UploadResult:
    """Store an upload as a new document, or as a new version of ``document_id``.

    Raises :class:`UploadRejected` (or another ``DocumentError``: ``Forbidden``, ``NotFound``) with a
    message for the uploader; then nothing is written. ``enqueue`` queues the extraction (None:
    the caller runs ``process_version_now`` itself). ``domain`` and ``access`` classify a new
    document; a new version keeps its document's (change them with ``ingest.usecases.edit_details``).
    ``new_document_id`` fixes the id of a new
    document (demo data); ``at`` fixes the time (epoch ms). ``stored_sha256`` says the bytes are
    already in the blob store under that hash (bulk ingestion): ``source`` is then not read.
    ``base_version`` (a new version) is the number the uploader worked from: if another version is current
    by the time it is written, ``docs.StaleBase`` is raised with the bytes kept in the blob store.
    """
    started = time.perf_counter()
    filename = _clean_filename(filename)
    if not store.run(q.PERSON_EXISTS, {"id": actor_id}):
        raise docs.NotFound("the uploader is not a known, active person")
    existing = document_rows.get_document(store, document_id) if document_id else None
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
        try:
            number = docs.add_version(store, document_id=document_id, version_id=version_id, author_id=actor_id,
                                      sha256=blob.sha256, size=blob.size, filename=filename, kind=kind.value,
                                      mime=kind.mime, data_type=data_type_for_kind(kind.value).value, note=note,
                                      at=at, client=client, base_version=base_version).number
        except docs.StaleBase as stale:  # the bytes stay stored: the uploader may still add them
            stale.sha256, stale.kind, stale.filename = blob.sha256, kind.value, filename
            raise
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
    # Bulk ingestion announces too, without a reader query per file: the uploader's listings hear of each new
    # document now; the documents' own watchers hear their status once processed (ingest.processing).
    created = [r.document_id for r in results if isinstance(r, UploadResult)]
    if created:
        live.publish_to_people(settings, [actor_id], live.NEW_DOCUMENT_EVENT, {"ids": created})
    return [r if r is not None else RuntimeError("not processed") for r in results]


def _own_duplicate(store: GraphStore, owner_id: str, sha256: str) -> dict[str, Any] | None:
    """The uploader's own document whose current bytes are these (upload once, share with many)."""
    for row in store.run(q.DOCUMENTS_BY_SHA, {"sha256": sha256}):
        if row["owner_id"] == owner_id:
            return document_rows.get_document(store, row["id"])
    return None


def _enqueue(enqueue: Enqueue | None, version_id: str) -> str | None:
    if enqueue is None:
        return None
    try:
        return enqueue(version_id)
    except Exception:  # a broker outage must not lose the upload: the version stays "pending"
        log.warning("could not queue extraction of version %s; it stays pending", version_id, exc_info=True)
        return None


