"""One SFU worker per core: ``tiaojie media --workers 2`` runs two media processes, each
placed on as a node of its own; when the worker holding a session dies, the session
moves to the other worker and the participants' re-offer lands there."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import cast

import aiohttp
import pytest

from media import aiortc_seams
from signaling.media_workers import MediaWorkers
from tests.conftest import REDIS_URL, free_port
from tests.signaling.harness import PASSWORD, connect, eventually, login_at
from tests.signaling.nodes import Node, cli, node_env, start_node, wait_healthy
from tests.signaling.rtc_bot import RtcBot

SCRAPER = "s" * 40
"""The metrics scraper's bearer token (/metrics needs it or an administrator's login)."""


def sleeper(index: int) -> list[str]:
    return [sys.executable, "-c", "import time; time.sleep(120)"]


def test_a_worker_that_dies_is_started_again_and_stop_ends_them_all() -> None:
    workers = MediaWorkers(count=2, command=sleeper, environment=lambda i: dict(os.environ))
    workers.start()
    try:
        first = [w.proc for w in workers.workers]
        assert all(p is not None and p.poll() is None for p in first)
        victim = first[0]
        assert victim is not None
        victim.kill()
        victim.wait()
        # Poll as the supervisor's loop does; the dead one comes back, the other is kept.
        end = time.monotonic() + 20
        while workers.workers[0].proc is victim and time.monotonic() < end:
            workers.check()
            time.sleep(0.05)
        again = workers.workers[0].proc
        assert again is not victim and again is not None and again.poll() is None
        assert workers.workers[1].proc is first[1]
    finally:
        workers.stop()
    assert all(w.proc is not None and w.proc.poll() is not None for w in workers.workers)


def _children(parent: int) -> dict[int, str]:
    """pid → command line of ``parent``'s child processes (from /proc)."""
    out: dict[int, str] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == parent:
                out[int(entry)] = Path(f"/proc/{entry}/cmdline").read_bytes().replace(
                    b"\0", b" ").decode()
        except (OSError, ValueError, IndexError):
            continue
    return out


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.slow
async def test_a_killed_worker_loses_its_session_to_the_other_and_participants_reoffer(
        pg_database: str, redis_prefix: str, tmp_path: Path) -> None:
    aiortc_seams.set_announced_addresses(["127.0.0.1"])  # the bots' own candidates
    env = node_env(pg_database, REDIS_URL, redis_prefix, tmp_path,
                   TIAOJIE_METRICS_TOKEN=SCRAPER,
                   TIAOJIE_RECONNECT_GRACE_S="60", TIAOJIE_ANNOUNCED_ADDRESSES='["127.0.0.1"]')
    cli(env, "user", "create", "--username", "li", "--role", "mediator", "--password", PASSWORD)
    signaling = start_node(env, tmp_path)
    base = free_port()
    while True:  # two consecutive free ports for the two workers
        try:
            with socket.socket() as s:
                s.bind(("127.0.0.1", base + 1))
            break
        except OSError:
            base = free_port()
    log = tmp_path / "media.log"
    with open(log, "wb") as fh:
        supervisor = subprocess.Popen(
            [sys.executable, "-m", "signaling.cli", "media", "--workers", "2",
             "--host", "127.0.0.1", "--port", str(base)],
            env=dict(env, TIAOJIE_NODE_ID="media-a"), stdout=fh, stderr=subprocess.STDOUT)
    workers = [Node(base + i, supervisor, log) for i in range(2)]
    bots: list[RtcBot] = []
    worker_pids: list[int] = []
    try:
        for w in workers:
            wait_healthy(w)
        from redis.asyncio import Redis

        r = Redis.from_url(REDIS_URL)
        nodes = cast("list[bytes]", await r.zrange(f"{redis_prefix}:media:nodes", 0, -1))
        registered = [x.decode() for x in nodes]
        assert sorted(registered) == ["media-a-w0", "media-a-w1"]
        async with aiohttp.ClientSession() as http:
            staff = await login_at(signaling.url, http, "li")
            _, sid = await staff.new_session()
            med = await connect(signaling.url, {"token": staff.token, "session_id": sid})
            a = await connect(signaling.url, {"invite": (await staff.invite(sid))["token"],
                                              "name": "张三", "consent": True})
            assert (await med.call("admit", {"participant_id": a.pid}))["ok"]
            await a.wait_for("admitted")
            bot_med, bot_a = RtcBot(med, tone=False), RtcBot(a, tone=True)
            bots += [bot_med, bot_a]
            await bot_med.publish()
            await bot_a.publish()
            await eventually(lambda: bot_med.energy_from(a.pid) > 1.0)

            owner = cast(bytes, await r.get(f"{redis_prefix}:media:session:{sid}")).decode()
            index = int(owner.rsplit("-w", 1)[1])
            # The owning worker's metrics count the packets it forwards (per-core sizing).
            async with http.get(f"{workers[index].url}/metrics",
                                headers={"Authorization": f"Bearer {SCRAPER}"}) as resp:
                metrics = await resp.text()
            forwarded = next(float(line.split()[-1]) for line in metrics.splitlines()
                             if line.startswith("tiaojie_media_packets_forwarded "))
            assert forwarded > 0
            victim = next(pid for pid, cmd in _children(supervisor.pid).items()
                          if f"--port {base + index}" in cmd)
            os.kill(victim, signal.SIGKILL)
            # The participants' connections fail; they re-offer, as browsers do.
            mark = bot_med.energy_from(a.pid)
            for bot in bots:
                await bot.restart()
            await eventually(lambda: bot_med.energy_from(a.pid) > mark + 1.0, timeout=30)
            moved = cast(bytes, await r.get(f"{redis_prefix}:media:session:{sid}")).decode()
            assert moved == f"media-a-w{1 - index}"
            # The supervisor started the dead worker again: it registers anew.
            wait_healthy(workers[index])

            async def both_registered() -> bool:
                nodes = cast("list[bytes]", await r.zrange(f"{redis_prefix}:media:nodes", 0, -1))
                ids = {x.decode() for x in nodes}
                return (owner in ids
                        and await r.get(f"{redis_prefix}:media:node:{owner}") is not None)

            for _ in range(100):
                if await both_registered():
                    break
                await asyncio.sleep(0.1)
            assert await both_registered()
        await r.aclose()
        worker_pids = list(_children(supervisor.pid))
        assert len(worker_pids) == 2
    finally:
        for bot in bots:
            await bot.close()
        supervisor.terminate()
        try:
            supervisor.wait(20)
        except subprocess.TimeoutExpired:
            supervisor.kill()
        signaling.stop()
    for pid in worker_pids:  # the workers went with the supervisor
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text()
