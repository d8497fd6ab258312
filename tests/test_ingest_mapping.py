"""Mapping rules: folder patterns to department, domain, access level and shares; every mistake named."""

from __future__ import annotations

import pytest

from graph.falkordb_backend import FalkorStore
from ingest.mapping import MappingError, Placement, compile_pattern, parse_rules, validate

FALLBACK = Placement("general", "internal", ("department:GMO",))

YAML_RULES = """
defaults:
  access: internal
rules:
  - path: 财务/报销
    department: FIN
    domain: finance
    access: confidential
  - path: 财务
    domain: finance
  - path: "**/*.PDF"
    domain: legal
    shares: [person:admin, "project:ERP-2026"]
  - path: hr/*/offers/**
    department: HR
    access: confidential
    shares: [person:admin]
"""


def test_first_matching_rule_wins_and_unmapped_files_get_the_defaults() -> None:
    rules = parse_rules(YAML_RULES.encode(), "rules.yaml")
    place = rules.place
    assert place("财务/报销/2024/发票.pdf", FALLBACK) == Placement(
        "finance", "confidential", ("department:FIN", "department:GMO"), 1)
    assert place("财务/预算.xlsx", FALLBACK) == Placement("finance", "internal", ("department:GMO",), 2)
    assert place("legal/contracts/a.pdf", FALLBACK).domain == "legal"  # ** spans folders, case ignored
    assert place("a.pdf", FALLBACK).rule == 3
    assert place("hr/2024/offers/x/y.docx", FALLBACK).access == "confidential"
    assert place("hr/offers/y.docx", FALLBACK).rule is None  # * is exactly one folder
    assert place("财务报表.xlsx", FALLBACK) == FALLBACK  # a folder prefix matches whole names only


def test_patterns() -> None:
    assert compile_pattern("财务").fullmatch("财务/a/b.txt") and compile_pattern("财务").fullmatch("财务")
    assert not compile_pattern("财务").fullmatch("财务部/a.txt")
    assert compile_pattern("**/report-?.md").fullmatch("report-1.md")
    assert compile_pattern("**/report-?.md").fullmatch("a/b/report-2.md")
    assert not compile_pattern("*/report-?.md").fullmatch("a/b/report-2.md")
    assert compile_pattern("docs\\").fullmatch("docs/x")


def test_csv_rules_in_gbk_with_comments() -> None:
    text = ("# 规则\npattern,department,domain,access,shares\n"
            "财务,FIN,finance,confidential,person:admin;project:ERP-2026\n")
    rules = parse_rules(text.encode("gbk"), "rules.csv")
    assert rules.place("财务/a.txt", FALLBACK) == Placement(
        "finance", "confidential", ("department:FIN", "person:admin", "project:ERP-2026"), 1)


@pytest.mark.parametrize("data,name,words", [
    (b"rules:\n  - department: FIN\n", "r.yaml", ["rule 1 (line 2)", "'path'"]),
    (b"rules:\n  - path: a\n    departmnet: FIN\n", "r.yaml", ["rule 1 (line 2)", "departmnet"]),
    (b"rules:\n  - path: a\n    shares: [team:x]\n", "r.yaml", ["rule 1", "team:x"]),
    (b"rules: [\n", "r.yaml", ["not valid YAML"]),
    (b"", "r.yaml", ["empty"]),
    (b"rules: []\nextra: 1\n", "r.yaml", ["non-empty", "extra"]),
    (b"pattern,dept\n", "r.csv", ["header", "dept"]),
    (b"pattern,domain\na,finance,x\n", "r.csv", ["line 2", "3 cells"]),
])
def test_format_mistakes_are_named(data: bytes, name: str, words: list[str]) -> None:
    with pytest.raises(MappingError) as refused:
        parse_rules(data, name)
    for word in words:
        assert word in str(refused.value), str(refused.value)


def test_validation_against_the_organisation(org: FalkorStore) -> None:
    validate(org, parse_rules(YAML_RULES.encode(), "rules.yaml"), FALLBACK)
    bad = parse_rules(b"rules:\n  - path: a\n    department: NOPE\n  - path: b\n    domain: finanse\n"
                      b"  - path: c\n    access: secret\n  - path: d\n    access: topsecret\n", "bad.yaml")
    with pytest.raises(MappingError) as refused:
        validate(org, bad, FALLBACK)
    problems = refused.value.problems
    assert any("rule 1 (line 2)" in p and "NOPE" in p for p in problems)
    assert any("rule 2" in p and "finanse" in p for p in problems)
    # a secret folder may not inherit the default department share
    assert any("rule 3" in p and "secret" in p and "department" in p for p in problems)
    assert any("rule 4" in p and "topsecret" in p for p in problems)
    assert len(problems) == 4
