"""``beffroi device``: argument checks that need no database (the rest runs in
tests/integration/test_device_credentials.py, against both databases)."""

from __future__ import annotations

from typer.testing import CliRunner

from beffroi.cli import app

runner = CliRunner()


def test_device_commands_are_listed() -> None:
    result = runner.invoke(app, ["device", "--help"])
    assert result.exit_code == 0
    for command in ("credentials", "revoke", "mosquitto-files"):
        assert command in result.output


def test_credentials_needs_ids_or_all_but_not_both() -> None:
    neither = runner.invoke(app, ["device", "credentials"])
    assert neither.exit_code == 2
    assert "--all" in neither.output
    both = runner.invoke(app, ["device", "credentials", "SL-1", "--all"])
    assert both.exit_code == 2
    assert "not both" in both.output


def test_mosquitto_files_needs_both_paths() -> None:
    result = runner.invoke(app, ["device", "mosquitto-files", "passwd"])
    assert result.exit_code == 2
