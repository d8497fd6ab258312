"""Documents, one function per action: open a document page, its versions, shares, related knowledge,
"why can I see this", who can read it, share / unshare / share preview, metadata and classification.

Each takes the acting person; access is decided once per request (:mod:`graph.usecases.access`); a
document the actor may not read answers exactly as a missing one. Writes are audited and announced
on the live bus (:mod:`graph.live`) whatever the door. Files, text and search: :mod:`ingest.usecases`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from graph import audit, document_rows, live, notifications, permissions
from graph import documents as docs
from graph.actor import Actor
from graph.errors import InvalidInput, NotPermitted, ObjectMissing, StateConflict
from graph.queries import browse as bq
from graph.queries import documents as q
from graph.store import Row
from graph.usecases import Context
from graph.usecases.access import MISSING, forget, require_editor, require_manager, require_reader


def announce(ctx: Context, document_id: str, what: str, **details: Any) -> None:
    """Tell the document's watchers what changed (nothing without a bus: scripts, some tests)."""
    if ctx.settings is not None:
        live.document_changed(ctx.settings, document_id, what, **details)


def announce_new(ctx: Context, document_id: str) -> None:
    """Tell the people who may now read the document (their listings may include it)."""
    if ctx.settings is not None:
        live.document_created(ctx.store, ctx.settings, document_id)


# -- reading ------------------------------------------------------------------------------------------


def open_document(ctx: Context, actor: Actor, document_id: str, *, explicit: bool = True) -> Row:
    """The document as the actor may see it, with why they may and what else they may do.

    ``explicit``: a person opened the page (one ``document.view`` in the audit trail); a partial
    refresh of one part of the page passes False and records nothing.
    """
    decision = require_reader(ctx.store, actor, document_id)
    doc = actor.memo(("document.row", document_id), lambda: document_rows.get_document(ctx.store, document_id))
    if doc is None:
        raise ObjectMissing(MISSING, id=document_id)
    if explicit:
        audit.record(ctx.store, action="document.view", actor_id=actor.person_id, target_kind="document",
                     target_id=document_id, client=actor.address)
    access = decision.read
    shown = {k: v for k, v in doc.items() if k != "locked_at"}
    return {**shown, "access_reason": access.explain("en"), "access_reason_zh": access.explain("zh"),
            "access_path": access.path, "can_edit": decision.edit.allowed, "can_change_level": decision.manages,
            "can_see_reads": decision.manages}


def versions(ctx: Context, actor: Actor, document_id: str) -> list[Row]:
    """Newest first: number, author, time, size, hash, note, extraction status, current flag."""
    require_reader(ctx.store, actor, document_id)
    # Several parts of one page show the versions: read them once per request.
    return actor.memo(("document.versions", document_id), lambda: [
        {**r["version"], "current": r["current"], "author_name": r["author_name"],
         "author_username": r["author_username"]} for r in ctx.store.run(q.LIST_VERSIONS, {"id": document_id})])


def version(ctx: Context, actor: Actor, document_id: str, version_id: str | None = None) -> Row:
    """One version of a readable document (the current one when ``version_id`` is None)."""
    require_reader(ctx.store, actor, document_id)
    found = document_rows.version_of_document(ctx.store, document_id, version_id)
    if found is None:
        raise ObjectMissing("version.missing", id=version_id or "")
    return found


def shares(ctx: Context, actor: Actor, document_id: str) -> list[Row]:
    require_reader(ctx.store, actor, document_id)
    return ctx.store.run(q.SHARES_OF, {"id": document_id})


@dataclass
class Related:
    same_domain: list[Row]
    people: list[Row]
    departments: list[Row]
    projects: list[Row]
    tasks: list[Row]
    decisions: list[Row]


def related(ctx: Context, actor: Actor, document_id: str, *, limit: int = 10) -> Related:
    """What the graph knows around a readable document, limited to what the actor may read."""
    require_reader(ctx.store, actor, document_id)
    readable = sorted(permissions.readable_document_ids(ctx.store, actor.person_id) - {document_id})
    same = ctx.store.run(bq.RELATED_SAME_DOMAIN["ids"], {"id": document_id, "ids": readable, "limit": limit})
    mentioned = ctx.store.run(q.MENTIONED, {"id": document_id})
    work = ctx.store.run(q.LINKED_WORK, {"id": document_id})
    return Related(
        same_domain=same,
        people=[m for m in mentioned if m["label"] == "Person"],
        departments=[m for m in mentioned if m["label"] == "Department"],
        projects=[m for m in mentioned if m["label"] == "Project"],
        tasks=[w for w in work if w["label"] == "Task"],
        decisions=[w for w in work if w["label"] == "Decision"],
    )


def why(ctx: Context, actor: Actor, document_id: str, lang: str = "zh") -> str:
    """"Why can I see this?" — only ever answered to a reader (anyone else: a missing document)."""
    return require_reader(ctx.store, actor, document_id).read.explain(lang)


