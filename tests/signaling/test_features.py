"""The feature contract: each package's ``FEATURE`` declares what the core finds by
convention, and its lifecycle leaves nothing running once the app has stopped."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

import agreements.runtime
from agreements.runtime import RUNTIME, runtime
from experts.runtime import SWITCHBOARD
from signaling.db.migrate import version_locations
from signaling.features import FEATURE_PACKAGES, Feature, load_features
from tests.signaling.harness import running_server


def test_every_feature_package_gives_one_feature_that_states_its_own_parts() -> None:
    import signaling.db.tables  # noqa: F401  (imports every package's tables)

    features = load_features()
    assert [f.name for f in features] == list(FEATURE_PACKAGES)
    locations = {p.resolve() for p in version_locations()}
    for f in features:
        assert isinstance(f, Feature)
        assert f.migrations is not None and f.migrations.resolve() in locations, f.name
        assert f.tables is not None and f.tables in sys.modules, f.name
        assert f.tables.startswith(f"{f.name}.")
        for event in f.socket_events():
            assert event.name in f.authorization.events, (f.name, event.name)


def _tasks_running(qualname: str) -> list[asyncio.Task[object]]:
    return [t for t in asyncio.all_tasks()
            if not t.done() and t.get_coro().__qualname__ == qualname]  # type: ignore[union-attr]


async def test_stopping_the_app_stops_the_sealing_jobs_it_started(
        database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(agreements.runtime, "SEAL_DRAIN_S", 0.05)
    started = asyncio.Event()
    finished = asyncio.Event()
    stopped: list[str] = []

    async def quick_job() -> None:
        await finished.wait()

    async def endless_job() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        finally:
            stopped.append("endless")

    async with running_server(database_url, tmp_path) as srv:
        rt = runtime(srv.services)
        assert srv.services.get(RUNTIME) is rt
        rt.seal(quick_job(), "ceremony-quick")
        rt.seal(endless_job(), "ceremony-endless")
        await started.wait()
        assert len(_tasks_running("test_stopping_the_app_stops_the_sealing_jobs_it_started."
                                  "<locals>.endless_job")) == 1
        finished.set()
    assert stopped == ["endless"]
    assert not rt.tasks
    assert not [t for t in asyncio.all_tasks() if not t.done()
                and t.get_coro().__qualname__.endswith("_job")]  # type: ignore[union-attr]


async def test_stopping_the_app_stops_the_expert_service(database_url: str,
                                                         tmp_path: Path) -> None:
    async with running_server(database_url, tmp_path) as srv:
        assert srv.services.get(SWITCHBOARD) is not None
        assert _tasks_running("_heartbeat") and _tasks_running("_sweeper")
    assert not _tasks_running("_heartbeat") and not _tasks_running("_sweeper")
