"""The code base stays lint-clean (ruff, configured in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys

from helpers import ROOT


def test_ruff_is_clean() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "."], cwd=ROOT, capture_output=True, text=True,
        check=False, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_readme_documents_every_setting() -> None:
    from settings import Settings

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [f"HUITONG_{name.upper()}" for name in Settings.model_fields if f"`HUITONG_{name.upper()}`" not in readme]
    assert not missing, f"README configuration table lacks {missing}"
