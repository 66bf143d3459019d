"""Abuse limits: named sliding-window limits, counted in-process or in Redis.

One interface, two implementations, as placement and the room store have: the embedded
one keeps counters in this process; the Redis one keeps them under the deployment's key
prefix so that every signaling node behind the proxy counts the same attempts (an attacker
cannot multiply their budget by the number of nodes).

Both are exact sliding windows (a log of hit times, never longer than the limit), so a
burst at a fixed window's edge cannot double the allowance. A denied attempt is not
logged: memory per key stays bounded by ``Limit.hits`` and a blocked client is released
``window_s`` after its oldest counted attempt, not pushed back by its own retries.

Keys (usernames, addresses) are hashed before they are stored: Redis and a memory dump
then hold no personal data, and a hostile username cannot make a huge key.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import logging
import time
import uuid
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any

from signaling.errors import RateLimited

log = logging.getLogger("tiaojie.ratelimit")


@dataclass(frozen=True)
class Limit:
    """A named limit: at most ``hits`` counted attempts per key in any ``window_s`` seconds."""

    name: str
    """Stable name; part of the Redis key and of the error message's code."""
    hits: int
    """Attempts allowed within one window."""
    window_s: float
    """Length of the sliding window in seconds."""
    message: str = "Too many attempts; please wait and try again."
    """What the person sees on a 429 or an error ack."""


# The core's limits; a feature package declares its own in ``<package>/limits.py``
# (agreements: signing codes and the public verify page; experts: expert calls), and
# ``known_limits`` lists them all. Login and expert calls count every attempt; join links
# and signing codes count failures only (see the wiring), so that a whole office behind one
# NAT address can still join and sign while someone guessing tokens is stopped.
LOGIN_PER_USER = Limit("login_user", 10, 15 * 60,
                       "Too many login attempts for this account; please wait and try again.")
LOGIN_PER_IP = Limit("login_ip", 60, 60,
                     "Too many login attempts from your network; please wait and try again.")
INVITE_PER_IP = Limit("invite_ip", 20, 10 * 60,
                      "Too many invalid join links from your network; please wait.")
UPLOAD = Limit("upload", 30, 10 * 60, "Too many uploads; please wait and try again.")
# The public application page (signaling.intake): no CAPTCHA, these instead. Codes and
# applications count every attempt; wrong codes and wrong status tokens count failures.
APPLY_CODE_PER_PHONE = Limit("apply_code_phone", 3, 60 * 60,
                             "Too many codes sent to this phone; please wait an hour.")
APPLY_CODE_PER_IP = Limit("apply_code_ip", 10, 60 * 60,
                          "Too many codes requested from your network; please wait.")
APPLY_PER_IP = Limit("apply_ip", 5, 60 * 60,
                     "Too many applications from your network; please wait and try again.")
APPLY_PER_PHONE = Limit("apply_phone", 3, 24 * 60 * 60,
                        "Too many applications from this phone today; please call the office.")
APPLY_CODE_WRONG = Limit("apply_code_wrong", 5, 15 * 60,
                         "Too many wrong codes for this phone; please wait before trying again.")
APPLY_STATUS_PER_IP = Limit("apply_status_ip", 20, 10 * 60,
                            "Too many invalid status links from your network; please wait.")

CORE_LIMITS: Mapping[str, Limit] = {
    lim.name: lim for lim in (LOGIN_PER_USER, LOGIN_PER_IP, INVITE_PER_IP, UPLOAD,
                              APPLY_CODE_PER_PHONE, APPLY_CODE_PER_IP, APPLY_PER_IP,
                              APPLY_PER_PHONE, APPLY_CODE_WRONG, APPLY_STATUS_PER_IP)
}


@functools.cache
def known_limits() -> Mapping[str, Limit]:
    """Every named limit by name (what ``TIAOJIE_RATE_LIMITS`` may change): the core's and
    each feature package's ``LIMITS`` from its ``limits.py``, found by name through
    ``signaling/features.py`` (settings are checked before any app is built, so no
    composition root could register them first). A name two owners use is refused."""
    from signaling.features import feature_modules

    out = dict(CORE_LIMITS)
    for pkg, mod in feature_modules("limits"):
        for lim in mod.LIMITS:
            if lim.name in out:
                raise ValueError(f"{pkg} declares the rate limit {lim.name!r}, which is "
                                 "already declared")
            out[lim.name] = lim
    return MappingProxyType(out)


@dataclass(frozen=True)
class Decision:
    """The answer to one attempt: allowed or not, and when to come back."""

    allowed: bool
    remaining: int
    """Attempts still allowed in the current window after this one."""
    retry_after: float
    """Seconds until an attempt would be allowed again; 0 when allowed."""

    def raise_if_denied(self, limit: Limit) -> None:
        if not self.allowed:
            raise RateLimited(limit.message, retry_after=max(self.retry_after, 0.001))


