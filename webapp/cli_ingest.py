"""``huitong ingest``: bulk ingestion of an archive or folder on the workers."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from webapp.cli import _settings, main


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
    from graph.directory import actor_for
    from graph.errors import DomainError
    from ingest import job_usecases, jobs
    from ingest.archive import ArchiveError
    from ingest.mapping import MappingError, load_rules
    from workers.ingest_tasks import enqueue_batch

    settings = _settings()
    with open_store(settings) as store:
        try:
            actor = actor_for(store, username, door="cli")
        except DomainError:
            raise click.ClickException(f"no active user {username!r}") from None
        try:
            rules = load_rules(mapping_file) if mapping_file else None
            options = jobs.JobOptions(domain=domain, access=access, shares=tuple(shares), rules=rules,
                                      index=not no_index, queue=queue)
            # The CLI plans the job in this process (below) instead of queueing the planning step.
            started = job_usecases.start(store, settings, actor, path, options, source=source,
                                         enqueue_plan=lambda _job_id: None)
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
