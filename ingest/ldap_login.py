"""Sign-in with an LDAP / Active Directory password, throttled like a local password.

The same growing delays as local sign-in (graph/throttle.py) apply, per (typed login, address) and per
address; the address counter is the very one local sign-in uses, so switching methods does not reset it.
"""

from __future__ import annotations

from graph import accounts, throttle
from graph.accounts import LoginOutcome
from graph.store import GraphStore
from ingest.ldap_directory import Directory, is_disabled
from ingest.sso_accounts import Identity, linked_person
from settings import Settings


def _rules(login: str, client: str) -> list[throttle.Rule]:
    return [throttle.pair_rule(accounts.normalise_login(login), client, kind="ldap"), throttle.address_rule(client)]


def authenticate(store: GraphStore, settings: Settings, login: str, password: str, *, client: str) -> LoginOutcome:
    """``status``: ``ok``, ``invalid`` (unknown login or wrong password), ``inactive`` (deactivated here or
    disabled in the directory), ``unknown`` (right password, linked to nobody) or ``throttled``.

    Raises :class:`ingest.ldap_directory.DirectoryUnavailable` when the directory cannot answer."""
    rules = _rules(login, client)
    now = accounts.now_ms()
    waiting = throttle.retry_at(store, rules, now)
    if waiting:
        return LoginOutcome("throttled", None, waiting)
    directory = Directory(settings)
    attributes = sorted({settings.ldap_link_attribute, "cn", "displayName", "mail", "userAccountControl"})
    entry = directory.find_user(login, attributes)
    if entry is None or not directory.check_password(entry.dn, password):
        failure = throttle.fail(store, rules, now)
        if failure.delayed:
            return LoginOutcome("throttled", None, failure.retry_at_ms, failure)
        return LoginOutcome("invalid", None, failure=failure)
    throttle.clear(store, rules[0])
    identity = Identity("ldap", entry.first(settings.ldap_link_attribute),
                        entry.first("displayName") or entry.first("cn"), entry.first("mail"))
    person = linked_person(store, settings, identity)
    if person is None:
        return LoginOutcome("unknown")
    if not person.active or is_disabled(entry):
        return LoginOutcome("inactive", person)
    return LoginOutcome("ok", person)
