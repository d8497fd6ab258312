"""The small interface every graph backend implements.

A statement goes in with its parameters, plain rows (lists of dicts of plain values) come
out. Callers never see engine objects; nodes and relationships come back as property dicts.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import Any, Protocol, TypeVar

from graph.cypher import Statement, cypher

T = TypeVar("T")
Row = dict[str, Any]

COUNT_BY_LABEL = cypher(
    "store.count_by_label",
    """
    MATCH (n)
    WITH labels(n) AS labels
    UNWIND labels AS label
    RETURN label, count(*) AS count
    ORDER BY label
    """,
)


class Transaction(Protocol):
    """What a unit-of-work function receives: it runs statements inside one transaction."""

    def run(self, statement: Statement, params: Mapping[str, Any] | None = None) -> list[Row]: ...


class GraphStore(ABC):
    """A graph engine behind one small, engine-neutral interface."""

    engine: str

    @abstractmethod
    def run(self, statement: Statement, params: Mapping[str, Any] | None = None) -> list[Row]:
        """Run one statement in its own transaction (read or write, as the statement declares)."""

    @abstractmethod
    def read(self, work: Callable[[Transaction], T]) -> T:
        """Run ``work`` in a read transaction (may go to a read replica)."""

    @abstractmethod
    def write(self, work: Callable[[Transaction], T]) -> T:
        """Run ``work`` in a write transaction."""

    @abstractmethod
    def ensure_schema(self) -> None:
        """Create the constraints and indexes of :mod:`graph.schema` (idempotent)."""

    @abstractmethod
    def ping(self) -> None:
        """Return if the engine answers; raise :class:`graph.errors.GraphUnavailable` otherwise."""

    @abstractmethod
    def close(self) -> None:
        """Release connections."""

    def counts(self) -> dict[str, int]:
        """Number of nodes per label."""
        return {row["label"]: row["count"] for row in self.run(COUNT_BY_LABEL)}

    def __enter__(self) -> GraphStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