def who_can_read(ctx: Context, actor: Actor, document_id: str, page: int = 1,
                 per_page: int = 20) -> permissions.ReadersPage:
    """Every person who may read the document, with their path (owner and administrators only)."""
    require_manager(ctx.store, actor, document_id)
    return permissions.who_can_read(ctx.store, document_id, max(int(page), 1), per_page)


# -- sharing ------------------------------------------------------------------------------------------


def _spec(ctx: Context, text: str) -> docs.ShareSpec:
    try:
        return docs.resolve_share(ctx.store, text)
    except docs.NotFound:
        kind, _, ref = str(text).partition(":")
        raise InvalidInput("share.unknown_target", field="code", kind=kind, ref=ref.split(":")[0]) from None
    except docs.DocumentError:
        raise InvalidInput("share.malformed", field="code", text=str(text)) from None


def share_preview(ctx: Context, actor: Actor, document_id: str,
                  spec_text: str) -> tuple[permissions.SharePreview, docs.ShareSpec]:
    """Who would gain access if the document were shared so (owner and administrators only)."""
    require_manager(ctx.store, actor, document_id)
    spec = _spec(ctx, spec_text)
    assert spec.target_id is not None
    preview = permissions.share_preview(ctx.store, document_id, spec.kind, spec.target_id, spec.access)
    return preview, spec


@contextmanager
def _record_refusals(document_id: str) -> Iterator[None]:
    """The record layer's refusals in the use cases' terms (a document deleted meanwhile is a missing one)."""
    try:
        yield
    except docs.NotFound:
        raise ObjectMissing(MISSING, id=document_id) from None
    except docs.Forbidden:
        raise NotPermitted("document.read_only") from None


def share(ctx: Context, actor: Actor, document_id: str, spec_text: str) -> docs.ShareSpec:
    """Share with a department, project, position or person (``KIND:CODE[:edit]``); audited, announced."""
    decision = require_editor(ctx.store, actor, document_id)
    spec = _spec(ctx, spec_text)
    if not docs.share_allowed(decision.edit.level or "", spec):
        raise InvalidInput("share.level_excludes", field="kind", level=decision.edit.level or "",
                           kind=spec.kind.value.lower())
    assert spec.target_id is not None
    with _record_refusals(document_id):
        gained = permissions.share_preview(ctx.store, document_id, spec.kind, spec.target_id, spec.access).gain_read
        made = docs.share(ctx.store, actor.person_id, document_id, spec, client=actor.address)
    forget(actor, document_id)
    _tell_new_readers(ctx, actor, document_id, [p.id for p in gained])
    announce(ctx, document_id, "share")
    announce_new(ctx, document_id)  # people who just gained access: their listings may now include it
    return made


def _tell_new_readers(ctx: Context, actor: Actor, document_id: str, people: list[str]) -> None:
    """"A document was shared with you": to the people the share made readers (not to the sharer)."""
    people = [p for p in people if p != actor.person_id][:notifications.MAX_RECIPIENTS]
    if not people:
        return
    document = document_rows.get_document(ctx.store, document_id) or {}
    now = docs.now_ms()
    notifications.send(ctx.store, ctx.settings, [
        notifications.notice("document_shared", p, event=f"{document_id}:{now}", now=now, document_id=document_id,
                             title=str(document.get("title") or ""), by_name=actor.name or actor.username)
        for p in people])


def unshare(ctx: Context, actor: Actor, document_id: str, spec_text: str) -> bool:
    """Remove a share; False when there was none. Audited and announced."""
    require_editor(ctx.store, actor, document_id)
    spec = _spec(ctx, spec_text)
    with _record_refusals(document_id):
        removed = docs.unshare(ctx.store, actor.person_id, document_id, spec, client=actor.address)
    if removed:
        forget(actor, document_id)
        announce(ctx, document_id, "share")
    return removed


# -- metadata and classification ------------------------------------------------------------------------


def edit_details(ctx: Context, actor: Actor, document_id: str, revision: int, *, title: str | None = None,
                 domain: str | None = None, access: str | None = None) -> int:
    """Title, business domain and access level, made against ``revision``; returns the new revision.

    A change of the access level takes the owner or an administrator. An edit against an older
    revision changes nothing (``StateConflict`` naming who saved in between).
    """
    require_editor(ctx.store, actor, document_id)
    try:
        new_revision = docs.update_metadata(ctx.store, actor.person_id, document_id, revision, title=title,
                                            domain=domain, access=access, client=actor.address)
    except docs.Conflict as error:
        raise StateConflict("document.conflict", expected=error.expected, current=error.current,
                            by=error.by or "") from None
    except docs.NotFound:
        raise ObjectMissing(MISSING, id=document_id) from None
    except docs.Forbidden:
        raise NotPermitted("document.owner_only") from None
    except docs.DocumentError as error:
        raise InvalidInput("document.classification", field="domain", reason=str(error)) from None
    forget(actor, document_id)
    announce(ctx, document_id, "metadata", revision=new_revision)
    return new_revision


def watch(ctx: Context, actor: Actor, document_id: str) -> list[str]:
    """The live channels a reader of the document may listen to (checked when the stream opens)."""
    require_reader(ctx.store, actor, document_id)
    return [live.document_channel(document_id)]
