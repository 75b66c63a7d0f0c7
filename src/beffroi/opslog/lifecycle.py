"""Words of the operations log: desks, categories, what a record is, and its bounds."""

from __future__ import annotations

from enum import StrEnum


class Desk(StrEnum):
    """The desk an entry is written from: the six control rooms the hub replaced (security,
    municipal police, urban video supervision, traffic, citizen line, snow) and the
    equipment desks of the hub itself (lighting, roads)."""

    SECURITY = "security"
    POLICE = "police"
    VIDEO = "video"
    TRAFFIC = "traffic"
    LIGHTING = "lighting"
    ROADS = "roads"
    CITIZEN_LINE = "citizen_line"
    SNOW = "snow"


class LogCategory(StrEnum):
    """What kind of thing an entry records. Few on purpose: a daily report counts by
    category, and a long list is filled in at random at 3 a.m. The detail is in the text
    and the links (an alarm, a work order, a citizen report)."""

    # Something went wrong: an accident, a fight, a failure seen on a camera.
    INCIDENT = "incident"
    # Known and worth telling the next shift: an event, a closure, a forecast.
    INFORMATION = "information"
    # Someone was sent or acted: a crew, a patrol called in, equipment steered.
    INTERVENTION = "intervention"
    # A round of the police or the security staff, and what it found.
    PATROL = "patrol"
    # A phone or radio call received or made.
    CALL = "call"
    OTHER = "other"


class RecordKind(StrEnum):
    """An entry, or an amendment correcting one (entries are never edited)."""

    ENTRY = "entry"
    AMENDMENT = "amendment"


class LinkKind(StrEnum):
    """The objects of other areas an entry may name, by the field that lists them."""

    ASSET = "asset_ids"
    ALARM = "alarm_ids"
    INTERVENTION = "intervention_ids"
    REPORT = "report_ids"
    COMMAND = "command_ids"


MAX_TEXT = 4000
MAX_LINKS = 50  # per kind: an entry is about a few things, not an inventory
