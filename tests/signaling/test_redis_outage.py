"""Redis stops for 10 s under a running node: the service degrades, then recovers by
itself, and nothing stored is lost."""

from __future__ import annotations

import asyncio
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import free_port
from tests.signaling.harness import PASSWORD, connect, login_at
from tests.signaling.nodes import cli, node_env, start_node

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]

OUTAGE_S = 10.0


def start_redis(port: int, data: Path) -> subprocess.Popen[bytes]:
    # Append-only, as in production (docker-compose.yml): state survives a restart.
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                             "--appendonly", "yes", "--save", "", "--dir", str(data)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        if subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True
                          ).stdout.strip() == b"PONG":
            return proc
        time.sleep(0.05)
    raise RuntimeError("private redis did not start")


def health(url: str) -> int:
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=3) as r:
            return int(r.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    port = free_port()
    data = tmp_path / "redis"
    data.mkdir()
    proc = start_redis(port, data)
    yield port, data
    subprocess.run(["redis-cli", "-p", str(port), "shutdown", "nosave"], capture_output=True)
    proc.wait(10)


async def test_the_room_degrades_while_redis_is_down_and_recovers_without_a_restart(
        pg_database: str, private_redis: tuple[int, Path], tmp_path: Path) -> None:
    port, data = private_redis
    env = node_env(pg_database, f"redis://127.0.0.1:{port}/0", "outage", tmp_path)
    cli(env, "user", "create", "--username", "li", "--role", "mediator", "--password", PASSWORD)
    node = start_node(env, tmp_path)
    try:
        async with aiohttp.ClientSession() as http:
            staff = await login_at(node.url, http, "li")
            _, sid = await staff.new_session()
            med = await connect(node.url, {"token": staff.token, "session_id": sid})
            party = await connect(node.url, {"invite": (await staff.invite(sid))["token"],
                                             "name": "张三", "consent": True})
            assert (await med.call("admit", {"participant_id": party.pid}))["ok"]
            await party.wait_for("admitted")
            assert (await party.call("chat", {"text": "停电之前"}))["ok"]

            subprocess.run(["redis-cli", "-p", str(port), "shutdown"], capture_output=True)
            down_at = time.monotonic()
            for _ in range(100):  # health notices the outage: wait for that, not a time
                if health(node.url) == 503:
                    break
                await asyncio.sleep(0.1)
            assert health(node.url) == 503, "health must say the node is degraded"
            ack = await party.call("chat", {"text": "停电期间"})
            assert ack["ok"] is False, "a message that cannot be routed is refused, not lost"
            await asyncio.sleep(max(0.0, OUTAGE_S - (time.monotonic() - down_at)))
            proc = start_redis(port, data)
            try:
                for _ in range(100):
                    if health(node.url) == 200:
                        break
                    await asyncio.sleep(0.2)
                assert health(node.url) == 200
                # Same process, same connections: the room works again.
                ok = None
                for _ in range(50):
                    ok = await party.call("chat", {"text": "恢复之后"})
                    if ok["ok"]:
                        break
                    await asyncio.sleep(0.3)
                assert ok and ok["ok"], ok
                await med.wait_for("chat", lambda d: d["text"] == "恢复之后", timeout=20)
                for _ in range(50):  # the log is written just behind the broadcast
                    st, log = await staff.call("GET", f"/api/v1/sessions/{sid}/events")
                    texts = [e["payload"].get("text") for e in log["items"]]
                    if "恢复之后" in texts:
                        break
                    await asyncio.sleep(0.1)
                assert "停电之前" in texts and "恢复之后" in texts
            finally:
                await med.close()
                await party.close()
                subprocess.run(["redis-cli", "-p", str(port), "shutdown", "nosave"],
                               capture_output=True)
                proc.wait(10)
    finally:
        node.stop()
