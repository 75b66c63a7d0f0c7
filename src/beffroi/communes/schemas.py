"""API shapes of communes."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class CommuneIn(BaseModel):
    """A commune to create or import."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    code: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9][a-z0-9-]{0,63}$",
        description="Stable identifier; derived from the name when omitted",
    )
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    population: int = Field(default=0, ge=0, le=2**31 - 1)


class CommuneOut(BaseModel):
    """A commune as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    lat: float
    lon: float
    population: int
