"""Expert-call benchmark: from the mediator's request to the expert in the room, and the
acceptance race.

A ``tiaojie serve`` process runs on embedded defaults (SQLite, no Redis) unless
``--postgres`` / ``--redis`` are given. Experts are Socket.IO consoles on ``/experts``
that accept every ring after ``--accept-delay-ms`` and then join the room with their grant.

* ring → join: the mediator sends ``expert_call`` (consultation scope) until the winning
  expert's room connection has its ``joined`` welcome (in the consultation caucus); also
  until the mediator is told ``joined`` (the server's seat watcher). Every ring goes to
  ``--experts`` consoles at once, so each call is also a small race.
* race: ``--racers`` consoles all accept the same call at the same moment, for
  ``--race-rounds`` calls; exactly one may win each round.

Every call comes from one mediator's seat, so the server under test is started with the
expert-call limit (``TIAOJIE_RATE_LIMITS``, ten per ten minutes by default) raised to
the number of calls this run makes; the limit itself stays on.

Prints a table and a final line ``RESULT {json}`` with ``ring_to_join_p50_ms``,
``ring_to_join_p99_ms`` and ``race_winners_max`` (must be 1; the exit status is 1 if not).

    python benchmarks/experts.py [--calls 40] [--experts 5] [--racers 50] [--race-rounds 10]
    python benchmarks/experts.py --smoke   # seconds: 3 calls, 2 experts, 2 rounds of 5
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
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import socketio

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from experts.limits import EXPERT_CALL  # noqa: E402
from signaling.accounts import create_user, ensure_office  # noqa: E402
from signaling.db.engine import Database  # noqa: E402
from signaling.db.migrate import migrate  # noqa: E402
from tests.conftest import create_pg_database, drop_pg_database, pg_url  # noqa: E402
from tests.signaling.nodes import node_env, start_node  # noqa: E402

PASSWORD = "benchmark-password-1"
OFFICE = "长宁区北新泾街道人民调解委员会"
REDIS_URL = os.environ.get("TIAOJIE_TEST_REDIS", "redis://127.0.0.1:6379/0")


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))]


async def prepare_accounts(db_url: str, experts: int) -> None:
    """Users straight into the database: the CLI would start a process per user."""
    db = Database(db_url)
    await migrate(db)
    async with db.session() as s:
        office = await ensure_office(s, OFFICE)
        await create_user(s, office_id=office.id, username="med", password=PASSWORD,
                          role="mediator")
        await create_user(s, office_id=office.id, username="admin", password=PASSWORD,
                          role="admin")
        for i in range(experts):
            await create_user(s, office_id=office.id, username=f"x{i}", password=PASSWORD,
                              role="expert", display_name=f"专家{i}")
        await s.commit()
    await db.close()


class Console:
    """One expert: a console on /experts and, once a call is won, a seat in the room."""

    def __init__(self, url: str, token: str, delay_s: float, auto: bool) -> None:
        self.url, self.token, self.delay_s, self.auto = url, token, delay_s, auto
        self.sio = socketio.AsyncClient(reconnection=False)
        self.rings: dict[str, asyncio.Event] = {}
        self.joined: dict[str, float] = {}
        """call id → perf_counter when the room welcomed this expert."""
        self.room: socketio.AsyncClient | None = None
        self.removed = asyncio.Event()
        self.sio.on("ring", self._ring, namespace="/experts")

    async def open(self) -> None:
        await self.sio.connect(self.url, auth={"token": self.token}, namespaces=["/experts"],
                               transports=["websocket"], wait_timeout=20)

    async def _ring(self, data: dict[str, Any]) -> None:
        self.rings.setdefault(data["call_id"], asyncio.Event()).set()
        if self.auto:
            asyncio.create_task(self._answer(data["call_id"]))

    async def _answer(self, call_id: str) -> None:
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        ack = await self.accept(call_id)
        if not ack.get("ok"):
            return
        room = socketio.AsyncClient(reconnection=False)
        self.room, self.removed = room, asyncio.Event()
        room.on("joined", lambda d: self.joined.setdefault(call_id, time.perf_counter()))
        room.on("removed", lambda d: self.removed.set())
        await room.connect(self.url, auth={"resume": ack["grant"]["token"]},
                           transports=["websocket"], wait_timeout=20)

    async def accept(self, call_id: str) -> dict[str, Any]:
        return dict(await self.sio.call("accept", {"call_id": call_id}, namespace="/experts",
                                        timeout=30))

    async def close(self) -> None:
        for c in (self.room, self.sio):
            if c is not None and c.connected:
                await c.disconnect()


class Mediator:
    def __init__(self) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.states: dict[str, dict[str, Any]] = {}
        self.joined_at: dict[str, float] = {}
        self.sio.on("expert_call_state", self._state)

    async def _state(self, d: dict[str, Any]) -> None:
        self.states[d["call_id"]] = d
        if d["state"] == "joined":
            self.joined_at.setdefault(d["call_id"], time.perf_counter())

    async def call(self, event: str, data: dict[str, Any]) -> dict[str, Any]:
        return dict(await self.sio.call(event, data, timeout=30))


async def until(pred: Any, timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > end:
            raise TimeoutError("condition not met")
        await asyncio.sleep(0.002)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="tj-bench-experts-"))
    pg_name = await create_pg_database() if args.postgres else None
    db_url = pg_url(pg_name) if pg_name else f"sqlite+aiosqlite:///{tmp / 'tiaojie.db'}"
    experts = max(args.experts, args.racers)
    await prepare_accounts(db_url, experts)
    env = node_env(db_url, REDIS_URL if args.redis else "", f"tjbench-{uuid.uuid4().hex[:8]}",
                   tmp)
    if not args.redis:
        env["TIAOJIE_REDIS_URL"] = ""
    # One seat makes every call: allow exactly this run's calls in the window.
    env["TIAOJIE_RATE_LIMITS"] = json.dumps(
        {"expert_call": [args.calls + args.race_rounds, EXPERT_CALL.window_s]})
    node = start_node(env, tmp)
    consoles: list[Console] = []
    try:
        async with aiohttp.ClientSession() as http:
            async def login(username: str) -> dict[str, Any]:
                async with http.post(node.url + "/api/v1/auth/login",
                                     json={"username": username, "password": PASSWORD}) as r:
                    return dict(await r.json())

            async def api(token: str, method: str, path: str, body: Any = None) -> Any:
                async with http.request(method, node.url + path, json=body, headers={
                        "Authorization": f"Bearer {token}"}) as r:
                    out = await r.json()
                    assert r.status < 300, out
                    return out

            med_login, admin = await login("med"), await login("admin")
            tokens = []
            for i in range(experts):
                x = await login(f"x{i}")
                await api(admin["token"], "POST", "/api/v1/experts", {
                    "user_id": x["user"]["id"], "domains": ["property"], "availability": []})
                tokens.append(x["token"])
            case = await api(med_login["token"], "POST", "/api/v1/cases", {
                "number": "(2026)基准第1号", "dispute_type": "property"})
            sess = await api(med_login["token"], "POST",
                             f"/api/v1/cases/{case['id']}/sessions", {"title": "基准"})
            med = Mediator()
            await med.sio.connect(node.url, auth={"token": med_login["token"],
                                                  "session_id": sess["id"]},
                                  transports=["websocket"], wait_timeout=20)

            # -- ring → join ----------------------------------------------------------
            consoles = [Console(node.url, t, args.accept_delay_ms / 1000, True)
                        for t in tokens[:args.experts]]
            for c in consoles:
                await c.open()
            join_ms, seen_ms = [], []
            for _ in range(args.calls):
                t0 = time.perf_counter()
                ack = await med.call("expert_call", {"domain": "property",
                                                     "scope": "consultation"})
                assert ack["ok"], ack
                cid = ack["call"]["call_id"]
                await until(lambda cid=cid: any(cid in c.joined for c in consoles)
                            and cid in med.joined_at)
                winner = next(c for c in consoles if cid in c.joined)
                join_ms.append((winner.joined[cid] - t0) * 1000)
                seen_ms.append((med.joined_at[cid] - t0) * 1000)
                assert (await med.call("expert_call_end", {"call_id": cid}))["ok"]
                await asyncio.wait_for(winner.removed.wait(), 30)
                if winner.room is not None:
                    await winner.room.disconnect()
            for c in consoles:
                await c.close()

            # -- the race ---------------------------------------------------------------
            consoles = [Console(node.url, t, 0, False) for t in tokens[:args.racers]]
            await asyncio.gather(*(c.open() for c in consoles))
            winners_per_round, taken, accept_ms = [], 0, []
            for _ in range(args.race_rounds):
                ack = await med.call("expert_call", {"domain": "property", "scope": "joint"})
                cid = ack["call"]["call_id"]
                assert ack["call"]["ringing"] == len(consoles), ack
                for c in consoles:
                    await asyncio.wait_for(c.rings.setdefault(cid, asyncio.Event()).wait(), 30)
                t0 = time.perf_counter()

                async def timed(c: Console, cid: str = cid, t0: float = t0) -> dict[str, Any]:
                    out = await c.accept(cid)
                    accept_ms.append((time.perf_counter() - t0) * 1000)
                    return out
                answers = await asyncio.gather(*(timed(c) for c in consoles))
                winners_per_round.append(sum(1 for a in answers if a.get("ok")))
                taken += sum(1 for a in answers
                             if not a.get("ok") and a["error"]["code"] == "already_taken")
                assert (await med.call("expert_call_end", {"call_id": cid}))["ok"]
            await med.sio.disconnect()
    finally:
        for c in consoles:
            await c.close()
        node.stop()
        if pg_name:
            await drop_pg_database(pg_name)
    return {
        "benchmark": "experts.call", "database": "postgresql" if args.postgres else "sqlite",
        "redis": bool(args.redis), "smoke": args.smoke, "calls": args.calls,
        "experts": args.experts,
        "accept_delay_ms": args.accept_delay_ms,
        "ring_to_join_p50_ms": round(pct(join_ms, 50), 1),
        "ring_to_join_p99_ms": round(pct(join_ms, 99), 1),
        "ring_to_join_mean_ms": round(statistics.fmean(join_ms), 1),
        "mediator_told_joined_p50_ms": round(pct(seen_ms, 50), 1),
        "mediator_told_joined_p99_ms": round(pct(seen_ms, 99), 1),
        "racers": args.racers, "race_rounds": args.race_rounds,
        "race_winners_min": min(winners_per_round), "race_winners_max": max(winners_per_round),
        "race_already_taken": taken,
        "race_accept_p50_ms": round(pct(accept_ms, 50), 1),
        "race_accept_p99_ms": round(pct(accept_ms, 99), 1),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=40, help="ring → join measurements")
    ap.add_argument("--experts", type=int, default=5, help="consoles rung for each call")
    ap.add_argument("--accept-delay-ms", type=float, default=0.0,
                    help="how long an expert waits before accepting")
    ap.add_argument("--racers", type=int, default=50, help="simultaneous accepts per round")
    ap.add_argument("--race-rounds", type=int, default=10)
    ap.add_argument("--postgres", action="store_true",
                    help="a fresh database on the machine's PostgreSQL instead of SQLite")
    ap.add_argument("--redis", action="store_true", help="use the machine's Redis")
    ap.add_argument("--smoke", action="store_true",
                    help="seconds, tiny load (CI): 3 calls, 2 experts, 2 rounds of 5 racers")
    args = ap.parse_args()
    if args.smoke:
        args.calls, args.experts, args.racers, args.race_rounds = 3, 2, 5, 2
    r = asyncio.run(run(args))
    rows = [("ring → expert in room", r["ring_to_join_p50_ms"], r["ring_to_join_p99_ms"]),
            ("ring → mediator told joined", r["mediator_told_joined_p50_ms"],
             r["mediator_told_joined_p99_ms"]),
            (f"accept under {r['racers']} racers", r["race_accept_p50_ms"],
             r["race_accept_p99_ms"])]
    print(f"{'measure':<32}{'p50 ms':>10}{'p99 ms':>10}")
    for name, p50, p99 in rows:
        print(f"{name:<32}{p50:>10.1f}{p99:>10.1f}")
    print(f"race: {r['race_rounds']} rounds of {r['racers']}: winners per round "
          f"{r['race_winners_min']}..{r['race_winners_max']}, "
          f"{r['race_already_taken']} told already_taken")
    print("RESULT " + json.dumps(r, ensure_ascii=False))
    return 0 if r["race_winners_max"] == 1 and r["race_winners_min"] == 1 else 1


if __name__ == "__main__":
    sys.exit(main())
