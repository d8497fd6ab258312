"""Trash and retention from the command line: ``huitong doc delete|restore|hold ID --as U`` and
``huitong trash list|purge``.

Attached to the ``huitong`` group by one import in :mod:`webapp.cli`; every command acts as a person through
the same use cases as the web pages (:mod:`graph.trash`, :mod:`ingest.retention`). A refusal prints the
error's code and exits 1; a document the person may not see answers exactly like a missing one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click

from graph.errors import DomainError
from webapp.cli import _settings, main
from webapp.cli_knowledge import MESSAGES, _actor, _fail, doc_group

MESSAGES.update({
    "not_found": "not found: no such document, or you may not see it",
    "document.owner_only": "only the owner or an administrator can do this",
    "trash.already": "document {id} is already in the trash",
    "trash.not_trashed": "document {id} is not in the trash",
    "trash.admin_only": "only an administrator can do this",
})


def _act(username: str, as_json: bool, action: Callable[[Any, Any], dict[str, Any]]) -> None:
    from graph import open_store
    from graph.usecases import Context

    settings = _settings()
    with open_store(settings) as store:
        try:
            outcome = action(Context(store, settings), _actor(store, username))
        except DomainError as error:
            _fail(error, as_json)
            return
    click.echo(json.dumps(outcome, ensure_ascii=False, default=str) if as_json
               else " ".join(f"{k}={v}" for k, v in outcome.items()))


def _trash_command(name: str, use_case: str, trashed: bool, summary: str) -> None:
    """``huitong doc delete|restore ID --as U``: the two differ only in the use case they call."""

    @doc_group.command(name, help=summary)
    @click.argument("document_id")
    @click.option("--as", "username", required=True, help="User name of the owner or an administrator.")
    @click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
    def command(document_id: str, username: str, as_json: bool) -> None:
        from graph import trash

        def run(ctx: Any, actor: Any) -> dict[str, Any]:
            getattr(trash, use_case)(ctx, actor, document_id)
            return {"id": document_id, "trashed": trashed}

        _act(username, as_json, run)


_trash_command("delete", "trash", True,
               "Move a document to the trash (restorable until it is purged after HUITONG_TRASH_DAYS).")
_trash_command("restore", "restore", False, "Take a document out of the trash.")


@doc_group.command("hold")
@click.argument("document_id")
@click.option("--as", "username", required=True, help="User name of an administrator.")
@click.option("--clear", is_flag=True, help="Clear the legal hold instead of setting it.")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
def doc_hold(document_id: str, username: str, clear: bool, as_json: bool) -> None:
    """Set (or --clear) a legal hold: a held document is never purged from the trash."""
    from graph import trash

    def run(ctx: Any, actor: Any) -> dict[str, Any]:
        trash.set_legal_hold(ctx, actor, document_id, not clear)
        return {"id": document_id, "legal_hold": not clear}

    _act(username, as_json, run)


@main.group("trash")
def trash_group() -> None:
    """The trash (回收站): trashed documents and their purge."""


@trash_group.command("list")
@click.option("--as", "username", required=True, help="Whose trash (an administrator may add --all).")
@click.option("--all", "everyone", is_flag=True, help="Every trashed document (administrators).")
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
def trash_list(username: str, everyone: bool, as_json: bool) -> None:
    """Trashed documents, newest first."""
    from graph import trash

    def run(ctx: Any, actor: Any) -> dict[str, Any]:
        return {"documents": trash.trashed(ctx, actor, everyone=everyone)}

    _act(username, as_json, run)


@trash_group.command("purge")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def trash_purge(as_json: bool) -> None:
    """Purge now what the hourly beat task would: past HUITONG_TRASH_DAYS and not under legal hold."""
    from graph import open_store
    from graph.usecases import Context
    from ingest.retention import purge_due

    settings = _settings()
    with open_store(settings) as store:
        report = purge_due(Context(store, settings)).as_json()
    click.echo(json.dumps(report, ensure_ascii=False) if as_json
               else f"{report['purged']} document(s) purged, {report['blobs_deleted']} blob(s) deleted")
