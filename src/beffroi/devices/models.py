"""Device identities: one MQTT/HTTP credential per asset (username = the asset id), the
sequence that tells brokers what changed, and the logins that were refused."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from beffroi.core.time import utcnow
from beffroi.db import Base, BigId, UTCDateTime


class DeviceCredential(Base):
    """The current secret of a device, stored only as a hash.

    ``secret_hash`` is in Mosquitto's ``$7$`` format (PBKDF2-HMAC-SHA512), so the same
    value serves our own checks and is copied as is into Mosquitto's password file.
    Issuing again replaces the row (rotation); revoking stamps ``revoked_at``. ``seq`` is
    the value of :class:`CredentialHead` when the row last changed: a broker that applied
    everything up to N reads the rows with ``seq > N`` to catch up.
    """

    __tablename__ = "device_credentials"

    asset_id: Mapped[str] = mapped_column(
        ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True
    )
    secret_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    seq: Mapped[int] = mapped_column(BigId, default=0, server_default="0", index=True)


class CredentialHead(Base):
    """One row: the number of the latest credential change.

    Each change takes it with ``UPDATE … SET seq = seq + 1`` in its own transaction; the
    row lock orders the changes, so a broker that saw N has missed no change below N.
    """

    __tablename__ = "credential_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigId, default=0)


class CredentialFollower(Base):
    """A process that enforces credentials (the embedded broker, a Mosquitto file keeper):
    the change it applied last, and when it was last heard of."""

    __tablename__ = "credential_followers"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    seq: Mapped[int] = mapped_column(BigId)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LoginFailure(Base):
    """Refused logins of one username, for one reason, over one path, counted.

    One row per (username, reason, source): a device retrying every second moves
    ``count`` and ``last_at``, it does not add rows.
    """

    __tablename__ = "device_login_failures"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(8))
    # The registry's commune of the username's asset, if it names one: who may see it.
    commune_code: Mapped[str | None] = mapped_column(String(64))
    client_id: Mapped[str | None] = mapped_column(String(64))
    peer: Mapped[str | None] = mapped_column(String(64))
    first_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime)
    count: Mapped[int] = mapped_column(BigId)

    __table_args__ = (
        Index("ix_device_login_failures_last_at", "last_at"),
        Index("uq_device_login_failures_key", "username", "reason", "source", unique=True),
    )
