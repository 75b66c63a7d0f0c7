"""Every table of every area, so metadata (Alembic, the tests) sees the whole schema."""

from beffroi.accounts import models as accounts_models
from beffroi.alarms import models as alarms_models
from beffroi.assets import models as assets_models
from beffroi.commands import models as commands_models
from beffroi.communes import models as communes_models
from beffroi.core import audit as audit_models
from beffroi.db.base import Base
from beffroi.devices import models as devices_models
from beffroi.energy import models as energy_models
from beffroi.interventions import models as interventions_models
from beffroi.lighting import models as lighting_models
from beffroi.mobility import models as mobility_models
from beffroi.notifications import models as notifications_models
from beffroi.opendata import models as opendata_models
from beffroi.opslog import models as opslog_models
from beffroi.plans import models as plans_models
from beffroi.reports import models as reports_models
from beffroi.roads import models as roads_models
from beffroi.rules import models as rules_models
from beffroi.telemetry import models as telemetry_models
from beffroi.traffic import models as traffic_models
from beffroi.vehicles import models as vehicles_models
from beffroi.video import models as video_models

__all__ = [
    "Base",
    "accounts_models",
    "alarms_models",
    "assets_models",
    "audit_models",
    "commands_models",
    "communes_models",
    "devices_models",
    "energy_models",
    "interventions_models",
    "lighting_models",
    "mobility_models",
    "notifications_models",
    "opendata_models",
    "opslog_models",
    "plans_models",
    "reports_models",
    "roads_models",
    "rules_models",
    "telemetry_models",
    "traffic_models",
    "vehicles_models",
    "video_models",
]
