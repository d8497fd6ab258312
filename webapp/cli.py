"""The ``huitong`` command line (also ``python -m webapp``)."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path

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
@click.option("--wait", is_flag=True, help="Extract and index now, in this process, instead of queueing.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def upload(file: str, username: str, domain: str, access: str, shares: tuple[str, ...], note: str,
           title: str | None, document_id: str | None, wait: bool, as_json: bool) -> None:
    """Upload FILE as a new document, or as a new version of --document."""
    from pathlib import Path

    from graph import open_store
    from graph.errors import DomainError
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
                document_id=document_id, enqueue=None if wait else enqueue_extraction)
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
def search(query: str, username: str, k: int, page: int, as_json: bool) -> None:
    """Search the documents USER may read for QUERY (hybrid: meaning and keywords)."""
    from graph import open_store
    from graph.usecases import Context, actor_by_username, is_active
    from webapp import search_service as service

    settings = _settings()
    with open_store(settings) as store:
        actor = actor_by_username(store, username)
        if actor is None:
            raise click.ClickException(f"no user {username!r}")
        if not is_active(store, actor):
            raise click.ClickException(f"user {username!r} is deactivated and can read nothing")
        try:
            params = {"q": [query], "k": [str(k)], "page": [str(page)]}
            request = service.parse_query(lambda name: params.get(name, []))
            outcome = service.search(Context(store, settings), actor, request, labels=False)
        except (service.SearchRequestError, service.SearchUnavailable) as error:
            raise click.ClickException(str(error)) from None
    rows = [{"document_id": r.document_id, "title": r.title, "score": round(r.score, 6), "snippet": r.snippet,
             "page": r.ref} for r in outcome.results]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    if not rows:
        click.echo(f"no documents {username} may read match {query!r}")
    for number, row in enumerate(rows, start=(page - 1) * k + 1):
        where = f" ({row['page']})" if row["page"] else ""
        click.echo(f"{number:3}. {row['title']}{where}  [{row['document_id']}]\n     {row['snippet'][:160]}")
    click.echo(f"{outcome.total} documents, {outcome.timings_ms['total']:.0f} ms")


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


@main.command()
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--as", "username", required=True, help="User name of the uploader (owner of new documents).")
@click.option("--mapping", "mapping_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Rules (YAML or CSV): folder patterns -> department, domain, access level, shares.")
@click.option("--domain", default="general", show_default=True, help="Business domain of files no rule maps.")
@click.option("--access", default="internal", show_default=True, help="Access level of files no rule maps.")
@click.option("--share", "shares", multiple=True,
              help="Share files no rule maps: department:CODE, person:USER[:edit]...")
@click.option("--source", default=None, help="Name of the source (default: the archive's or folder's name); "
              "files keep their identity by source name and path, so a later archive of the same source "
              "adds new versions.")
@click.option("--no-index", is_flag=True, help="Extract only; do not embed into the search index.")
@click.option("--queue", default=None, help="Celery queue for the job's batches (default: the default queue).")
@click.option("--no-wait", is_flag=True, help="Return once every file is queued, without waiting for the workers.")
@click.option("--timeout", type=float, default=None, help="Stop waiting after this many seconds (the job goes on).")
@click.option("--json", "as_json", is_flag=True, help="End with the summary as one JSON line.")
def ingest(path: Path, username: str, mapping_file: Path | None, domain: str, access: str, shares: tuple[str, ...],
           source: str | None, no_index: bool, queue: str | None, no_wait: bool, timeout: float | None,
           as_json: bool) -> None:
    """Ingest a zip, tar(.gz) archive or a folder on the workers: one document per distinct file."""
    from tqdm import tqdm

    from graph import open_store
    from graph.queries import org
    from ingest import jobs
    from ingest.archive import ArchiveError
    from ingest.mapping import MappingError, load_rules
    from workers.ingest_tasks import enqueue_batch

    settings = _settings()
    with open_store(settings) as store:
        person = store.run(org.PERSON_BY_USERNAME, {"username": username.strip().lower()})
        if not person or not person[0]["id"]:
            raise click.ClickException(f"no user {username!r}")
        try:
            rules = load_rules(mapping_file) if mapping_file else None
            options = jobs.JobOptions(domain=domain, access=access, shares=tuple(shares), rules=rules,
                                      index=not no_index, queue=queue)
            started = jobs.start_job(store, settings, path, person[0]["id"], options, source=source, client="cli")
        except (ArchiveError, MappingError, jobs.JobError) as error:
            raise click.ClickException(str(error)) from None
        verb = "resuming" if started.resumed else "started"
        click.echo(f"{verb} ingest job {started.id} ({started.job['source']})", err=True)
        bar = tqdm(total=0, unit="file", desc="ingest", disable=None, file=sys.stderr, dynamic_ncols=True)

        def planned(total: int, _bytes: int) -> None:
            bar.total = total
            bar.refresh()

        def show(state: jobs.Progress) -> None:
            bar.total = state.total
            bar.n = state.processed
            bar.set_postfix(failed=state.failed, MB=f"{state.bytes_done / 2**20:.1f}",
                            eta=f"{state.eta_s:.0f}s" if state.eta_s is not None else "?", refresh=False)
            bar.refresh()

        try:
            jobs.plan_job(store, settings, started.id, enqueue_batch, on_progress=planned)
        except jobs.JobError as error:
            bar.close()
            raise click.ClickException(str(error)) from None
        state = jobs.progress(store, started.id) if no_wait else jobs.wait(
            store, settings, started.id, timeout=timeout, on_progress=show)
        bar.close()
        report = jobs.summary(store, started.id)
        if state.finished:
            csv_path, json_path = jobs.write_reports(store, settings, started.id)
            report["report"] = {"csv": str(csv_path), "json": str(json_path)}
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False))
        return
    click.echo(f"job {report['job']} {report['status']}: {report['files']} files, {report['ingested']} ingested, "
               f"{report['duplicates']} duplicates, {report['versions']} new versions, {report['unchanged']} "
               f"unchanged, {len(report['failed'])} failed")
    for failure in report["failed"][:50]:
        click.echo(f"  {failure['path']}: {failure['error']}")
    if "report" in report:
        click.echo(f"report: {report['report']['csv']}")


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
    from graph import accounts, open_store

    with open_store(_settings()) as store:
        departments = accounts.list_departments(store)
    if as_json:
        click.echo(json.dumps(departments, ensure_ascii=False))
        return
    for d in departments:
        click.echo(f"{d['code']:16} {d['name']}  <- {d['parent'] or '-'}")


@main.group("org")
def org_group() -> None:
    """Organisation bulk import and export (format: docs/org-import.md)."""


@org_group.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Only report what would change and every bad row.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def org_import(files: tuple[Path, ...], dry_run: bool, as_json: bool) -> None:
    """Import CSV files (named <sheet>.csv), folders of them, or XLSX workbooks; exit 1 on bad rows."""
    from graph import audit, open_store, org_io

    with open_store(_settings()) as store:
        plan = org_io.plan_import(store, org_io.read_paths(files))
        if plan.ok and not dry_run and plan.has_changes:
            org_io.apply_plan(store, plan)
            audit.record(store, action="org.import.apply", client="cli",
                         detail={"files": [str(f) for f in files], "summary": plan.summary()})
    if as_json:
        click.echo(json.dumps({**plan.as_json(), "applied": plan.ok and not dry_run}, ensure_ascii=False))
    else:
        click.echo("\n".join(org_io.report_lines(plan, applied=plan.ok and not dry_run)))
    sys.exit(0 if plan.ok else 1)


@org_group.command("export")
@click.argument("target", type=click.Path(path_type=Path))
def org_export(target: Path) -> None:
    """Export to TARGET: a .xlsx file, or a directory that receives one CSV per sheet."""
    from graph import open_store, org_io

    with open_store(_settings()) as store:
        written = org_io.write_export(store, target)
    click.echo("\n".join(f"wrote {path}" for path in written))


@main.command("import-log")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path))
@click.option("--key", default=None, help="Workflow key for the log (default: log-<file name>).")
@click.option("--name", default=None, help="Display name of the workflow (default: the file name).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def import_log(file: Path, key: str | None, name: str | None, as_json: bool) -> None:
    """Import an event log (XES, XES.gz or CSV) as historical workflow runs; exit 1 when rows were rejected."""
    from graph import open_store
    from graph.analytics.eventlog import EventLogError
    from graph.analytics.importer import import_log as run_import

    with open_store(_settings()) as store:
        store.ensure_schema()
        try:
            report = run_import(store, file, key=key, name=name)
        except EventLogError as error:
            raise click.ClickException(str(error)) from None
    if as_json:
        click.echo(json.dumps(report.as_json(), ensure_ascii=False))
    else:
        click.echo(f"{report.workflow_key}: {report.events} events, {report.cases} cases -> {report.runs_created} runs "
                   f"and {report.tasks_created} tasks created, {report.runs_skipped} cases already present "
                   f"({report.seconds:.1f} s). {report.timing_note}")
        for bad in report.bad_rows:
            click.echo(f"  line {bad.line}: {bad.error}")
        if report.bad_row_count > len(report.bad_rows):
            click.echo(f"  ... and {report.bad_row_count - len(report.bad_rows)} more bad rows")
    sys.exit(1 if report.bad_row_count else 0)


@main.command()
@click.option("--workflow", default=None, help="Only this workflow key.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: one object per workflow step.")
def bottlenecks(workflow: str | None, as_json: bool) -> None:
    """Waiting, processing and handling times, SLA breaches and rework per workflow step."""
    import time

    from graph import open_store
    from graph.analytics import bottlenecks as figures
    from graph.analytics.tasks import workflow_keys

    with open_store(_settings()) as store:
        if workflow is not None and workflow not in {row["key"] for row in workflow_keys(store)}:
            known = ", ".join(sorted(str(row["key"]) for row in workflow_keys(store))) or "none"
            raise click.ClickException(f"no workflow {workflow!r} (known: {known})")
        rows = figures.cli_rows(store, workflow, now=int(time.time() * 1000))
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
        return

    def hours(value: float | None) -> str:
        return "-" if value is None else f"{value / 3600:.1f}h"

    for row in rows:
        click.echo(f"{row['workflow']:24} {row['step'][:28]:28} n={row['count']:<6} wait {hours(row['median_wait_s'])} "
                   f"handling {hours(row['median_handling_s'])} (p90 {hours(row['p90_handling_s'])}) "
                   f"breach {row['breach_rate'] if row['breach_rate'] is not None else '-'} "
                   f"rework {row['rework_rate'] if row['rework_rate'] is not None else '-'}")


# Command modules attach themselves to ``main`` (decision, doc and dedupe; user activate|deactivate).
from webapp import cli_knowledge, cli_users  # noqa: E402,F401

if __name__ == "__main__":  # pragma: no cover
    main()


