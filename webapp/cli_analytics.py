"""``huitong import-log`` and ``huitong bottlenecks``: process analytics from the command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from webapp.cli import _settings, main


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
    from graph import open_store
    from graph.errors import InvalidInput
    from graph.usecases import Context
    from graph.usecases import analytics as uc
    from graph.usecases.org_admin import operator

    with open_store(_settings()) as store:
        ctx = Context(store)
        try:
            rows = uc.step_rows(ctx, operator("cli"), workflow)
        except InvalidInput:
            known = ", ".join(sorted(w["key"] for w in uc.workflows(ctx))) or "none"
            raise click.ClickException(f"no workflow {workflow!r} (known: {known})") from None
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
