"""Imports every package's tables so that Alembic and tests see one metadata.

A package with tables has ``<pkg>/tables.py`` declaring them on ``signaling.db.Base``.
"""

from __future__ import annotations

from signaling import audio_archive as _audio_archive  # noqa: F401
from signaling import evidence as _evidence  # noqa: F401
from signaling.db import models as _signaling_models  # noqa: F401
from signaling.db.base import Base
from signaling.features import feature_modules

feature_modules("tables")

metadata = Base.metadata
