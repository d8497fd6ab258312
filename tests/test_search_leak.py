"""Leak test: random organisations, shares and documents with planted words, ingested for real.

For every person, the path query (``permissions.can_read``) is the oracle: no result, total, facet
count, snippet, title, "more like this" entry or explanation may come from a document the oracle
says they cannot read; and every document they can read must be findable. Checked again right
after a share is revoked and right after a person moves department, through the same process-wide
caches the web app uses (no manual invalidation).
"""

from __future__ import annotations

import random
import string
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from graph import documents as docs
from graph import org
from graph import permissions as perm
from graph.actor import Actor
from graph.classification import ShareKind, share_counts
from graph.errors import ObjectMissing
from graph.falkordb_backend import FalkorStore
from graph.usecases import Context
from graph.usecases import documents as cases
from ingest import processing, uploads
from ingest import search as service
from settings import Settings, load_settings

LEVELS = ("public", "internal", "confidential", "secret")
COMMON_EN = "quarterly operations report"
COMMON_ZH = "季度经营报告"
KIND_OF_SHARE = {ShareKind.DEPARTMENT: "department", ShareKind.PROJECT: "project", ShareKind.POSITION: "position",
                 ShareKind.PERSON: "person"}


@dataclass
class World:
    store: FalkorStore
    settings: Settings
    people: dict[str, str] = field(default_factory=dict)  # username -> id
    departments: dict[str, str] = field(default_factory=dict)  # code -> id
    words: dict[str, str] = field(default_factory=dict)  # document id -> planted word
    owners: dict[str, str] = field(default_factory=dict)  # document id -> owner id

    def oracle(self, person_id: str) -> set[str]:
        return {d for d in self.words if perm.can_read(self.store, person_id, d).allowed}


def _word(rng: random.Random) -> str:
    return "qz" + "".join(rng.choice(string.ascii_lowercase) for _ in range(9))


def _upload(world: World, rng: random.Random, owner: str, level: str, shares: list[str], extra: str = "") -> str:
    word = _word(rng)
    text = (f"{word} appears in this {COMMON_EN}. {COMMON_ZH}：本文件记录 {word} 的内容。{extra}\n"
            f"<b>{word}</b> & more notes on the {COMMON_EN}.")
    uploaded = uploads.upload(world.store, world.settings, text.encode(), f"{word}.txt", world.people[owner],
                               "general", level, shares, enqueue=None)
    done = processing.process_version_now(world.store, world.settings, uploaded.version_id)
    assert done.status == "ok" and done.chunks, done
    world.words[uploaded.document_id] = word
    world.owners[uploaded.document_id] = world.people[owner]
    return uploaded.document_id


def build_world(store: FalkorStore, settings: Settings, seed: int) -> World:
    rng = random.Random(seed)
    world = World(store, settings)
    # two roots so that a move between them really changes what a department share reaches
    for i in range(rng.randint(4, 6)):
        parent = "" if i < 2 else world.departments[rng.choice(list(world.departments))]
        code = f"D{i}"
        world.departments[code] = org.create(store, "department", {"code": code, "name": f"部门{i}",
                                                                   "name_en": f"Dept {i}", "parent_id": parent})
    for kind in ("project", "position"):
        for i in range(2):
            org.create(store, kind, {"code": f"{kind[:3].upper()}{i}", "name": f"{kind}{i}"})
    for i in range(rng.randint(5, 7)):
        username = f"u{i}"
        roles = ["admin"] if i == 0 else ["member"]
        person = org.create_person(store, {"username": username, "name": f"用户{i}", "email": f"{username}@x.test"},
                                   roles)
        world.people[username] = person
        for code in rng.sample(sorted(world.departments), rng.choice([1, 1, 2])):
            org.add_membership(store, person, "department", code)
        if rng.random() < 0.5:
            org.add_membership(store, person, "project", f"PRO{rng.randint(0, 1)}")
        if rng.random() < 0.5:
            org.add_membership(store, person, "position", f"POS{rng.randint(0, 1)}")
    targets = {ShareKind.DEPARTMENT: sorted(world.departments), ShareKind.PROJECT: ["PRO0", "PRO1"],
               ShareKind.POSITION: ["POS0", "POS1"], ShareKind.PERSON: sorted(world.people)}
    for _ in range(rng.randint(7, 9)):
        level = rng.choice(LEVELS)
        kinds = [k for k in ShareKind if share_counts(level, k)]
        shares = {f"{KIND_OF_SHARE[kind]}:{rng.choice(targets[kind])}"
                  for kind in (rng.choice(kinds) for _ in range(rng.randint(0, 3)))}
        _upload(world, rng, rng.choice(sorted(world.people)), level, sorted(shares))
    return world


