"""graph.catch_up: the one catch-up loop of the in-process copies (decision search, near duplicates, permissions)."""

from __future__ import annotations

from graph.catch_up import PerStore, follow
from graph.cypher import cypher
from graph.falkordb_backend import FalkorStore
from graph.queries import decision_terms

ADD = cypher("test.catch_up.add_decisions", """
    UNWIND $rows AS row
    CREATE (:Decision {id: row.id, kind: 'record', title: row.id, text: '', at: row.at})
    """, writes=True)


def test_follow_reads_page_by_page_and_resumes_from_the_cursor(fresh_store: FalkorStore) -> None:
    fresh_store.run(ADD, {"rows": [{"id": f"d{i}", "at": 100 + i} for i in range(5)]})
    seen: list[str] = []
    cursor = follow(fresh_store, decision_terms.SINCE, 0, lambda row: seen.append(row["id"]), page=2)
    # every row, in order (a page boundary row is read again: the statement reads >= to catch late commits)
    assert cursor == 104 and set(seen) == {f"d{i}" for i in range(5)} and seen == sorted(seen)
    fresh_store.run(ADD, {"rows": [{"id": "late", "at": 200}]})
    later: list[str] = []
    assert follow(fresh_store, decision_terms.SINCE, cursor, lambda row: later.append(row["id"]), page=2) == 200
    assert later[-1] == "late" and "d0" not in later  # only what came after the cursor (the statement reads >=)


def test_a_full_page_that_does_not_move_the_cursor_ends_the_round(fresh_store: FalkorStore) -> None:
    fresh_store.run(ADD, {"rows": [{"id": f"s{i}", "at": 7} for i in range(4)]})
    rounds: list[str] = []
    assert follow(fresh_store, decision_terms.SINCE, 7, lambda row: rounds.append(row["id"]), page=2) == 7
    assert len(rounds) == 2  # no endless loop on rows sharing one time


def test_per_store_makes_one_copy_per_store(fresh_store: FalkorStore, store: FalkorStore) -> None:
    made: list[object] = []
    copies = PerStore(lambda s: made.append(s) or object())
    assert copies(fresh_store) is copies(fresh_store) and copies(store) is not copies(fresh_store)
    assert made == [fresh_store, store]
