"""``huitong user deactivate|activate USER``: the CLI door to the same change as the admin page's status button.

Deactivation ends every login session of the person for good (see :func:`graph.accounts.end_sessions`):
reactivating them later brings back the account, never an old cookie.
"""

from __future__ import annotations

import click

from webapp.cli import _settings, user


def _set_active(username: str, active: bool) -> None:
    from graph import open_store
    from graph.usecases import Context, actor_by_username, org_admin

    settings = _settings()
    with open_store(settings) as store:
        person = actor_by_username(store, username)
        if person is None:
            raise click.ClickException(f"no user {username!r}")
        sessions = org_admin.set_person_active(Context(store, settings), org_admin.operator(), person.person_id,
                                               active)
    if active:
        click.echo(f"activated {username}: they may sign in again (earlier sessions stay ended)")
    else:
        click.echo(f"deactivated {username}: {sessions} session(s) ended")


@user.command("deactivate")
@click.argument("username")
def user_deactivate(username: str) -> None:
    """Stop USERNAME from signing in and end all of their sessions now."""
    _set_active(username, False)


@user.command("activate")
@click.argument("username")
def user_activate(username: str) -> None:
    """Let USERNAME sign in again (with a new login; old sessions stay ended)."""
    _set_active(username, True)
