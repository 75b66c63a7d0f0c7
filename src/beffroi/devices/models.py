"""Device identities: one MQTT/HTTP credential per asset (username = the asset id)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from beffroi.db import Base, UTCDateTime
from beffroi.timeutil import utcnow


class DeviceCredential(Base):
    """The current secret of a device, stored only as a hash.

    ``secret_hash`` is in Mosquitto's ``$7$`` format (PBKDF2-HMAC-SHA512), so the same
    value serves our own checks and is copied as is into Mosquitto's password file.
    Issuing again replaces the row (rotation); revoking stamps ``revoked_at``.
    """

    __tablename__ = "device_credentials"

    asset_id: Mapped[str] = mapped_column(
        ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True
    )
    secret_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
