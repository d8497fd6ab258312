"""The layout of ARCHITECTURE.md, enforced: the import contract (import-linter) and the type checker (mypy).

Both read their configuration from pyproject.toml, so what the suite checks is what a developer runs
by hand (``lint-imports``, ``mypy``).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CONTRACTS = ["layers", "ingest-without-workers", "nothing-imports-webapp", "doors-use-checked-fetchers",
             "doors-never-run-the-catalogue"]

pytestmark = pytest.mark.slow


def _lint(contract: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        # Run by this interpreter: the script's own first line may name a virtualenv path that moved.
        [sys.executable, str(BIN / "lint-imports"), "--contract", contract, "--no-cache"],
        cwd=ROOT, capture_output=True, text=True, timeout=240, check=False,
    )


def _broken_imports(output: str) -> set[tuple[str, str]]:
    return set(re.findall(r"^\s*-\s+([\w.]+) -> ([\w.]+) \(l\.\d+", output, flags=re.MULTILINE))


@pytest.mark.parametrize("contract", CONTRACTS)
def test_import_contract(contract: str) -> None:
    result = _lint(contract)
    output = result.stdout + result.stderr
    assert "Contracts:" in output, output  # the linter ran and found the contract
    assert result.returncode == 0, f"import contract {contract!r} broken:\n{output}"


def test_contract_detects_a_forbidden_import(tmp_path: Path) -> None:
    """The checker is live: a graph module importing webapp breaks the contract."""
    probe = ROOT / "graph" / "_layout_probe.py"
    probe.write_text("import webapp  # noqa: F401\n", encoding="utf-8")
    try:
        result = _lint("nothing-imports-webapp")
    finally:
        probe.unlink()
    assert result.returncode != 0
    assert ("graph._layout_probe", "webapp") in _broken_imports(result.stdout)


@pytest.mark.parametrize(("contract", "imported"), [
    ("doors-never-run-the-catalogue", "graph.queries.documents"),
    ("doors-use-checked-fetchers", "graph.document_rows"),
])
def test_doors_may_not_reach_past_the_use_cases(contract: str, imported: str) -> None:
    """A door importing the statement catalogue or the unchecked fetchers breaks its contract."""
    probe = ROOT / "workers" / "_layout_probe.py"
    probe.write_text(f"import {imported}  # noqa: F401\n", encoding="utf-8")
    try:
        result = _lint(contract)
    finally:
        probe.unlink()
    assert result.returncode != 0
    assert ("workers._layout_probe", imported) in _broken_imports(result.stdout)


def test_types() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(ROOT / ".mypy_cache")],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
