"""``huitong token create|list|revoke``: personal access tokens of the API, made for a person (``--as``).

Attached to the main group by one import in :mod:`webapp.cli`; the use cases live in :mod:`graph.tokens`.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import click

from webapp.cli import _settings, main

MESSAGES = {
    "token.scope": "the scope must be read, write or admin",
    "token.days": "--days must be between 1 and {max}",
    "token.missing": "no token {id}",
    "directory.unknown_user": "no active person with user name {username}",
}


@contextlib.contextmanager
def _acting(username: str) -> Iterator[tuple[Any, Any]]:
    """The store and the actor ``--as`` this user; a refusal ends the command with its message (exit 1)."""
    from graph import directory, open_store
    from graph.errors import DomainError

    with open_store(_settings()) as store:
        try:
            yield store, directory.actor_for(store, username, door="cli")
        except DomainError as error:
            template = MESSAGES.get(error.code)
            raise click.ClickException(template.format(**error.params) if template else error.code) from None


@main.group("token")
def token_group() -> None:
    """Personal access tokens for the REST API (/api/v1; sent as Authorization: Bearer)."""


@token_group.command("create")
@click.option("--as", "username", required=True, help="User name of the token's owner.")
@click.option("--scope", type=click.Choice(["read", "write", "admin"]), required=True)
@click.option("--days", type=int, default=None, help="Expires after this many days (default: never).")
@click.option("--name", default="", help="A label to recognise it by.")
@click.option("--json", "as_json", is_flag=True, help='Print {"token": ...} as JSON.')
def token_create(username: str, scope: str, days: int | None, name: str, as_json: bool) -> None:
    """Make a token; it is printed once and never shown again."""
    from graph import tokens

    with _acting(username) as (store, actor):
        made = tokens.create(store, actor, scope=scope, days=days, name=name)
    if as_json:
        click.echo(json.dumps({"token": made.token, "id": made.id, "scope": made.scope,
                               "expires_at": made.expires_at}))
    else:
        click.echo(made.token)


@token_group.command("list")
@click.option("--as", "username", required=True)
@click.option("--json", "as_json", is_flag=True)
def token_list(username: str, as_json: bool) -> None:
    """The person's tokens (ids, scopes, expiry, last use; never the tokens)."""
    from graph import tokens

    with _acting(username) as (store, actor):
        rows = tokens.list_tokens(store, actor)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    for row in rows:
        state = "active" if row["active"] else ("revoked" if row["revoked_at"] else "expired")
        click.echo(f"{row['id']}  {row['scope']:5}  {state:7}  last used {row['last_used_at'] or '-'}  {row['name']}")


@token_group.command("revoke")
@click.argument("token_id")
@click.option("--as", "username", required=True)
def token_revoke(token_id: str, username: str) -> None:
    """Revoke a token at once."""
    from graph import tokens

    with _acting(username) as (store, actor):
        done = tokens.revoke(store, actor, token_id)
    click.echo("revoked" if done else "already revoked")
