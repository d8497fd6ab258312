"""Cypher conformance gate, Neo4j side: every catalogue statement passes Neo4j's own Cypher front-end.

All statements (the catalogue, a temporary portable statement and the deliberately broken probes)
are linted in one node process per module; the tests then read that one result.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from graph.cypher import Statement, all_statements, cypher
from tests.cypher_lint import ERROR, WARNING, LintSetupError, Problem, is_failure, lint_statements, linter_version

# Declared at collection time so a failure is reported under the statement's own name.
CATALOGUE_NAMES = [s.name for s in all_statements()]
EMPTY_CATALOGUE = "<no statement declared yet>"

# Declared through cypher(), like every domain statement, but from a test module: the catalogue
# does not collect it, so it never reaches the engine tests.
PORTABLE_NAME = "test.lint_gate.portable_probe"
PORTABLE_TEXT = """
    UNWIND $document_ids AS document_id
    MATCH (d:Document {id: document_id})
    OPTIONAL MATCH (d)-[:SHARED_WITH]->(:Department)<-[:PART_OF*0..5]-(sub:Department)
    WITH d, collect(DISTINCT sub.id) AS departments
    RETURN d.id AS id, d.title AS title, departments, size(departments) AS reach
    ORDER BY reach DESC, id
    LIMIT $limit
"""
PORTABLE_EXAMPLE = {"document_ids": ["doc-1", "doc-2"], "limit": 10}

# Statements the gate must reject, never registered in the catalogue.
BROKEN = {
    "syntax_error": Statement("test.lint_gate.syntax_error", "MATCH (d:Document {id: $id} RETURN d", {"id": "x"}),
    "undefined_variable": Statement(
        "test.lint_gate.undefined_variable", "MATCH (d:Document {id: $id}) RETURN x", {"id": "x"}
    ),
    "falkordb_fulltext": Statement(
        "test.lint_gate.falkordb_fulltext",
        "CALL db.idx.fulltext.queryNodes('Document', $q) YIELD node RETURN node.id AS id",
        {"q": "budget"},
    ),
    "falkordb_vecf32": Statement(
        "test.lint_gate.falkordb_vecf32",
        "MATCH (c:Chunk) RETURN c.id AS id, vecf32($vector) AS v",
        {"vector": [0.1, 0.2]},
    ),
    "plugin_function": Statement(
        "test.lint_gate.plugin_function", "RETURN apoc.coll.sum($xs) AS total", {"xs": [1, 2]}
    ),
    "parameter_without_example": Statement(
        "test.lint_gate.parameter_without_example", "MATCH (p:Person {id: $id}) RETURN p.name AS name", {}
    ),
    "two_statements": Statement("test.lint_gate.two_statements", "MATCH (n:Person) RETURN n; MATCH (m:Task) RETURN m"),
    "cypher_25": Statement("test.lint_gate.cypher_25", "CYPHER 25 MATCH (p:Person) RETURN p.name AS name"),
}


@pytest.fixture(scope="module")
def portable() -> Statement:
    return cypher(PORTABLE_NAME, PORTABLE_TEXT, example=PORTABLE_EXAMPLE)


@pytest.fixture(scope="module")
def gate(portable: Statement) -> dict[str, list[Problem]]:
    """The gate's verdict on the catalogue and on the probes, from a single node process."""
    collected = all_statements()
    probes = [portable, *BROKEN.values()]
    clash = {s.name for s in collected} & {s.name for s in probes}
    assert not clash, f"catalogue statements use names reserved for the gate's probes: {clash}"
    return lint_statements([*collected, *probes])


def report(problems: list[Problem]) -> str:
    return "\n".join(str(p) for p in problems)


@pytest.mark.parametrize("name", CATALOGUE_NAMES or [EMPTY_CATALOGUE])
def test_catalogue_statement_is_neo4j_5_cypher(name: str, gate: dict[str, list[Problem]]) -> None:
    if name == EMPTY_CATALOGUE:
        # Nothing declared yet: the gate must still have linted something, and found a declared
        # portable statement clean.
        name = PORTABLE_NAME
    found = gate[name]
    assert not found, f"{name} is not portable to Neo4j 5:\n{report(found)}"


def test_portable_statement_passes(gate: dict[str, list[Problem]], portable: Statement) -> None:
    assert "UNWIND $document_ids" in portable.text and "[:PART_OF*0..5]" in portable.text
    assert gate[PORTABLE_NAME] == []


@pytest.mark.parametrize(
    ("probe", "expected"),
    [
        ("syntax_error", "Invalid input 'RETURN'"),
        ("undefined_variable", "Variable `x` not defined"),
        ("falkordb_fulltext", "Procedure db.idx.fulltext.queryNodes is not present in the database"),
        ("falkordb_vecf32", "Function vecf32 is not present in the database"),
        ("plugin_function", "Function apoc.coll.sum is not present in the database"),
        ("parameter_without_example", "Parameter $id is not defined."),
        ("two_statements", "expected exactly one Cypher statement, found 2"),
        ("cypher_25", "CYPHER 25 is not a language Neo4j 5 runs"),
    ],
)
def test_gate_rejects(probe: str, expected: str, gate: dict[str, list[Problem]]) -> None:
    statement = BROKEN[probe]
    found = gate[statement.name]
    assert any(expected in p.message for p in found), f"expected {expected!r}, the gate found:\n{report(found)}"
    assert all(p.line >= 1 and p.column >= 1 for p in found)


def test_warning_classification() -> None:
    def warning(message: str) -> Problem:
        return Problem("s", WARNING, message, 1, 1)

    suffix = " is not present in the database. Make sure you didn't misspell it or that it is available"
    # Earlier linter releases reported unknown calls as warnings: those still fail the gate.
    assert is_failure(warning("Function vecf32" + suffix))
    assert is_failure(warning("Procedure db.idx.fulltext.queryNodes" + suffix))
    # Huitong's schema is not known to the linter: these are expected.
    assert not is_failure(warning("Label Document" + suffix))
    assert not is_failure(warning("Relationship type SHARED_WITH" + suffix))
    assert not is_failure(warning("title" + suffix))
    assert is_failure(Problem("s", ERROR, "anything at all", 1, 1))


def test_linter_version_is_the_pinned_one() -> None:
    pinned = json.loads((Path(__file__).resolve().parents[1] / "package.json").read_text())["dependencies"]
    assert linter_version() == pinned["@neo4j-cypher/language-support"]


def test_missing_node_modules_says_run_npm_ci(tmp_path: Path) -> None:
    with pytest.raises(LintSetupError, match="run `npm ci`"):
        lint_statements([BROKEN["cypher_25"]], root=tmp_path)


def test_missing_node_is_a_clear_error() -> None:
    with pytest.raises(LintSetupError, match=r"Node\.js .* not found"):
        lint_statements([BROKEN["cypher_25"]], node="huitong-no-such-node-binary")


def test_duplicate_names_are_refused() -> None:
    twin = Statement(BROKEN["cypher_25"].name, "RETURN 1 AS one")
    with pytest.raises(ValueError, match="two statements named"):
        lint_statements([BROKEN["cypher_25"], twin])


def test_cached_verdicts_need_no_node(gate: dict[str, list[Problem]]) -> None:
    # The fixture's run cached every probe; `false` as node would fail any new linter run.
    probes = [BROKEN["falkordb_vecf32"], BROKEN["undefined_variable"]]
    assert lint_statements(probes, node="false") == {s.name: gate[s.name] for s in probes}
    with pytest.raises(LintSetupError, match="exit 1"):
        lint_statements(probes, node="false", cache=False)
