"""``huitong decision add`` and ``huitong doc show`` as real subprocesses on a graph of their own."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from documents_helpers import People, org_graph
from helpers import run_cli
from knowledge_support import make_document, new_version
from test_duplicates import EDITED, POLICY

from ingest import dedupe


@pytest.fixture
def world(graph_server) -> Iterator[dict]:  # type: ignore[no-untyped-def]
    with org_graph(graph_server) as store:
        people = People(store)
        owner, reader, outsider, rnd = (people.one("FIN-ACC"), people.one("FIN-TRS"), people.one("HR"),
                                        people.one("RND"))
        budget = make_document(store, owner["id"], "年度预算", share_with="FIN", content=POLICY.encode())
        copy = make_document(store, rnd["id"], "预算副本", access="secret", content=EDITED.encode())
        dedupe.link(store, [(budget[0], budget[1], POLICY), (copy[0], copy[1], EDITED)])
        yield {"store": store, "env": {"HUITONG_GRAPH_NAME": store.graph_name}, "owner": owner, "reader": reader,
               "outsider": outsider, "budget": budget}


def cli(world: dict, *args: str) -> tuple[int, dict]:
    result = run_cli(*args, env=world["env"])
    return result.returncode, json.loads(result.stdout or "{}")


def test_decision_add_then_doc_show(world: dict) -> None:
    owner, reader = world["owner"]["username"], world["reader"]["username"]
    budget_id, v1 = world["budget"]
    code, made = cli(world, "decision", "add", "--as", owner, "--title", "采用 2027 预算", "--based-on", v1,
                     "--participant", reader, "--affects", "FIN", "--json")
    assert code == 0, made
    assert made["title"] == "采用 2027 预算" and [b["version_id"] for b in made["bases"]] == [v1]
    new_version(world["store"], world["owner"]["id"], budget_id, b"second")

    code, shown = cli(world, "doc", "show", budget_id, "--as", reader, "--json")
    assert code == 0, shown
    assert shown["id"] == budget_id and [v["number"] for v in shown["versions"]] == [2, 1]
    (decision,) = shown["decisions"]
    assert decision["id"] == made["id"] and decision["this_document"][0]["stale"] is True
    assert shown["duplicates"]["hidden"] == 1 and shown["duplicates"]["copies"] == []  # the secret copy
    assert "预算副本" not in json.dumps(shown, ensure_ascii=False)


def test_unreadable_is_exactly_missing(world: dict) -> None:
    outsider = world["outsider"]["username"]
    unreadable = run_cli("doc", "show", world["budget"][0], "--as", outsider, "--json", env=world["env"])
    missing = run_cli("doc", "show", "no-such-document", "--as", outsider, "--json", env=world["env"])
    assert unreadable.returncode == missing.returncode == 1
    assert unreadable.stdout.replace(world["budget"][0], "X") == missing.stdout.replace("no-such-document", "X")
    code, refused = cli(world, "decision", "add", "--as", outsider, "--title", "越权", "--based-on",
                        world["budget"][1], "--json")
    assert code == 1 and refused["error"] == "version.missing"
    text = run_cli("decision", "add", "--as", outsider, "--title", " ", env=world["env"])
    assert text.returncode == 1 and "title is required" in text.stderr
