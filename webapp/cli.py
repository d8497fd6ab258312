"""The ``huitong`` command line (also ``python -m webapp``)."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

import click

from settings import Settings, SettingsError, load_settings


def _settings(**overrides: object) -> Settings:
    try:
        return load_settings(**{k: v for k, v in overrides.items() if v is not None})
    except SettingsError as error:
        raise click.ClickException(str(error)) from None


def _exec(argv: list[str]) -> None:
    """Replace this process (signals then reach the server directly)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(argv[0], argv)  # noqa: S606 - fixed command lines of our own


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Huitong (汇通): knowledge graph and semantic search across departments."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from graph.private_files import secure_process

    # Everything this command (and the servers it execs) writes is private to the platform's account.
    secure_process(lambda: load_settings().data_dir, SettingsError)


@main.command()
@click.option("--port", type=int, help="Web server port (overrides HUITONG_PORT).")
@click.option("--host", help="Address to bind (overrides HUITONG_HOST).")
@click.option("--no-demo", is_flag=True, help="Do not load the demo data on first run.")
def serve(port: int | None, host: str | None, no_demo: bool) -> None:
    """Run everything: bundled graph/broker server, Celery worker and beat, and the web server."""
    from graph import open_store
    from webapp.demo import load_demo
    from webapp.supervisor import serve as run_supervisor

    settings = _settings(port=port, host=host)

    def prepare() -> None:
        with open_store(settings) as store:
            store.ensure_schema()
            if not no_demo and not store.counts().get("Person"):
                load_demo(store, settings, echo=click.echo)
        click.echo(f"Huitong on http://{settings.host}:{settings.port}/  (Ctrl-C stops)")

    sys.exit(run_supervisor(settings, prepare))


@main.command()
@click.option("--port", type=int, help="Port (overrides HUITONG_PORT).")
@click.option("--host", help="Address to bind (overrides HUITONG_HOST).")
def web(port: int | None, host: str | None) -> None:
    """Run only the web app (the event-loop front of webapp.front, with its request-thread pool)."""
    from webapp.front import run

    run(_settings(port=port, host=host))


@main.command()
@click.option("--concurrency", type=int, help="Worker processes (default HUITONG_WORKERS).")
def worker(concurrency: int | None) -> None:
    """Run a Celery worker (start more on other machines to scale)."""
    settings = _settings()
    _exec([
        sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker", "--loglevel", "INFO",
        "--concurrency", str(concurrency or settings.workers),
    ])


@main.command()
def beat() -> None:
    """Run Celery beat (periodic reminders, escalations, snapshots)."""
    settings = _settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    schedule = str((settings.data_dir / "celerybeat-schedule").resolve())
    _exec([sys.executable, "-m", "celery", "-A", "workers.celery_app", "beat", "--loglevel", "INFO",
           "--schedule", schedule])


@main.command("init-db")
def init_db() -> None:
    """Create the graph's constraints and indexes (idempotent)."""
    from graph import open_store

    with open_store(_settings()) as store:
        store.ensure_schema()
    click.echo("schema ready")


@main.command()
@click.option("--documents", "document_count", type=int, default=None,
              help="How many demo documents to generate (default HUITONG_DEMO_DOCUMENTS; 0 = none).")
@click.option("--no-index", is_flag=True, help="Do not put the demo documents into the search index (faster).")
@click.option("--no-history", is_flag=True, help="Do not generate the 12 months of workflow history.")
def demo(document_count: int | None, no_index: bool, no_history: bool) -> None:
    """Load the demo: organisation with an ``admin`` account, workflows, documents, history (idempotent)."""
    from graph import open_store
    from webapp.demo import load_demo

    settings = _settings()
    with open_store(settings) as store:
        store.ensure_schema()
        load_demo(store, settings, documents=document_count, index=not no_index, history=not no_history,
                  echo=click.echo)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def check(as_json: bool) -> None:
    """Report the health of graph, broker, search index and model; exit 1 when unhealthy."""
    from webapp.health import check as run_check

    report = run_check(_settings())
    if as_json:
        click.echo(json.dumps(report.as_json(), ensure_ascii=False))
    else:
        for name, (ok, detail) in report.checks.items():
            click.echo(f"{name:7} {'ok' if ok else 'ERROR'}  {'' if ok and detail == 'ok' else detail}")
        for label, count in sorted(report.counts.items()):
            click.echo(f"  {label:12} {count}")
        if report.workers is not None:
            click.echo("workers " + " ".join(f"{k}={v}" for k, v in report.workers.items()))
        if report.index_build is not None:
            click.echo("index build " + " ".join(f"{k}={v}" for k, v in report.index_build.items()))
        for name, detail in report.warnings.items():
            click.echo(f"{name:7} WARNING  {detail}")
    sys.exit(0 if report.healthy else 1)


