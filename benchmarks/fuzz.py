"""Fuzz benchmark: schemathesis over every route and a Socket.IO fuzzer over every event
of every namespace (the room's and the expert console's), against ``tiaojie serve`` on
embedded defaults, for a bounded time.

The server is a separate process (SQLite in a temporary data directory, no Redis, the
default plugins), with a mediator made by ``tiaojie user create``. The HTTP fuzzer sends
generated requests, valid and invalid, as the mediator and anonymously, and checks that
none is answered with a 5xx and every answer matches ``/api/openapi.json``. The Socket.IO
fuzzer keeps several rooms open and sends hypothesis-made payloads for every event in
``EVENTS`` from the mediator's and a party's connection; after each round the other
party's chat must still reach both, or the room counts as crashed. An expert's console
on ``/experts`` gets the same for its events; after each round it must still answer, or
it counts as a crashed console. Both namespaces also get events named ``connect`` and
``disconnect``, which must be refused.

    python benchmarks/fuzz.py [--duration 180] [--rooms 4] [--http-workers 2]
    python benchmarks/fuzz.py --smoke     # seconds of fuzzing, for CI

The last line is ``RESULT {json}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import aiohttp
from schemathesis import GenerationMode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.security.fuzzkit import (
    ApiStats,
    ConsoleFuzzer,
    FuzzConsole,
    FuzzRoom,
    PayloadPool,
    SocketFuzzer,
    SocketStats,
    fuzz_api,
    operations,
)
from tests.signaling.nodes import Node, start_node

PASSWORD = "fuzz-benchmark-password"
SPARE_TOKENS = 12
"""Tokens logged in up front for the logout route, which revokes the token it is sent
with; taken before the anonymous fuzzer starts spending the address's login budget."""


def serve_env(data_dir: Path) -> dict[str, str]:
    """Embedded defaults: no TIAOJIE_* from the caller's shell, only a fresh data dir."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIAOJIE_")}
    env["TIAOJIE_DATA_DIR"] = str(data_dir)
    return env


async def post(http: aiohttp.ClientSession, url: str, body: dict[str, Any],
               token: str | None = None) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with http.post(url, json=body, headers=headers) as r:
        out: dict[str, Any] = await r.json()
        if r.status >= 300:
            raise RuntimeError(f"{url}: {r.status} {out}")
        return out


async def create_users(data_dir: Path, users: list[tuple[str, str]]) -> None:
    """What ``tiaojie user create`` does, for several users in one go (each CLI process
    costs seconds of imports on a busy machine)."""
    from signaling.accounts import create_user, ensure_office
    from signaling.db.engine import Database
    from signaling.db.migrate import migrate
    from signaling.settings import load_settings

    db = Database(load_settings(data_dir=data_dir, database_url="").database_url)
    await migrate(db)
    async with db.session() as s:
        office = await ensure_office(s, "默认调解委员会")
        for username, role in users:
            await create_user(s, office_id=office.id, username=username, password=PASSWORD,
                              role=role, display_name=username)
        await s.commit()
    await db.close()


def remaining(deadline: float) -> float:
    """Seconds left until a wall-clock deadline: spawned workers start late, and must
    still stop with the others."""
    return deadline - time.time()


def http_worker(doc: dict[str, Any], url: str, token: str, deadline: float,
                examples: int, known_ids: dict[str, str], logout_tokens: list[str]
                ) -> ApiStats:
    """Rounds over every operation until ``deadline`` (wall clock), each request sent as
    the mediator and anonymously; hypothesis draws fresh examples each round (no example
    database, no fixed seed). Runs in its own process: hypothesis is not thread-safe, and
    a process also gets the fuzzer a core of its own."""
    stats = ApiStats()
    until = time.monotonic() + remaining(deadline)
    identities = [{"Authorization": f"Bearer {token}"}, {}]
    while time.monotonic() < until:
        spare = logout_tokens.pop() if len(logout_tokens) > 1 else logout_tokens[0]
        header_for = {"POST /api/v1/auth/logout": {"Authorization": f"Bearer {spare}"}}
        fuzz_api(doc, url, headers=identities, examples=examples, stats=stats, until=until,
                 known_ids=known_ids, header_for=header_for,
                 modes=(GenerationMode.POSITIVE, GenerationMode.NEGATIVE))
    return stats


async def socket_worker(url: str, token: str, n: int, stats: SocketStats, until: float,
                        per_event: int, opened: list[int], pool: PayloadPool) -> None:
    """Keeps one room under fuzz until the deadline, opening a new one after a crash."""
    fuzzer = SocketFuzzer(pool.events, stats)
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < until:
            opened[0] += 1
            room = await FuzzRoom.open(url, http, token, f"FUZZ-{n}-{opened[0]}")
            try:
                while time.monotonic() < until:
                    if not await fuzzer.round(room, per_event, until, pool):
                        break
            finally:
                await room.close()


async def console_worker(url: str, token: str, stats: SocketStats, until: float,
                         per_event: int, opened: list[int], pool: PayloadPool) -> None:
    """Keeps one expert console under fuzz until the deadline, reopening it after a crash."""
    fuzzer = ConsoleFuzzer(pool.events, stats)
    while time.monotonic() < until:
        opened[0] += 1
        console = await FuzzConsole.open(url, token)
        try:
            while time.monotonic() < until:
                if not await fuzzer.round(console, per_event, until, pool):
                    break
        finally:
            await console.close()


def payload_worker(queue: Any, deadline: float, batch: int) -> None:
    """Makes Socket.IO payloads in a process of its own and streams them to the fuzzer:
    hypothesis is CPU-heavy, and in the fuzzer's process it would starve the event loop
    that is timing the acks."""
    from experts.console import CONSOLE_EVENTS
    from signaling.sockets.namespace import EVENTS
    from tests.security.fuzzkit import generate

    events_of_server()
    until = time.monotonic() + remaining(deadline)
    models = [("/", e, m) for e, m in sorted(EVENTS.items())] + \
        [("/experts", e, m) for e, m in sorted(CONSOLE_EVENTS.items())]
    try:
        while time.monotonic() < until:
            for namespace, event, model in models:
                if time.monotonic() >= until:
                    break
                queue.put((namespace, event, generate(model, batch)))
    finally:
        queue.put(None)


def events_of_server() -> int:
    """Every event the served app knows, with the other packages' events registered."""
    from signaling.app import build_app
    from signaling.settings import load_settings
    from signaling.sockets.namespace import EVENTS

    with tempfile.TemporaryDirectory() as d:
        build_app(load_settings(data_dir=Path(d), env="test"))
    return len(EVENTS)


