"""Rate limits: the embedded limiter, and the Redis one shared by two nodes."""

from __future__ import annotations

import asyncio
import ipaddress
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from agreements import limits as agreements_limits
from experts import limits as experts_limits
from experts.limits import EXPERT_CALL
from signaling.errors import RateLimited
from signaling.features import FEATURE_PACKAGES
from signaling.ratelimit import (
    CORE_LIMITS,
    UPLOAD,
    ConfiguredLimiter,
    Limit,
    LocalRateLimiter,
    RateLimiter,
    RedisRateLimiter,
    build_limiter,
    client_ip,
    key_digest,
    known_limits,
)
from signaling.settings import load_settings
from tests.conftest import REDIS_URL

THREE_PER_SECOND = Limit("test_three", 3, 1.0)


class FakeClock:
    """A monotonic clock the test moves by hand, so that no test sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_the_embedded_limiter_allows_the_limit_then_denies_with_a_retry_time() -> None:
    clock = FakeClock()
    rl = LocalRateLimiter(clock)
    got = [await rl.hit(THREE_PER_SECOND, "1.2.3.4") for _ in range(3)]
    assert [d.allowed for d in got] == [True, True, True]
    assert [d.remaining for d in got] == [2, 1, 0]
    clock.now += 0.25
    denied = await rl.hit(THREE_PER_SECOND, "1.2.3.4")
    assert not denied.allowed and denied.retry_after == pytest.approx(0.75)
    # Another key has its own budget.
    assert (await rl.hit(THREE_PER_SECOND, "5.6.7.8")).allowed


async def test_the_embedded_window_slides_instead_of_resetting_at_an_edge() -> None:
    clock = FakeClock()
    rl = LocalRateLimiter(clock)
    await rl.hit(THREE_PER_SECOND, "k")
    clock.now += 0.9
    await rl.hit(THREE_PER_SECOND, "k")
    await rl.hit(THREE_PER_SECOND, "k")
    clock.now += 0.2  # the first hit has left the window, the other two have not
    assert (await rl.hit(THREE_PER_SECOND, "k")).allowed
    assert not (await rl.hit(THREE_PER_SECOND, "k")).allowed


async def test_denied_attempts_are_not_counted_so_a_blocked_client_is_released() -> None:
    clock = FakeClock()
    rl = LocalRateLimiter(clock)
    for _ in range(3):
        await rl.hit(THREE_PER_SECOND, "k")
    for _ in range(50):
        clock.now += 0.01
        assert not (await rl.hit(THREE_PER_SECOND, "k")).allowed
    clock.now = 1001.01
    assert (await rl.hit(THREE_PER_SECOND, "k")).allowed


async def test_peek_counts_nothing_and_reset_forgets_a_key() -> None:
    rl = LocalRateLimiter(FakeClock())
    for _ in range(5):
        assert (await rl.peek(THREE_PER_SECOND, "k")).remaining == 3
    for _ in range(3):
        await rl.hit(THREE_PER_SECOND, "k")
    assert not (await rl.peek(THREE_PER_SECOND, "k")).allowed
    await rl.reset(THREE_PER_SECOND, "k")
    assert (await rl.peek(THREE_PER_SECOND, "k")).allowed


async def test_check_raises_rate_limited_with_retry_after() -> None:
    rl = LocalRateLimiter(FakeClock())
    for _ in range(3):
        await rl.check(THREE_PER_SECOND, "k")
    with pytest.raises(RateLimited) as exc:
        await rl.check(THREE_PER_SECOND, "k")
    assert exc.value.status == 429 and exc.value.code == "rate_limited"
    assert 0 < exc.value.retry_after <= 1.0
    with pytest.raises(RateLimited):
        await rl.ensure_not_blocked(THREE_PER_SECOND, "k")


async def test_idle_keys_are_swept_from_memory() -> None:
    clock = FakeClock()
    rl = LocalRateLimiter(clock)
    for i in range(rl.SWEEP_EVERY - 1):
        await rl.hit(THREE_PER_SECOND, f"one-off-{i}")
    clock.now += 5
    await rl.hit(THREE_PER_SECOND, "fresh")
    assert len(rl._log) == 1


def test_named_limits_cover_every_abuse_path() -> None:
    assert {"login_user", "login_ip", "invite_ip", "signing_code", "expert_call",
            "upload", "verify_ip"} <= set(known_limits())
    assert isinstance(build_limiter(None, "x"), LocalRateLimiter)


def test_each_package_declares_its_own_limits_and_every_one_is_known() -> None:
    """agreements' and experts' limits live in their own ``limits.py``; the core's list
    names none of them, and ``known_limits`` gathers all, each under one name."""
    packages = {"agreements": agreements_limits.LIMITS, "experts": experts_limits.LIMITS}
    assert set(packages) <= set(FEATURE_PACKAGES)
    assert {lim.name for lim in agreements_limits.LIMITS} == {"signing_code", "verify_ip"}
    assert {lim.name for lim in experts_limits.LIMITS} == {"expert_call"}
    gathered = known_limits()
    for limits in packages.values():
        for lim in limits:
            assert lim.name not in CORE_LIMITS
            assert gathered[lim.name] is lim
    assert set(gathered) == set(CORE_LIMITS) | {
        lim.name for limits in packages.values() for lim in limits}


async def test_a_configured_limit_replaces_its_default_and_leaves_the_others() -> None:
    clock = FakeClock()
    rl = ConfiguredLimiter(LocalRateLimiter(clock), {"expert_call": (2, 60.0)})
    assert (await rl.hit(EXPERT_CALL, "s1")).allowed
    assert (await rl.hit(EXPERT_CALL, "s1")).allowed
    denied = await rl.hit(EXPERT_CALL, "s1")
    assert not denied.allowed and 0 < denied.retry_after <= 60
    with pytest.raises(RateLimited) as err:
        await rl.check(EXPERT_CALL, "s1")
    assert err.value.message == EXPERT_CALL.message
    assert not (await rl.peek(EXPERT_CALL, "s1")).allowed
    await rl.reset(EXPERT_CALL, "s1")
    assert (await rl.peek(EXPERT_CALL, "s1")).allowed
    assert (await rl.hit(UPLOAD, "s1")).remaining == UPLOAD.hits - 1
    clock.now += 60
    assert (await rl.hit(EXPERT_CALL, "s1")).allowed


def test_rate_limits_are_read_from_the_environment_and_unknown_names_refused(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIAOJIE_RATE_LIMITS", '{"expert_call": [50, 600]}')
    assert load_settings().rate_limits == {"expert_call": (50, 600.0)}
    assert isinstance(build_limiter(None, "x", load_settings().rate_limits), ConfiguredLimiter)
    for bad in ('{"expert_calls": [50, 600]}', '{"upload": [0, 600]}', '{"upload": [5, 0]}'):
        monkeypatch.setenv("TIAOJIE_RATE_LIMITS", bad)
        with pytest.raises(ValueError, match="TIAOJIE_RATE_LIMITS"):
            load_settings()


def test_client_ip_trusts_only_the_entries_our_proxies_wrote() -> None:
    proxies = (ipaddress.ip_network("10.0.0.0/29"), ipaddress.ip_network("fd00::/64"))
    # A peer that is not one of our proxies is the client, whatever it claims.
    assert client_ip("198.51.100.7", "6.6.6.6", proxies) == "198.51.100.7"
    assert client_ip("10.0.0.5", "6.6.6.6", ()) == "10.0.0.5"
    # Our proxy vouches for the entry it appended, not for what the client sent before.
    assert client_ip("10.0.0.5", "6.6.6.6, 203.0.113.9", proxies) == "203.0.113.9"
    assert client_ip("10.0.0.5", "6.6.6.6, 203.0.113.9, 10.0.0.2", proxies) == "203.0.113.9"
    assert client_ip("fd00::3", "203.0.113.9", proxies) == "203.0.113.9"
    assert client_ip("::ffff:10.0.0.5", "203.0.113.9", proxies) == "203.0.113.9"
    assert client_ip("10.0.0.5", "", proxies) == "10.0.0.5"
    assert client_ip("10.0.0.5", "10.0.0.2, 10.0.0.3", proxies) == "10.0.0.2"
    assert client_ip(None, None, ()) == "unknown"


# -- Redis: two limiter instances with their own connections stand for two nodes ---------
@pytest.fixture
async def two_nodes(redis_prefix: str) -> AsyncIterator[tuple[RateLimiter, RateLimiter]]:
    a, b = Redis.from_url(REDIS_URL), Redis.from_url(REDIS_URL)
    yield RedisRateLimiter(a, redis_prefix), RedisRateLimiter(b, redis_prefix)
    await a.aclose()
    await b.aclose()


@pytest.mark.redis
async def test_two_nodes_share_one_budget_in_redis(
        two_nodes: tuple[RateLimiter, RateLimiter]) -> None:
    n1, n2 = two_nodes
    lim = Limit(f"shared_{uuid.uuid4().hex[:6]}", 4, 30.0)
    assert (await n1.hit(lim, "alice")).allowed
    assert (await n2.hit(lim, "alice")).allowed
    assert (await n1.hit(lim, "alice")).remaining == 1
    assert (await n2.hit(lim, "alice")).remaining == 0
    for node in (n1, n2):
        d = await node.hit(lim, "alice")
        assert not d.allowed and 29.0 < d.retry_after <= 30.0
    assert (await n2.hit(lim, "bob")).allowed


@pytest.mark.redis
async def test_concurrent_hits_from_two_nodes_never_exceed_the_limit(
        two_nodes: tuple[RateLimiter, RateLimiter]) -> None:
    n1, n2 = two_nodes
    lim = Limit("race", 10, 30.0)
    got = await asyncio.gather(*(n.hit(lim, "k") for n in (n1, n2) for _ in range(25)))
    assert sum(d.allowed for d in got) == 10


@pytest.mark.redis
async def test_the_redis_window_expires_and_peek_and_reset_work(
        two_nodes: tuple[RateLimiter, RateLimiter]) -> None:
    n1, n2 = two_nodes
    lim = Limit("short", 2, 0.3)
    await n1.hit(lim, "k")
    await n2.hit(lim, "k")
    assert not (await n1.peek(lim, "k")).allowed
    await asyncio.sleep(0.35)  # the window itself is what is under test here
    assert (await n2.peek(lim, "k")).remaining == 2
    await n1.hit(lim, "k")
    await n1.hit(lim, "k")
    await n2.reset(lim, "k")
    assert (await n1.hit(lim, "k")).allowed


@pytest.mark.redis
async def test_redis_keys_live_under_the_prefix_expire_and_hold_no_plain_username(
        two_nodes: tuple[RateLimiter, RateLimiter], redis_prefix: str) -> None:
    n1, _ = two_nodes
    lim = Limit("login_user", 3, 60.0)
    await n1.hit(lim, "zhang.san@example.cn")
    r = Redis.from_url(REDIS_URL)
    try:
        keys = [k.decode() async for k in r.scan_iter(f"{redis_prefix}:*")]
        assert keys == [f"{redis_prefix}:ratelimit:login_user:"
                        f"{key_digest('zhang.san@example.cn')}"]
        assert 0 < await r.pttl(keys[0]) <= 60_000
    finally:
        await r.aclose()


async def test_a_redis_outage_lets_attempts_through_and_logs_no_key(
        caplog: pytest.LogCaptureFixture) -> None:
    dead = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    try:
        rl = RedisRateLimiter(dead, "x")
        d = await rl.hit(THREE_PER_SECOND, "secret-user")
        assert d.allowed
        assert "secret-user" not in caplog.text and "test_three" in caplog.text
        with pytest.raises(RedisConnectionError):
            await RedisRateLimiter(dead, "x", fail_open=False).hit(THREE_PER_SECOND, "k")
    finally:
        await dead.aclose()
