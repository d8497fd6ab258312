"""The acting person of one request, command or task, as every use case receives it.

A door (web view, CLI command, API handler, Celery task) builds one ``Actor`` per request and passes it
to the use cases. Access decisions made while serving that request are memoised on the actor, so a
page that asks "may this person read document D?" five times pays for one graph query.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")

DOORS = ("web", "cli", "api", "worker")


@dataclass
class Actor:
    person_id: str
    username: str = ""
    name: str = ""
    roles: frozenset[str] = frozenset()
    door: str = "web"
    lang: str = "zh"
    address: str | None = None
    _memo: dict[Hashable, object] = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    @property
    def is_manager(self) -> bool:
        return bool(self.roles.intersection(("manager", "admin")))

    def has_any_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    def memo(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()`` once per key for the lifetime of this actor (one request)."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]  # type: ignore[return-value]

    def remembers(self, key: Hashable) -> bool:
        """Whether ``key`` was computed already in this request (to skip a combined read of it)."""
        return key in self._memo

    def forget(self, key: Hashable | None = None) -> None:
        """Drop memoised decisions after a write that changes them (all of them when ``key`` is None)."""
        if key is None:
            self._memo.clear()
        else:
            self._memo.pop(key, None)