async def run(args: argparse.Namespace, node: Node, log_dir: Path) -> dict[str, Any]:
    url = node.url
    async with aiohttp.ClientSession() as http:
        login = {"username": "fuzzmed", "password": PASSWORD}
        token = (await post(http, url + "/api/v1/auth/login", login))["token"]
        admin = (await post(http, url + "/api/v1/auth/login",
                            {"username": "fuzzadm", "password": PASSWORD}))["token"]
        expert = await post(http, url + "/api/v1/auth/login",
                            {"username": "fuzzexp", "password": PASSWORD})
        await post(http, url + "/api/v1/experts",
                   {"user_id": expert["user"]["id"], "domains": ["legal"]}, admin)
        spares = [(await post(http, url + "/api/v1/auth/login", login))["token"]
                  for _ in range(SPARE_TOKENS)]
        case = await post(http, url + "/api/v1/cases",
                          {"number": "FUZZ-IDS", "dispute_type": "fuzz"}, token)
        sess = await post(http, url + f"/api/v1/cases/{case['id']}/sessions", {}, token)
        inv = await post(http, url + f"/api/v1/sessions/{sess['id']}/invites",
                         {"role": "party"}, token)
        async with http.get(url + "/api/openapi.json") as r:
            doc: dict[str, Any] = await r.json()
    ids = {"case_id": case["id"], "session_id": sess["id"], "invite_id": inv["id"]}
    events_total = events_of_server()  # also registers the other packages' events here
    from experts.console import CONSOLE_EVENTS
    from signaling.sockets.namespace import EVENTS

    pool = PayloadPool(dict(EVENTS), batch=args.per_event)
    console_pool = PayloadPool(dict(CONSOLE_EVENTS), batch=args.per_event)
    if args.smoke:
        # Too short to wait for the payload process: a first batch made here, up front.
        await asyncio.to_thread(pool.fill_once)
        await asyncio.to_thread(console_pool.fill_once)

    start = time.monotonic()
    until = start + args.duration
    deadline = time.time() + args.duration
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(args.http_workers + 1, mp_context=get_context("spawn")) \
            as pool_exec:
        jobs = []
        for i in range(args.http_workers):
            # Each worker has its own spare tokens for the logout route.
            mine = spares[i::args.http_workers] or spares[:1]
            jobs.append(loop.run_in_executor(pool_exec, http_worker, doc, url, token,
                                             deadline, args.examples, ids, mine))
        queue = get_context("spawn").Manager().Queue()
        maker = loop.run_in_executor(pool_exec, payload_worker, queue, deadline, 4)

        def drain() -> None:
            while (item := queue.get()) is not None:
                namespace, event, batch = item
                (pool if namespace == "/" else console_pool).add(event, batch)

        filler = loop.run_in_executor(None, drain)
        while sum(len(pool.sample(e, 1)) for e in EVENTS) < len(EVENTS) // 2 \
                and time.monotonic() < until:
            await asyncio.sleep(0.5)  # let the payload process get going
        sock = SocketStats()
        console = SocketStats()
        opened = [0]
        consoles_opened = [0]
        await asyncio.gather(
            console_worker(url, expert["token"], console, until, args.per_event,
                           consoles_opened, console_pool),
            *(socket_worker(url, token, n, sock, until, args.per_event, opened, pool)
              for n in range(args.rooms)))
        await maker
        await filler
        api: list[ApiStats] = list(await asyncio.gather(*jobs))
    elapsed = time.monotonic() - start
    covered: set[str] = set().union(*(s.covered for s in api))
    log_text = node.log.read_text(errors="replace")
    return {
        "http_requests": sum(s.requests for s in api),
        "http_server_errors": sum(s.server_errors for s in api),
        "schema_violations": sum(s.schema_violations for s in api),
        "socket_events": sock.events,
        "socket_server_errors": sock.server_errors,
        "crashed_rooms": sock.crashed_rooms,
        "routes_covered": len(covered & set(operations(doc))),
        "_uncovered": sorted(set(operations(doc)) - covered),
        "routes_total": len(operations(doc)),
        "events_covered": len([e for e in sock.per_event if ":" not in e]),
        "events_total": events_total,
        "console_events": console.events,
        "console_server_errors": console.server_errors,
        "crashed_consoles": console.crashed_rooms,
        "console_events_covered": len([e for e in console.per_event
                                       if not e.endswith(("connect", "disconnect"))]),
        "console_events_total": len(CONSOLE_EVENTS),
        "lifecycle_names_refused": sock.outcomes["unknown_event"]
        + console.outcomes["unknown_event"],
        "rooms_opened": opened[0],
        "socket_rounds": sock.rounds,
        "http_transport_refusals": sum(s.transport_refusals for s in api),
        "server_log_tracebacks": log_text.count("Traceback"),
        "_log_findings": log_findings(log_text),
        "duration_s": round(elapsed, 1),
        "_api": api, "_sock": sock, "_console": console,
    }


