"""Organisation administration's vocabulary and input rules: the kinds, roles and statuses, the checks of
codes, names, user names, e-mail addresses and roles, and the errors they raise (:class:`OrgError` with
:class:`Problem` items). Messages are English ``%(name)s`` templates marked with :func:`N_`; the web layer
translates them with gettext, the CLI prints them as they are."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graph.queries import org_admin as q

KINDS: tuple[str, ...] = tuple(q.CODED_KINDS)
MEMBERSHIP_KINDS: tuple[str, ...] = tuple(q.MEMBERSHIP_KINDS)
ROLES: tuple[str, ...] = ("member", "manager", "admin")
STATUSES: tuple[str, ...] = ("active", "inactive", "all")

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,39}$")
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.\-]{1,63}$")
# Deliberately plain: one @, no spaces, a dot in the domain. Deliverability is the mail server's job.
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s.]{2,}$")
MAX_NAME = 120
# A leading = + - @ makes spreadsheets run the cell as a formula; exports open in spreadsheets.
FORMULA_START = ("=", "+", "-", "@")


def N_(message: str) -> str:  # the gettext convention: mark now, translate later
    """Mark a message for extraction; it is translated where it is shown."""
    return message


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a request: a message template, its values, and the field it concerns."""

    template: str
    params: Mapping[str, Any] = field(default_factory=dict)
    field: str | None = None

    def __str__(self) -> str:
        return self.template % dict(self.params) if self.params else self.template


class OrgError(ValueError):
    """A refused change; ``problems`` says why, field by field."""

    def __init__(self, *problems: Problem) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in problems))

    def by_field(self) -> dict[str | None, list[Problem]]:
        grouped: dict[str | None, list[Problem]] = {}
        for problem in self.problems:
            grouped.setdefault(problem.field, []).append(problem)
        return grouped


class NotFound(OrgError):
    """The department, person, position or project does not exist."""


def _now() -> int:
    return int(time.time() * 1000)


def new_id() -> str:
    return str(uuid.uuid4())


# -- validation shared with the bulk import ------------------------------------------------------

def clean(value: object) -> str:
    """A form or cell value as stripped text ('' for missing)."""
    return "" if value is None else str(value).strip()


def check_code(code: str, field_name: str = "code") -> Problem | None:
    if not code:
        return Problem(N_("A code is required."), field=field_name)
    if not CODE_RE.match(code):
        return Problem(N_("Code “%(code)s” is not valid: use 1–40 letters, digits, “-”, “_” or “.”."),
                       {"code": code}, field_name)
    return None


def check_name(name: str, field_name: str = "name", *, required: bool = True) -> Problem | None:
    if not name:
        return Problem(N_("A name is required."), field=field_name) if required else None
    if len(name) > MAX_NAME:
        return Problem(N_("The name is longer than %(max)s characters."), {"max": MAX_NAME}, field_name)
    if name.startswith(FORMULA_START):
        return Problem(N_("A name must not start with “=”, “+”, “-” or “@”."), field=field_name)
    return None


def check_username(username: str) -> Problem | None:
    if not username:
        return Problem(N_("A user name is required."), field="username")
    if not USERNAME_RE.match(username):
        return Problem(N_("User name “%(username)s” is not valid: use 2–64 lower-case letters, digits, “.”, "
                          "“-” or “_”."), {"username": username}, "username")
    return None


def check_email(email: str) -> Problem | None:
    if not email:
        return Problem(N_("An e-mail address is required."), field="email")
    if not EMAIL_RE.match(email) or email.startswith(FORMULA_START):
        return Problem(N_("“%(email)s” is not a valid e-mail address."), {"email": email}, "email")
    return None


def check_roles(roles: list[str]) -> Problem | None:
    unknown = sorted(set(roles) - set(ROLES))
    if unknown:
        return Problem(N_("Unknown role(s): %(roles)s (known: %(known)s)."),
                       {"roles": ", ".join(unknown), "known": ", ".join(ROLES)}, "roles")
    return None


def _raise_if(*problems: Problem | None) -> None:
    found = [p for p in problems if p is not None]
    if found:
        raise OrgError(*found)
