"""The feature contract, and the feature packages the service is assembled from, named once.

A feature is a top-level package that plugs into the core through one typed object, its
``FEATURE`` in ``<package>/feature.py``, which satisfies :class:`Feature`: its name, its
tables and migrations folder, its HTTP routes, its Socket.IO events with their payload
models, its rows of the authorization table, its CLI commands, its settings section and
one lifecycle (``run``, an async context entered through aiohttp's ``cleanup_ctx``) that
starts and stops its background work, and its part of the personal-data lifecycle
(``personal_data``, which ``signaling/retention.py`` runs for ``tiaojie data purge`` and
``export``).

The core imports no feature, so it reaches them by the names in ``FEATURE_PACKAGES``:
``load_features`` imports each ``<package>.feature`` for the composition root
(``signaling/app.py``, ``signaling/cli.py``). A few parts are needed before any app exists
and without importing a feature's server code (Alembic's metadata and migration folders,
the named rate limits checked when the settings load), so those are still found by
convention (``tables.py``, ``migrations/versions/``, ``limits.py``);
``tests/signaling/test_features.py`` checks that each feature's declaration agrees with
them. Adding a feature means writing its ``feature.py`` and adding its name here, nowhere
else; a package that is not installed is skipped.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol, runtime_checkable

from aiohttp import web
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from signaling.api.registry import ApiRouter
from signaling.authz import Rows
from signaling.settings import Settings

FEATURE_PACKAGES: tuple[str, ...] = ("transcription", "agreements", "experts")

EventHandler = Callable[[Any, dict[str, Any], Any], Awaitable[dict[str, Any] | None]]
"""Called with the services, the caller's seat as a dict and the validated payload."""

CliCommands = Callable[[Any], None]
"""Adds a package's sub-commands to the ``tiaojie`` parser's sub-parsers."""


@dataclass(frozen=True)
class SocketEvent:
    """A Socket.IO event a feature adds to the room namespace."""

    name: str
    model: type[BaseModel]
    """The payload model: the event gate validates into it before the handler runs."""
    handler: EventHandler
    max_bytes: int | None = None
    """A larger payload limit than the room's default (a drawn signature image)."""


@dataclass(frozen=True)
class PersonalData:
    """A feature's part of the personal-data lifecycle (``signaling/retention.py``): what it
    stores about people, purged after its retention and exported on request."""

    purge: Callable[[AsyncSession, Settings, bool], Awaitable[dict[str, dict[str, int]]]]
    """Called with the database, the settings and ``dry_run``: delete (or, on a dry run,
    only count) what outlived its retention; returns ``{session id: {what: count}}``. The
    caller commits, or rolls back a dry run."""
    export: Callable[[AsyncSession, str], Awaitable[dict[str, Any]]]
    """Everything it stores about one participant (by id), as sections of the export."""
    purge_queue: Callable[[Any, Settings, bool], Awaitable[int]] | None = None
    """Called with Redis, the settings and ``dry_run``: delete (or count) what it queued
    there past its maximum age; returns how many entries."""


@runtime_checkable
class Feature(Protocol):
    """What a feature package gives the composition root."""

    @property
    def name(self) -> str:
        """The package's name (also the Alembic branch label of its migrations)."""

    @property
    def migrations(self) -> Path | None:
        """Its Alembic ``versions`` folder, or None when it has no tables."""

    @property
    def tables(self) -> str | None:
        """The module declaring its tables on the core's metadata, or None."""

    @property
    def settings_section(self) -> str | None:
        """The prefix of the settings it reads (``TIAOJIE_<SECTION>_...``), or None."""

    @property
    def authorization(self) -> Rows:
        """Its rows of the authorization table: routes, room events, namespaces."""

    def add_routes(self, api: ApiRouter) -> None:
        """Declare its HTTP routes on the router."""

    def socket_events(self) -> Sequence[SocketEvent]:
        """The events it adds to the room namespace."""

    def cli_commands(self) -> Sequence[CliCommands]:
        """Functions adding its sub-commands to the ``tiaojie`` command line."""

    @property
    def personal_data(self) -> PersonalData | None:
        """Its part of ``tiaojie data purge`` / ``export``, or None when it keeps nothing
        about people that the retention settings cover."""

    def run(self, app: web.Application) -> AsyncIterator[None]:
        """Its background work, as an aiohttp cleanup context: start what it runs (after
        the core's start-up: migrations done, plugins attached), yield, then stop all of
        it (before the core closes the database and Redis)."""


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


def load_features() -> list[Feature]:
    """Each installed feature's ``FEATURE`` (``<package>/feature.py``), in the order of
    ``FEATURE_PACKAGES``; a package without one is refused, since it would plug in
    nothing."""
    out: list[Feature] = []
    for pkg, mod in feature_modules("feature"):
        feature = getattr(mod, "FEATURE", None)
        if not isinstance(feature, Feature) or feature.name != pkg:
            raise TypeError(f"{pkg}.feature.FEATURE is not the {pkg} Feature")
        out.append(feature)
    return out
