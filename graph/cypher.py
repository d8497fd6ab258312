"""The catalogue of every Cypher statement Huitong sends to a graph engine.

Statements are declared once, at import time of the domain module that owns them, with
example parameters. The store only runs :class:`Statement` objects, so the test suite can
collect every statement the platform can send, lint it with Neo4j's own Cypher front-end
and execute it on embedded FalkorDB. Only portable Cypher belongs here; engine-specific DDL
is owned by the backends.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Statement:
    """One named, parameterised Cypher statement."""

    name: str
    text: str
    example: dict[str, Any] = field(default_factory=dict)
    writes: bool = False
    module: str = ""

    def __str__(self) -> str:
        return self.name


_CATALOGUE: dict[str, Statement] = {}

# Statements declared by these packages are the platform's; ad-hoc ones in tests are not collected.
PROJECT_PACKAGES = ("graph", "webapp", "ingest", "embeddings", "workers")


def cypher(name: str, text: str, *, example: dict[str, Any] | None = None, writes: bool = False) -> Statement:
    """Declare a statement. ``example`` holds parameters that make it runnable in the conformance test."""
    if name in _CATALOGUE and _CATALOGUE[name].text != text:
        raise ValueError(f"Cypher statement {name!r} declared twice with different text")
    module = sys._getframe(1).f_globals.get("__name__", "")
    statement = Statement(name=name, text=" ".join(text.split()), example=example or {}, writes=writes, module=module)
    _CATALOGUE[name] = statement
    return statement


def all_statements() -> list[Statement]:
    """Every statement of the platform (imports all of ``graph.queries``; the store's own are always loaded)."""
    from graph import queries, store  # noqa: F401 - store declares its statements at import

    for module in pkgutil.iter_modules(queries.__path__):
        importlib.import_module(f"{queries.__name__}.{module.name}")
    return sorted((s for s in _CATALOGUE.values() if s.module.split(".")[0] in PROJECT_PACKAGES), key=lambda s: s.name)