@pytest.fixture
def own_settings(tmp_path: Path) -> Settings:
    """The platform's settings with a data directory (blobs, text, index) of this test's own."""
    return load_settings(data_dir=tmp_path / "data")


def assert_no_leak(world: World, person_id: str) -> set[str]:
    """Every check for one person; returns their readable set (per the oracle).

    The hybrid query runs once per person (each costs a query embedding); the per-document planted-word
    checks run in keyword mode, where the words are matched exactly and the same permission mask applies.
    """
    readable = world.oracle(person_id)
    store, settings = world.store, world.settings
    ctx, actor = Context(store, settings), Actor(person_id)
    everything = service.search(ctx, actor, service.Query(f"{COMMON_EN} {COMMON_ZH}", per_page=100))
    found = {r.document_id for r in everything.results}
    # exact: every readable document holds the common words, so all of them, and nothing else, come back
    assert found == readable, (person_id, sorted(found ^ readable))
    assert everything.total == len(readable)
    _check_facets(world, everything, readable)
    by_date = service.search(ctx, actor, service.Query(COMMON_EN, per_page=5, sort="date", mode="keyword"))
    assert {r.document_id for r in by_date.results} <= readable and by_date.total == len(readable)
    for document_id, word in world.words.items():
        outcome = service.search(Context(store, settings), Actor(person_id),
                                 service.Query(word, per_page=100, mode="keyword"))
        ids = [r.document_id for r in outcome.results]
        _check_facets(world, outcome, readable)
        assert _can_ask_why(store, person_id, document_id) == (document_id in readable)
        if document_id in readable:
            assert ids == [document_id], (word, ids)
            snippet = outcome.results[0].snippet_html
            assert f"<mark>{word}</mark>" in snippet
            assert "<b>" not in snippet and "&lt;b&gt;" in snippet  # text is escaped, only <mark> is markup
        else:
            assert ids == [] and outcome.total == 0, (person_id, word, ids)
            with pytest.raises(ObjectMissing):
                service.similar(Context(store, settings), Actor(person_id), document_id)
    if readable:
        source = sorted(readable)[0]
        similar = service.similar(Context(store, settings), Actor(person_id), source, k=20)
        assert {r.document_id for r in similar} == readable - {source}  # few documents: all are "similar"
    return readable


def _can_ask_why(store: FalkorStore, person_id: str, document_id: str) -> bool:
    """"Why can I see this?" answers a reader; anyone else gets the missing-document refusal."""
    try:
        cases.why(Context(store), Actor(person_id), document_id)
    except ObjectMissing:
        return False
    return True


def _check_facets(world: World, outcome: service.Outcome, readable: set[str]) -> None:
    for name in ("kind", "domain", "access", "department", "uploader"):
        assert sum(f.count for f in outcome.facets[name]) == outcome.total, name
    owners = Counter(world.owners[d] for d in readable)
    for facet in outcome.facets["uploader"]:
        assert 0 < facet.count <= owners[facet.value], facet
    assert sum(f.count for f in outcome.facets["time"] if f.value == "365d") == outcome.total


@pytest.mark.parametrize("seed", [7, 2026])
def test_no_result_facet_snippet_or_suggestion_leaks(fresh_store: FalkorStore, own_settings: Settings,
                                                     seed: int) -> None:
    world = build_world(fresh_store, own_settings, seed)
    sizes = [len(assert_no_leak(world, person)) for person in world.people.values()]
    assert min(sizes) < len(world.words) == max(sizes)  # someone is refused something; the admin reads all

    # a deactivated person reads (and finds) nothing
    someone = world.people["u1"]
    org.set_person_active(fresh_store, someone, False)
    assert assert_no_leak(world, someone) == set()


