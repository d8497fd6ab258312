"""Decisions as knowledge on a real graph: recording, lineage, the visibility rule, search, the workflow hook."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from documents_helpers import People, org_graph
from knowledge_support import actor, make_document, new_version

from graph import decisions
from graph.demo_org import node_id
from graph.errors import InvalidInput, ObjectMissing


@pytest.fixture
def world(graph_server) -> Iterator[dict]:  # type: ignore[no-untyped-def]
    with org_graph(graph_server) as store:
        people = People(store)
        owner, fin, fin2, hr = people.one("FIN-ACC"), people.one("FIN"), people.one("FIN", 1), people.one("HR")
        budget = make_document(store, owner["id"], "年度预算 2027", share_with="FIN")
        board = make_document(store, owner["id"], "董事会纪要 secret", access="secret")
        yield {"store": store, "owner": owner["id"], "fin": fin["id"], "fin2": fin2["id"], "hr": hr["id"],
               "budget": budget, "board": board, "admin": node_id("person", "admin")}


def test_lineage_and_who_may_see(world) -> None:  # type: ignore[no-untyped-def]
    store = world["store"]
    made = decisions.record(store, actor(store, world["owner"]), title="批准 2027 年度预算", text="按预算执行",
                            based_on=[world["budget"][1], world["board"][1]], participants=[world["fin"]],
                            affects=["FIN", "HR"], decided_on="2026-11-30")
    assert made["decided_on"] == "2026-11-30" and made["hidden_bases"] == 0
    assert {b["title"] for b in made["bases"]} == {"年度预算 2027", "董事会纪要 secret"}
    assert {a["code"] for a in made["affects"]} == {"FIN", "HR"}

    # A participant sees the decision, but not the secret document it also rests on: only a count.
    seen = decisions.get(store, actor(store, world["fin"]), made["id"])
    assert [b["title"] for b in seen["bases"]] == ["年度预算 2027"] and seen["hidden_bases"] == 1
    assert "董事会" not in json.dumps(seen, ensure_ascii=False)
    # Someone who reads the budget but not the board minutes, and took no part: not visible at all.
    with pytest.raises(ObjectMissing):
        decisions.get(store, actor(store, world["fin2"]), made["id"])
    on_budget = decisions.for_document(store, actor(store, world["fin2"]), world["budget"][0])
    assert on_budget == {"decisions": [], "hidden": 1}
    # Someone who cannot read the document gets the answer of a missing document.
    with pytest.raises(ObjectMissing) as missing:
        decisions.for_document(store, actor(store, world["hr"]), world["budget"][0])
    assert missing.value.code == "document.missing"
    assert decisions.get(store, actor(store, world["admin"]), made["id"])["hidden_bases"] == 0


def test_a_decision_on_readable_versions_only_and_the_stale_warning(world) -> None:  # type: ignore[no-untyped-def]
    store = world["store"]
    made = decisions.record(store, actor(store, world["owner"]), title="预算口径", based_on=[world["budget"][1]])
    assert made["source"] == "document"
    new_version(store, world["owner"], world["budget"][0], b"v2")
    new_version(store, world["owner"], world["budget"][0], b"v3")
    listed = decisions.for_document(store, actor(store, world["fin2"]), world["budget"][0])
    (decision,) = listed["decisions"]
    (base,) = decision["this_document"]
    assert (base["number"], base["current_number"], base["stale"]) == (1, 3, True)
    found = decisions.search(store, actor(store, world["fin2"]), "口径")
    assert [d["id"] for d in found] == [made["id"]]
    assert decisions.search(store, actor(store, world["hr"]), "口径") == []


def test_bad_input_and_unreadable_bases_are_refused(world) -> None:  # type: ignore[no-untyped-def]
    store = world["store"]
    fin = actor(store, world["fin"])
    with pytest.raises(ObjectMissing) as missing:  # the secret board minutes: exactly like a missing version
        decisions.record(store, fin, title="越权", based_on=[world["board"][1]])
    with pytest.raises(ObjectMissing) as unknown:
        decisions.record(store, fin, title="越权", based_on=["no-such-version"])
    assert missing.value.code == unknown.value.code == "version.missing"
    with pytest.raises(InvalidInput) as empty:
        decisions.record(store, fin, title="   ")
    assert empty.value.params["field"] == "title"
    with pytest.raises(InvalidInput) as person:
        decisions.record(store, fin, title="会议决定", participants=["nobody-here"])
    assert person.value.code == "decision.unknown_person"
    with pytest.raises(InvalidInput):
        decisions.record(store, fin, title="会议决定", decided_on="30/11/2026")
    meeting = decisions.record(store, fin, title="会议决定", participants=[world["hr"]])
    assert meeting["source"] == "meeting" and meeting["bases"] == []
    assert decisions.get(store, actor(store, world["hr"]), meeting["id"])["title"] == "会议决定"
    with pytest.raises(ObjectMissing):  # no bases: only the people involved (and admins) see it
        decisions.get(store, actor(store, world["fin2"]), meeting["id"])


def test_final_approval_records_the_decision_on_the_run_files(fresh_store) -> None:  # type: ignore[no-untyped-def]
    import copy

    from workflow_support import FORMS, NOW, Org, approve_to_end

    from graph.demo_org import load_demo_org
    from graph.workflows import runs, templates

    load_demo_org(fresh_store, "pw")
    templates.install_templates(fresh_store, now=NOW)
    staff = Org()
    initiator, outsider = staff.staff("RND-PLT"), staff.staff("MKT-BRD")
    invoice = make_document(fresh_store, initiator, "发票 001", access="confidential")
    form = copy.deepcopy(FORMS["expense"])
    form["invoice"] = [{"name": "invoice-001.pdf", "document_id": invoice[0]}]
    run_id = runs.start_run(fresh_store, "expense", initiator, form, now=NOW, title="差旅报销 三月")
    approve_to_end(fresh_store, run_id, NOW)
    view = runs.run_view(fresh_store, run_id)
    approvers = [d["by_id"] for d in view["decisions"] if d["kind"] == "approve"]
    (recorded,) = [d for d in view["decisions"] if d["kind"] == "record"]
    assert recorded["by_id"] == approvers[-1]
    made = decisions.get(fresh_store, actor(fresh_store, initiator), recorded["id"])
    assert made["title"] == "差旅报销 三月" and made["source"] == "run" and made["run"]["id"] == run_id
    assert [b["version_id"] for b in made["bases"]] == [invoice[1]]
    assert {p["id"] for p in made["participants"]} >= {initiator, approvers[-1]}
    # An approver who may not read the invoice still sees the decision (run participant), not the invoice.
    seen = decisions.get(fresh_store, actor(fresh_store, approvers[0]), recorded["id"])
    assert seen["hidden_bases"] + len(seen["bases"]) == 1
    with pytest.raises(ObjectMissing):
        decisions.get(fresh_store, actor(fresh_store, outsider), recorded["id"])
    assert decisions.record_from_run(fresh_store, run_id) is None  # once per run
