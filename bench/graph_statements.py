"""A synthetic people graph for the graph benchmark and the crash-restart tests.

People (``Person``, keyed by ``id`` like every Person) linked by ``KNOWS`` relationships with a
``since`` property; the rows are deterministic for a given seed, so two runs (or a run before
and after a crash) describe the same graph.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from typing import Any

from graph.cypher import cypher
from graph.store import GraphStore

CREATE_PEOPLE = cypher(
    "bench.create_people",
    """
    UNWIND $rows AS row
    CREATE (:Person {id: row.id, n: row.n, name: row.name})
    """,
    example={"rows": [{"id": "bench-p0", "n": 0, "name": "P 0"}, {"id": "bench-p1", "n": 1, "name": "P 1"}]},
    writes=True,
)

CREATE_LINKS = cypher(
    "bench.create_links",
    """
    UNWIND $rows AS row
    MATCH (a:Person {id: row.source})
    MATCH (b:Person {id: row.target})
    CREATE (a)-[:KNOWS {since: row.since}]->(b)
    """,
    example={"rows": [{"source": "bench-p0", "target": "bench-p1", "since": 2001}]},
    writes=True,
)

TWO_HOP = cypher(
    "bench.two_hop",
    """
    MATCH (p:Person {id: $id})-[:KNOWS]->(:Person)-[:KNOWS]->(q:Person)
    WHERE q.id <> $id
    RETURN DISTINCT q.id AS id
    """,
    example={"id": "bench-p0"},
)

# Counts plus sums over both ends and the property: a relationship lost, duplicated, moved to
# another endpoint or with a changed value changes at least one figure.
FINGERPRINT = cypher(
    "bench.fingerprint",
    """
    MATCH (p:Person)
    WITH count(p) AS people, sum(p.n) AS people_sum
    OPTIONAL MATCH (a:Person)-[r:KNOWS]->(b:Person)
    RETURN people, people_sum, count(r) AS links, sum(a.n) AS source_sum, sum(b.n) AS target_sum,
           sum(r.since) AS since_sum
    """,
)


def person_id(n: int) -> str:
    return f"bench-p{n}"


def people_rows(count: int, start: int = 0) -> Iterator[dict[str, Any]]:
    for n in range(start, start + count):
        yield {"id": person_id(n), "n": n, "name": f"Person {n}"}


def link_rows(people: int, links: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    """``links`` relationships spread evenly over sources, random targets (never a self loop)."""
    rng = random.Random(seed)
    for k in range(links):
        source = k % people
        target = (source + 1 + rng.randrange(people - 1)) % people
        yield {"source": person_id(source), "target": person_id(target), "since": 1990 + rng.randrange(35)}


def batches(rows: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def load(store: GraphStore, people: int, links: int, batch: int = 5000) -> tuple[float, float]:
    """Create the graph; seconds spent on the people and on the relationships."""
    started = time.perf_counter()
    for rows in batches(people_rows(people), batch):
        store.run(CREATE_PEOPLE, {"rows": rows})
    people_s = time.perf_counter() - started
    started = time.perf_counter()
    for rows in batches(link_rows(people, links), batch):
        store.run(CREATE_LINKS, {"rows": rows})
    return people_s, time.perf_counter() - started


def snapshot(store: GraphStore, people: int, sample: int = 200, seed: int = 3) -> dict[str, Any]:
    """The fingerprint plus the 2-hop answers of a sample of people: what a crash must not change."""
    rng = random.Random(seed)
    ids = [person_id(rng.randrange(people)) for _ in range(sample)]
    return {
        "fingerprint": store.run(FINGERPRINT)[0],
        "two_hop": {pid: sorted(row["id"] for row in store.run(TWO_HOP, {"id": pid})) for pid in ids},
    }
