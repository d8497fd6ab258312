"""Decision search: every decision is in a full-text index (not a scan of the newest), ranked, with the visibility
policy applied — a decision the person may not see never comes back. Real graph."""

from __future__ import annotations

from knowledge_support import actor
from test_decisions import world  # noqa: F401 - the same small organisation and documents

from graph import decisions
from ingest import decision_search


def test_every_decision_is_searchable_and_visibility_applies(world) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    store = world["store"]
    old = decisions.record(store, actor(store, world["owner"]), title="统一统计口径", text="预算按新的统计口径编制",
                           based_on=[world["budget"][1]])
    # More than the former scan window of newer matching decisions the FIN reader may not see (secret basis).
    for i in range(decisions.SCAN + 20):
        decisions.record(store, actor(store, world["owner"]), title=f"董事会 口径 决议 {i}",
                         based_on=[world["board"][1]])
    reader = actor(store, world["fin2"])
    found = decision_search.search(store, reader, "口径")
    assert [d["id"] for d in found] == [old["id"]]  # found though 520 newer matches are hidden from the reader
    assert decision_search.search(store, actor(store, world["hr"]), "口径") == []  # HR sees none of them
    assert decision_search.search(store, reader, "budget nothing-matches-this") == []
    ranked = decision_search.search(store, actor(store, world["admin"]), "统计口径 预算", limit=5)
    assert ranked[0]["id"] == old["id"] and len(ranked) == 5
    newer = decisions.record(store, actor(store, world["owner"]), title="差旅口径调整", based_on=[world["budget"][1]])
    assert {d["id"] for d in decision_search.search(store, reader, "口径")} == {old["id"], newer["id"]}
