"""experts' named rate limits (``signaling/ratelimit.py`` explains limits and counts them;
``TIAOJIE_RATE_LIMITS`` may change them by name)."""

from __future__ import annotations

from signaling.ratelimit import Limit

EXPERT_CALL = Limit("expert_call", 10, 10 * 60,
                    "Too many expert calls from this session; please wait.")
"""Every expert call a seat places (``experts/http.py``)."""

LIMITS = (EXPERT_CALL,)
