"""The address of an MQTT broker, as a setting or an option gives it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

DEFAULT_MQTT_PORT = 1883


@dataclass(frozen=True, slots=True)
class BrokerUrl:
    """Where an MQTT broker listens: ``mqtt://host[:port]`` (``tcp://`` is read too), the
    port 1883 when not given. Read once, where it comes in (``BEFFROI_MQTT_URL``, a
    ``--broker`` option), and passed on parsed: a bad one is refused there, naming it.

    As a pydantic field it is validated from its text and written back as ``mqtt://…``.
    """

    host: str
    port: int = DEFAULT_MQTT_PORT

    @classmethod
    def parse(cls, text: str) -> BrokerUrl:
        """The URL in ``text``, or ValueError saying what is wrong with it (the caller
        names the setting or option, and the text)."""
        parts = urlsplit(text.strip())
        if parts.scheme not in ("mqtt", "tcp") or not parts.hostname:
            raise ValueError("must look like mqtt://host:port")
        try:
            port = parts.port
        except ValueError:
            raise ValueError("must look like mqtt://host:port, the port 0 to 65535") from None
        return cls(parts.hostname, port or DEFAULT_MQTT_PORT)

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"mqtt://{host}:{self.port}"

    @classmethod
    def _validate(cls, value: object) -> BrokerUrl:
        if isinstance(value, BrokerUrl):
            return value
        if isinstance(value, str):
            return cls.parse(value)
        raise ValueError("must look like mqtt://host:port")

    @classmethod
    def __get_pydantic_core_schema__(
        cls, _source: Any, _handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            cls._validate, serialization=core_schema.to_string_ser_schema()
        )
