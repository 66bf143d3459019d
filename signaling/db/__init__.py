"""Persistence: SQLAlchemy 2 async models, the engine, and Alembic migrations."""

from signaling.db.base import Base
from signaling.db.engine import Database

__all__ = ["Base", "Database"]
