"""Operations commands of ``huitong``: backup and restore, outgoing webhooks, the watch folder.

Attached to the main group by one import in :mod:`webapp.cli`; each command is a thin door over
the functions in ``ingest/`` and ``workers/`` that the web and the workers call too.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from webapp.cli import _settings, main


@main.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def backup_command(file: Path, as_json: bool) -> None:
    """Write a consistent backup of the running platform to FILE (.tar.zst; .tar.gz/.tgz for gzip)."""
    from graph.errors import GraphUnavailable
    from ingest.backup import BackupError, backup

    settings = _settings()
    try:
        result = backup(settings, file, echo=lambda text: click.echo(text, err=True))
    except (BackupError, GraphUnavailable, OSError) as error:
        raise click.ClickException(f"backup failed: {error}") from None
    manifest = result.manifest
    summary = {"file": str(result.path), "bytes": result.bytes, "seconds": round(result.seconds, 3),
               "nodes": manifest["graph"].get("nodes"), "blobs": manifest["blobs"]["count"],
               "files": len(manifest["files"]), "search": manifest["search"],
               "graph_included": manifest["graph"]["included"]}
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False))
        return
    click.echo(f"backup written to {result.path}: {result.bytes / 2**20:.1f} MiB, {summary['files']} files, "
               f"{summary['blobs']} blobs, {summary['nodes']} graph nodes, in {result.seconds:.1f} s")
    if not manifest["graph"]["included"]:
        click.echo("the Neo4j graph is not in this archive: dump it with neo4j-admin (see README)", err=True)


@main.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def restore_command(file: Path, as_json: bool) -> None:
    """Restore a backup FILE onto an EMPTY data directory (HUITONG_DATA_DIR)."""
    from graph.errors import GraphUnavailable
    from ingest.backup import BackupError
    from ingest.restore import restore

    settings = _settings()
    try:
        result = restore(settings, file)
    except (BackupError, GraphUnavailable, OSError) as error:
        raise click.ClickException(f"restore failed: {error}") from None
    summary = {"data_dir": str(result.data_dir), "files": result.files, "bytes": result.bytes,
               "seconds": round(result.seconds, 3), "nodes": sum(result.counts.values()), "counts": result.counts}
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False))
        return
    click.echo(f"restored {result.files} files ({result.bytes / 2**20:.1f} MiB) and {summary['nodes']} graph nodes "
               f"into {result.data_dir} in {result.seconds:.1f} s; counts match the backup")
