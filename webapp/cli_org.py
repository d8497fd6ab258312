"""``huitong org import|export``: the organisation in bulk (format: docs/org-import.md)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from webapp.cli import _settings, main


@main.group("org")
def org_group() -> None:
    """Organisation bulk import and export (format: docs/org-import.md)."""


@org_group.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Only report what would change and every bad row.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def org_import(files: tuple[Path, ...], dry_run: bool, as_json: bool) -> None:
    """Import CSV files (named <sheet>.csv), folders of them, or XLSX workbooks; exit 1 on bad rows."""
    from graph import open_store, org_io
    from graph.usecases import Context, org_admin

    with open_store(_settings()) as store:
        plan, _applied = org_admin.import_files(Context(store), org_admin.operator(), list(files), dry_run=dry_run)
    if as_json:
        click.echo(json.dumps({**plan.as_json(), "applied": plan.ok and not dry_run}, ensure_ascii=False))
    else:
        click.echo("\n".join(org_io.report_lines(plan, applied=plan.ok and not dry_run)))
    sys.exit(0 if plan.ok else 1)


@org_group.command("export")
@click.argument("target", type=click.Path(path_type=Path))
def org_export(target: Path) -> None:
    """Export to TARGET: a .xlsx file, or a directory that receives one CSV per sheet."""
    from graph import open_store
    from graph.usecases import Context, org_admin

    with open_store(_settings()) as store:
        written = org_admin.export_to(Context(store), org_admin.operator(), target)
    click.echo("\n".join(f"wrote {path}" for path in written))
