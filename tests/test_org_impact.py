"""Reorganisation impact preview: what the preview says is exactly what applying the change does.

Each case builds a small organisation with shared documents on a real graph, asks for the preview,
applies the change through the real admin functions (or the org import), and compares the preview
with the readable sets the permission cache answers before and after, for every person.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import run_cli
from test_permissions_org_changes import _build

from graph import org, org_impact, org_io
from graph import permissions as perm
from graph.falkordb_backend import FalkorStore


def _readable(store: FalkorStore, people: dict[str, str]) -> dict[str, set[str]]:
    return {name: perm.readable_document_ids(store, pid) for name, pid in people.items()}


def _check(store: FalkorStore, people: dict[str, str], impact: list[dict], apply: Callable[[], object]) -> None:
    before = _readable(store, people)
    apply()
    after = _readable(store, people)
    really = {name: (len(after[name] - before[name]), len(before[name] - after[name]))
              for name in people if after[name] != before[name]}
    assert {c["username"]: (c["gained"], c["lost"]) for c in impact} == really
    for change in impact:  # examples are real documents of the right side
        assert {e["id"] for e in change["gained_examples"]} <= after[change["username"]] - before[change["username"]]
        assert {e["id"] for e in change["lost_examples"]} <= before[change["username"]] - after[change["username"]]


@pytest.fixture
def world(fresh_store: FalkorStore) -> tuple[FalkorStore, dict[str, str], dict[str, str]]:
    people, ids = _build(fresh_store)
    return fresh_store, people, ids


def test_move_preview_matches_the_move(world) -> None:  # type: ignore[no-untyped-def]
    store, people, ids = world
    impact = org_impact.preview_move(store, ids["LAB"], ids["HQ"]).as_json()
    assert {c["username"] for c in impact} == {"lab", "proj", "acc"}
    assert all(c["gained"] > 0 and c["lost"] == 0 for c in impact)
    assert any(e["title"] == "hq-memo" for c in impact for e in c["gained_examples"])
    _check(store, people, impact, lambda: org.move_department(store, ids["LAB"], ids["HQ"]))
    impact = org_impact.preview_move(store, ids["SALES-EAST"], None).as_json()
    assert [(c["username"], c["lost"]) for c in impact] == [("east", 2)]
    _check(store, people, impact, lambda: org.move_department(store, ids["SALES-EAST"], None))


def test_deactivation_with_members_moved(world) -> None:  # type: ignore[no-untyped-def]
    store, people, ids = world
    impact = org_impact.preview_status(store, "department", ids["OPS"], False, move_members_to=ids["LAB"]).as_json()
    assert [c["username"] for c in impact] == ["ops"]
    _check(store, people, impact,
           lambda: org.deactivate_department(store, ids["OPS"], move_members_to=ids["LAB"]))


def test_project_deactivation_and_memberships(world) -> None:  # type: ignore[no-untyped-def]
    store, people, ids = world
    impact = org_impact.preview_status(store, "project", ids["APOLLO"], False).as_json()
    assert [(c["username"], c["gained"], c["lost"]) for c in impact] == [("proj", 0, 1)]
    _check(store, people, impact, lambda: org.set_active(store, "project", ids["APOLLO"], False))
    impact = org_impact.preview_membership(store, people["east"], "department", code="LAB", add=True).as_json()
    _check(store, people, impact, lambda: org.add_membership(store, people["east"], "department", "LAB"))
    impact = org_impact.preview_membership(store, people["acc"], "position", target_id=ids["ACC"], add=False)
    assert impact.lost == 1
    _check(store, people, impact.as_json(),
           lambda: org.remove_membership(store, people["acc"], "position", ids["ACC"]))
    impact = org_impact.preview_person_active(store, people["fin"], False)
    _check(store, people, impact.as_json(), lambda: org.set_person_active(store, people["fin"], False))


def test_import_dry_run_access_changes_match_the_import(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store, people, _ids = world
    export = tmp_path / "org"
    org_io.write_export(store, export)
    memberships = (export / "memberships.csv").read_text(encoding="utf-8-sig")
    memberships = memberships.replace("east,department,SALES-EAST", "east,department,FIN")
    memberships += "lab,project,APOLLO\r\n"
    (export / "memberships.csv").write_text(memberships, encoding="utf-8-sig")
    departments = (export / "departments.csv").read_text(encoding="utf-8-sig")
    (export / "departments.csv").write_text(departments.replace("LAB,部门 LAB,,,", "LAB,部门 LAB,,HQ,"),
                                            encoding="utf-8-sig")
    plan = org_io.plan_import(store, org_io.read_paths([export]))
    assert plan.ok, plan.problems
    changed = {c["username"] for c in plan.access_changes or []}
    assert {"east", "lab", "proj", "acc"} <= changed
    _check(store, people, plan.access_changes or [], lambda: org_io.apply_plan(store, plan))
    again = org_io.plan_import(store, org_io.read_paths([export]))
    assert again.access_changes == []  # applied: nothing left to change


def test_cli_dry_run_reports_access_changes(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store, people, _ids = world
    (tmp_path / "memberships.csv").write_text("username,kind,code\neast,department,LAB\n", encoding="utf-8")
    before = _readable(store, people)
    env = {"HUITONG_GRAPH_NAME": store.graph_name}
    result = run_cli("org", "import", str(tmp_path / "memberships.csv"), "--dry-run", "--json", env=env)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["applied"] is False
    assert [(c["username"], c["gained"], c["lost"]) for c in report["access_changes"]] == [("east", 1, 2)]
    assert _readable(store, people) == before  # a dry run
