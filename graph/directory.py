"""Looking people up by user name for the doors that name them (CLI ``--as``, forms naming a colleague).

Only what a door needs: the id, name, roles and whether the account is active; never credentials.
"""

from __future__ import annotations

from graph.actor import Actor
from graph.errors import InvalidInput
from graph.queries import workflows as q
from graph.store import GraphStore


def active_person_id(store: GraphStore, username: str) -> str | None:
    """The id of the active person with this user name (None: unknown or deactivated)."""
    name = (username or "").strip().lower()
    rows = store.run(q.PERSON_BY_USERNAME, {"username": name}) if name else []
    return str(rows[0]["id"]) if rows and rows[0]["active"] is True else None


def actor_for(store: GraphStore, username: str, *, door: str, address: str | None = None) -> Actor:
    """The acting person of a command run ``--as`` this user; ``directory.unknown_user`` otherwise."""
    person_id = active_person_id(store, username)
    if person_id is None:
        raise InvalidInput("directory.unknown_user", field="username", username=username)
    row = store.run(q.PERSON_CONTEXT, {"person_id": person_id})[0]
    return Actor(person_id, row["username"], row["name"], frozenset(row["roles"]), door, "zh", address or door)
