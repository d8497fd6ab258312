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
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Statement:
    """One named, parameterised Cypher statement."""

    name: str
    text: str
    example: dict[str, Any] = field(default_factory=dict)
    writes: bool = False

    def __str__(self) -> str:
        return self.name


_CATALOGUE: dict[str, Statement] = {}


def cypher(name: str, text: str, *, example: dict[str, Any] | None = None, writes: bool = False) -> Statement:
    """Declare a statement. ``example`` holds parameters that make it runnable in the conformance test."""
    if name in _CATALOGUE and _CATALOGUE[name].text != text:
        raise ValueError(f"Cypher statement {name!r} declared twice with different text")
    statement = Statement(name=name, text=" ".join(text.split()), example=example or {}, writes=writes)
    _CATALOGUE[name] = statement
    return statement


def all_statements() -> list[Statement]:
    """Every statement of every domain module (imports all of ``graph.queries``)."""
    from graph import queries

    for module in pkgutil.iter_modules(queries.__path__):
        importlib.import_module(f"{queries.__name__}.{module.name}")
    return sorted(_CATALOGUE.values(), key=lambda s: s.name)
