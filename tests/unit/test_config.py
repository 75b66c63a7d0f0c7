"""Configuration is validated at start-up with messages naming the bad variable."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from beffroi.config import DEFAULT_SECRET, ConfigError, Environment, load_settings


def test_defaults_are_embedded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BEFFROI_DATABASE_URL", raising=False)
    settings = load_settings()
    assert settings.env is Environment.DEVELOPMENT
    assert settings.effective_database_url.startswith("sqlite+aiosqlite:///")
    assert settings.secure_cookies is False


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("BEFFROI_PORT", "eighty", "BEFFROI_PORT"),
        ("BEFFROI_PORT", "70000", "BEFFROI_PORT"),
        ("BEFFROI_TIMEZONE", "Mars/Olympus", "unknown time zone"),
        ("BEFFROI_DATABASE_URL", "mysql://x", "BEFFROI_DATABASE_URL"),
        ("BEFFROI_LOG_FORMAT", "xml", "BEFFROI_LOG_FORMAT"),
    ],
)
def test_bad_values_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=expected):
        load_settings()


def test_misspelt_variable_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BEFFROI_PROT", "8000")
    with pytest.raises(ConfigError, match="BEFFROI_PROT: unknown setting"):
        load_settings()


def test_production_refuses_default_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BEFFROI_ENV", "production")
    monkeypatch.setenv("BEFFROI_DATABASE_URL", "postgresql+asyncpg://db/beffroi")
    monkeypatch.setenv("BEFFROI_SECRET_KEY", DEFAULT_SECRET)
    with pytest.raises(ConfigError, match="BEFFROI_SECRET_KEY"):
        load_settings()
    monkeypatch.setenv("BEFFROI_SECRET_KEY", "a-long-random-production-secret")
    settings = load_settings()
    assert settings.secure_cookies is True


def test_toml_file_is_read_and_checked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "beffroi.toml"
    config.write_text('port = 9001\ntimezone = "Europe/Paris"\n')
    monkeypatch.setenv("BEFFROI_CONFIG_FILE", str(config))
    assert load_settings().port == 9001
    config.write_text("prot = 9001\n")
    with pytest.raises(ConfigError, match="BEFFROI_PROT"):
        load_settings()


def test_cli_exits_2_with_the_message() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "beffroi", "user", "list"],
        env={"BEFFROI_PORT": "eighty", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "BEFFROI_PORT" in result.stderr
