"""Storage: SQLAlchemy 2 (async) on SQLite (embedded default) or PostgreSQL (production)."""

from beffroi.db.base import Base, BigId, JSONType, UTCDateTime
from beffroi.db.engine import Database
from beffroi.db.rows import Derived

__all__ = ["Base", "BigId", "Database", "Derived", "JSONType", "UTCDateTime"]
