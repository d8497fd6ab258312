"""Personal access tokens for the API: made, listed and revoked by their owner, checked on every request.

A token reads ``ht_<id>_<secret>``. The graph keeps the id (so a request finds its token with one indexed
lookup) and the sha256 of the whole token (so a stolen database does not hold usable tokens); the token
itself is shown once, when it is made. Scopes nest: ``admin`` ⊇ ``write`` ⊇ ``read``; the admin scope
only gives admin powers to people who are administrators, and a read or write token never does.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any

from graph import audit
from graph.actor import Actor
from graph.errors import InvalidInput, ObjectMissing
from graph.queries import tokens as q
from graph.store import GraphStore, Row

SCOPES = ("read", "write", "admin")
PREFIX = "ht_"
MAX_DAYS = 3650
MAX_NAME = 100
# Writing last_used_at on every request would turn each read into a graph write: once a minute is enough.
TOUCH_EVERY_MS = 60_000


def now_ms() -> int:
    return int(time.time() * 1000)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def scope_allows(scope: str, needed: str) -> bool:
    """Whether a token of ``scope`` may do what needs ``needed``."""
    return scope in SCOPES and needed in SCOPES and SCOPES.index(scope) >= SCOPES.index(needed)


@dataclass(frozen=True)
class Created:
    token: str  # shown once
    id: str
    scope: str
    expires_at: int | None


def create(store: GraphStore, actor: Actor, *, scope: str, days: int | None = None, name: str = "") -> Created:
    """A new token of the actor; audited as ``token.create`` (without the token)."""
    if scope not in SCOPES:
        raise InvalidInput("token.scope", field="scope", value=scope)
    if days is not None and not 1 <= int(days) <= MAX_DAYS:
        raise InvalidInput("token.days", field="days", max=MAX_DAYS)
    name = (name or "").strip()[:MAX_NAME]
    token_id = secrets.token_hex(8)
    token = f"{PREFIX}{token_id}_{secrets.token_urlsafe(32)}"
    now = now_ms()
    expires_at = now + int(days) * 86_400_000 if days else None
    rows = store.run(q.TOKEN_CREATE, {"person_id": actor.person_id, "id": token_id, "name": name,
                                      "hash": _hash(token), "scope": scope, "now": now, "expires_at": expires_at})
    if not rows:
        raise ObjectMissing("directory.unknown_user", username=actor.username)
    audit.record(store, action="token.create", actor_id=actor.person_id, target_kind="person",
                 target_id=actor.person_id, client=actor.address or actor.door,
                 detail={"token_id": token_id, "scope": scope, "expires_at": expires_at, "name": name})
    return Created(token, token_id, scope, expires_at)


def list_tokens(store: GraphStore, actor: Actor) -> list[dict[str, Any]]:
    """The actor's tokens (never the secrets), newest first, with whether each still works."""
    now = now_ms()
    return [{**row, "active": row["revoked_at"] is None and (row["expires_at"] is None or row["expires_at"] > now)}
            for row in store.run(q.TOKEN_LIST, {"person_id": actor.person_id})]


def revoke(store: GraphStore, actor: Actor, token_id: str) -> bool:
    """Revoke one of the actor's tokens (an administrator may revoke anyone's). Someone else's token is a
    missing one. Returns False when it was already revoked."""
    rows = store.run(q.TOKEN_OWNER, {"id": token_id})
    if not rows or (rows[0]["person_id"] != actor.person_id and not actor.is_admin):
        raise ObjectMissing("token.missing", id=token_id)
    done = bool(store.run(q.TOKEN_REVOKE, {"id": token_id, "now": now_ms()}))
    if done:
        audit.record(store, action="token.revoke", actor_id=actor.person_id or None, target_kind="person",
                     target_id=rows[0]["person_id"], client=actor.address or actor.door,
                     detail={"token_id": token_id})
    return done


@dataclass(frozen=True)
class Bearer:
    """Who a valid token speaks for, and with which scope."""

    token_id: str
    scope: str
    person: Row


def _parse(token: str) -> str | None:
    if not token.startswith(PREFIX):
        return None
    token_id, sep, secret = token[len(PREFIX):].partition("_")
    if not sep or not secret or len(token_id) != 16 or not all(c in "0123456789abcdef" for c in token_id):
        return None
    return token_id


def authenticate(store: GraphStore, token: str, *, now: int | None = None) -> Bearer | None:
    """The token's owner and scope, or None: malformed, unknown, wrong secret, revoked, expired, or its
    owner is deactivated. Notes the time it was used (at most once a minute)."""
    token_id = _parse(token.strip())
    if token_id is None:
        return None
    rows = store.run(q.TOKEN_AUTH, {"id": token_id})
    if not rows:
        return None
    row = rows[0]
    now = now_ms() if now is None else now
    if not hmac.compare_digest(str(row["hash"]), _hash(token.strip())):
        return None
    if row["revoked_at"] is not None or (row["expires_at"] is not None and row["expires_at"] <= now):
        return None
    if row["active"] is False:
        return None
    if row["last_used_at"] is None or now - int(row["last_used_at"]) >= TOUCH_EVERY_MS:
        store.run(q.TOKEN_TOUCH, {"id": token_id, "now": now})
    person = {"id": row["id"], "username": row["username"] or "", "name": row["name"] or "",
              "roles": frozenset(r for r in row["roles"] or [] if r)}
    return Bearer(token_id, str(row["scope"]), person)


def actor_of(bearer: Bearer, *, door: str = "api", lang: str = "zh", address: str | None = None) -> Actor:
    """The acting person of an API request: the admin role only through an admin-scope token."""
    roles = frozenset(bearer.person["roles"])
    if bearer.scope != "admin":
        roles = roles - {"admin"}
    return Actor(bearer.person["id"], bearer.person["username"], bearer.person["name"], roles, door=door,
                 lang=lang, address=address)
