"""Operations commands of ``huitong``: backup and restore, outgoing webhooks, the watch folder.

Attached to the main group by one import in :mod:`webapp.cli`; each command is a thin door over
the functions in ``ingest/`` and ``workers/`` that the web and the workers call too.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
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


# -- outgoing webhooks and robot channels ------------------------------------------------------
MESSAGES = {
    "webhook.admin_only": "only administrators manage webhooks",
    "channel.admin_only": "only administrators manage notification channels",
    "webhook.bad_url": "not an http(s) URL: {value}",
    "webhook.bad_events": "unknown or missing events: {value} (known: {known})",
    "webhook.short_secret": "the secret must have at least {min} characters",
    "webhook.missing": "no webhook {id}",
    "webhook.delivery_missing": "no delivery {id}",
    "channel.bad_kind": "unknown robot kind {value} (known: {known})",
    "channel.bad_kinds": "unknown notice kinds (known: {known})",
    "channel.no_department": "no department with code {department}",
    "channel.missing": "no channel {id}",
}


def _operator():  # type: ignore[no-untyped-def]
    """The person behind an operator's command: the machine's administrator (the CLI is run on the server)."""
    from graph.actor import Actor

    return Actor(person_id="", username="cli", roles=frozenset({"admin"}), door="cli", lang="en")


def _fail(error: Exception) -> click.ClickException:
    code, params = getattr(error, "code", ""), getattr(error, "params", {})
    template = MESSAGES.get(code)
    return click.ClickException(template.format(**params) if template else str(error))


@contextlib.contextmanager
def _refusals() -> Iterator[None]:
    """A refused use case ends the command with its message (exit code 1)."""
    from graph.errors import DomainError

    try:
        yield
    except DomainError as error:
        raise _fail(error) from None


def _print(rows: object, as_json: bool, lines: list[str]) -> None:
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
    else:
        for line in lines:
            click.echo(line)


@main.group("webhook")
def webhook_group() -> None:
    """Outgoing webhooks: POSTs of signed JSON events to other systems."""


@webhook_group.command("add")
@click.argument("url")
@click.option("--events", required=True, help="Comma-separated: document.created,document.version_added,"
              "document.shared,run.started,run.finished,task.created,task.overdue,decision.recorded")
@click.option("--secret", required=True, help="Signs every body (X-Huitong-Signature); at least 16 characters.")
@click.option("--json", "as_json", is_flag=True, help='Print JSON: {"id", "url", "events", "created_at"}.')
def webhook_add(url: str, events: str, secret: str, as_json: bool) -> None:
    """Register URL for the EVENTS (the secret is stored, never shown again)."""
    from graph import open_store, webhooks
    with open_store(_settings()) as store, _refusals():
        hook = webhooks.add_hook(store, _operator(), url, events, secret)
    row = {"id": hook.id, "url": hook.url, "events": list(hook.events), "created_at": hook.created_at}
    _print(row, as_json, [f"webhook {hook.id} -> {hook.url} ({', '.join(hook.events)})"])


@webhook_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (secrets are never shown).")
def webhook_list(as_json: bool) -> None:
    """The registered webhooks."""
    from graph import open_store, webhooks

    with open_store(_settings()) as store:
        hooks = webhooks.list_hooks(store, _operator())
    rows = [{"id": h.id, "url": h.url, "events": list(h.events), "created_at": h.created_at, "active": h.active}
            for h in hooks]
    _print(rows, as_json, [f"{h.id}  {h.url}  {', '.join(h.events)}" for h in hooks] or ["no webhooks"])


@webhook_group.command("remove")
@click.argument("hook_id")
def webhook_remove(hook_id: str) -> None:
    """Remove a webhook (its pending deliveries fail as "webhook removed")."""
    from graph import open_store, webhooks
    with open_store(_settings()) as store, _refusals():
        webhooks.remove_hook(store, _operator(), hook_id)
    click.echo(f"webhook {hook_id} removed")


@webhook_group.command("deliveries")
@click.option("--status", type=click.Choice(["pending", "delivered", "failed"]), default=None)
@click.option("--channel", type=click.Choice(["webhook", "robot"]), default=None)
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON, newest first.")
def webhook_deliveries(status: str | None, channel: str | None, limit: int, as_json: bool) -> None:
    """The delivery log of webhooks and robot channels."""
    from graph import open_store, webhooks

    with open_store(_settings()) as store:
        rows = webhooks.list_deliveries(store, _operator(), channel=channel, status=status, limit=limit)
    _print(rows, as_json, [f"{r['id']}  {r['channel']:7} {r['event']:22} {r['status']:9} attempts={r['attempts']} "
                           f"code={r['last_code']} {r['last_error'] or ''}" for r in rows] or ["no deliveries"])


@webhook_group.command("replay")
@click.argument("delivery_id")
def webhook_replay(delivery_id: str) -> None:
    """Send a delivery again (same id, same body) at the next dispatch."""
    from graph import open_store, webhooks
    with open_store(_settings()) as store, _refusals():
        webhooks.replay(store, _operator(), delivery_id)
    click.echo(f"delivery {delivery_id} queued again")


@main.group("channel")
def channel_group() -> None:
    """Notification channels: DingTalk, WeCom and Feishu group robots per department."""


@channel_group.command("add")
@click.argument("kind", type=click.Choice(["dingtalk", "wecom", "feishu"]))
@click.argument("url")
@click.option("--department", required=True, help="Department code; its sub-departments are served too.")
@click.option("--secret", default="", help="Signing secret (DingTalk 加签 / Feishu 签名校验); WeCom has none.")
@click.option("--kinds", default="task_arrived,overdue,escalation,trend_warning", show_default=True,
              help="Comma-separated notice kinds (also due_soon).")
@click.option("--json", "as_json", is_flag=True, help='Print JSON: {"id"}.')
def channel_add(kind: str, url: str, department: str, secret: str, kinds: str, as_json: bool) -> None:
    """Register a group robot's webhook URL for a department."""
    from graph import open_store, webhooks
    with open_store(_settings()) as store, _refusals():
        channel_id = webhooks.add_channel(store, _operator(), kind, url, department, secret=secret,
                                          kinds=kinds.split(","))
    _print({"id": channel_id}, as_json, [f"{kind} channel {channel_id} for {department}"])


@channel_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (secrets are never shown).")
def channel_list(as_json: bool) -> None:
    """The registered robot channels."""
    from graph import open_store, webhooks

    with open_store(_settings()) as store:
        rows = webhooks.list_channels(store, _operator())
    _print(rows, as_json, [f"{r['id']}  {r['kind']:8} {r['department']:10} {','.join(r['kinds'] or [])}"
                           for r in rows] or ["no channels"])


@channel_group.command("remove")
@click.argument("channel_id")
def channel_remove(channel_id: str) -> None:
    """Remove a robot channel."""
    from graph import open_store, webhooks
    with open_store(_settings()) as store, _refusals():
        webhooks.remove_channel(store, _operator(), channel_id)
    click.echo(f"channel {channel_id} removed")


@main.command("watch")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
def watch_once(as_json: bool) -> None:
    """Scan the watch folder once now (the beat does it every few seconds)."""
    from graph import open_store
    from workers.watch import scan

    settings = _settings()
    if settings.watch_dir is None:
        raise click.ClickException("no watch folder configured (set HUITONG_WATCH_DIR and HUITONG_WATCH_OWNER)")
    with open_store(settings) as store:
        figures = scan(store, settings)
    _print(figures, as_json, [", ".join(f"{k} {v}" for k, v in figures.items())])
