"""Placement: sticky sessions, least-loaded choice, dead nodes; local and Redis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from media.placement import LocalPlacement, NodeInfo, NoMediaNode, RedisPlacement


async def test_local_placement_puts_every_session_on_this_process() -> None:
    placement = LocalPlacement("n1")
    assert (await placement.node_for("s1")).node_id == "n1"
    assert (await placement.node_for("s2")).node_id == "n1"


@pytest.fixture
async def redis_placement(redis_prefix: str) -> AsyncIterator[RedisPlacement]:
    from redis.asyncio import Redis
    from redis.exceptions import RedisError

    from tests.conftest import REDIS_URL

    r = Redis.from_url(REDIS_URL)
    try:
        await r.ping()
    except (RedisError, OSError):
        pytest.skip("no Redis")
    try:
        yield RedisPlacement(r, prefix=redis_prefix, node_ttl=1)
    finally:
        await r.aclose()


@pytest.mark.redis
async def test_a_new_session_goes_to_the_least_loaded_node_and_sticks(
    redis_placement: RedisPlacement,
) -> None:
    await redis_placement.report(NodeInfo("busy", "http://busy", 30))
    await redis_placement.report(NodeInfo("idle", "http://idle", 2))
    assert (await redis_placement.node_for("s1")).node_id == "idle"
    await redis_placement.report(NodeInfo("idle", "http://idle", 99))
    assert (await redis_placement.node_for("s1")).node_id == "idle"  # sticky
    assert (await redis_placement.node_for("s2")).node_id == "busy"


@pytest.mark.redis
async def test_concurrent_placements_of_one_session_agree(redis_placement: RedisPlacement) -> None:
    await redis_placement.report(NodeInfo("a", "", 1))
    await redis_placement.report(NodeInfo("b", "", 1))
    nodes = await asyncio.gather(*(redis_placement.node_for("s") for _ in range(10)))
    assert len({n.node_id for n in nodes}) == 1


@pytest.mark.redis
async def test_a_session_on_a_dead_node_is_placed_again_and_no_node_is_an_error(
    redis_placement: RedisPlacement,
) -> None:
    with pytest.raises(NoMediaNode):
        await redis_placement.node_for("s")
    await redis_placement.report(NodeInfo("a", "", 1))
    assert (await redis_placement.node_for("s")).node_id == "a"

    async def a_expired() -> bool:
        return await redis_placement._node("a") is None

    while not await a_expired():  # the node's ttl is 1 s in this test
        await asyncio.sleep(0.2)
    await redis_placement.report(NodeInfo("b", "", 5))
    assert (await redis_placement.node_for("s")).node_id == "b"


@pytest.mark.redis
async def test_a_burst_of_new_sessions_spreads_over_equal_nodes_before_they_report_again(
    redis_placement: RedisPlacement,
) -> None:
    for worker in ("w0", "w1"):
        await redis_placement.report(NodeInfo(worker, f"http://{worker}", 0))
    placed = [(await redis_placement.node_for(f"s{i}")).node_id for i in range(6)]
    assert placed.count("w0") == placed.count("w1") == 3
    assert (await redis_placement.node_for("s0")).node_id == placed[0]  # still sticky
