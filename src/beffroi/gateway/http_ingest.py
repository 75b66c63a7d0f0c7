"""Device ingest over HTTP, for equipment without MQTT: same contract, same pipeline.

The secret is checked against the database on every request, so a rotation or a
revocation counts from the moment it commits; a refused token is noted where operators
look for failing devices (:mod:`beffroi.devices.logins`).
"""

from __future__ import annotations

from beffroi import metrics
from beffroi.alarms.ingest import AlarmObserver
from beffroi.core.context import Runtime
from beffroi.core.errors import FieldError, InvalidInput, NotAuthenticated
from beffroi.core.time import utcnow
from beffroi.devices import topics
from beffroi.devices.credentials import verify_device_secret
from beffroi.devices.logins import LoginFailureLog, Refusal, Source
from beffroi.devices.topics import Channel, Topic
from beffroi.telemetry.decode import Reason, Rejection, decode
from beffroi.telemetry.directory import DeviceDirectory
from beffroi.telemetry.store import Batch, TelemetryStore


class HttpIngest:
    """Per-process state of HTTP ingest: device directory, refused logins, store."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.directory = DeviceDirectory()
        self.failures = LoginFailureLog()
        # Fault events sent over HTTP raise alarms as those sent over MQTT do.
        self.store = TelemetryStore(runtime.db, observers=[AlarmObserver()])

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
        self.runtime.events.publish_many(written.events)
        return written.points
