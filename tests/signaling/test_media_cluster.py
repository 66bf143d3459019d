"""Media across two nodes: participants on different nodes hear each other through the
session's one SFU, and when that node is killed the session moves to the survivor."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import aiohttp
import pytest

from media import aiortc_seams
from tests.conftest import REDIS_URL
from tests.signaling.harness import PASSWORD, connect, eventually, login_at
from tests.signaling.nodes import cli, node_env, start_node
from tests.signaling.rtc_bot import RtcBot

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]



async def test_participants_on_two_nodes_hear_each_other_and_survive_the_media_node(
        pg_database: str, redis_prefix: str, tmp_path: Path) -> None:
    aiortc_seams.set_announced_addresses(["127.0.0.1"])  # the bots' own candidates
    env = node_env(pg_database, REDIS_URL, redis_prefix, tmp_path, TIAOJIE_MEDIA_ENABLED="true",
                   TIAOJIE_RECONNECT_GRACE_S="60")
    cli(env, "user", "create", "--username", "li", "--role", "mediator", "--password", PASSWORD)
    n1 = start_node(env, tmp_path)
    n2 = start_node(env, tmp_path)
    bots: list[RtcBot] = []
    try:
        async with aiohttp.ClientSession() as http:
            staff = await login_at(n1.url, http, "li")
            _, sid = await staff.new_session()
            med = await connect(n1.url, {"token": staff.token, "session_id": sid})
            a = await connect(n2.url, {"invite": (await staff.invite(sid))["token"],
                                       "name": "张三", "consent": True})
            assert (await med.call("admit", {"participant_id": a.pid}))["ok"]
            await a.wait_for("admitted")
            bot_med, bot_a = RtcBot(med, tone=False), RtcBot(a, tone=True)
            bots += [bot_med, bot_a]
            await bot_med.publish()
            await bot_a.publish()
            await eventually(lambda: bot_med.energy_from(a.pid) > 1.0)
            # Which node holds the session's SFU? Kill it; the other takes the session.
            from redis.asyncio import Redis

            r = Redis.from_url(REDIS_URL)
            owner = cast(bytes, await r.get(f"{redis_prefix}:media:session:{sid}")).decode()
            await r.aclose()
            victim, survivor = (n1, n2) if owner.endswith(str(n1.port)) else (n2, n1)
            victim.kill()
            # Clients of the killed node come back on the survivor with their seats.
            for c, bot in ((med, bot_med), (a, bot_a)):
                if victim is n1 and c is med or victim is n2 and c is a:
                    back = await connect(survivor.url,
                                         {"resume": c.welcome.get("resume_token")}
                                         if c.welcome.get("resume_token") else
                                         {"token": staff.token, "session_id": sid})
                    bot.rebind(back)
            mark = bot_med.energy_from(a.pid)
            for bot in bots:
                await bot.restart()
            await eventually(lambda: bot_med.energy_from(a.pid) > mark + 1.0, timeout=30)
    finally:
        for bot in bots:
            await bot.close()
        n1.stop()
        n2.stop()
