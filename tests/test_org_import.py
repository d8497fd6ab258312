"""Bulk import/export of the organisation on real FalkorDB graphs: dry run, bad rows, apply, round trips, CLI."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from helpers import run_cli

from graph import org, org_io
from graph.demo_org import load_demo_org
from graph.falkordb_backend import FalkorStore

HEADERS = {sheet: ",".join(columns) for sheet, columns in org_io.COLUMNS.items()}


@pytest.fixture
def other_store(graph_server) -> Iterator[FalkorStore]:  # type: ignore[no-untyped-def]
    """A second empty graph, to import an export into."""
    graph = FalkorStore(graph_server, f"t_{uuid.uuid4().hex[:12]}")
    graph.ensure_schema()
    yield graph
    graph.drop_all()
    graph.close()


@pytest.fixture
def demo_store(fresh_store):  # type: ignore[no-untyped-def]
    load_demo_org(fresh_store, "demo-password")
    return fresh_store


def write(folder: Path, files: dict[str, str], encoding: str = "utf-8") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_bytes(text.encode(encoding))
    return folder


def plan_dir(store, folder: Path) -> org_io.ImportPlan:  # type: ignore[no-untyped-def]
    return org_io.plan_import(store, org_io.read_paths([folder]))


def problems(plan: org_io.ImportPlan) -> list[tuple[str, int, str]]:
    return [(p.file, p.line, str(p.problem)) for p in plan.problems]


BASE = {
    "departments.csv": f"{HEADERS['departments']}\nHQ,总部,Head office,,true\nFIN,财务部,Finance,HQ,\n"
                       "FIN-ACC,会计组,Accounting,FIN,\n",
    "positions.csv": "code,name\nACC,会计\n",
    "projects.csv": "code,name,name_en\nERP,ERP 升级,ERP upgrade\n",
    "people.csv": f"{HEADERS['people']}\nli.na,李娜,li.na@example.com,true,member;manager,\n"
                  "wang.wei,王伟,Wang.Wei@Example.com,,member,li.na\n",
    "memberships.csv": "username,kind,code\nli.na,department,FIN\nli.na,head,FIN\nwang.wei,department,FIN-ACC\n"
                       "wang.wei,position,ACC\nwang.wei,project,ERP\n",
}


def test_dry_run_reports_and_writes_nothing_then_apply_is_idempotent(fresh_store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    folder = write(tmp_path / "in", BASE)
    plan = plan_dir(fresh_store, folder)
    assert plan.ok, problems(plan)
    summary = plan.summary()
    assert summary["departments"]["create"] == 3 and summary["people"]["create"] == 2
    assert summary["memberships"]["create"] == 5
    assert fresh_store.counts() == {}  # the dry run wrote nothing

    org_io.apply_plan(fresh_store, plan)
    counts = fresh_store.counts()
    assert (counts["Department"], counts["Person"], counts["Position"], counts["Project"]) == (3, 2, 1, 1)
    roots, nodes = org.department_tree(fresh_store)
    assert [r.row["code"] for r in roots] == ["HQ"]
    acc = next(n for n in nodes.values() if n.row["code"] == "FIN-ACC")
    assert [r["code"] for r in org.department_path(nodes, acc.row["id"])] == ["HQ", "FIN", "FIN-ACC"]
    wang = org.search_people(fresh_store, "wang.wei").rows[0]
    person = org.get_person(fresh_store, wang["id"])
    assert person["email"] == "wang.wei@example.com" and person["manager_username"] == "li.na"
    assert sorted((m["kind"], m["code"]) for m in org.memberships(fresh_store, wang["id"])) == [
        ("department", "FIN-ACC"), ("position", "ACC"), ("project", "ERP")]

    again = plan_dir(fresh_store, folder)
    assert again.ok and not again.changes
    assert sum(again.summary()[s]["unchanged"] for s in org_io.SHEETS) == 3 + 1 + 1 + 2 + 5
    org_io.apply_plan(fresh_store, again)
    assert fresh_store.counts() == counts


def test_every_bad_row_is_reported_with_file_and_line(fresh_store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    folder = write(tmp_path / "bad", {
        "departments.csv": (f"{HEADERS['departments']}\n"
                            "HQ,总部,,,\n"            # 2 fine
                            "A,甲,,B,\n"              # 3 cycle A -> B -> A
                            "B,乙,,A,\n"              # 4 cycle
                            "HQ,重复,,,\n"            # 5 duplicate code
                            "C,丙,,NOPE,\n"           # 6 unknown parent
                            "bad code,丁,,,\n"        # 7 bad code
                            "D,戊,,HQ,maybe\n"        # 8 bad active flag
                            "\n"                      # blank line: skipped
                            "E,己,,HQ,true,extra\n"),  # 10 more cells than columns
        "people.csv": (f"{HEADERS['people']}\n"
                       "ann,安,ann@example,,,\n"            # 2 bad e-mail
                       "bob,鲍勃,bob@example.com,,root,\n"  # 3 unknown role
                       "cat,凯特,cat@example.com,,,nobody\n"  # 4 unknown manager
                       "dan,丹,CAT@example.com,,,\n"        # 5 e-mail used by cat
                       "eve,伊芙,eve@example.com,,,fay\n"   # 6 reporting cycle
                       "fay,菲,fay@example.com,,,eve\n"),   # 7 reporting cycle
        "memberships.csv": ("username,kind,code\n"
                            "cat,department,HQ\n"       # 2 fine
                            "cat,department,HQ\n"       # 3 duplicate
                            "zed,department,HQ\n"       # 4 unknown person
                            "cat,owner,HQ\n"            # 5 unknown kind
                            "cat,project,NOPE\n"),      # 6 unknown project
        "positions.csv": "code\nX\n",                    # missing the name column
        "teams.csv": "code,name\nT,队\n",                # unknown file
    })
    plan = plan_dir(fresh_store, folder)
    found = problems(plan)
    by_place = {(f, line) for f, line, _ in found}
    expected = {("departments.csv", n) for n in (3, 4, 5, 6, 7, 8, 10)} | {
        ("people.csv", n) for n in (2, 3, 4, 5, 6, 7)} | {("memberships.csv", n) for n in (3, 4, 5, 6)} | {
        ("positions.csv", 1), ("teams.csv", 0)}
    assert by_place == expected, found
    text = "\n".join(f"{f}:{n}: {m}" for f, n, m in found)
    for needle in ("departments.csv:3: Parent “B” makes a cycle: A → B → A", "departments.csv:5: “HQ” appears twice "
                   "(first at departments.csv:2)", "departments.csv:6: Unknown parent department “NOPE”",
                   "people.csv:2: “ann@example” is not a valid e-mail address",
                   "people.csv:4: Unknown manager “nobody”",
                   "people.csv:5: E-mail address “cat@example.com” is also used by cat", "reporting cycle",
                   "memberships.csv:4: Unknown person “zed”", "Unknown project “NOPE”", "Missing column(s) name",
                   "departments.csv:8: active must be true or false"):
        assert needle in text, text
    with pytest.raises(ValueError, match="nothing was written"):
        org_io.apply_plan(fresh_store, plan)
    assert fresh_store.counts() == {}


def test_updates_moves_and_membership_replacement(fresh_store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    org_io.apply_plan(fresh_store, plan_dir(fresh_store, write(tmp_path / "base", BASE)))
    change = write(tmp_path / "change", {
        # FIN-ACC moves to HQ; HQ renamed; positions/projects/people sheets absent: untouched
        "departments.csv": "code,name,parent_code\nFIN-ACC,会计组,HQ\nHQ,汇通总部,\n",
        # no roles/manager columns: those stay as they are
        "people.csv": "username,name,email,active\nwang.wei,王伟,wang.wei@example.com,false\n",
        # wang.wei's departments are now exactly FIN (FIN-ACC removed); position/project untouched
        "memberships.csv": "username,kind,code\nwang.wei,department,FIN\n",
    })
    plan = plan_dir(fresh_store, change)
    assert plan.ok, problems(plan)
    actions = {(c.sheet, c.action, c.key) for c in plan.changes}
    assert actions == {
        ("departments", "move", "FIN-ACC"), ("departments", "update", "HQ"), ("people", "update", "wang.wei"),
        ("memberships", "create", "wang.wei department FIN"), ("memberships", "remove", "wang.wei department FIN-ACC"),
    }
    org_io.apply_plan(fresh_store, plan)
    assert not plan_dir(fresh_store, change).changes
    _, nodes = org.department_tree(fresh_store)
    acc = next(n for n in nodes.values() if n.row["code"] == "FIN-ACC")
    assert acc.row["parent_code"] == "HQ"
    wang = org.search_people(fresh_store, "wang.wei", status="all").rows[0]
    person = org.get_person(fresh_store, wang["id"])
    assert person["active"] is False and person["manager_username"] == "li.na" and person["roles"] == ["member"]
    assert sorted((m["kind"], m["code"]) for m in org.memberships(fresh_store, wang["id"])) == [
        ("department", "FIN"), ("position", "ACC"), ("project", "ERP")]


def test_import_refuses_deactivating_a_department_with_active_members(fresh_store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    org_io.apply_plan(fresh_store, plan_dir(fresh_store, write(tmp_path / "base", BASE)))
    plan = plan_dir(fresh_store, write(tmp_path / "off", {
        "departments.csv": "code,name,active\nFIN,财务部,false\nFIN-ACC,会计组,false\n"}))
    assert problems(plan) == [
        ("departments.csv", 2, "“FIN” would be inactive with 1 active member(s)."),
        ("departments.csv", 3, "“FIN-ACC” would be inactive with 1 active member(s)."),
    ]
    # Moving the members in the same import makes it acceptable.
    plan = plan_dir(fresh_store, write(tmp_path / "off-moved", {
        "departments.csv": "code,name,active\nFIN-ACC,会计组,false\n",
        "memberships.csv": "username,kind,code\nwang.wei,department,FIN\n"}))
    assert plan.ok, problems(plan)


def test_gb18030_csv_and_broken_files(fresh_store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    folder = write(tmp_path / "gbk", {"departments.csv": "code,name\nHR,人力资源部\n"}, encoding="gb18030")
    plan = plan_dir(fresh_store, folder)
    assert plan.ok and plan.changes[0].detail == "人力资源部"
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "org.xlsx").write_bytes(b"this is not a zip file")
    (tmp_path / "broken" / "people.csv").write_bytes(b"\xff\xfe\x00\xd8 not text")
    (tmp_path / "broken" / "notes.txt").write_text("x")
    plan = org_io.plan_import(fresh_store, org_io.read_paths(sorted((tmp_path / "broken").iterdir())))
    reasons = {p.file: str(p.problem) for p in plan.problems}
    assert reasons["org.xlsx"].startswith("Not a readable XLSX workbook")
    assert reasons["people.csv"] == "The file is neither UTF-8 nor GB18030 text."
    assert reasons["notes.txt"] == "Only .csv and .xlsx files can be imported."


def test_csv_round_trip_is_identical(demo_store, other_store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # Some inactive things too: they must survive the trip.
    person = org.search_people(demo_store, "").rows[3]
    org.set_person_active(demo_store, person["id"], False)
    position = org.by_code(demo_store, "position", "CASHIER")
    org.set_active(demo_store, "position", position["id"], False)
    first = org_io.write_export(demo_store, tmp_path / "first")
    plan = plan_dir(other_store, tmp_path / "first")
    assert plan.ok, problems(plan)[:5]
    org_io.apply_plan(other_store, plan)
    second = org_io.write_export(other_store, tmp_path / "second")
    assert [p.name for p in first] == [f"{s}.csv" for s in org_io.SHEETS]
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
    people = (tmp_path / "first" / "people.csv").read_text(encoding="utf-8-sig").splitlines()
    assert people[0] == HEADERS["people"] and len(people) > 100
    assert any(line.endswith(",false,member,") or ",false," in line for line in people[1:])


def test_xlsx_round_trip_is_identical(demo_store, other_store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    workbook_path = tmp_path / "org.xlsx"
    org_io.write_export(demo_store, workbook_path)
    plan = org_io.plan_import(other_store, org_io.read_paths([workbook_path]))
    assert plan.ok, problems(plan)[:5]
    org_io.apply_plan(other_store, plan)
    assert org_io.export_org(other_store) == org_io.export_org(demo_store)
    again = tmp_path / "again.xlsx"
    org_io.write_export(other_store, again)

    def cells(path: Path) -> dict[str, list[tuple[object, ...]]]:
        book = openpyxl.load_workbook(path, read_only=True)
        try:
            return {ws.title: list(ws.iter_rows(values_only=True)) for ws in book.worksheets}
        finally:
            book.close()

    first, second = cells(workbook_path), cells(again)
    assert list(first) == list(org_io.SHEETS) and first == second
    assert first["departments"][0] == org_io.COLUMNS["departments"]


def test_xlsx_numbers_and_extra_sheets(fresh_store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Departments"  # sheet names are case-insensitive
    sheet.append(["code", "name", "parent_code"])
    sheet.append([1001, "一部", None])
    sheet.append([1002.0, "二部", 1001])
    book.create_sheet("README").append(["free text"])
    path = tmp_path / "numbers.xlsx"
    book.save(path)
    plan = org_io.plan_import(fresh_store, org_io.read_paths([path]))
    assert plan.ok and {c.key for c in plan.changes} == {"1001", "1002"}
    assert plan.notes == ["numbers.xlsx: sheet “README” ignored"]
    org_io.apply_plan(fresh_store, plan)
    _, nodes = org.department_tree(fresh_store)
    assert {n.row["code"]: n.row["parent_code"] for n in nodes.values()} == {"1001": None, "1002": "1001"}


def test_cli_import_dry_run_json_then_apply_and_export(graph_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    name = f"t_{uuid.uuid4().hex[:12]}"
    env = {"HUITONG_GRAPH_NAME": name}
    graph = FalkorStore(graph_server, name)
    try:
        folder = write(tmp_path / "in", BASE)
        dry = run_cli("org", "import", str(folder), "--dry-run", "--json", env=env)
        assert dry.returncode == 0, dry.stderr
        report = json.loads(dry.stdout)
        assert report["ok"] and not report["applied"] and report["summary"]["people"]["create"] == 2
        assert graph.counts() == {"AuditEvent": 1}  # a dry run changes nothing; like the admin page's, it is audited
        bad = write(tmp_path / "bad", {"departments.csv": "code,name,parent_code\nX,叉,MISSING\n"})
        refused = run_cli("org", "import", str(bad), env=env)
        assert refused.returncode == 1
        assert "ERROR departments.csv:2: Unknown parent department “MISSING”." in refused.stdout
        done = run_cli("org", "import", str(folder), env=env)
        assert done.returncode == 0 and "applied 12 change(s)" in done.stdout, done.stdout + done.stderr
        assert graph.counts()["Person"] == 2
        exported = run_cli("org", "export", str(tmp_path / "out.xlsx"), env=env)
        assert exported.returncode == 0 and (tmp_path / "out.xlsx").is_file()
        assert org_io.plan_import(graph, org_io.read_paths([tmp_path / "out.xlsx"])).changes == []
    finally:
        graph.drop_all()
        graph.close()
