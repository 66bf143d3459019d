"""The expert service's call configuration: its timings and ``ExpertConfig``.

The timings are module-level so that tests can shorten them before a server starts
(``monkeypatch.setattr(experts.config, "SWEEP_S", 0.1)``): the call timeline
(``experts.timeline``), the seat watcher (``experts.seat_watcher``) and the sweeper
(``experts.runtime``) read them here at each use, and ``ExpertConfig`` takes its defaults
from them when the switchboard is built.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Literal

# Timeouts are module-level so that tests can shorten them before a server starts.
RING_TIMEOUT_S = 45.0
"""How long the online tier rings before escalating."""
TURN_S = 15.0
"""In turns: how long each expert rings before the next one."""
ESCALATION_WAIT_S = 120.0
"""After notifying offline experts, how long the call waits for one to open the console."""
JOIN_TIMEOUT_S = 120.0
"""How long the winner's grant waits for them to enter the room."""
WATCH_S = 0.5
"""How often a joined expert's seat is checked (left, caucus closed, session ended)."""
ARRIVAL_WATCH_S = 0.05
"""How often an accepted expert's seat is checked for their arrival: the mediator is
waiting for exactly this moment, and the phase lasts seconds."""
WAKE_POLL_S = 1.0
"""A ringing call re-reads its rings this often to see answers given on other nodes."""
SWEEP_S = 5.0
"""How often every node looks for calls a dead node left behind."""
SWEEP_GRACE_S = 30.0
"""How long past its deadline a ringing call must be before another node expires it
(its own node escalates or expires it on time unless it died)."""

Strategy = Literal["all", "turns"]


@dataclass
class ExpertConfig:
    """The expert service's settings, from ``TIAOJIE_EXPERTS_*`` environment variables."""

    strategy: Strategy = "all"
    """all: ring every matching online expert at once; turns: one by one, least recently
    called first, then the best rated."""
    ring_timeout_s: float = field(default_factory=lambda: RING_TIMEOUT_S)
    turn_s: float = field(default_factory=lambda: TURN_S)
    escalation_wait_s: float = field(default_factory=lambda: ESCALATION_WAIT_S)
    join_timeout_s: float = field(default_factory=lambda: JOIN_TIMEOUT_S)
    webhook_url: str = ""
    """Empty: notifications are logged (embedded mode)."""
    webhook_secret: str = ""

    @classmethod
    def from_env(cls) -> ExpertConfig:
        env = os.environ
        c = cls()
        strategy = env.get("TIAOJIE_EXPERTS_STRATEGY", c.strategy)
        if strategy not in ("all", "turns"):
            raise ValueError("TIAOJIE_EXPERTS_STRATEGY must be 'all' or 'turns'")
        c.strategy = strategy  # type: ignore[assignment]
        for name in ("ring_timeout_s", "turn_s", "escalation_wait_s", "join_timeout_s"):
            raw = env.get(f"TIAOJIE_EXPERTS_{name.upper()}")
            if raw:
                setattr(c, name, float(raw))
        c.webhook_url = env.get("TIAOJIE_EXPERTS_WEBHOOK_URL", "")
        c.webhook_secret = env.get("TIAOJIE_EXPERTS_WEBHOOK_SECRET", "")
        return c
