"""Neo4j side of the Cypher conformance gate.

Every catalogue statement is linted by Neo4j's own Cypher front-end (npm
``@neo4j-cypher/language-support``) through ``scripts/cypher-lint.mjs``, with a registry of plain
Neo4j 5 functions and procedures. A statement fails the gate on any error (syntax, undefined
variable, unknown function or procedure, parameter missing from its example, ...) and on any
warning about an unknown function or procedure. Warnings about labels, relationship types and
properties are expected: the linter has no Huitong schema.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

REPO_ROOT = Path(__file__).resolve().parents[1]
LINTER_PACKAGE = "@neo4j-cypher/language-support"
SCRIPT = Path("scripts") / "cypher-lint.mjs"
CACHE_DIR = Path("node_modules") / ".cache" / "huitong-cypher-lint"
ERROR = 1
WARNING = 2
# The linter's wording for calls it cannot resolve: "Function vecf32 is not present in the database. ..."
_UNKNOWN_CALL_PREFIXES = ("Function ", "Procedure ")
_UNKNOWN_CALL_MARKER = " is not present in the database"
_TIMEOUT_S = 300


class LintSetupError(RuntimeError):
    """The linter cannot run here (Node.js or node_modules missing, script failure)."""


class Lintable(Protocol):
    """A :class:`graph.cypher.Statement` or anything shaped like one (``example`` is optional)."""

    @property
    def name(self) -> str: ...

    @property
    def text(self) -> str: ...


@dataclass(frozen=True)
class Problem:
    """One diagnostic of the Neo4j linter about one statement (line and column are 1-based)."""

    statement: str
    severity: int
    message: str
    line: int
    column: int

    def __str__(self) -> str:
        kind = "error" if self.severity == ERROR else "warning"
        return f"{self.statement}:{self.line}:{self.column}: {kind}: {self.message}"


def is_failure(problem: Problem) -> bool:
    """Errors always fail; of the warnings, only unknown functions/procedures do."""
    if problem.severity == ERROR:
        return True
    return problem.message.startswith(_UNKNOWN_CALL_PREFIXES) and _UNKNOWN_CALL_MARKER in problem.message


def linter_version(root: Path = REPO_ROOT) -> str:
    """Version of the installed Neo4j Cypher front-end."""
    manifest = _package_dir(root) / "package.json"
    return str(json.loads(manifest.read_text(encoding="utf-8"))["version"])


def lint_all(
    statements: Iterable[Lintable], *, root: Path = REPO_ROOT, node: str = "node", cache: bool = True
) -> dict[str, list[Problem]]:
    """Every diagnostic of every statement (failures and ignored warnings).

    Statements the installed linter has already judged come from the cache (the linter costs
    50-150 ms of CPU per statement); the rest go to one node process.
    """
    batch = list(statements)
    _check_unique_names(batch)
    node_path = shutil.which(node)
    if node_path is None:
        raise LintSetupError(f"Node.js ({node!r}) not found on PATH: install Node.js 20+, then run `npm ci` in {root}")
    if not _package_dir(root).is_dir():
        raise LintSetupError(f"{LINTER_PACKAGE} is not installed under {root / 'node_modules'}: run `npm ci` in {root}")
    inputs = [_as_input(s) for s in batch]
    store = _Cache(root) if cache else None
    found = {item["name"]: store.get(item) if store else None for item in inputs}
    misses = [item for item in inputs if found[item["name"]] is None]
    if misses:
        fresh = _run_node(misses, root, node_path)
        for item in misses:
            found[item["name"]] = fresh[item["name"]]
            if store:
                store.put(item, fresh[item["name"]])
    return {
        name: [Problem(name, d["severity"], d["message"], d["line"], d["column"]) for d in diagnostics or []]
        for name, diagnostics in found.items()
    }


def lint_statements(
    statements: Iterable[Lintable], *, root: Path = REPO_ROOT, node: str = "node", cache: bool = True
) -> dict[str, list[Problem]]:
    """The gate: for each statement name, the problems that make it non-portable to Neo4j 5 (empty = clean)."""
    return {
        name: [p for p in problems if is_failure(p)]
        for name, problems in lint_all(statements, root=root, node=node, cache=cache).items()
    }


def _package_dir(root: Path) -> Path:
    return root / "node_modules" / LINTER_PACKAGE


def _check_unique_names(batch: list[Lintable]) -> None:
    seen: set[str] = set()
    for statement in batch:
        if statement.name in seen:
            raise ValueError(f"two statements named {statement.name!r}: results are reported by name")
        seen.add(statement.name)


def _as_input(statement: Lintable) -> dict[str, Any]:
    # The example's keys are the parameters the statement will be run with; any other $param is a defect.
    example = getattr(statement, "example", None) or {}
    return {"name": statement.name, "text": statement.text, "parameters": sorted(example)}


def _run_node(inputs: list[dict[str, Any]], root: Path, node_path: str) -> dict[str, list[dict[str, Any]]]:
    try:
        done = subprocess.run(
            [node_path, str(root / SCRIPT)],
            input=json.dumps(inputs, ensure_ascii=False),
            capture_output=True,
            text=True,
            encoding="utf-8",
            cwd=root,
            timeout=_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise LintSetupError(f"the Cypher linter did not finish within {_TIMEOUT_S} s") from exc
    if done.returncode != 0:
        raise LintSetupError(f"the Cypher linter failed (exit {done.returncode}): {done.stderr.strip()}")
    try:
        results = {item["name"]: [_diagnostic(d) for d in item["diagnostics"]] for item in json.loads(done.stdout)}
    except (ValueError, KeyError, TypeError) as exc:
        raise LintSetupError(f"unreadable output from the Cypher linter: {done.stdout[:200]!r}") from exc
    missing = [item["name"] for item in inputs if item["name"] not in results]
    if missing:
        raise LintSetupError(f"the Cypher linter returned nothing for {missing}")
    return results


def _diagnostic(raw: dict[str, Any]) -> dict[str, Any]:
    return {
        "severity": int(raw["severity"]),
        "message": str(raw["message"]),
        "line": int(raw["line"]),
        "column": int(raw["column"]),
    }


class _Cache:
    """Diagnostics per (linter version, lint script, statement text, parameter names), one file each.

    The linter is deterministic, so an entry stays valid until one of those changes. Writes are
    atomic renames (test runs may share the tree); an unreadable entry is linted again.
    """

    def __init__(self, root: Path) -> None:
        self._dir = root / CACHE_DIR
        script = (root / SCRIPT).read_bytes()
        self._salt = f"{linter_version(root)}:{hashlib.sha256(script).hexdigest()}"

    def _path(self, item: dict[str, Any]) -> Path:
        key = json.dumps([self._salt, item["text"], item["parameters"]], ensure_ascii=False)
        return self._dir / f"{hashlib.sha256(key.encode()).hexdigest()}.json"

    def get(self, item: dict[str, Any]) -> list[dict[str, Any]] | None:
        try:
            return [_diagnostic(d) for d in json.loads(self._path(item).read_text(encoding="utf-8"))]
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def put(self, item: dict[str, Any], diagnostics: list[dict[str, Any]]) -> None:
        path = self._path(item)
        try:
            self._dir.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=self._dir, delete=False) as tmp:
                json.dump(diagnostics, tmp)
            os.replace(tmp.name, path)
        except OSError:
            pass  # a cache that cannot be written only costs time
