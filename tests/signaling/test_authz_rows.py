"""Each feature package states its own rows of the authorization table
(``<package>/authz.py``) and the composition root gathers them into
``signaling/authz.py``'s ``HTTP``, ``EVENTS`` and ``NAMESPACES``; the walk over the whole
table is tests/signaling/test_authorization_table.py."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from signaling import authz
from signaling.features import FEATURE_PACKAGES


@pytest.fixture
def built(tmp_path: Path) -> None:
    from signaling.app import build_app
    from signaling.settings import load_settings

    build_app(load_settings(data_dir=tmp_path, env="test"))


def package_rows() -> dict[str, authz.Rows]:
    return {pkg: importlib.import_module(f"{pkg}.authz").ROWS for pkg in FEATURE_PACKAGES}


@pytest.mark.usefixtures("built")
def test_building_the_app_gathers_every_packages_rows() -> None:
    for pkg, rows in package_rows().items():
        assert rows.http or rows.events or rows.namespaces, pkg
        for key, rule in rows.http.items():
            assert authz.HTTP[key] is rule
            assert authz.OWNERS[f"HTTP {' '.join(key)}"] == pkg
        for event, rule in rows.events.items():
            assert authz.EVENTS[event] is rule
            assert authz.OWNERS[f"/ {event}"] == pkg
        for ns, events in rows.namespaces.items():
            assert authz.NAMESPACES[ns] == events
    assert authz.NAMESPACES["/"] is authz.EVENTS
    # The room's own rows stay the core's: agreements' drafts are not, chat is.
    assert "/ chat" not in authz.OWNERS and authz.OWNERS["/ draft_get"] == "agreements"


@pytest.mark.usefixtures("built")
def test_registering_again_changes_nothing_and_a_second_owner_is_refused() -> None:
    before = (dict(authz.HTTP), dict(authz.EVENTS), dict(authz.OWNERS))
    for pkg, rows in package_rows().items():
        authz.register(pkg, rows)
    assert (dict(authz.HTTP), dict(authz.EVENTS), dict(authz.OWNERS)) == before

    draft_get = authz.EVENTS["draft_get"]
    with pytest.raises(ValueError, match="agreements already states"):
        authz.register("experts", authz.Rows(events={"draft_get": draft_get}))
    chat = authz.Rule(authz.NOBODY, "a package may not restate the core's rows")
    with pytest.raises(ValueError, match="the core already states"):
        authz.register("agreements", authz.Rows(events={"chat": chat}))
    assert (dict(authz.HTTP), dict(authz.EVENTS), dict(authz.OWNERS)) == before
