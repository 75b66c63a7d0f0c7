"""Device secret hashes: Mosquitto's ``$7$`` format, both ways, and the hub's own check.

The integration test (tests/integration/test_device_access.py) proves the real Mosquitto
accepts our hashes; here ``mosquitto_passwd``'s hashes are checked by our code.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from beffroi.config import load_settings
from beffroi.devices.mosquitto import hub_line, render_acl_file, render_password_file
from beffroi.devices.secrets import (
    DEVICE_ITERATIONS,
    HUB_ITERATIONS,
    SecretHash,
    check_secret,
    hash_secret,
    is_hub_login,
    new_secret,
)
from tests.mqtt_support import REQUIRE_MOSQUITTO

HASH_RE = r"^\$7\$10\$[A-Za-z0-9+/]{16}\$[A-Za-z0-9+/]{86}==$"


def test_hash_format_is_mosquittos() -> None:
    secret = new_secret()
    hashed = hash_secret(secret)
    assert re.match(HASH_RE, hashed), hashed
    parsed = SecretHash.parse(hashed)
    assert parsed.iterations == DEVICE_ITERATIONS
    assert len(parsed.salt) == 12
    assert parsed.encode() == hashed
    assert check_secret(secret, hashed)
    assert not check_secret(secret + "x", hashed)
    assert hash_secret(secret) != hashed, "a fresh salt each time"


def test_secrets_are_256_bits_and_unique() -> None:
    secrets = {new_secret() for _ in range(1000)}
    assert len(secrets) == 1000
    assert all(len(s) == 43 for s in secrets)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "plain",
        "$6$salt$digest",
        "$7$0$AAAAAAAAAAAAAAAA$" + "A" * 86 + "==",
        "$7$x$AAAAAAAAAAAAAAAA$" + "A" * 86 + "==",
        "$7$10$!!!$" + "A" * 86 + "==",
        "$7$10$AAAAAAAAAAAAAAAA$AAAA",
        "$7$10$AAAAAAAAAAAAAAAA$" + "A" * 86 + "==$extra",
    ],
)
def test_malformed_hashes_never_match(bad: str) -> None:
    with pytest.raises(ValueError, match=r"\$7\$"):
        SecretHash.parse(bad)
    assert not check_secret("anything", bad)


def test_hashes_made_by_mosquitto_passwd_verify(tmp_path: Path) -> None:
    tool = shutil.which("mosquitto_passwd")
    if tool is None:
        if REQUIRE_MOSQUITTO:
            pytest.fail("mosquitto_passwd is required (BEFFROI_TEST_REQUIRE_MOSQUITTO=1)")
        pytest.skip("mosquitto_passwd is not installed")
    path = tmp_path / "passwd"
    secret = new_secret()
    subprocess.run([tool, "-c", "-b", str(path), "SL-1", secret], check=True, timeout=10)
    username, hashed = path.read_text().strip().split(":", 1)
    assert username == "SL-1"
    assert check_secret(secret, hashed)
    assert not check_secret(secret[:-1], hashed)


def test_password_file_puts_the_hub_first_and_only_once() -> None:
    device_hash = hash_secret("s")
    text = render_password_file(
        [("SL-1", device_hash), ("beffroi-hub", hash_secret("evil"))], hub_line("beffroi-hub", "pw")
    )
    lines = text.splitlines()
    assert len(lines) == 2
    hub_user, hub_hash = lines[0].split(":", 1)
    assert hub_user == "beffroi-hub"
    assert SecretHash.parse(hub_hash).iterations == HUB_ITERATIONS
    assert check_secret("pw", hub_hash)
    assert lines[1] == f"SL-1:{device_hash}"


def test_acl_file_patterns() -> None:
    text = render_acl_file("city/v1", "hub")
    assert "pattern write city/v1/devices/%u/telemetry" in text
    assert "pattern write city/v1/gateways/%u/devices/+/commands/+/reply" in text
    assert "pattern read city/v1/gateways/%u/devices/+/commands/+" in text
    assert text.rstrip().endswith("user hub\ntopic readwrite #")
    assert "pattern read city/v1/devices/%u/telemetry" not in text


def test_hub_login_is_its_own_check() -> None:
    settings = load_settings(mqtt_username="hub", mqtt_password="hub-password-123")
    assert is_hub_login(settings, "hub", "hub-password-123")
    assert not is_hub_login(settings, "hub", "wrong")
    assert not is_hub_login(settings, "SL-1", "hub-password-123")
    derived = load_settings(secret_key="k" * 32)
    assert derived.mqtt_password == ""
    assert is_hub_login(derived, derived.mqtt_username, derived.hub_mqtt_password)
