"""``huitong ldap sync [--dry-run] [--json]``: the CLI door to the LDAP org sync the worker's beat also runs.

Attached to the main group by one import in :mod:`webapp.cli`; the work is :func:`ingest.ldap_sync.sync`.
"""

from __future__ import annotations

import json

import click

from graph.org_io import report_lines
from webapp.cli import _settings, main


@main.group()
def ldap() -> None:
    """LDAP / Active Directory: org sync."""


@ldap.command("sync")
@click.option("--dry-run", is_flag=True,
              help="Say what would change (and who would gain or lose access); write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def ldap_sync_command(dry_run: bool, as_json: bool) -> None:
    """Bring people and departments in line with the directory (HUITONG_LDAP_SYNC_MAPPING)."""
    from graph import open_store
    from graph.errors import GraphUnavailable
    from ingest.ldap_directory import DirectoryUnavailable
    from ingest.ldap_sync import MappingError, sync

    settings = _settings()
    try:
        with open_store(settings) as store:
            report = sync(store, settings, dry_run=dry_run, client="cli")
    except (MappingError, DirectoryUnavailable, GraphUnavailable) as error:
        raise click.ClickException(f"ldap sync failed: {error}") from None
    if as_json:
        click.echo(json.dumps(report.as_json(), ensure_ascii=False))
    else:
        for line in report_lines(report.plan, applied=not dry_run and report.ok):
            click.echo(line)
        for skipped in report.skipped:
            click.echo(f"skipped {skipped['dn']}: {skipped['reason']}")
        if report.deactivated:
            click.echo(f"deactivated: {', '.join(report.deactivated)}")
    if not report.ok:
        raise SystemExit(1)