def key_digest(key: str) -> str:
    """A fixed-length stand-in for a username or address (see the module docstring)."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]


class RateLimiter(ABC):
    """Counts attempts per (limit, key) and says whether one more is allowed."""

    @abstractmethod
    async def hit(self, limit: Limit, key: str) -> Decision:
        """Count one attempt if it is allowed; a denied attempt is not counted."""

    @abstractmethod
    async def peek(self, limit: Limit, key: str) -> Decision:
        """Would an attempt be allowed now? Counts nothing (for failure-only limits)."""

    @abstractmethod
    async def reset(self, limit: Limit, key: str) -> None:
        """Forget the key's attempts (a successful login clears its username's count)."""

    async def check(self, limit: Limit, key: str) -> Decision:
        """``hit`` that raises ``RateLimited`` (429 with Retry-After at the HTTP edge)."""
        decision = await self.hit(limit, key)
        decision.raise_if_denied(limit)
        return decision

    async def ensure_not_blocked(self, limit: Limit, key: str) -> None:
        """``peek`` that raises ``RateLimited``; pair it with ``hit`` on failure."""
        (await self.peek(limit, key)).raise_if_denied(limit)

class LocalRateLimiter(RateLimiter):
    """The embedded limiter: a log of hit times per key in this process's memory."""

    SWEEP_EVERY = 1024
    """Hits between sweeps of idle keys, so that one-off keys do not pile up."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._log: dict[tuple[str, str], deque[float]] = {}
        self._since_sweep = 0
        self._longest_window = 0.0

    def _live(self, limit: Limit, key: str, now: float) -> deque[float]:
        log_ = self._log.get((limit.name, key_digest(key)))
        if log_ is None:
            return deque()
        while log_ and log_[0] <= now - limit.window_s:
            log_.popleft()
        return log_

    def _decide(self, limit: Limit, log_: deque[float], now: float, counting: bool) -> Decision:
        if len(log_) < limit.hits:
            left = limit.hits - len(log_) - (1 if counting else 0)
            return Decision(True, left, 0.0)
        return Decision(False, 0, log_[0] + limit.window_s - now)

    async def hit(self, limit: Limit, key: str) -> Decision:
        # No await between reading and writing: on one event loop this is atomic.
        now = self._clock()
        self._maybe_sweep(now, limit.window_s)
        log_ = self._live(limit, key, now)
        decision = self._decide(limit, log_, now, counting=True)
        if decision.allowed:
            log_.append(now)
            self._log[(limit.name, key_digest(key))] = log_
        return decision

    async def peek(self, limit: Limit, key: str) -> Decision:
        now = self._clock()
        return self._decide(limit, self._live(limit, key, now), now, counting=False)

    async def reset(self, limit: Limit, key: str) -> None:
        self._log.pop((limit.name, key_digest(key)), None)

    def _maybe_sweep(self, now: float, window_s: float) -> None:
        self._longest_window = max(self._longest_window, window_s)
        self._since_sweep += 1
        if self._since_sweep < self.SWEEP_EVERY:
            return
        self._since_sweep = 0
        # A key whose newest hit is older than every window can no longer deny anything.
        horizon = now - self._longest_window
        for k in [k for k, v in self._log.items() if not v or v[-1] <= horizon]:
            del self._log[k]


# KEYS[1]: the sorted set of hit times (ms, Redis server clock, so that nodes with skewed
# clocks agree). ARGV: hits, window_ms, unique member, "1" to count or "0" to peek.
# Returns {allowed, remaining, retry_after_ms}.
_SLIDING_WINDOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local hits = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count < hits then
  if ARGV[4] == '1' then
    redis.call('ZADD', KEYS[1], now, ARGV[3])
    redis.call('PEXPIRE', KEYS[1], window)
    return {1, hits - count - 1, 0}
  end
  return {1, hits - count, 0}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, 0, tonumber(oldest[2]) + window - now}
"""


