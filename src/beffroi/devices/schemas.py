"""API shapes of the devices area."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class LoginFailureOut(BaseModel):
    """Refused logins of one username, for one reason, over one path."""

    model_config = ConfigDict(from_attributes=True)

    username: str = Field(description="The username tried (a device's asset id), as sent")
    reason: str = Field(
        description="wrong_secret, unknown_device, no_credentials, revoked, decommissioned, "
        "client_id_mismatch, will_not_allowed, no_username or wrong_hub_password"
    )
    source: str = Field(description="mqtt or http")
    client_id: str | None = Field(description="The MQTT client id of the last attempt")
    peer: str | None = Field(description="The network address of the last attempt")
    first_at: datetime
    last_at: datetime
    count: int


class LoginFailuresOut(BaseModel):
    """Refused logins, newest first."""

    items: list[LoginFailureOut]
