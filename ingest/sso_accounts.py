"""Who a single sign-on identity is here: the person linked to a claim (OIDC) or attribute (LDAP) value.

The value is matched against user names and e-mail addresses (``HUITONG_OIDC_LINK_CLAIM`` /
``HUITONG_LDAP_LINK_ATTRIBUTE`` choose which value). Nobody linked: refused, unless
``HUITONG_SSO_CREATE_PEOPLE`` lets the first login create the person in ``HUITONG_SSO_DEPARTMENT``, with a
random password nobody knows (they sign in through their provider only).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from graph import accounts
from graph.accounts import Person
from graph.store import GraphStore
from settings import Settings

_NOT_IN_USERNAME = re.compile(r"[^a-z0-9._-]+")


@dataclass(frozen=True)
class Identity:
    """What the provider says about the person signing in."""

    method: str  # "oidc" | "ldap"
    link: str  # the configured claim's / attribute's value
    name: str = ""
    email: str = ""


def _username_for(identity: Identity) -> str:
    base = identity.link.split("@", 1)[0].lower()
    return _NOT_IN_USERNAME.sub(".", base).strip("._-")[:64]


def linked_person(store: GraphStore, settings: Settings, identity: Identity) -> Person | None:
    """The linked person (active or not), created first when nobody is linked and creation is allowed."""
    link = identity.link.strip()
    if not link:
        return None
    found = accounts.find_account(store, link)
    if found is not None:
        return found[0]
    if not settings.sso_create_people or not settings.sso_department:
        return None
    email = identity.email or (link if "@" in link else None)
    try:
        return accounts.create_person(
            store, username=_username_for(identity), name=identity.name or link,
            department_code=settings.sso_department, password=secrets.token_urlsafe(32), email=email)
    except accounts.AccountError:
        return None  # an unusable name, a taken user name or e-mail: refused like an unknown person
