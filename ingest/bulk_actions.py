"""Actions on many documents at once from the documents list: share and classify. Each document goes
through the very use case of the single action (:func:`graph.usecases.documents.share`,
:func:`ingest.usecases.edit_details`) with the same actor, so access is checked, the write audited and
announced per document exactly as on its own page; one refusal does not stop the others."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from graph.actor import Actor
from graph.errors import DomainError, InvalidInput, ObjectMissing
from graph.usecases import Context
from graph.usecases import documents as cases
from ingest import usecases as files

MAX_DOCUMENTS = 100  # one page of the list at its largest, with room to spare


@dataclass(frozen=True)
class Refused:
    document_id: str
    title: str | None  # None when the actor may not even read it (it stays unnamed, like a missing one)
    error: DomainError


@dataclass
class BulkResult:
    done: list[str] = field(default_factory=list)
    refused: list[Refused] = field(default_factory=list)


def _ids(document_ids: Iterable[str]) -> list[str]:
    ids = list(dict.fromkeys(str(i).strip() for i in document_ids if str(i).strip()))
    if not ids:
        raise InvalidInput("bulk.no_documents", field="document")
    if len(ids) > MAX_DOCUMENTS:
        raise InvalidInput("bulk.too_many", field="document", max=MAX_DOCUMENTS)
    return ids


def _each(ctx: Context, actor: Actor, document_ids: Iterable[str],
          act: Callable[[str, dict[str, object]], object]) -> BulkResult:
    result = BulkResult()
    for document_id in _ids(document_ids):
        title = None
        try:
            doc = cases.open_document(ctx, actor, document_id, explicit=False)
            title = str(doc.get("title") or "")
            act(document_id, doc)
        except ObjectMissing as error:
            result.refused.append(Refused(document_id, None, error))
        except DomainError as error:
            result.refused.append(Refused(document_id, title, error))
        else:
            result.done.append(document_id)
    return result


def share_many(ctx: Context, actor: Actor, document_ids: Iterable[str], spec_text: str) -> BulkResult:
    """Share every document with one target (``KIND:CODE[:edit]``), each as its own share."""
    if not spec_text:
        raise InvalidInput("share.malformed", field="code", text="")
    return _each(ctx, actor, document_ids, lambda document_id, _doc: cases.share(ctx, actor, document_id, spec_text))


def classify_many(ctx: Context, actor: Actor, document_ids: Iterable[str], *, domain: str | None = None,
                  access: str | None = None) -> BulkResult:
    """Give every document this business domain and/or access level, each against its current revision."""
    if not domain and not access:
        raise InvalidInput("bulk.nothing_to_change", field="domain")

    def classify(document_id: str, doc: dict[str, object]) -> None:
        files.edit_details(ctx, actor, document_id, int(str(doc["revision"])), domain=domain or None,
                           access=access or None)

    return _each(ctx, actor, document_ids, classify)
