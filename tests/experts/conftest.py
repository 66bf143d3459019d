"""Short timeouts for the expert tests: the module constants are meant to be overridden."""

from __future__ import annotations

import pytest

from experts import config


@pytest.fixture(autouse=True)
def quick_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(config, "WATCH_S", 0.05)
    monkeypatch.setattr(config, "ARRIVAL_WATCH_S", 0.05)
    monkeypatch.setattr(config, "WAKE_POLL_S", 0.1)
    monkeypatch.setattr(config, "RING_TIMEOUT_S", 30.0)
    monkeypatch.setattr(config, "ESCALATION_WAIT_S", 30.0)
    monkeypatch.setattr(config, "JOIN_TIMEOUT_S", 30.0)
    monkeypatch.delenv("TIAOJIE_EXPERTS_STRATEGY", raising=False)
