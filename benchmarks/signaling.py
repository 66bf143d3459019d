"""Signaling benchmark: N Socket.IO clients in R rooms on one node.

Measures join time (connect → ``joined``) and chat fan-out latency (send → every other
member of the room has it), p50/p99. The server runs as a separate ``tiaojie serve``
process on embedded defaults (SQLite, no Redis) unless ``--redis`` is given.

    python benchmarks/signaling.py [--clients 500] [--rooms 50] [--messages 5]
    python benchmarks/signaling.py --smoke   # seconds: 2 rooms of 4, 2 messages each
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import socketio

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.signaling.nodes import cli, node_env, start_node

PASSWORD = "benchmark-password-1"


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))]


class Bot:
    def __init__(self) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.pid = ""
        self.joined = asyncio.Event()
        self.admitted = asyncio.Event()
        self.inbox: dict[str, float] = {}
        self.sio.on("joined", self._joined)
        self.sio.on("admitted", lambda d: self.admitted.set())
        self.sio.on("chat", self._chat)

    async def _joined(self, data: dict[str, Any]) -> None:
        self.pid = data["participant_id"]
        if data["state"] == "room":
            self.admitted.set()
        self.joined.set()

    async def _chat(self, data: dict[str, Any]) -> None:
        self.inbox[data["text"]] = time.perf_counter()


async def run(args: argparse.Namespace) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="tj-bench-"))
    db_url = f"sqlite+aiosqlite:///{tmp / 'tiaojie.db'}"
    env = node_env(db_url, args.redis_url if args.redis else "", f"tjbench-{os.getpid()}", tmp)
    if not args.redis:
        env["TIAOJIE_REDIS_URL"] = ""
    cli(env, "user", "create", "--username", "bench", "--role", "mediator",
        "--password", PASSWORD)
    node = start_node(env, tmp)
    per_room = args.clients // args.rooms
    join_ms: list[float] = []
    fanout_ms: list[float] = []
    bots: list[Bot] = []
    try:
        async with aiohttp.ClientSession() as http:
            async with http.post(node.url + "/api/v1/auth/login",
                                 json={"username": "bench", "password": PASSWORD}) as r:
                token = (await r.json())["token"]
            hdr = {"Authorization": f"Bearer {token}"}
            rooms: list[tuple[str, str]] = []
            for i in range(args.rooms):
                async with http.post(node.url + "/api/v1/cases", headers=hdr, json={
                        "number": f"bench-{i}", "dispute_type": "bench"}) as r:
                    case = await r.json()
                async with http.post(node.url + f"/api/v1/cases/{case['id']}/sessions",
                                     headers=hdr, json={}) as r:
                    sess = await r.json()
                async with http.post(node.url + f"/api/v1/sessions/{sess['id']}/invites",
                                     headers=hdr, json={"max_uses": 50}) as r:
                    inv = await r.json()
                rooms.append((sess["id"], inv["token"]))

            gate = asyncio.Semaphore(args.concurrency)

            async def join(auth: dict[str, Any]) -> Bot:
                bot = Bot()
                async with gate:
                    t0 = time.perf_counter()
                    await bot.sio.connect(node.url, auth=auth, transports=["websocket"],
                                          wait_timeout=30)
                    await asyncio.wait_for(bot.joined.wait(), 30)
                    join_ms.append((time.perf_counter() - t0) * 1000)
                return bot

            members: list[list[Bot]] = []
            for session_id, inv_token in rooms:
                med = await join({"token": token, "session_id": session_id})
                parties = await asyncio.gather(*(
                    join({"invite": inv_token, "name": f"p{k}", "consent": True})
                    for k in range(per_room - 1)))
                for p in parties:
                    await med.sio.call("admit", {"participant_id": p.pid}, timeout=30)
                await asyncio.gather(*(asyncio.wait_for(p.admitted.wait(), 30) for p in parties))
                members.append([med, *parties])
                bots.extend([med, *parties])

            sent: list[tuple[str, float, list[Bot]]] = []

            async def talk(room_bots: list[Bot], r: int) -> None:
                for m in range(args.messages):
                    sender = room_bots[(m + 1) % len(room_bots)]
                    text = f"r{r}-m{m}"
                    t0 = time.perf_counter()
                    sent.append((text, t0, [b for b in room_bots if b is not sender]))
                    await sender.sio.emit("chat", {"text": text})
                    await asyncio.sleep(args.interval)

            await asyncio.gather(*(talk(rb, r) for r, rb in enumerate(members)))
            deadline = time.perf_counter() + 30
            lost = 0
            for text, t0, receivers in sent:
                for b in receivers:
                    while text not in b.inbox and time.perf_counter() < deadline:
                        await asyncio.sleep(0.01)
                    if text in b.inbox:
                        fanout_ms.append((b.inbox[text] - t0) * 1000)
                    else:
                        lost += 1
    finally:
        await asyncio.gather(*(b.sio.disconnect() for b in bots), return_exceptions=True)
        node.stop()
    return {
        "clients": len(bots), "rooms": args.rooms, "mode": "redis" if args.redis else "embedded",
        "smoke": args.smoke,
        "join_p50_ms": round(pct(join_ms, 50), 1), "join_p99_ms": round(pct(join_ms, 99), 1),
        "fanout_p50_ms": round(pct(fanout_ms, 50), 1),
        "fanout_p99_ms": round(pct(fanout_ms, 99), 1),
        "fanout_deliveries": len(fanout_ms), "lost_messages": lost,
        "fanout_mean_ms": round(statistics.fmean(fanout_ms), 1) if fanout_ms else None,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=500)
    ap.add_argument("--rooms", type=int, default=50)
    ap.add_argument("--messages", type=int, default=5, help="chat messages per room")
    ap.add_argument("--interval", type=float, default=0.5, help="seconds between a room's messages")
    ap.add_argument("--concurrency", type=int, default=20, help="joins in flight at once")
    ap.add_argument("--redis", action="store_true", help="run the node with Redis")
    ap.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    ap.add_argument("--smoke", action="store_true",
                    help="seconds, tiny load (CI): 2 rooms of 4 clients, 2 messages each")
    args = ap.parse_args()
    if args.smoke:
        args.clients, args.rooms, args.messages, args.interval = 8, 2, 2, 0.1
    res = asyncio.run(run(args))
    print(f"{'metric':<22}{'value':>12}")
    for k, v in res.items():
        print(f"{k:<22}{v!s:>12}")
    print("RESULT " + json.dumps(res))
    # At smoke load every chat line must arrive: a lost one means the fan-out is broken.
    return 1 if args.smoke and res["lost_messages"] else 0


if __name__ == "__main__":
    sys.exit(main())
