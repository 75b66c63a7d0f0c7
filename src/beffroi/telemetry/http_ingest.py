"""Device ingest over HTTP, for equipment without MQTT: same contract, same pipeline."""

from __future__ import annotations

import time

from beffroi import metrics
from beffroi.alarms.ingest import AlarmObserver
from beffroi.context import Runtime
from beffroi.devices import topics
from beffroi.devices.credentials import CredentialCache, verify_device_secret
from beffroi.devices.topics import Channel, Topic
from beffroi.errors import FieldError, InvalidInput, NotAuthenticated
from beffroi.telemetry.decode import Reason, Rejection, decode
from beffroi.telemetry.directory import DeviceDirectory
from beffroi.telemetry.store import Batch, TelemetryStore
from beffroi.timeutil import utcnow

DIRECTORY_REFRESH_S = 2.0
CREDENTIALS_REFRESH_S = 10.0


class HttpIngest:
    """Per-process state of HTTP ingest: device directory, credentials, store."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.directory = DeviceDirectory()
        self.credentials = CredentialCache()
        # Fault events sent over HTTP raise alarms as those sent over MQTT do.
        self.store = TelemetryStore(runtime.db, observers=[AlarmObserver()])
        self._refreshed_at = 0.0

    async def _know(self, device_id: str) -> None:
        # A device registered a moment ago is found after at most one throttled refresh.
        if device_id in self.directory:
            return
        if time.monotonic() - self._refreshed_at > DIRECTORY_REFRESH_S:
            self._refreshed_at = time.monotonic()
            await self.directory.refresh(self.runtime.db)

    async def ingest(self, device_id: str, secret: str, channel: Channel, payload: bytes) -> int:
        """Check the device's secret, then decode and store one message; returns points.

        Raises :class:`NotAuthenticated` for a wrong secret and :class:`InvalidInput`
        naming the reason for a message that breaks the contract (which is also counted).
        """
        settings = self.runtime.settings
        topic = topics.build(Topic(channel, device_id), settings.mqtt_root)
        await self.credentials.refresh_if_stale(self.runtime.db, CREDENTIALS_REFRESH_S)
        if not topics.ID_RE.match(device_id) or not await verify_device_secret(
            self.runtime.db, device_id, secret, cache=self.credentials
        ):
            metrics.REJECTED.labels(Reason.WRONG_CREDENTIALS.value).inc()
            await self.store.write(
                Batch(
                    rejections=[
                        Rejection(Reason.WRONG_CREDENTIALS, "HTTP device token", topic, b"")
                    ]
                )
            )
            raise NotAuthenticated("unknown device or wrong device token")
        await self._know(device_id)
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
