"""Device ingest over HTTP, for equipment without MQTT: same contract, same follow-ups.

A message is decoded against the catalogue, stored, and followed up as the MQTT gateway
does it: fault events and silences raise alarms, the monitoring rules judge its values,
its events are published (each follow-up failing alone, :mod:`beffroi.telemetry.followup`).
The secret is checked against the database on every request, so a rotation or a
revocation counts from the moment it commits; a refused token is noted where operators
look for failing devices (:mod:`beffroi.devices.logins`).
"""

from __future__ import annotations

import time

from beffroi import metrics
from beffroi.alarms.ingest import AlarmObserver
from beffroi.core.context import Runtime
from beffroi.core.errors import FieldError, InvalidInput, NotAuthenticated
from beffroi.core.time import utcnow
from beffroi.devices import topics
from beffroi.devices.credentials import verify_device_secret
from beffroi.devices.logins import LoginFailureLog, Refusal, Source
from beffroi.devices.topics import Channel, Topic
from beffroi.rules.engine import RuleEngine
from beffroi.telemetry import followup
from beffroi.telemetry.decode import Reason, Rejection, decode
from beffroi.telemetry.directory import DeviceDirectory
from beffroi.telemetry.store import Batch, TelemetryStore
from beffroi.vehicles.ingest import VehicleTracker

# How long the rules evaluated here may lag behind the database.
RULES_S = 10.0


class HttpIngest:
    """Per-process state of HTTP ingest: device directory, refused logins, store."""

    def __init__(self, runtime: Runtime, *, rules_s: float = RULES_S) -> None:
        self.runtime = runtime
        self.directory = DeviceDirectory()
        self.failures = LoginFailureLog()
        self.rules = RuleEngine(self.directory.get, timezone=runtime.settings.timezone)
        self.alarms = AlarmObserver(self.rules)
        self.store = TelemetryStore(runtime.db, observers=[self.alarms, VehicleTracker()])
        self.rules_s = rules_s
        self._rules_at = float("-inf")

    async def _current_rules(self) -> None:
        # Rules edited through the API apply from the next message after this long.
        if time.monotonic() - self._rules_at >= self.rules_s:
            await self.rules.refresh(self.runtime.db)
            self._rules_at = time.monotonic()

    async def ingest(
        self,
        device_id: str,
        secret: str,
        channel: Channel,
        payload: bytes,
        *,
        peer: str | None = None,
    ) -> int:
        """Check the device's secret, then decode and store one message; returns points.

        Raises :class:`NotAuthenticated` for a wrong secret and :class:`InvalidInput`
        naming the reason for a message that breaks the contract (which is also counted).
        """
        settings = self.runtime.settings
        db = self.runtime.db
        valid_id = bool(topics.ID_RE.match(device_id))
        topic = topics.build(Topic(channel, device_id if valid_id else "-"), settings.mqtt_root)
        if not valid_id or not await verify_device_secret(db, device_id, secret):
            metrics.REJECTED.labels(Reason.WRONG_CREDENTIALS.value).inc()
            self.failures.note(device_id, Refusal.NOT_ACTIVE, Source.HTTP, peer=peer)
            await self.failures.flush(db)
            await self.store.write(
                Batch(
                    rejections=[
                        Rejection(
                            Reason.WRONG_CREDENTIALS,
                            "HTTP device token",
                            topic,
                            b"",
                            device_id[:64] if valid_id else None,
                        )
                    ]
                )
            )
            raise NotAuthenticated("unknown device or wrong device token")
        if device_id not in self.directory:
            await self.directory.learn(db, [device_id])
        await self._current_rules()
        metrics.MESSAGES_IN.labels(channel.value).inc()
        decoded = decode(
            topic,
            payload,
            self.directory,
            received_at=utcnow(),
            root=settings.mqtt_root,
        )
        batch = Batch()
        batch.add(decoded)
        written = await self.store.write(batch)
        if isinstance(decoded, Rejection):
            metrics.REJECTED.labels(decoded.reason.value).inc()
            raise InvalidInput(
                FieldError("body", f"{decoded.reason.value}: {decoded.detail}"),
                f"message rejected ({decoded.reason.value}): {decoded.detail}",
            )
        metrics.POINTS.inc(written.points)
        followup.publish(self.runtime.events, written.events)
        failed, self.alarms.failed = self.alarms.failed, []
        if failed:
            followup.publish(self.runtime.events, await self.rules.disable_failed(db, failed))
        return written.points