@main.command("stop-graph")
def stop_graph() -> None:
    """Stop the embedded graph server of this data directory (clean AOF shutdown)."""
    from graph import embedded_server

    embedded_server(_settings()).stop()
    click.echo("graph server stopped")


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True))
@click.option("--as", "username", required=True, help="User name of the uploader (owner of a new document).")
@click.option("--domain", default="general", show_default=True, help="Business domain code (new documents).")
@click.option("--access", default="internal", show_default=True,
              help="Access level: public, internal, confidential or secret (new documents).")
@click.option("--share", "shares", multiple=True,
              help="Share with department:CODE, project:CODE, position:CODE or person:USERNAME, optionally :edit.")
@click.option("--note", default="", help="Version note.")
@click.option("--title", default=None, help="Title (default: the file's own title, else its name).")
@click.option("--document", "document_id", default=None, help="Add a new version to this document id.")
@click.option("--base-version", "base_version", type=click.IntRange(1), default=None,
              help="The version number the new version was made from; another current version answers exit 3.")
@click.option("--wait", is_flag=True, help="Extract and index now, in this process, instead of queueing.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def upload(file: str, username: str, domain: str, access: str, shares: tuple[str, ...], note: str,
           title: str | None, document_id: str | None, base_version: int | None, wait: bool, as_json: bool) -> None:
    """Upload FILE as a new document, or as a new version of --document."""

    from graph import open_store
    from graph.errors import DomainError, StateConflict
    from graph.usecases import Context, actor_by_username
    from ingest import usecases as files
    from webapp.messages import cli_message
    from workers.tasks import enqueue_extraction

    settings = _settings()
    path = Path(file)
    with open_store(settings) as store:
        actor = actor_by_username(store, username)
        if actor is None:
            raise click.ClickException(f"no user {username!r}")
        ctx = Context(store, settings)
        try:
            result = files.upload(
                ctx, actor, files.Upload(path, path.name), domain=None if document_id else domain,
                access=None if document_id else access, shares=shares, note=note, title=title,
                document_id=document_id, enqueue=None if wait else enqueue_extraction, base_version=base_version)
        except StateConflict as error:  # stale base: exit 3 with the choice (JSON: code + params)
            click.echo(json.dumps({"error": error.code, "params": error.params}, ensure_ascii=False) if as_json
                       else f"error: {cli_message(error)}", err=not as_json)
            sys.exit(3)
        except DomainError as error:
            raise click.ClickException(cli_message(error)) from None
        report: dict[str, object] = {
            "document_id": result.document_id, "version_id": result.version_id, "number": result.number,
            "created": result.created, "unchanged": result.unchanged, "kind": result.kind, "size": result.size,
            "sha256": result.sha256, "blob_reused": result.blob_reused, "task_id": result.task_id,
            "upload_ms": round(result.elapsed_ms, 1), "status": "pending",
        }
        if wait and not result.unchanged:
            done = files.process(ctx, result.version_id)  # announces the new status to the document's watchers
            report.update(status=done.status, reason=done.reason, mentions=done.mentions, chunks=done.chunks,
                          timings_ms={k: round(v, 1) for k, v in done.timings_ms.items()})
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False))
        return
    what = "new document" if result.created else ("unchanged" if result.unchanged else f"version {result.number}")
    click.echo(f"{what}: {result.document_id} (version {result.version_id}, {result.kind}, {result.size} bytes), "
               f"status {report['status']}")


@main.command()
@click.argument("query")
@click.option("--as", "username", required=True, help="Search as this user: only documents they may read.")
@click.option("--k", "k", type=click.IntRange(1, 100), default=10, show_default=True, help="Results per page.")
@click.option("--page", type=click.IntRange(1, 1000), default=1, show_default=True, help="Page of results.")
@click.option("--json", "as_json", is_flag=True,
              help='Print JSON: [{"document_id", "title", "score", "snippet", "page"}].')