class RedisRateLimiter(RateLimiter):
    """The shared limiter: one sorted set per key in Redis, updated by one Lua script.

    The script runs atomically on the server, so two nodes counting the same key at the
    same moment cannot both take the last allowed attempt.
    """

    def __init__(self, redis: Any, prefix: str, *, fail_open: bool = True) -> None:
        """``redis`` is a ``redis.asyncio.Redis`` owned by the caller; ``fail_open`` lets
        attempts through when Redis does not answer (the login lockout in the database
        still holds), rather than refusing every login during a Redis outage."""
        self._redis = redis
        self._prefix = prefix
        self._fail_open = fail_open
        self._script = redis.register_script(_SLIDING_WINDOW)

    def _key(self, limit: Limit, key: str) -> str:
        return f"{self._prefix}:ratelimit:{limit.name}:{key_digest(key)}"

    async def _run(self, limit: Limit, key: str, count: bool) -> Decision:
        try:
            allowed, remaining, retry_ms = await self._script(
                keys=[self._key(limit, key)],
                args=[limit.hits, max(1, int(limit.window_s * 1000)), uuid.uuid4().hex,
                      "1" if count else "0"])
        except Exception as exc:  # ConnectionError, TimeoutError, ResponseError...
            if not self._fail_open:
                raise
            # The key is not logged: it may be a username or an address.
            log.warning("rate limit %s not checked, Redis failed: %s", limit.name,
                        type(exc).__name__)
            return Decision(True, limit.hits, 0.0)
        return Decision(bool(allowed), int(remaining), int(retry_ms) / 1000.0)

    async def hit(self, limit: Limit, key: str) -> Decision:
        return await self._run(limit, key, count=True)

    async def peek(self, limit: Limit, key: str) -> Decision:
        return await self._run(limit, key, count=False)

    async def reset(self, limit: Limit, key: str) -> None:
        try:
            await self._redis.delete(self._key(limit, key))
        except Exception as exc:
            log.warning("rate limit %s not reset, Redis failed: %s", limit.name,
                        type(exc).__name__)


class ConfiguredLimiter(RateLimiter):
    """A limiter whose named limits the operator changed (``TIAOJIE_RATE_LIMITS``): each
    attempt is counted by the inner limiter against the configured hits and window, under
    the same name, key and message as the default."""

    def __init__(self, inner: RateLimiter, limits: Mapping[str, tuple[int, float]]) -> None:
        self._inner = inner
        self._limits = {name: replace(known_limits()[name], hits=int(hits),
                                      window_s=float(window_s))
                        for name, (hits, window_s) in limits.items()}

    def _configured(self, limit: Limit) -> Limit:
        return self._limits.get(limit.name, limit)

    async def hit(self, limit: Limit, key: str) -> Decision:
        return await self._inner.hit(self._configured(limit), key)

    async def peek(self, limit: Limit, key: str) -> Decision:
        return await self._inner.peek(self._configured(limit), key)

    async def reset(self, limit: Limit, key: str) -> None:
        await self._inner.reset(self._configured(limit), key)


def build_limiter(redis: Any | None, prefix: str,
                  limits: Mapping[str, tuple[int, float]] | None = None) -> RateLimiter:
    """The Redis limiter when the deployment has Redis, the embedded one otherwise; with
    ``limits`` (name → hits, window seconds) those limits replace their defaults."""
    rl: RateLimiter = RedisRateLimiter(redis, prefix) if redis is not None \
        else LocalRateLimiter()
    return ConfiguredLimiter(rl, limits) if limits else rl


EXTRAS_KEY = "ratelimiter"


def limiter_for(services: Any) -> RateLimiter:
    """The process's limiter, made on first use and kept in ``services.extras`` (a
    ``signaling.context.Services``), so that handlers need no new app wiring."""
    rl: RateLimiter | None = services.extras.get(EXTRAS_KEY)
    if rl is None:
        rl = build_limiter(services.redis, services.settings.redis_prefix,
                           services.settings.rate_limits)
        services.extras[EXTRAS_KEY] = rl
    return rl


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def trusted_proxies(settings: Any) -> tuple[Network, ...]:
    """The reverse proxies whose X-Forwarded-For entries we believe, by address
    (``TIAOJIE_TRUSTED_PROXIES``). Empty: the header is never read, so a client reaching
    the service directly cannot pick its own address."""
    return tuple(getattr(settings, "trusted_proxy_networks", ()))


def _trusted(addr: str, trusted: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # a dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d
    return any(ip in net for net in trusted)


def client_ip(remote: str | None, forwarded_for: str | None,
              trusted: tuple[Network, ...]) -> str:
    """The caller's address as the limits and the audit page should see it.

    Walks from the connecting peer leftwards through X-Forwarded-For: each hop that is
    one of our proxies vouches for the entry to its left (nginx's
    ``$proxy_add_x_forwarded_for`` appends the address it saw). The first address that is
    not one of our proxies is the client; anything further left is what the client
    claimed and could be forged to dodge a per-address limit or spoof the signer's address.
    A peer that is not a trusted proxy is the client, whatever header it sent.
    """
    peer = (remote or "").strip()
    if not peer:
        return "unknown"
    if not forwarded_for or not _trusted(peer, trusted):
        return peer[:64]
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    client = peer
    while hops and _trusted(client, trusted):
        client = hops.pop()
    return client[:64]