def log_findings(text: str) -> list[str]:
    """For each traceback in the server log: the message logged with it and the error."""
    lines = text.splitlines()
    out = []
    for i, line in enumerate(lines):
        if line.startswith("Traceback"):
            said = lines[i - 1] if i else ""
            err = next((x for x in lines[i + 1:] if x and not x.startswith((" ", "\t"))), "")
            out.append(f"server log: {said[-200:]} -> {err[:200]}")
    return out


def report(res: dict[str, Any]) -> None:
    api: list[ApiStats] = res.pop("_api")
    sock: SocketStats = res.pop("_sock")
    console: SocketStats = res.pop("_console")
    from_log: list[str] = res.pop("_log_findings")
    uncovered: list[str] = res.pop("_uncovered")
    statuses: dict[int, int] = {}
    for s in api:
        for code, n in s.statuses.items():
            statuses[code] = statuses.get(code, 0) + n
    print(f"{'measure':<28}{'value':>12}")
    print("-" * 40)
    for k, v in res.items():
        print(f"{k:<28}{v!s:>12}")
    print("\nHTTP statuses:", dict(sorted(statuses.items())))
    print("Socket acks:  ", dict(sock.outcomes.most_common()))
    print("Console acks: ", dict(console.outcomes.most_common()))
    if uncovered:
        print("routes not reached:", ", ".join(uncovered))
    findings = [f for s in api for f in s.findings] + sock.findings + console.findings \
        + from_log
    if findings:
        print("\nfindings:")
        for f in findings[:40]:
            print(" -", f)
    print("RESULT " + json.dumps(res, sort_keys=True))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--duration", type=float, default=180.0, help="seconds of fuzzing")
    p.add_argument("--rooms", type=int, default=4, help="rooms fuzzed at once")
    p.add_argument("--http-workers", type=int, default=3,
                   help="HTTP fuzzing processes (each sends as mediator and anonymously)")
    p.add_argument("--examples", type=int, default=12,
                   help="generated requests per operation and mode in each HTTP round")
    p.add_argument("--per-event", type=int, default=12,
                   help="payloads per event in each Socket.IO round")
    p.add_argument("--smoke", action="store_true",
                   help="a short run for CI: 25 s, one room, one HTTP worker, few examples")
    args = p.parse_args()
    if args.smoke:
        args.duration, args.rooms, args.http_workers = 25.0, 1, 1
        args.examples, args.per_event = 2, 3
    with tempfile.TemporaryDirectory(prefix="tiaojie-fuzz-") as tmp:
        data = Path(tmp)
        env = serve_env(data)
        asyncio.run(create_users(data, [("fuzzmed", "mediator"), ("fuzzadm", "admin"),
                                        ("fuzzexp", "expert")]))
        node = start_node(env, data)
        try:
            res = asyncio.run(run(args, node, data))
        finally:
            node.stop()
        crashed = node.proc.returncode not in (0, -15, None)
        res["server_exit_code"] = node.proc.returncode
    report(res)
    bad = res["http_server_errors"] + res["schema_violations"] + res["crashed_rooms"] \
        + res["socket_server_errors"] + res["console_server_errors"] + res["crashed_consoles"]
    return 1 if bad or crashed else 0


if __name__ == "__main__":
    sys.exit(main())
