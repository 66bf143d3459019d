"""Topology benchmark: two signaling nodes and two transcription workers as processes on
PostgreSQL and Redis, under R rooms of bots; kill -9 one of each role and measure.

* recovery_signaling_s: from killing a signaling node to each of its clients being
  seated again on the other node (resume token) with a chat round trip working.
* recovery_worker_s: from killing a worker holding utterances to every queued utterance
  being stored by the other; lost_utterances must be 0 and none is stored twice.
* recovery_media_s: two nodes with media on; a mediator bot on one and a party bot
  (speaking a tone) on the other; the node holding the session's SFU is killed; from
  the kill to the mediator hearing the party again, the bots reconnecting and re-offering
  as browsers do (the bots notice at once; browsers take their ICE failure time more).

    python benchmarks/topology.py [--rooms 10] [--utterances 12]
    python benchmarks/topology.py --smoke   # every phase at the least load: 1 room, 2 utterances

The exit status is 1 when an utterance is lost or stored twice.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from redis.asyncio import Redis  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from media.tap import Speaker  # noqa: E402
from signaling.db.engine import Database  # noqa: E402
from signaling.settings import DEFAULT_SECRET  # noqa: E402
from tests.conftest import REDIS_URL, SHARED_DATA, create_pg_database, drop_pg_database, pg_url  # noqa: E402
from tests.signaling.harness import PASSWORD, Client, connect  # noqa: E402
from tests.signaling.nodes import cli, node_env, start_node  # noqa: E402
from transcription.audio import decode_file, float_to_int16  # noqa: E402
from transcription.captions import queue_stream  # noqa: E402
from transcription.queue import DEFAULT_GROUP, FinishedSegment, QueueCipher, enqueue  # noqa: E402
from transcription.tables import UtteranceRow  # noqa: E402


def start_worker(env: dict[str, str], name: str, log: Path) -> subprocess.Popen[bytes]:
    env = dict(env, TIAOJIE_NODE_ID=name, TIAOJIE_TRANSCRIPTION_CLAIM_IDLE_MS="2000",
               TIAOJIE_LANGUAGE="en")
    with open(log, "wb") as fh:
        return subprocess.Popen([sys.executable, "-m", "signaling.cli", "worker",
                                 "transcription"], env=env, stdout=fh, stderr=subprocess.STDOUT)


async def signaling_phase(env: dict[str, str], tmp: Path, rooms: int) -> dict[str, Any]:
    n1, n2 = start_node(env, tmp), start_node(env, tmp)
    clients: list[Client] = []
    try:
        async with aiohttp.ClientSession() as http:
            async with http.post(n1.url + "/api/v1/auth/login",
                                 json={"username": "bench", "password": PASSWORD}) as r:
                token = (await r.json())["token"]
            hdr = {"Authorization": f"Bearer {token}"}
            on_n2: list[tuple[Client, Client]] = []  # (party on node 2, its mediator)
            for i in range(rooms):
                async with http.post(n1.url + "/api/v1/cases", headers=hdr,
                                     json={"number": f"topo-{i}", "dispute_type": "x"}) as r:
                    case = await r.json()
                async with http.post(n1.url + f"/api/v1/cases/{case['id']}/sessions",
                                     headers=hdr, json={}) as r:
                    sid = (await r.json())["id"]
                async with http.post(n1.url + f"/api/v1/sessions/{sid}/invites", headers=hdr,
                                     json={"max_uses": 5}) as r:
                    inv = (await r.json())["token"]
                med = await connect(n1.url, {"token": token, "session_id": sid})
                pa = await connect(n1.url, {"invite": inv, "name": "甲", "consent": True})
                pb = await connect(n2.url, {"invite": inv, "name": "乙", "consent": True})
                for p in (pa, pb):
                    await med.call("admit", {"participant_id": p.pid})
                clients += [med, pa, pb]
                on_n2.append((pb, med))
            sessions_held = rooms
            killed_at = time.monotonic()
            n2.kill()

            async def recover(party: Client, med: Client) -> float:
                back = await connect(n1.url, {"resume": party.welcome["resume_token"]})
                clients.append(back)
                text = f"back-{uuid.uuid4().hex[:6]}"
                await back.call("chat", {"text": text})
                await med.wait_for("chat", lambda d: d["text"] == text, timeout=30)
                return time.monotonic() - killed_at

            times = await asyncio.gather(*(recover(p, m) for p, m in on_n2))
    finally:
        for c in clients:
            if c.sio.connected:
                await c.sio.disconnect()
        n1.stop()
        n2.stop()
    return {"sessions_held": sessions_held, "recovery_signaling_p50_s": statistics.median(times),
            "recovery_signaling_s": max(times)}


async def worker_phase(env: dict[str, str], tmp: Path, db_url: str, prefix: str,
                       utterances: int) -> dict[str, Any]:
    redis = Redis.from_url(REDIS_URL)
    stream = queue_stream(prefix)
    db = Database(db_url)
    clips = sorted((SHARED_DATA / "speech" / "en").glob("spk*_snt*.wav"))
    async with db.session() as s:
        from signaling.db.models import MediationSession

        sid = (await s.execute(select(MediationSession.id).limit(1))).scalar_one()
    w1 = start_worker(env, "worker-1", tmp / "w1.log")
    w2 = None
    try:
        for _ in range(600):
            if await redis.exists(stream) and any(
                    g["consumers"] for g in await redis.xinfo_groups(stream)):
                break
            await asyncio.sleep(0.1)
        for i in range(utterances):
            pcm = float_to_int16(decode_file(clips[i % len(clips)]))
            await enqueue(redis, FinishedSegment(sid, Speaker("b" * 32, "Bot", "party"), None,
                                                 float(i * 5), float(i * 5 + 3), "en", pcm),
                          stream=stream, cipher=QueueCipher.from_secret(DEFAULT_SECRET))
        while not await redis.xpending_range(stream, DEFAULT_GROUP, "-", "+", 5,
                                             consumername="worker-1"):
            await asyncio.sleep(0.02)
        w1.send_signal(signal.SIGKILL)
        w1.wait(10)
        killed_at = time.monotonic()
        w2 = start_worker(env, "worker-2", tmp / "w2.log")
        deadline = time.monotonic() + 300
        stored = 0
        while time.monotonic() < deadline:
            async with db.session() as s:
                stored = (await s.execute(select(func.count()).select_from(UtteranceRow))
                          ).scalar_one()
            if stored >= utterances and (await redis.xpending(stream, DEFAULT_GROUP))[
                    "pending"] == 0:
                break
            await asyncio.sleep(0.2)
        recovery = time.monotonic() - killed_at
        async with db.session() as s:
            ids = list((await s.execute(select(UtteranceRow.id))).scalars())
    finally:
        for w in (w1, w2):
            if w is not None and w.poll() is None:
                w.terminate()
                w.wait(10)
        await redis.aclose()
        await db.close()
    return {"utterances": utterances, "stored": len(ids), "duplicates": len(ids) - len(set(ids)),
            "lost_utterances": utterances - len(set(ids)), "recovery_worker_s": recovery}


async def media_phase(env: dict[str, str], tmp: Path, prefix: str) -> dict[str, Any]:
    from media import aiortc_seams
    from tests.signaling.harness import login_at
    from tests.signaling.rtc_bot import RtcBot

    aiortc_seams.set_announced_addresses(["127.0.0.1"])
    menv = dict(env, TIAOJIE_MEDIA_ENABLED="true", TIAOJIE_RECONNECT_GRACE_S="60")
    n1, n2 = start_node(menv, tmp), start_node(menv, tmp)
    bots: list[RtcBot] = []
    try:
        async with aiohttp.ClientSession() as http:
            staff = await login_at(n1.url, http, "bench")
            _, sid = await staff.new_session("topo-media")
            med = await connect(n1.url, {"token": staff.token, "session_id": sid})
            a = await connect(n2.url, {"invite": (await staff.invite(sid))["token"],
                                       "name": "甲", "consent": True})
            await med.call("admit", {"participant_id": a.pid})
            await a.wait_for("admitted")
            bm, ba = RtcBot(med, tone=False), RtcBot(a, tone=True)
            bots = [bm, ba]
            await bm.publish()
            await ba.publish()
            while bm.energy_from(a.pid) < 1.0:
                await asyncio.sleep(0.05)
            r = Redis.from_url(REDIS_URL)
            owner = (await r.get(f"{prefix}:media:session:{sid}")).decode()
            await r.aclose()
            victim, survivor = (n1, n2) if owner.endswith(str(n1.port)) else (n2, n1)
            killed_at = time.monotonic()
            victim.kill()
            if victim is n1:
                bm.rebind(await connect(survivor.url, {"token": staff.token,
                                                       "session_id": sid}))
            else:
                ba.rebind(await connect(survivor.url, {"resume": a.welcome["resume_token"]}))
            mark = bm.energy_from(a.pid)
            await asyncio.gather(bm.restart(), ba.restart())
            while bm.energy_from(a.pid) < mark + 1.0 and time.monotonic() - killed_at < 60:
                await asyncio.sleep(0.05)
            return {"recovery_media_s": time.monotonic() - killed_at}
    finally:
        for bot in bots:
            await bot.close()
        n1.stop()
        n2.stop()


async def run(args: argparse.Namespace) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="tj-topo-"))
    name = await create_pg_database()
    db_url = pg_url(name)
    prefix = f"tjtopo-{os.getpid()}"
    env = node_env(db_url, REDIS_URL, prefix, tmp)
    try:
        cli(env, "user", "create", "--username", "bench", "--role", "mediator",
            "--password", PASSWORD)
        sig = await signaling_phase(env, tmp, args.rooms)
        med = await media_phase(env, tmp, prefix)
        wrk = await worker_phase(env, tmp, db_url, prefix, args.utterances)
    finally:
        await drop_pg_database(name)
        r = Redis.from_url(REDIS_URL)
        keys = [k async for k in r.scan_iter(f"{prefix}*")]
        if keys:
            await r.delete(*keys)
        await r.aclose()
    return {"rooms": args.rooms, **sig, **med, **wrk}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rooms", type=int, default=10)
    ap.add_argument("--utterances", type=int, default=12)
    ap.add_argument("--smoke", action="store_true",
                    help="seconds, tiny load (CI): 1 room, 2 utterances, every phase")
    args = ap.parse_args()
    if args.smoke:
        args.rooms, args.utterances = 1, 2
    res = {"smoke": args.smoke, **asyncio.run(run(args))}
    print(f"{'metric':<28}{'value':>14}")
    for k, v in res.items():
        print(f"{k:<28}{(round(v, 3) if isinstance(v, float) else v)!s:>14}")
    print("RESULT " + json.dumps({k: (round(v, 3) if isinstance(v, float) else v)
                                  for k, v in res.items()}))
    return 1 if res["lost_utterances"] or res["duplicates"] else 0


if __name__ == "__main__":
    sys.exit(main())
