"""Short timeouts for the expert tests: the module constants are meant to be overridden."""

from __future__ import annotations

import pytest

from experts import switchboard


@pytest.fixture(autouse=True)
def quick_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(switchboard, "WATCH_S", 0.05)
    monkeypatch.setattr(switchboard, "ARRIVAL_WATCH_S", 0.05)
    monkeypatch.setattr(switchboard, "WAKE_POLL_S", 0.1)
    monkeypatch.setattr(switchboard, "RING_TIMEOUT_S", 30.0)
    monkeypatch.setattr(switchboard, "ESCALATION_WAIT_S", 30.0)
    monkeypatch.setattr(switchboard, "JOIN_TIMEOUT_S", 30.0)
    monkeypatch.delenv("TIAOJIE_EXPERTS_STRATEGY", raising=False)
