"""Settings come from HUITONG_* variables; bad values fail early and name the variable."""

from __future__ import annotations

import pytest
from helpers import run_cli

from settings import SettingsError, load_settings


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HUITONG_DATA_DIR", "HUITONG_PORT", "HUITONG_GRAPH"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert str(settings.data_dir) == "data"
    assert settings.port == 8000
    assert settings.graph == "embedded"
    assert settings.effective_broker_url.startswith("redis+socket://")


def test_environment_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUITONG_PORT", "9123")
    monkeypatch.setenv("HUITONG_GRAPH", "neo4j")
    monkeypatch.setenv("HUITONG_NEO4J_URI", "neo4j://db.internal:7687")
    monkeypatch.setenv("HUITONG_BROKER_URL", "redis://redis:6379/0")
    settings = load_settings()
    assert (settings.port, settings.graph, settings.neo4j_uri) == (9123, "neo4j", "neo4j://db.internal:7687")
    assert settings.effective_broker_url == "redis://redis:6379/0"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("HUITONG_PORT", "eighty"),
        ("HUITONG_PORT", "70000"),
        ("HUITONG_GRAPH", "mysql"),
        ("HUITONG_NEO4J_URI", "http://localhost:7474"),
        ("HUITONG_BROKER_URL", "amqp://guest@localhost//"),
    ],
)
def test_invalid_values_name_the_variable(monkeypatch: pytest.MonkeyPatch, variable: str, value: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as error:
        load_settings()
    assert variable in str(error.value)


def test_secrets_are_not_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUITONG_PORT", "bad")
    monkeypatch.setenv("HUITONG_NEO4J_PASSWORD", "hunter2-secret")
    with pytest.raises(SettingsError) as error:
        load_settings()
    assert "hunter2-secret" not in str(error.value)


def test_cli_fails_at_start_with_the_variable_named() -> None:
    result = run_cli("check", env={"HUITONG_GRAPH": "sqlite"})
    assert result.returncode != 0
    assert "HUITONG_GRAPH" in result.stderr


def test_readme_configuration_table_matches_the_settings() -> None:
    """Every setting is documented in README's table with its default, and the table names no other."""
    import re
    from pathlib import Path

    from settings import ENV_PREFIX, Settings

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `" + ENV_PREFIX + r"([A-Z0-9_]+)` \| ([^|]*) \|", readme, flags=re.MULTILINE))
    fields = Settings.model_fields
    assert set(rows) == {name.upper() for name in fields}
    for name, field in fields.items():
        shown, default = rows[name.upper()].strip(), field.default
        value = getattr(default, "get_secret_value", lambda d=default: d)()
        if value in ("", None) or str(value) == ".":
            assert shown == "(empty)", name
        elif isinstance(value, bool):
            assert shown == f"`{str(value).lower()}`", name
        else:
            assert shown.strip("`").removeprefix("./") == str(value), name