def test_revoked_share_and_department_move_show_at_once(fresh_store: FalkorStore, own_settings: Settings) -> None:
    rng = random.Random(99)
    world = World(fresh_store, own_settings)
    for code in ("A", "B"):
        world.departments[code] = org.create(fresh_store, "department", {"code": code, "name": f"部门{code}"})
    for username, code in (("owner", "A"), ("reader", "A"), ("mover", "A"), ("other", "B")):
        world.people[username] = org.create_person(
            fresh_store, {"username": username, "name": username, "email": f"{username}@x.test"})
        org.add_membership(fresh_store, world.people[username], "department", code)
    personal = _upload(world, rng, "owner", "confidential", ["person:reader"])
    for_a = _upload(world, rng, "owner", "internal", ["department:A"])
    for_b = _upload(world, rng, "other", "internal", ["department:B"])
    _upload(world, rng, "owner", "secret", [])
    cache = perm.cache_for(fresh_store)
    reader, mover = world.people["reader"], world.people["mover"]
    assert personal in assert_no_leak(world, reader)
    assert assert_no_leak(world, mover) == {for_a}
    rebuilds = cache.rebuilds

    assert docs.unshare(fresh_store, world.people["owner"], personal, "person:reader")
    assert personal not in assert_no_leak(world, reader)

    department_a = world.departments["A"]
    assert org.remove_membership(fresh_store, mover, "department", department_a)
    org.add_membership(fresh_store, mover, "department", "B")
    assert assert_no_leak(world, mover) == {for_b}
    # followed through the permission version, incrementally: no full rebuild was needed
    assert cache.rebuilds == rebuilds


def test_bitmap_fast_path_finds_exactly_what_the_id_set_finds(fresh_store: FalkorStore, own_settings: Settings) -> None:
    """The web app hands the engine the permission bitmap's numbers; the id set is the reference."""
    world = build_world(fresh_store, own_settings, 31)
    index = service.engine(own_settings)
    fields = [*service.FACET_FIELDS.values(), service.TIME_FIELD]

    def compare() -> None:
        for person in world.people.values():
            ids = service.readable(fresh_store, person)
            numbered = service.readable_numbers(fresh_store, person)
            assert numbered.document_ids() == ids == world.oracle(person)
            for mode in ("keyword", "hybrid"):
                by_ids = index.search(COMMON_EN, ids, per_page=100, mode=mode, facet_fields=fields)
                by_numbers = index.search(COMMON_EN, numbered, per_page=100, mode=mode, facet_fields=fields)
                assert [(h.document_id, h.score, h.snippet_html) for h in by_numbers.hits] == \
                    [(h.document_id, h.score, h.snippet_html) for h in by_ids.hits]
                assert (by_numbers.total, by_numbers.facets) == (by_ids.total, by_ids.facets)
                assert {h.document_id for h in by_numbers.hits} == ids

    compare()
    owner, reader = world.people["u1"], world.people["u2"]
    shared = _upload(world, random.Random(5), "u1", "confidential", ["person:u2"])
    compare()
    assert shared in service.readable_numbers(fresh_store, reader).document_ids()
    assert docs.unshare(fresh_store, owner, shared, "person:u2")
    compare()
    assert shared not in service.readable_numbers(fresh_store, reader).document_ids()

    # a document the permission index numbers before the search index has it: found once it is indexed
    uploaded = uploads.upload(fresh_store, own_settings, f"late {COMMON_EN}".encode(), "late.txt", owner,
                               "general", "internal", ["person:u2"], enqueue=None)
    before = service.readable_numbers(fresh_store, reader)
    assert uploaded.document_id in before.document_ids()
    assert uploaded.document_id not in {h.document_id for h in index.search(COMMON_EN, before, per_page=100).hits}
    assert processing.process_version_now(fresh_store, own_settings, uploaded.version_id).status == "ok"
    world.words[uploaded.document_id], world.owners[uploaded.document_id] = "late", owner
    assert uploaded.document_id in {h.document_id for h in index.search(COMMON_EN, before, per_page=100).hits}
    compare()

    # "more like this" leaves the source document out of the numbers, not only out of the ids
    without = service.readable_numbers(fresh_store, reader, without=uploaded.document_id)
    assert without.document_ids() == world.oracle(reader) - {uploaded.document_id}
    # ... without touching the cache's own bitmaps (an administrator's set is the cache's set of all documents)
    admin = world.people["u0"]
    service.readable_numbers(fresh_store, admin, without=uploaded.document_id)
    assert uploaded.document_id in service.readable(fresh_store, admin) == world.oracle(admin)
    assert uploaded.document_id in service.readable_numbers(fresh_store, reader).document_ids()
