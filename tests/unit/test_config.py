"""Configuration is validated at start-up with messages naming the bad variable."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from beffroi.config import (
    DEFAULT_SECRET,
    BrokerUrl,
    ConfigError,
    Environment,
    Settings,
    load_settings,
)


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
        ("BEFFROI_MQTT_URL", "http://broker:1883", "BEFFROI_MQTT_URL: must look like mqtt://"),
        ("BEFFROI_MQTT_URL", "mqtt://", "BEFFROI_MQTT_URL: must look like mqtt://"),
        ("BEFFROI_MQTT_URL", "mqtt://broker:99999", "BEFFROI_MQTT_URL: .* port 0 to 65535"),
        ("BEFFROI_ENERGY_OFFPEAK_HOURS", "22-24", "BEFFROI_ENERGY_OFFPEAK_HOURS: '22-24'"),
        ("BEFFROI_ENERGY_OFFPEAK_HOURS", "6-6", "BEFFROI_ENERGY_OFFPEAK_HOURS: '6-6'"),
        ("BEFFROI_ENERGY_OFFPEAK_HOURS", "night", "BEFFROI_ENERGY_OFFPEAK_HOURS"),
        ("BEFFROI_ENERGY_SAVINGS_TARGET", "65", "BEFFROI_ENERGY_SAVINGS_TARGET"),
        ("BEFFROI_ENERGY_PEAK_EUR_PER_KWH", "-1", "BEFFROI_ENERGY_PEAK_EUR_PER_KWH"),
        ("BEFFROI_ENERGY_CO2_G_PER_KWH", "5000", "BEFFROI_ENERGY_CO2_G_PER_KWH"),
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


def test_benchmark_switches_are_not_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    # The benchmarks tell users to set it; the hub they start must not refuse it.
    monkeypatch.setenv("BEFFROI_BENCH_POSTGRES_URL", "postgresql+asyncpg://db/bench")
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


def test_the_broker_url_is_read_once_and_passed_on_parsed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BEFFROI_MQTT_URL", "")
    embedded = load_settings(broker_host="10.0.0.2", broker_port=1884)
    assert embedded.mqtt_url is None, "empty means the embedded broker"
    assert embedded.broker_url == BrokerUrl("10.0.0.2", 1884)
    monkeypatch.setenv("BEFFROI_MQTT_URL", "mqtt://broker.example")
    external = load_settings()
    assert external.mqtt_url == BrokerUrl("broker.example", 1883)
    assert external.broker_url == external.mqtt_url
    # Settings cross to a child process as their dump: the URL survives it.
    assert external.model_dump(mode="json")["mqtt_url"] == "mqtt://broker.example:1883"
    assert Settings(**external.model_dump()).mqtt_url == external.mqtt_url
    assert str(BrokerUrl.parse("tcp://[::1]:1990")) == "mqtt://[::1]:1990"


@pytest.mark.parametrize("command", ["gateway", "simulate"])
def test_a_bad_broker_option_is_refused_naming_it(command: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "beffroi", command, "--anonymous", "--broker", "broker:1883"]
        if command == "simulate"
        else [sys.executable, "-m", "beffroi", command, "--broker", "broker:1883"],
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "--broker" in result.stderr
    assert "must look like mqtt://host:port (got 'broker:1883')" in result.stderr
