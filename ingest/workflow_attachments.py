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
from graph.errors import DomainError, InvalidInput
from graph.usecases import Context
from graph.workflows import usecases
from ingest import usecases as file_cases

DOMAIN = "general"
ACCESS = "internal"


@dataclass(frozen=True)
class PostedFile:
    field: str  # the form field or step attachment name it answers
    filename: str
    stream: IO[bytes]


def store_files(ctx: Context, actor: Actor, files: Iterable[PostedFile], *,
                enqueue: file_cases.Enqueue | None) -> dict[str, list[dict[str, str]]]:
    """Store every posted file as a document; returns ``{field: [{name, document_id, version_id}]}``.

    An empty file is refused (``workflow.attachment_empty``): a required attachment needs real content.
    ``enqueue`` queues extraction (the door's queue; None: the caller processes the versions itself).
    """
    found: dict[str, list[dict[str, str]]] = {}
    read = [(posted, posted.stream.read()) for posted in files]
    for posted, data in read:  # every file checked before any is stored: a refusal leaves no document behind
        if not data:
            raise InvalidInput("workflow.attachment_empty", field=posted.field, name=posted.filename)
    for posted, data in read:
        try:
            result = file_cases.upload(ctx, actor, file_cases.Upload(data, posted.filename), domain=DOMAIN,
                                       access=ACCESS, note=f"workflow attachment ({posted.field})", enqueue=enqueue)
        except DomainError as error:
            raise InvalidInput("workflow.attachment_rejected", field=posted.field, name=posted.filename,
                               reason=error.code) from None
        found.setdefault(posted.field, []).append(
            {"name": posted.filename, "document_id": result.document_id, "version_id": result.version_id})
    return found


def open_attachment(ctx: Context, actor: Actor, run_id: str, document_id: str) -> file_cases.Download:
    """The bytes of a run's file, in the version that was attached, for the run's participants only."""
    attached = usecases.attachment_version(ctx.store, actor, run_id, document_id)
    return file_cases.download(ctx, actor, document_id, attached["version_id"])
