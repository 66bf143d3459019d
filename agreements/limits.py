"""agreements' named rate limits (``signaling/ratelimit.py`` explains limits and counts
them; ``TIAOJIE_RATE_LIMITS`` may change them by name)."""

from __future__ import annotations

from signaling.ratelimit import Limit

SIGNING_CODE = Limit("signing_code", 5, 15 * 60,
                     "Too many wrong signing codes; please wait before trying again.")
"""Signing codes sent to one signer of one ceremony (each is an SMS; ``agreements/events.py``)."""
VERIFY_PER_IP = Limit("verify_ip", 30, 10 * 60,
                      "Too many verifications from your network; please wait and try again.")
"""Every verification from one address on the public verify page (``agreements/public.py``)."""

LIMITS = (SIGNING_CODE, VERIFY_PER_IP)
