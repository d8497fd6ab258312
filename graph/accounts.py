"""People as accounts: who they are, how they prove it, their login sessions and login throttling.

Everything lives in the graph, so every web and CLI process sees the same sessions and the same
failure counters. The browser keeps only a random session token; the graph keeps its sha256,
so reading the graph never yields a usable cookie.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
import uuid
from dataclasses import dataclass
from functools import lru_cache

from graph import throttle
from graph.passwords import hash_password, verify_password
from graph.queries import accounts as q
from graph.queries import org
from graph.store import GraphStore, Row
from settings import get_settings

ROLES: tuple[str, ...] = ("member", "manager", "admin")
MIN_PASSWORD_LENGTH = 8
USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")

# Login throttling: growing delays per (account, address) and per address, never a lock on an
# account alone (see graph.throttle).


class AccountError(ValueError):
    """A request about accounts that cannot be honoured; the message is fit for the user."""


class UnknownDepartment(AccountError):
    pass


class DuplicateAccount(AccountError):
    pass


class InvalidPassword(AccountError):
    pass


class UnknownPerson(AccountError):
    pass


class Throttled(AccountError):
    """Too many wrong passwords from this address: the next try must wait until ``retry_at_ms``."""

    def __init__(self, retry_at_ms: int, failure: throttle.Failure | None = None) -> None:
        super().__init__("too many failed attempts")
        self.retry_at_ms = retry_at_ms
        self.failure = failure  # set when this very attempt started (or lengthened) the wait


@dataclass(frozen=True)
class Person:
    """The signed-in person as the web app sees them."""

    id: str
    username: str
    name: str
    roles: frozenset[str]
    active: bool

    def has_any_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))


@dataclass(frozen=True)
class LoginOutcome:
    """``status``: ``ok``, ``invalid`` (unknown login or wrong password), ``inactive`` or ``throttled``."""

    status: str
    person: Person | None = None
    retry_at_ms: int = 0  # throttled: when this address may try again
    failure: throttle.Failure | None = None  # a wrong password: which throttles it started


def now_ms() -> int:
    return int(time.time() * 1000)


def _person(row: Row) -> Person:
    return Person(
        id=row["id"], username=row["username"] or "", name=row["name"] or "",
        roles=frozenset(r for r in row.get("roles") or [] if r), active=row.get("active") is not False,
    )


def normalise_login(login: str) -> str:
    return login.strip().lower()


def find_account(store: GraphStore, login: str) -> tuple[Person, str | None] | None:
    """The person whose username or e-mail is ``login`` (case-insensitive), with their password hash."""
    login = normalise_login(login)
    if not login:
        return None
    rows = store.run(q.ACCOUNT_BY_EMAIL if "@" in login else q.ACCOUNT_BY_USERNAME, {"login": login})
    if not rows:
        return None
    return _person(rows[0]), rows[0]["password_hash"]


def person_by_id(store: GraphStore, person_id: str) -> Person | None:
    rows = store.run(q.ACCOUNT_BY_ID, {"person_id": person_id})
    return _person(rows[0]) if rows else None


# -- passwords -------------------------------------------------------------------------------

def check_password_policy(password: str) -> None:
    if not password or not password.strip():
        raise InvalidPassword("the password is empty")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidPassword(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")


def set_password(store: GraphStore, person_id: str, new_password: str, *, keep_session: str | None = None) -> None:
    """Set a new password and end every other login session of that person."""
    check_password_policy(new_password)
    if not store.run(org.SET_PASSWORD_HASH, {"person_id": person_id, "password_hash": hash_password(new_password)}):
        raise UnknownPerson("no such person")
    rows = store.run(q.DELETE_OTHER_SESSIONS, {"person_id": person_id, "keep": _token_id(keep_session or "")})
    if rows and rows[0]["deleted"]:
        _announce_ended([person_id])


def change_password(store: GraphStore, person_id: str, current: str, new_password: str,
                    *, keep_session: str | None = None, client: str = "unknown") -> None:
    """The person's own change: the current password is required, and guessing it is throttled like a login
    (a stolen session must not become a password oracle)."""
    rows = store.run(q.ACCOUNT_BY_ID, {"person_id": person_id})
    if not rows:
        raise UnknownPerson("no such person")
    rules = [throttle.pair_rule(f"account:{person_id}", client, "password"), throttle.address_rule(client)]
    now = now_ms()
    waiting = throttle.retry_at(store, rules, now)
    if waiting:
        raise Throttled(waiting)
    if not verify_password(rows[0]["password_hash"], current):
        failure = throttle.fail(store, rules, now)
        if failure.delayed:
            raise Throttled(failure.retry_at_ms, failure)
        raise InvalidPassword("the current password is wrong")
    throttle.clear(store, rules[0])
    if current == new_password:
        raise InvalidPassword("the new password must differ from the current one")
    set_password(store, person_id, new_password, keep_session=keep_session)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hash_password(secrets.token_hex(16))


# -- people ----------------------------------------------------------------------------------

def create_person(store: GraphStore, *, username: str, name: str, department_code: str, password: str,
                  role: str = "member", email: str | None = None) -> Person:
    """Create an active person in a department. Roles are cumulative: everyone is a ``member``."""
    username = normalise_login(username)
    if not USERNAME_PATTERN.match(username):
        raise AccountError("a username is 2-64 characters: lower-case letters, digits, '.', '_' or '-'")
    if not name.strip():
        raise AccountError("the name is empty")
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r} (one of {', '.join(ROLES)})")
    email = normalise_login(email) if email else None
    if email is not None and "@" not in email:
        raise AccountError(f"{email!r} is not an e-mail address")
    check_password_policy(password)
    if not store.run(q.DEPARTMENT_BY_CODE, {"code": department_code}):
        raise UnknownDepartment(f"unknown department {department_code!r} (see `huitong dept list`)")
    if store.run(q.ACCOUNT_BY_USERNAME, {"login": username}):
        raise DuplicateAccount(f"the username {username!r} is taken")
    if email and store.run(q.ACCOUNT_BY_EMAIL, {"login": email}):
        raise DuplicateAccount(f"the e-mail {email!r} belongs to another person")
    person_id = str(uuid.uuid4())
    roles = sorted({"member", role})
    store.run(q.CREATE_PERSON, {
        "department": department_code, "id": person_id, "username": username, "name": name.strip(),
        "email": email, "now": now_ms(), "password_hash": hash_password(password), "roles": roles,
    })
    return Person(id=person_id, username=username, name=name.strip(), roles=frozenset(roles), active=True)


def set_active(store: GraphStore, person_id: str, active: bool) -> None:
    """(De)activate a person; deactivation ends every session of theirs for good (reactivation revives none)."""
    if not store.run(q.SET_ACTIVE, {"person_id": person_id, "active": active}):
        raise UnknownPerson("no such person")
    if not active:
        end_sessions(store, person_ids=[person_id])


def list_people(store: GraphStore) -> list[Row]:
    return store.run(q.LIST_PEOPLE)


def list_departments(store: GraphStore) -> list[Row]:
    return store.run(q.LIST_DEPARTMENTS)


# -- login sessions --------------------------------------------------------------------------

def _token_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(store: GraphStore, person_id: str, *, client: str, lifetime_seconds: int) -> str:
    """Start a login session; returns the token for the cookie (never stored as such)."""
    token = secrets.token_urlsafe(32)
    now = now_ms()
    store.run(q.PRUNE_SESSIONS, {"now": now})
    store.run(q.CREATE_SESSION, {"person_id": person_id, "session_id": _token_id(token), "now": now,
                                 "expires_at": now + lifetime_seconds * 1000, "client": client})
    return token


def session_person(store: GraphStore, token: str) -> Person | None:
    """The active person a live session token belongs to, else None."""
    rows = store.run(q.SESSION_PERSON, {"session_id": _token_id(token), "now": now_ms()})
    if not rows:
        return None
    person = _person(rows[0])
    if not person.active:
        end_sessions(store, person_ids=[person.id])  # reactivation must not revive any of them
        return None
    return person


def close_session(store: GraphStore, token: str) -> None:
    rows = store.run(q.DELETE_SESSION, {"session_id": _token_id(token)})
    _announce_ended(rows[0]["person_ids"] if rows else [])


def _announce_ended(person_ids: list[str]) -> None:
    """Open live streams of these people re-check their session at once instead of at the next interval."""
    if person_ids:
        from graph import live  # lazily: the bus module imports permissions, which reads accounts

        live.sessions_ended(get_settings(), person_ids)


def end_sessions(store: GraphStore, *, person_ids: list[str] | None = None,
                 usernames: list[str] | None = None) -> int:
    """End every login session of these people, now and for good: the records are gone, so neither a
    reactivation nor a restored role brings an old cookie back. Called on deactivation, role removal and
    password change; returns how many sessions ended."""
    if not person_ids and not usernames:
        return 0
    rows = store.run(q.END_SESSIONS, {"person_ids": list(person_ids or []), "usernames": list(usernames or [])})
    if not rows:
        return 0
    _announce_ended(rows[0]["person_ids"])
    return int(rows[0]["deleted"])


# -- authentication with throttling ------------------------------------------------------------

def _account_key(login: str, person: Person | None) -> str:
    # Keyed by person when known (username and e-mail share one counter), else by what was typed,
    # so unknown logins are throttled exactly like real ones and reveal nothing.
    return f"account:{person.id}" if person else f"login:{normalise_login(login)}"


def authenticate(store: GraphStore, login: str, password: str, *, client: str) -> LoginOutcome:
    found = find_account(store, login)
    person = found[0] if found else None
    rules = [throttle.pair_rule(_account_key(login, person), client), throttle.address_rule(client)]
    now = now_ms()
    waiting = throttle.retry_at(store, rules, now)
    if waiting:
        return LoginOutcome("throttled", person, waiting)
    # Verify against a dummy hash for unknown logins: the answer takes as long either way.
    valid = verify_password(found[1] if found else _dummy_hash(), password) and found is not None
    if valid and person is not None:
        if not person.active:
            return LoginOutcome("inactive", person)
        throttle.clear(store, rules[0])
        return LoginOutcome("ok", person)
    failure = throttle.fail(store, rules, now)
    if failure.delayed:
        return LoginOutcome("throttled", person, failure.retry_at_ms, failure)
    return LoginOutcome("invalid", person, failure=failure)
