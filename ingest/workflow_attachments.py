"""Files attached to workflow runs become documents: stored, extracted and indexed like any upload.

The ONE place where a workflow attachment enters the upload pipeline. Each file becomes a document
owned by whoever attached it (access level ``internal``, no shares): the run's participants read
it through the run (the "run" rule of docs/permissions.md), nobody else does. The workflow use
cases (:mod:`graph.workflows.usecases`) then link the exact version to the task and decision.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO

from graph.actor import Actor
from graph.documents import DocumentError
from graph.errors import InvalidInput, ObjectMissing
from graph.store import GraphStore
from graph.workflows import usecases
from ingest import pipeline
from settings import Settings

DOMAIN = "general"
ACCESS = "internal"


@dataclass(frozen=True)
class PostedFile:
    field: str  # the form field or step attachment name it answers
    filename: str
    stream: IO[bytes]


def store_files(store: GraphStore, settings: Settings, actor: Actor, files: Iterable[PostedFile], *,
                queue: bool = True, at: int | None = None) -> dict[str, list[dict[str, str]]]:
    """Store every posted file as a document; returns ``{field: [{name, document_id, version_id}]}``.

    An empty file is refused (``workflow.attachment_empty``): a required attachment needs real content.
    ``queue=False`` leaves extraction to the caller (``pipeline.process_versions_now``, bulk demo data);
    ``at`` fixes the upload time (demo history).
    """
    found: dict[str, list[dict[str, str]]] = {}
    for posted in files:
        data = posted.stream.read()
        if not data:
            raise InvalidInput("workflow.attachment_empty", field=posted.field, name=posted.filename)
        try:
            result = pipeline.upload(store, settings, data, posted.filename, actor.person_id, DOMAIN, ACCESS,
                                     note=f"workflow attachment ({posted.field})", client=actor.address,
                                     enqueue=pipeline.celery_enqueue if queue else None, at=at)
        except pipeline.UploadRejected as error:
            raise InvalidInput("workflow.attachment_rejected", field=posted.field, name=posted.filename,
                               reason=str(error)) from None
        found.setdefault(posted.field, []).append(
            {"name": posted.filename, "document_id": result.document_id, "version_id": result.version_id})
    return found


def open_attachment(store: GraphStore, settings: Settings, actor: Actor, run_id: str,
                    document_id: str) -> pipeline.Download:
    """The bytes of a run's file, in the version that was attached, for the run's participants only."""
    attached = usecases.attachment_version(store, actor, run_id, document_id)
    try:
        return pipeline.open_download(store, settings, actor.person_id, document_id, attached["version_id"],
                                      client=actor.address)
    except DocumentError:  # unreadable or its bytes are gone: the same answer as a missing file
        raise ObjectMissing("workflow.attachment_missing", document_id=document_id) from None
