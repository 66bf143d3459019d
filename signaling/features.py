"""The feature packages the service is assembled from, named once.

The core imports no feature, so where it must reach one (their tables for Alembic's
metadata, their migration folders, their named rate limits before any app exists, and
their HTTP edges and authorization rows for the composition root in ``signaling/app.py``)
it goes by these names. Each name is a top-level package that may hold ``tables.py``,
``migrations/versions/``, ``limits.py``, ``http.py`` and ``authz.py``; a package that is
not installed is skipped. Adding a feature means adding its name here, nowhere else.
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path
from types import ModuleType

FEATURE_PACKAGES: tuple[str, ...] = ("transcription", "agreements", "experts")


def package_dirs(name: str) -> list[Path]:
    """Where the package ``name`` lives on disk (nothing if it is not installed), found
    without importing it."""
    spec = importlib.util.find_spec(name)
    if spec is None or spec.submodule_search_locations is None:
        return []
    return [Path(p) for p in spec.submodule_search_locations]


def feature_modules(part: str) -> list[tuple[str, ModuleType]]:
    """Each feature package's module ``<package>.<part>``, imported by name, skipping a
    package that has none (or is not installed)."""
    out = []
    for pkg in FEATURE_PACKAGES:
        try:
            out.append((pkg, importlib.import_module(f"{pkg}.{part}")))
        except ModuleNotFoundError as exc:
            if exc.name not in (pkg, f"{pkg}.{part}"):
                raise
    return out
