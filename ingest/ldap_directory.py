"""The LDAP / Active Directory server as Huitong reads it (ldap3): find a user, check their password, list
users and groups for the org sync.

Sign-in is "search, then bind as the user": the service account (``HUITONG_LDAP_BIND_DN``) finds the user's
DN with ``HUITONG_LDAP_USER_FILTER``, then a second connection binds with that DN and the typed password, so
the directory itself checks the password (and its own lockout and expiry rules). The typed name is escaped
before it enters the filter. Passwords are never logged nor kept.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import ldap3
from ldap3.core.exceptions import LDAPException
from ldap3.utils.conv import escape_filter_chars

from settings import Settings

# Active Directory's userAccountControl flag of a disabled account.
AD_ACCOUNT_DISABLED = 0x2
PAGE_SIZE = 500


class DirectoryUnavailable(RuntimeError):
    """The directory could not be reached, or refused the service account."""


@dataclass(frozen=True)
class Entry:
    """One directory object: its DN and its attributes (lower-cased names, values as lists of strings)."""

    dn: str
    attributes: dict[str, list[str]] = field(default_factory=dict)

    def first(self, name: str) -> str:
        values = self.attributes.get(name.lower()) or []
        return values[0].strip() if values else ""

    def values(self, name: str) -> list[str]:
        return list(self.attributes.get(name.lower()) or [])


def _entry(raw: dict[str, Any]) -> Entry:
    attributes: dict[str, list[str]] = {}
    for name, value in (raw.get("attributes") or {}).items():
        items = value if isinstance(value, list) else [value]
        attributes[name.lower()] = [item.decode("utf-8", "replace") if isinstance(item, bytes) else str(item)
                                    for item in items if item not in (None, "")]
    return Entry(str(raw["dn"]), attributes)


def is_disabled(entry: Entry, attribute: str = "", values: tuple[str, ...] = ()) -> bool:
    """Disabled in the directory: AD's userAccountControl flag, or a configured attribute holding one of
    ``values`` (e.g. OpenLDAP ``employeeType: disabled`` or ``pwdAccountLockedTime``)."""
    control = entry.first("userAccountControl")
    if control.isdigit() and int(control) & AD_ACCOUNT_DISABLED:
        return True
    if not attribute:
        return False
    present = entry.values(attribute)
    if not values:
        return bool(present)
    wanted = {value.lower() for value in values}
    return any(value.lower() in wanted for value in present)


class Directory:
    """One configured directory (settings ``ldap_*``). Each call opens and closes its own connections."""

    def __init__(self, settings: Settings) -> None:
        if not settings.ldap_url:
            raise DirectoryUnavailable("HUITONG_LDAP_URL is not set")
        self.settings = settings
        self.server = ldap3.Server(settings.ldap_url, connect_timeout=settings.ldap_timeout_seconds,
                                   get_info=ldap3.NONE)

    def _connection(self, user: str, password: str, *, raise_exceptions: bool = True) -> ldap3.Connection:
        return ldap3.Connection(self.server, user=user or None, password=password or None,
                                receive_timeout=self.settings.ldap_timeout_seconds,
                                raise_exceptions=raise_exceptions, read_only=True)

    @contextmanager
    def service(self) -> Iterator[ldap3.Connection]:
        """A connection bound as the service account (anonymous when no bind DN is configured)."""
        connection = self._connection(self.settings.ldap_bind_dn,
                                      self.settings.ldap_bind_password.get_secret_value())
        try:
            connection.bind()
        except LDAPException as error:
            # The exception's text names the server and the result, never the password.
            raise DirectoryUnavailable(f"service account bind failed: {type(error).__name__}") from None
        try:
            yield connection
        finally:
            connection.unbind()

    def search(self, connection: ldap3.Connection, search_filter: str, attributes: list[str]) -> list[Entry]:
        try:
            found = connection.extend.standard.paged_search(
                self.settings.ldap_base_dn, search_filter, search_scope=ldap3.SUBTREE, attributes=attributes,
                paged_size=PAGE_SIZE, generator=False)
        except LDAPException as error:
            raise DirectoryUnavailable(f"search failed: {type(error).__name__}") from None
        return [_entry(raw) for raw in found if raw.get("type") == "searchResEntry"]

    def find_user(self, login: str, attributes: list[str]) -> Entry | None:
        """The one entry the user filter finds for ``login`` (none or several: None)."""
        login = login.strip()
        if not login:
            return None
        search_filter = self.settings.ldap_user_filter.replace("{login}", escape_filter_chars(login))
        with self.service() as connection:
            found = self.search(connection, search_filter, attributes)
        return found[0] if len(found) == 1 else None

    def check_password(self, dn: str, password: str) -> bool:
        """Bind as ``dn``: the directory says whether the password is right. An empty password is refused
        here, since LDAP treats a bind with a DN and no password as an anonymous ("unauthenticated") bind."""
        if not password:
            return False
        # Without raise_exceptions a refused bind is a False answer; an unreachable server still raises.
        connection = self._connection(dn, password, raise_exceptions=False)
        try:
            return bool(connection.bind())
        except LDAPException as error:
            raise DirectoryUnavailable(f"user bind failed: {type(error).__name__}") from None
        finally:
            connection.unbind()

    def entries(self, search_filter: str, attributes: list[str]) -> list[Entry]:
        with self.service() as connection:
            return self.search(connection, search_filter, attributes)