@click.option("--no-org-boost", "no_boost", is_flag=True, help="Rank without the org-aware boost (docs/search.md).")
def search(query: str, username: str, k: int, page: int, as_json: bool, no_boost: bool) -> None:
    """Search the documents USER may read for QUERY (hybrid: meaning and keywords)."""
    from graph import open_store
    from graph.usecases import Context, actor_by_username, is_active
    from ingest import search as service

    settings = _settings()
    with open_store(settings) as store:
        actor = actor_by_username(store, username)
        if actor is None:
            raise click.ClickException(f"no user {username!r}")
        if not is_active(store, actor):
            raise click.ClickException(f"user {username!r} is deactivated and can read nothing")
        try:
            params = {"q": [query], "k": [str(k)], "page": [str(page)], "boost": ["0" if no_boost else "1"]}
            request = service.parse_query(lambda name: params.get(name, []))
            outcome = service.search(Context(store, settings), actor, request, labels=False)
        except (service.SearchRequestError, service.SearchUnavailable) as error:
            raise click.ClickException(str(error)) from None
    rows: list[dict[str, Any]] = [{"document_id": r.document_id, "title": r.title, "score": round(r.score, 6),
                                   "snippet": r.snippet, "page": r.ref} for r in outcome.results]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    if not rows:
        click.echo(f"no documents {username} may read match {query!r}")
    for number, row in enumerate(rows, start=(page - 1) * k + 1):
        where = f" ({row['page']})" if row["page"] else ""
        click.echo(f"{number:3}. {row['title']}{where}  [{row['document_id']}]\n     {row['snippet'][:160]}")
    click.echo(f"{outcome.total} documents, {float(outcome.timings_ms['total'] or 0):.0f} ms")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def reindex(as_json: bool) -> None:
    """Rebuild the search index from the stored text of every extracted document; drop documents the graph lost."""
    from graph import open_store
    from webapp.search_maintenance import reindex as run_reindex

    with open_store(_settings()) as store:
        report = run_reindex(store, _settings())
    if as_json:
        click.echo(json.dumps(report.as_json(), ensure_ascii=False))
    else:
        click.echo(f"indexed {report.documents} documents ({report.chunks} chunks), removed {report.removed} "
                   f"orphans; {report.drift_after.describe()}")
    sys.exit(0 if report.drift_after.clean else 1)


@main.group()
def user() -> None:
    """People who can sign in."""


@user.command("add")
@click.argument("username")
@click.option("--name", required=True, help="Display name, e.g. 李娜.")
@click.option("--department", "department", required=True, help="Department code (see `huitong dept list`).")
@click.option("--role", type=click.Choice(["member", "manager", "admin"]), default="member", show_default=True)
@click.option("--email", help="E-mail address (also accepted at login).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (required).")
def user_add(username: str, name: str, department: str, role: str, email: str | None, password_stdin: bool) -> None:
    """Create a person who can sign in."""
    from graph import accounts, audit, open_store

    if not password_stdin:
        raise click.UsageError("give the password on standard input with --password-stdin (never as an argument)")
    password = sys.stdin.readline().rstrip("\r\n")
    with open_store(_settings()) as store:
        try:
            person = accounts.create_person(store, username=username, name=name, department_code=department,
                                            password=password, role=role, email=email)
        except accounts.AccountError as error:
            raise click.ClickException(str(error)) from None
        audit.record(store, action="person.create", target_kind="person", target_id=person.id, client="cli",
                     detail={"username": person.username, "department": department, "roles": sorted(person.roles)})
    click.echo(f"created {person.username} ({person.id}) in {department} with roles {', '.join(sorted(person.roles))}")


@user.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def user_list(as_json: bool) -> None:
    """List people with their departments, roles and whether they may sign in."""
    from graph import accounts, open_store

    with open_store(_settings()) as store:
        people = accounts.list_people(store)
    if as_json:
        click.echo(json.dumps(people, ensure_ascii=False))
        return
    for p in people:
        state = "" if p["active"] is not False else "  (deactivated)"
        click.echo(f"{p['username']:24} {p['name']}  [{','.join(p['departments'])}]  {','.join(p['roles'])}{state}")


@main.group()
def dept() -> None:
    """Departments."""


@dept.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: [{code, name, parent}].")
def dept_list(as_json: bool) -> None:
    """List departments with their parent."""
    from graph import open_store
    from graph.usecases import Context, org_admin

    with open_store(_settings()) as store:
        departments = org_admin.list_departments(Context(store), org_admin.operator())
    if as_json:
        click.echo(json.dumps(departments, ensure_ascii=False))
        return
    for d in departments:
        click.echo(f"{d['code']:16} {d['name']}  <- {d['parent'] or '-'}")


# Command groups live in their own modules; importing them attaches them to ``main``
# (cli_knowledge: decision, doc and dedupe; cli_ops: backup, restore, webhook, watch;
# cli_users: user activate|deactivate).
import webapp.cli_sso  # noqa: E402, F401 - ldap sync
from webapp import (  # noqa: E402, F401
    cli_analytics,
    cli_ingest,
    cli_knowledge,
    cli_notifications,
    cli_ops,
    cli_org,
    cli_requests,
    cli_tokens,
    cli_trash,
    cli_users,
    cli_views,
)

if __name__ == "__main__":  # pragma: no cover
    main()


