"""Imports every package's tables so that Alembic and tests see one metadata."""

from __future__ import annotations

from signaling.db import models as _signaling_models  # noqa: F401
from signaling.db.base import Base

metadata = Base.metadata
