"""Configuration: ``BEFFROI_*`` environment variables, optionally a TOML file.

Settings are validated once at start-up; a bad value stops the process with a message
that names the variable, so an operator never has to guess which setting was wrong.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

# The type of the broker URL settings, where every caller finds the settings.
from beffroi.config.broker_url import BrokerUrl as BrokerUrl
from beffroi.config.checks import ENV_PREFIX, describe, unknown_variables
from beffroi.config.checks import offpeak_hours as offpeak_hours
from beffroi.config.energy import EnergySettings
from beffroi.config.mobility import MobilitySettings
from beffroi.config.opendata import OpendataSettings
from beffroi.config.public import PublicSettings
from beffroi.config.reports import ReportsSettings
from beffroi.config.vehicles import VehiclesSettings
from beffroi.config.video import VideoSettings

DEFAULT_SECRET = "insecure-development-secret-change-me"


class Environment(StrEnum):
    """Where Beffroi runs: development allows embedded defaults, production refuses them."""

    DEVELOPMENT = "development"
    PRODUCTION = "production"


class ConfigError(Exception):
    """A setting is missing or invalid; the message names each bad variable."""


class Settings(
    EnergySettings,
    MobilitySettings,
    OpendataSettings,
    PublicSettings,
    VideoSettings,
    ReportsSettings,
    VehiclesSettings,
    BaseSettings,
):
    """All of Beffroi's settings. Each field is read from ``BEFFROI_<FIELD>``."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        extra="forbid",
        frozen=True,
        validate_default=True,
    )

    env: Environment = Environment.DEVELOPMENT
    data_dir: Path = Field(default=Path("var"), description="Where embedded state lives")
    database_url: str = Field(
        default="",
        description="SQLAlchemy async URL; empty means SQLite in data_dir",
    )
    database_pool_size: int = Field(default=10, ge=1, le=500)
    secret_key: str = Field(default=DEFAULT_SECRET, min_length=16)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    public_url: str = Field(default="", description="External URL of the console, if proxied")
    cookie_secure: bool | None = Field(
        default=None, description="Secure flag on session cookies; defaults to on in production"
    )
    session_ttl_hours: float = Field(default=12.0, gt=0, le=24 * 30)
    token_default_ttl_days: int = Field(default=90, ge=1, le=3650)
    timezone: str = "Europe/Paris"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["console", "json"] = "console"
    communes_file: Path | None = Field(
        default=None, description="CSV of communes loaded into an empty database"
    )

    # Device gateway and MQTT
    mqtt_url: BrokerUrl | None = Field(
        default=None,
        description="Broker URL (mqtt://host:port); empty means the embedded broker",
    )
    mqtt_root: str = Field(default="beffroi/v1", pattern=r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$")
    mqtt_username: str = Field(default="beffroi-hub", min_length=1, max_length=64)
    mqtt_password: str = Field(
        default="", description="Hub's broker password; empty derives one from the secret key"
    )
    mqtt_shared_group: str = Field(
        default="",
        pattern=r"^[A-Za-z0-9_-]*$",
        description="Shared-subscription group for several gateways; empty: plain subscription",
    )
    mqtt_client_id: str = Field(default="beffroi-gateway-1", min_length=1, max_length=64)
    mqtt_protocol: Literal["5", "3.1.1"] = Field(
        default="5", description="MQTT version of the hub's connections to an external broker"
    )
    mosquitto_password_file: Path | None = Field(
        default=None,
        description="Mosquitto's password_file, kept in step with device credentials",
    )
    mosquitto_acl_file: Path | None = Field(
        default=None, description="Mosquitto's acl_file, written with the password file"
    )
    mosquitto_pid_file: Path | None = Field(
        default=None, description="Mosquitto's pid_file: SIGHUP makes it reload the files"
    )
    mosquitto_reload_command: str = Field(
        default="",
        max_length=500,
        description="Command that reloads Mosquitto (instead of a pid file), e.g. "
        "'systemctl reload mosquitto'",
    )
    broker_host: str = Field(default="127.0.0.1", description="Embedded broker address")
    broker_port: int = Field(default=1883, ge=0, le=65535)
    ingest_batch_size: int = Field(
        default=5000,
        ge=1,
        le=100_000,
        description=(
            "Messages per ingest transaction at most: each costs a dozen statements, which "
            "larger batches share when a city-wide command's replies arrive at once"
        ),
    )
    ingest_batch_kb: int = Field(
        default=2048,
        ge=1,
        le=65_536,
        description=(
            "Payload per ingest transaction at most, in KiB: a field gateway's bulk message "
            "holds up to 1,000 children's readings"
        ),
    )
    ingest_batch_ms: int = Field(default=100, ge=1, le=10_000)
    ingest_queue_max: int = Field(default=20_000, ge=100, le=1_000_000)
    ingest_queue_mb: int = Field(
        default=32,
        ge=1,
        le=65_536,
        description="Payload held before the gateway stops reading from the broker, in MiB",
    )
    telemetry_retention_days: int = Field(default=90, ge=1, le=36500)
    rollup_retention_days: int = Field(default=1095, ge=1, le=36500)

    # Remote commands
    four_eyes: bool = Field(
        default=True, description="Critical commands wait for a second person's approval"
    )
    approval_ttl_s: int = Field(default=900, ge=30, le=86_400)
    batch_critical_size: int = Field(
        default=500, ge=1, le=1_000_000, description="Batches above this size are critical"
    )
    command_max_attempts: int = Field(default=3, ge=1, le=20)
    command_verify_window_s: int = Field(default=300, ge=5, le=86_400)
    command_poll_ms: int = Field(default=250, ge=10, le=60_000)

    # Notifications
    smtp_host: str = Field(default="", description="SMTP server for e-mail; empty: no e-mail")
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_username: str = Field(default="", description="SMTP login; empty: no login")
    smtp_password: str = ""
    smtp_starttls: bool = Field(default=False, description="Upgrade the connection with STARTTLS")
    smtp_from: str = Field(default="beffroi@localhost", min_length=3, max_length=254)
    notification_timeout_s: float = Field(
        default=10.0, gt=0, le=300, description="Time allowed to one webhook or SMTP exchange"
    )
    notification_max_attempts: int = Field(default=5, ge=1, le=50)
    notification_retry_base_s: float = Field(
        default=30.0, gt=0, le=86_400, description="First retry delay, doubled at each attempt"
    )
    notification_concurrency: int = Field(default=8, ge=1, le=200)
    notification_poll_s: float = Field(default=2.0, gt=0, le=600)
    escalation_after_min: float = Field(
        default=15,
        gt=0,
        le=10_080,
        description="A critical alarm unacknowledged this long escalates",
    )

    # Interventions
    # Service level per priority: a duration in hours and the calendar it runs on
    # (continuous 24/7, or the working hours below without French public holidays).
    sla_critical_hours: float = Field(default=4, gt=0, le=24 * 366)
    sla_critical_calendar: Literal["continuous", "working"] = "continuous"
    sla_high_hours: float = Field(default=24, gt=0, le=24 * 366)
    sla_high_calendar: Literal["continuous", "working"] = "continuous"
    sla_normal_hours: float = Field(
        default=30, gt=0, le=24 * 366, description="Default: 3 working days of 10 hours"
    )
    sla_normal_calendar: Literal["continuous", "working"] = "working"
    sla_low_hours: float = Field(
        default=100, gt=0, le=24 * 366, description="Default: 10 working days of 10 hours"
    )
    sla_low_calendar: Literal["continuous", "working"] = "working"
    sla_work_start: str = Field(default="08:00", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
    sla_work_end: str = Field(default="18:00", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
    sla_work_days: list[int] = Field(
        default=[0, 1, 2, 3, 4], description="Working weekdays, Monday = 0 (JSON list)"
    )
    sla_public_holidays: bool = Field(
        default=True, description="French public holidays stop the working-hours clock"
    )
    intervention_photo_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024, le=100 * 2**20)
    intervention_alarm_grace_s: float = Field(
        default=30, ge=0, le=3600, description="Wait before a raised alarm opens a work order"
    )
    intervention_poll_s: float = Field(default=5, gt=0, le=3600)

    # Console
    console_tile_url: str | None = Field(
        default=None,
        max_length=500,
        # It goes into the page's Content-Security-Policy: nothing that could end a source.
        pattern=r"^https?://[^\s'\";,]+$",
        description="Map tiles, e.g. https://tiles.example/{z}/{x}/{y}.png; none: plain map",
    )
    console_resync_s: float = Field(
        default=10,
        gt=0,
        le=3600,
        description="How often the map's live states are re-read from the database, for "
        "changes made by other processes",
    )

    @field_validator("sla_work_days")
    @classmethod
    def _weekdays(cls, value: list[int]) -> list[int]:
        if not value or any(day not in range(7) for day in value):
            raise ValueError("a non-empty list of weekdays 0 (Monday) to 6 (Sunday)")
        return sorted(set(value))

    @model_validator(mode="after")
    def _working_hours(self) -> Settings:
        if self.sla_work_end <= self.sla_work_start:
            raise ValueError("BEFFROI_SLA_WORK_END: must be later than BEFFROI_SLA_WORK_START")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Environment variables win over the optional TOML file (``BEFFROI_CONFIG_FILE``)."""
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        toml_file = os.environ.get(f"{ENV_PREFIX}CONFIG_FILE")
        if toml_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_file))
        return tuple(sources)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("mqtt_url", mode="before")
    @classmethod
    def _embedded_when_empty(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        if value and not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "must start with sqlite+aiosqlite:// or postgresql+asyncpg:// "
                f"(got {value.split(':', 1)[0]!r})"
            )
        return value

    @model_validator(mode="after")
    def _mosquitto_files(self) -> Settings:
        if (self.mosquitto_password_file is None) != (self.mosquitto_acl_file is None):
            raise ValueError(
                "BEFFROI_MOSQUITTO_PASSWORD_FILE and BEFFROI_MOSQUITTO_ACL_FILE go together: "
                "set both or neither"
            )
        if (
            self.mosquitto_password_file is not None
            and self.mosquitto_pid_file is None
            and not self.mosquitto_reload_command
        ):
            raise ValueError(
                "BEFFROI_MOSQUITTO_PID_FILE or BEFFROI_MOSQUITTO_RELOAD_COMMAND: "
                "say how Beffroi makes Mosquitto reload the files it keeps"
            )
        return self

    @property
    def keeps_mosquitto(self) -> bool:
        """Whether this installation asks Beffroi to keep Mosquitto's files in step."""
        return self.mosquitto_password_file is not None

    @model_validator(mode="after")
    def _production_refuses_defaults(self) -> Settings:
        if self.env is Environment.PRODUCTION:
            if self.secret_key == DEFAULT_SECRET:
                raise ValueError(
                    "BEFFROI_SECRET_KEY: production refuses the default secret; set a random one"
                )
            if not self.database_url:
                raise ValueError("BEFFROI_DATABASE_URL: production needs an explicit database")
        return self

    @property
    def effective_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'beffroi.db').resolve()}"

    @property
    def broker_url(self) -> BrokerUrl:
        """The broker the hub and the simulated devices use: ``BEFFROI_MQTT_URL``, else the
        embedded one."""
        return self.mqtt_url or BrokerUrl(self.broker_host, self.broker_port)

    @property
    def secure_cookies(self) -> bool:
        """Whether session cookies carry the Secure flag."""
        if self.cookie_secure is not None:
            return self.cookie_secure
        return self.env is Environment.PRODUCTION

    @property
    def hub_mqtt_password(self) -> str:
        """The hub's broker password: configured, or derived from the secret key so the
        embedded broker and the gateway agree without another setting."""
        if self.mqtt_password:
            return self.mqtt_password
        digest = hmac.new(self.secret_key.encode(), b"beffroi-mqtt-hub", hashlib.sha256)
        return digest.hexdigest()

    @property
    def vms_key(self) -> bytes:
        """The key stream URLs are signed with: configured, or derived from the secret key
        (the simulated VMS checks them with the same)."""
        if self.vms_signing_key:
            return self.vms_signing_key.encode()
        return hmac.new(self.secret_key.encode(), b"beffroi-vms", hashlib.sha256).digest()

    @property
    def zone(self) -> ZoneInfo:
        """The city's time zone, used to show times to people."""
        return ZoneInfo(self.timezone)


def load_settings(**overrides: Any) -> Settings:
    """Read and validate the settings, raising :class:`ConfigError` naming each bad one.

    An unknown ``BEFFROI_*`` variable is an error too: a misspelt setting silently
    ignored is how a production server ends up on its defaults.
    """
    lines = unknown_variables(Settings.model_fields)
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        lines += [describe(dict(err)) for err in exc.errors()]
    if lines:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(lines))
    return settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return load_settings()
