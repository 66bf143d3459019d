"""``tiaojie worker transcription`` processes on Redis: a worker killed with an utterance
in hand loses nothing; the other stores it exactly once and captions its audience."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest
from redis.asyncio import Redis
from sqlalchemy import func, select

from media.tap import Speaker
from tests.conftest import REDIS_URL, SHARED_DATA
from tests.signaling.harness import connect, login, make_user, running_server
from tests.signaling.nodes import node_env
from transcription.audio import decode_file, float_to_int16
from transcription.captions import queue_stream
from transcription.queue import DEFAULT_GROUP, FinishedSegment, QueueCipher, enqueue
from transcription.tables import UtteranceRow

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]


def start_worker(env: dict[str, str], name: str, log: Path) -> subprocess.Popen[bytes]:
    env = dict(env, TIAOJIE_NODE_ID=name, TIAOJIE_TRANSCRIPTION_CLAIM_IDLE_MS="1500")
    with open(log, "wb") as fh:
        return subprocess.Popen([sys.executable, "-m", "signaling.cli", "worker",
                                 "transcription"], env=env, stdout=fh, stderr=subprocess.STDOUT)


async def pending_for(redis: Redis, stream: str, consumer: str) -> int:
    try:
        rows = await redis.xpending_range(stream, DEFAULT_GROUP, "-", "+", 10,
                                          consumername=consumer)
    except Exception:
        return 0
    return len(rows)


async def test_a_killed_worker_loses_no_utterance_and_none_is_stored_twice(
        pg_database: str, redis_prefix: str, tmp_path: Path) -> None:
    env = node_env(pg_database, REDIS_URL, redis_prefix, tmp_path, TIAOJIE_LANGUAGE="en")
    async with running_server(pg_database, tmp_path, redis_url=REDIS_URL,
                              redis_prefix=redis_prefix) as srv, aiohttp.ClientSession() as http:
        await make_user(srv, "li")
        staff = await login(srv, http, "li")
        _, sid = await staff.new_session()
        med = await connect(srv.url, {"token": staff.token, "session_id": sid})
        redis = Redis.from_url(REDIS_URL)
        stream = queue_stream(redis_prefix)
        pcm = float_to_int16(decode_file(SHARED_DATA / "speech" / "en" / "jfk.flac"))
        segment = FinishedSegment(sid, Speaker(med.pid, "Li", "mediator"), None, 0.0,
                                  len(pcm) / 16000, "en", pcm)
        w1 = start_worker(env, "worker-1", tmp_path / "w1.log")
        w2 = None
        try:
            # Wait until worker 1 has read the group (it is up), then hand it the utterance.
            for _ in range(600):
                groups = await redis.xinfo_groups(stream) if await redis.exists(stream) else []
                if any(g["consumers"] for g in groups):
                    break
                await asyncio.sleep(0.1)
            await enqueue(redis, segment, stream=stream,
                          cipher=QueueCipher.from_secret(srv.services.settings.secret_key))
            for _ in range(200):
                if await pending_for(redis, stream, "worker-1"):
                    break
                await asyncio.sleep(0.02)
            assert await pending_for(redis, stream, "worker-1") == 1
            w1.kill()  # SIGKILL with the utterance in hand, not yet acknowledged
            w1.wait(10)
            async with srv.services.db.session() as db:
                stored = (await db.execute(select(func.count()).select_from(UtteranceRow)))
                assert stored.scalar_one() == 0
            w2 = start_worker(env, "worker-2", tmp_path / "w2.log")
            caption = await med.wait_for("caption", timeout=120)
            assert caption["final"] and "country" in caption["text"].lower()
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                if (await redis.xpending(stream, DEFAULT_GROUP))["pending"] == 0:
                    break
                await asyncio.sleep(0.2)
            assert (await redis.xpending(stream, DEFAULT_GROUP))["pending"] == 0
            async with srv.services.db.session() as db:
                rows = list((await db.execute(select(UtteranceRow))).scalars())
            assert len(rows) == 1 and rows[0].speaker_name == "Li"
        finally:
            for w in (w1, w2):
                if w is not None and w.poll() is None:
                    w.terminate()
                    w.wait(10)
            await redis.aclose()
