"""Org-aware ranking: a boost by graph proximity between the asker and a result's department.

Tiers, nearest first: the asker's own department(s); their parent and sibling departments; documents
shared with a project the asker is in; everything else. A result's department is its owner's primary
department (the ``department_id`` the search index keeps per document). The boost is applied to the
fused relevance score AFTER fusion, multiplicatively: ``score * (1 + weight_of_tier)``. Multiplying
keeps the scale of the fused score (max-normalised, best ~1) and means:

- results of one tier keep their relative order: when every document sits in one department (the
  shared retrieval sets) the boost is exactly a no-op;
- a near-identical answer (scores within a few percent) from the asker's own department moves above
  the same answer from elsewhere, while a clearly better answer from elsewhere (score higher by more than
  the weight) stays ahead.

Weights and the switch are settings (``HUITONG_SEARCH_ORG_BOOST``, ``HUITONG_SEARCH_BOOST_OWN``,
``..._NEAR``, ``..._PROJECT``, ``HUITONG_SEARCH_BOOST_POOL``); a query can turn it off (``boost=0``).
Only the top ``pool`` fused results are re-ranked, so deeper pages keep the engine's order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from graph.actor import Actor
from graph.queries import proximity as q
from graph.store import GraphStore

OWN, NEAR, PROJECT, REST = 0, 1, 2, 3
TIER_NAMES = ("own", "near", "project", "rest")


@dataclass(frozen=True)
class Weights:
    own: float = 0.15
    near: float = 0.08
    project: float = 0.05

    def of(self, tier: int) -> float:
        return (self.own, self.near, self.project, 0.0)[tier]


@dataclass(frozen=True)
class Circle:
    """The asker's neighbourhood in the organisation."""

    own: frozenset[str]
    near: frozenset[str]  # parents and siblings of the asker's departments (not their own)
    projects: frozenset[str]


class Hit(Protocol):
    document_id: str
    score: float


H = TypeVar("H", bound=Hit)


def circle(store: GraphStore, actor: Actor) -> Circle:
    """The actor's departments, their parents and siblings, and projects (cached for the request)."""
    def load() -> Circle:
        rows = store.run(q.CIRCLE, {"person_id": actor.person_id})
        if not rows:
            return Circle(frozenset(), frozenset(), frozenset())
        row = rows[0]
        own = frozenset(x for x in row["own"] if x)
        near = frozenset(x for x in [*row["parents"], *row["siblings"]] if x) - own
        return Circle(own, near, frozenset(x for x in row["projects"] if x))

    return actor.memo(("proximity.circle",), load)


def tier(where: Circle, department_id: str | None, in_project: bool) -> int:
    if department_id and department_id in where.own:
        return OWN
    if department_id and department_id in where.near:
        return NEAR
    return PROJECT if in_project else REST


def rerank(store: GraphStore, actor: Actor, hits: Sequence[H], weights: Weights,
           department_of: Callable[[H], str | None]) -> list[tuple[H, float, int]]:
    """``hits`` (fused, best first) re-ordered by boosted score; each with its boosted score and tier.
    Ties keep the fused order (a stable sort)."""
    if not hits:
        return []
    where = circle(store, actor)
    shared = set()
    if where.projects and weights.project:
        shared = {r["id"] for r in store.run(q.IN_PROJECTS, {"ids": [h.document_id for h in hits],
                                                              "projects": sorted(where.projects)})}
    scored = []
    for hit in hits:
        level = tier(where, department_of(hit), hit.document_id in shared)
        scored.append((hit, float(hit.score) * (1.0 + weights.of(level)), level))
    return sorted(scored, key=lambda item: -item[1])
