"""Notification preferences from the command line:
``huitong notifications prefs --as U [--mute KIND ...] [--digest daily|off] --json``.

Attached to the ``huitong`` group by one import in :mod:`webapp.cli`. The command acts as the named person
through the same use case as the account page and the API
(:func:`graph.usecases.notifications.update_preferences`): without ``--mute`` or ``--digest`` it only shows
the preferences; ``--mute`` (repeatable, or comma-separated) replaces the muted kinds (``--mute none`` mutes
nothing); ``--digest daily`` sends one e-mail a day instead of one per notice. A refusal prints the error's
code and exits 1.
"""

from __future__ import annotations

import json

import click

from graph.errors import DomainError
from webapp.cli import _settings, main
from webapp.cli_knowledge import MESSAGES, _actor, _fail

DIGESTS = ("daily", "off")
MESSAGES.update({"notification.unknown_kind": "unknown notification kind(s): {kind}"})


def _muted(values: tuple[str, ...]) -> list[str] | None:
    if not values:
        return None
    kinds = [k.strip() for value in values for k in value.split(",") if k.strip()]
    return [k for k in kinds if k != "none"]


@main.group("notifications")
def notifications_group() -> None:
    """Notifications: a person's preferences (muted kinds, daily digest)."""


@notifications_group.command("prefs")
@click.option("--as", "username", required=True, help="User name of the person whose preferences these are.")
@click.option("--mute", "mute", multiple=True, metavar="KIND",
              help="Kinds to mute (repeat, or separate by commas); replaces the muted kinds. 'none' mutes nothing.")
@click.option("--digest", type=click.Choice(DIGESTS), default=None,
              help="daily: one e-mail a day with every notice; off: one e-mail per notice.")
@click.option("--json", "as_json", is_flag=True, help="Print the preferences as JSON.")
def prefs(username: str, mute: tuple[str, ...], digest: str | None, as_json: bool) -> None:
    """Show, or change, a person's notification preferences."""
    from graph import open_store
    from graph.usecases import Context
    from graph.usecases import notifications as cases

    settings = _settings()
    with open_store(settings) as store:
        try:
            ctx, actor = Context(store, settings), _actor(store, username)
            muted, daily = _muted(mute), None if digest is None else cases.DIGEST_WORDS[digest]
            if muted is None and daily is None:
                saved = cases.preferences(ctx, actor)
            else:
                saved = cases.update_preferences(ctx, actor, muted=muted, digest=daily)
        except DomainError as error:
            _fail(error, as_json)
            return
    shown = cases.in_words(saved)
    if as_json:
        click.echo(json.dumps(shown, ensure_ascii=False))
        return
    click.echo(f"muted: {', '.join(shown['muted']) or '-'}")
    click.echo(f"digest: {shown['digest']}")
