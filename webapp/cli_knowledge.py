"""Commands about knowledge that spans documents: decisions, a document with its lineage and copies, duplicates.

Attached to the ``huitong`` group by one import in :mod:`webapp.cli`. Every command acts as a person
(``--as``) through the same use cases as the web pages; a refusal prints the error's code and exits 1,
and a document or decision the person may not see answers exactly like a missing one.
"""

from __future__ import annotations

import contextlib
import json
import sys
from typing import Any

import click

from graph.actor import Actor
from graph.errors import DomainError
from webapp.cli import _settings, main

# English wording of the codes this module's use cases raise (the web pages translate the same codes).
MESSAGES = {
    "document.missing": "no document {id}",
    "decision.missing": "no decision {id}",
    "version.missing": "no version {id}",
    "run.missing": "no workflow run {id}",
    "person.missing": "no user {username}",
    "decision.title_required": "a title is required (at most {max} characters)",
    "decision.text_too_long": "the text is too long (at most {max} characters)",
    "decision.bad_date": "the date {value!r} is not YYYY-MM-DD",
    "decision.unknown_person": "no person {value!r}",
    "decision.unknown_target": "no department or project {value!r}",
}


def _fail(error: DomainError, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps({"error": error.code, "params": error.params}, ensure_ascii=False, default=str))
    else:
        message = MESSAGES.get(error.code, error.code)
        with contextlib.suppress(KeyError, IndexError):
            message = message.format(**error.params)
        click.echo(f"error: {message}", err=True)
    sys.exit(1)


def _actor(store: Any, username: str) -> Actor:
    from graph.usecases import active_actor

    return active_actor(store, username)


@main.group("decision")
def decision_group() -> None:
    """Decisions (决策): what was decided, by whom, on which document versions."""


@decision_group.command("add")
@click.option("--as", "username", required=True, help="User name of the person recording the decision.")
@click.option("--title", required=True, help="What was decided.")
@click.option("--text", default="", help="The decision in full.")
@click.option("--date", "decided_on", default=None, help="Day of the decision, YYYY-MM-DD (default: today).")
@click.option("--decided-by", default=None, help="User name of who decided (default: --as).")
@click.option("--participant", "participants", multiple=True, help="User name of a participant (repeatable).")
@click.option("--affects", multiple=True, help="Code of an affected department or project (repeatable).")
@click.option("--run", "run_id", default=None, help="The workflow run the decision comes from.")
@click.option("--based-on", "based_on", multiple=True, help="Version id the decision rests on (repeatable).")
@click.argument("more_versions", nargs=-1, metavar="[VERSION_ID]...")
@click.option("--json", "as_json", is_flag=True, help="Print the decision as JSON.")
def decision_add(username: str, title: str, text: str, decided_on: str | None, decided_by: str | None,
                 participants: tuple[str, ...], affects: tuple[str, ...], run_id: str | None,
                 based_on: tuple[str, ...], more_versions: tuple[str, ...], as_json: bool) -> None:
    """Record a decision, e.g. ``--based-on V1 V2`` (more version ids may follow the first)."""
    from graph import decisions, open_store

    with open_store(_settings()) as store:
        try:
            made = decisions.record(store, _actor(store, username), title=title, text=text, decided_on=decided_on,
                                    decided_by=decided_by, participants=participants, affects=affects,
                                    based_on=list(dict.fromkeys(based_on + more_versions)), run_id=run_id)
        except DomainError as error:
            _fail(error, as_json)
            return
    if as_json:
        click.echo(json.dumps(made, ensure_ascii=False))
        return
    click.echo(f"decision {made['id']}: {made['title']} ({made['decided_on']}), "
               f"based on {len(made['bases'])} version(s)")


@main.group("doc")
def doc_group() -> None:
    """One document as a person sees it."""


def document_report(store: Any, actor: Actor, document_id: str) -> dict[str, Any]:
    """Metadata, versions, the decisions relying on it and its copies kept by others, as ``actor`` may see them."""
    from graph import decisions, duplicates
    from graph.usecases import Context
    from graph.usecases import documents as cases

    ctx = Context(store)
    found = cases.open_document(ctx, actor, document_id)  # checked once, audited as a view like the page
    keys = ("id", "title", "domain", "access", "data_type", "kind", "mime", "filename", "size", "sha256",
            "status", "created_at", "updated_at", "owner_name", "owner_username", "current_version_id",
            "current_number")
    versions = [{"id": row["id"], "number": row.get("number"), "created_at": row.get("created_at"),
                 "size": row.get("size"), "sha256": row.get("sha256"), "note": row.get("note"),
                 "status": row.get("status"), "current": bool(row["current"]), "author": row["author_name"]}
                for row in cases.versions(ctx, actor, document_id)]
    relying = decisions.for_document(store, actor, document_id)
    return {**{key: found.get(key) for key in keys}, "versions": versions, "decisions": relying["decisions"],
            "hidden_decisions": relying["hidden"], "duplicates": duplicates.copies(store, actor, document_id)}


@doc_group.command("show")
@click.argument("document_id")
@click.option("--as", "username", required=True, help="User name of the person looking.")
@click.option("--json", "as_json", is_flag=True, help="Print the document as JSON.")
def doc_show(document_id: str, username: str, as_json: bool) -> None:
    """Metadata, versions, decisions relying on it and copies kept elsewhere; unreadable = missing."""
    from graph import open_store

    with open_store(_settings()) as store:
        try:
            report = document_report(store, _actor(store, username), document_id)
        except DomainError as error:
            _fail(error, as_json)
            return
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, default=str))
        return
    click.echo(f"{report['title']}  ({report['id']}, v{report['current_number']}, {report['access']}, "
               f"owner {report['owner_name']})")
    for version in report["versions"]:
        click.echo(f"  v{version['number']}  {version['id']}  {version['author'] or ''}"
                   + ("  (current)" if version["current"] else ""))
    for decision in report["decisions"]:
        stale = [b for b in decision["this_document"] if b["stale"]]
        note = f"  based on v{stale[0]['number']}, now v{stale[0]['current_number']}" if stale else ""
        click.echo(f"  decision {decision['decided_on']}: {decision['title']}{note}")
    if report["hidden_decisions"]:
        click.echo(f"  + {report['hidden_decisions']} decision(s) you may not see")
    copies = report["duplicates"]
    if copies["kept_by"] or copies["hidden"]:
        click.echo(f"  also kept by {', '.join(copies['kept_by']) or '-'}"
                   + (f" (+{copies['hidden']} cop(ies) you may not read)" if copies["hidden"] else ""))


@main.command("dedupe")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def dedupe_all(as_json: bool) -> None:
    """Link exact and near duplicates across owners for every document already stored (safe to repeat)."""
    from graph import audit, open_store
    from ingest import dedupe
    from ingest.textstore import TextStore

    settings = _settings()
    with open_store(settings) as store:
        outcome = dedupe.link_all(store, TextStore.from_settings(settings))
        audit.record(store, action="duplicates.link_all", client="cli", detail=outcome.as_json())
    if as_json:
        click.echo(json.dumps(outcome.as_json(), ensure_ascii=False))
        return
    summary = outcome.as_json()
    click.echo(f"{summary['documents']} document(s): {summary['exact']} exact and {summary['near']} near "
               "duplicate pair(s) across owners")
