"""``huitong user deactivate|activate USER``: the CLI door to the same change as the admin page's status button.

Deactivation ends every login session of the person for good (see :func:`graph.accounts.end_sessions`):
reactivating them later brings back the account, never an old cookie.
"""

from __future__ import annotations

import click

from webapp.cli import _settings, user


def _set_active(username: str, active: bool) -> None:
    from graph import accounts, audit, open_store, org
    from graph.queries import org as org_queries

    with open_store(_settings()) as store:
        found = store.run(org_queries.PERSON_BY_USERNAME, {"username": username.strip().lower()})
        if not found or not found[0]["id"]:
            raise click.ClickException(f"no user {username!r}")
        person_id = found[0]["id"]
        sessions = 0 if active else accounts.end_sessions(store, person_ids=[person_id])
        org.set_person_active(store, person_id, active)
        audit.record(store, action=f"org.person.{'activate' if active else 'deactivate'}", target_kind="person",
                     target_id=person_id, client="cli", detail={"door": "cli", "sessions_ended": sessions})
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
