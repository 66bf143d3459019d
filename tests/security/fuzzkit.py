"""The two fuzzers the suite and ``benchmarks/fuzz.py`` share.

``fuzz_api`` drives schemathesis over every operation of ``/api/openapi.json``; it is
synchronous (schemathesis sends with ``requests``), so async callers run it in a thread
while the server keeps its own loop. ``SocketFuzzer`` seats a mediator and two parties,
then sends hypothesis-made payloads for every event in ``EVENTS`` from the mediator's and
a party's connection, checking each acknowledgement, and after every round checks that
the other party's chat still reaches everyone. ``ConsoleFuzzer`` does the same for the
expert console's events on ``/experts``. Both also send events named ``connect`` and
``disconnect``, which every namespace must refuse.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import requests
import schemathesis
import socketio
from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings
from hypothesis.errors import Unsatisfiable
from pydantic import BaseModel
from schemathesis import GenerationMode
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.security.jsonfuzz import Json, payloads

CONFORMANCE = [status_code_conformance, content_type_conformance, response_schema_conformance]
ACK_TIMEOUT_S = 10.0
EVENT_GAP_S = 0.06
"""Pause between a connection's events: keeps it under the namespace's 20 events/s so
that the payload, not the per-connection limit, decides the answer."""
FINDINGS_KEPT = 20
LINE_LIMIT = 8000
"""URLs longer than this may meet aiohttp's 8190-byte request-line limit."""
# Events whose valid form ends the fuzzer's own seat or the whole room: only invalid
# payloads are sent for them, because a legitimate end is not a crash.
ENDING = ("leave", "end_session", "remove", "send_back")


@dataclass
class ApiStats:
    """What the HTTP fuzzer saw."""

    requests: int = 0
    server_errors: int = 0
    schema_violations: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    covered: set[str] = field(default_factory=set)
    """``METHOD /path`` of every operation that received at least one request."""
    total: int = 0
    findings: list[str] = field(default_factory=list)
    transport_refusals: int = 0
    """Requests refused by the HTTP parser for an over-long URL (see ``LINE_LIMIT``)."""

    def note(self, text: str) -> None:
        if len(self.findings) < FINDINGS_KEPT:
            self.findings.append(text[:600])


def operations(doc: dict[str, Any]) -> list[str]:
    return [f"{m.upper()} {p}" for p, ops in doc["paths"].items() for m in ops]


def fuzz_api(doc: dict[str, Any], base_url: str, *,
             headers: dict[str, str] | list[dict[str, str]],
             examples: int, stats: ApiStats, until: float = float("inf"),
             known_ids: dict[str, str] | None = None,
             header_for: dict[str, dict[str, str]] | None = None,
             modes: tuple[GenerationMode, ...] = (GenerationMode.POSITIVE,
                                                  GenerationMode.NEGATIVE)) -> ApiStats:
    """Send up to ``examples`` generated requests per operation and mode, stopping at the
    monotonic time ``until``. ``known_ids`` fixes path parameters to real objects in an
    extra positive pass, so that handlers are reached past their 404. ``header_for``
    overrides the first identity's headers for one operation (a throwaway token for
    logout). ``headers`` may be a list of identities: each request goes once per entry."""
    identities = headers if isinstance(headers, list) else [headers]
    schema = schemathesis.openapi.from_dict(doc)
    stats.total = len(operations(doc))
    session = requests.Session()
    # A fresh order each call, so that a deadline mid-round does not always starve the
    # same operations.
    results = list(schema.get_all_operations())
    random.shuffle(results)
    for result in results:
        if not isinstance(result, Ok):
            # Our generator produced an operation schemathesis cannot read: a finding.
            stats.schema_violations += 1
            stats.note(f"unreadable operation: {result.err()}")
            continue
        op = result.ok()
        label = f"{op.method.upper()} {op.path}"
        hdrs = [(header_for or {}).get(label, identities[0]), *identities[1:]]
        passes: list[tuple[GenerationMode, dict[str, str] | None]] = [(m, None) for m in modes]
        names = [p.name for p in op.path_parameters]
        if known_ids and names and all(n in known_ids for n in names):
            passes.append((GenerationMode.POSITIVE, {n: known_ids[n] for n in names}))
        for mode, path_params in passes:
            if time.monotonic() >= until:
                return stats
            strategy = op.as_strategy(generation_mode=mode, path_parameters=path_params)
            _run_cases(strategy, examples, base_url, session, hdrs, label, stats, until)
    return stats


def _run_cases(strategy: Any, examples: int, base_url: str, session: requests.Session,
               identities: list[dict[str, str]], label: str, stats: ApiStats,
               until: float) -> None:
    @settings(max_examples=examples, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck), report_multiple_bugs=False,
              verbosity=Verbosity.quiet)
    @given(strategy)
    def one(case: schemathesis.Case) -> None:  # type: ignore[type-arg]
        # Each generated request is sent once per identity: generation is the costly part.
        for headers in identities:
            if time.monotonic() >= until:
                return
            _send(case, base_url, session, headers, label, stats)
    try:
        one()
    except Unsatisfiable:
        pass  # nothing to negate: a route without parameters or body has no invalid form


def _send(case: schemathesis.Case, base_url: str, session: requests.Session,  # type: ignore[type-arg]
          headers: dict[str, str], label: str, stats: ApiStats) -> None:
    try:
        resp = case.call(base_url=base_url, session=session, headers=headers, timeout=20)
    except requests.RequestException as exc:
        # The server did not answer at all: worse than a 500, counted as one.
        stats.requests += 1
        stats.server_errors += 1
        stats.note(f"{label}: no response: {type(exc).__name__}")
        return
    stats.requests += 1
    stats.covered.add(label)
    stats.statuses[resp.status_code] += 1
    if resp.status_code in (400, 414, 431) and len(resp.request.url or "") > LINE_LIMIT:
        # aiohttp's HTTP parser refuses a request line over 8190 bytes in plain text
        # before any middleware runs; a proxy in front does the same (nginx: 414).
        # Not the application's answer, so not checked against the document.
        stats.transport_refusals += 1
        return
    if resp.status_code >= 500:
        stats.server_errors += 1
        stats.note(f"{label} -> {resp.status_code}: {resp.text[:200]} "
                   f"[{case.as_curl_command(headers=headers)[:300]}]")
        return
    try:
        case.validate_response(resp, checks=CONFORMANCE, headers=headers)
    except AssertionError as exc:  # schemathesis' Failure and FailureGroup
        stats.schema_violations += 1
        stats.note(f"{label} -> {resp.status_code}: {str(exc)[:400]}")


# -- Socket.IO -------------------------------------------------------------------------
@dataclass
class SocketStats:
    """What the Socket.IO fuzzer saw."""

    events: int = 0
    server_errors: int = 0
    """Acks with code ``internal``, malformed acks and acks that never came."""
    crashed_rooms: int = 0
    rounds: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    per_event: Counter[str] = field(default_factory=Counter)
    findings: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        if len(self.findings) < FINDINGS_KEPT:
            self.findings.append(text[:600])


_HYPOTHESIS = threading.Lock()
"""Hypothesis is not thread-safe (two threads parsing lambdas at once break CPython's AST
recursion counter), and rounds generate in worker threads: one generator at a time."""


def generate(model: type[BaseModel], n: int, fixed_seed: int | None = None) -> list[Json]:
    """``n`` payloads (at most) for one event, made by hypothesis."""
    with _HYPOTHESIS:
        return _generate(model, n, fixed_seed)


def _generate(model: type[BaseModel], n: int, fixed_seed: int | None) -> list[Json]:
    out: list[Json] = []

    @settings(max_examples=n, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet)
    @given(payloads(model))
    def collect(p: Json) -> None:
        out.append(p)

    (collect if fixed_seed is None else seed(fixed_seed)(collect))()
    return out


class PayloadPool:
    """Payloads per event, made by one hypothesis thread and sampled by every room, so
    that rooms do not queue behind one another for the generator."""

    def __init__(self, events: dict[str, type[BaseModel]], batch: int = 12,
                 keep: int = 600) -> None:
        self.events = events
        self.batch = batch
        self.keep = keep
        self._pool: dict[str, list[Json]] = {e: [] for e in events}

    def fill_once(self) -> None:
        for event, model in sorted(self.events.items()):
            self.add(event, generate(model, self.batch))

    def add(self, event: str, batch: list[Json]) -> None:
        """Payloads made elsewhere (another process); the oldest beyond ``keep`` go."""
        self._pool[event] = (self._pool.get(event, []) + batch)[-self.keep:]

    def run_until(self, until: float) -> None:
        while time.monotonic() < until:
            self.fill_once()

    def sample(self, event: str, n: int) -> list[Json]:
        have = self._pool.get(event, [])
        return random.sample(have, min(n, len(have)))


def is_ending(event: str, payload: Json) -> bool:
    return event in ENDING and (payload is None or payload == {} or (
        isinstance(payload, dict) and set(payload) <= {"participant_id"}))


class Peer:
    """A Socket.IO connection that keeps only what the fuzzer checks: seat and chat."""

    def __init__(self) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.welcome: dict[str, Any] = {}
        self.chats: set[str] = set()
        self.admitted = asyncio.Event()
        self.sio.on("joined", self._joined)
        self.sio.on("admitted", lambda *_: self.admitted.set())
        self.sio.on("chat", self._chat)

    async def _joined(self, data: dict[str, Any]) -> None:
        self.welcome = data
        if data.get("state") == "room":
            self.admitted.set()

    async def _chat(self, data: Any) -> None:
        if isinstance(data, dict) and isinstance(data.get("text"), str):
            self.chats.add(data["text"])

    @property
    def pid(self) -> str:
        return str(self.welcome.get("participant_id", ""))

    async def connect(self, url: str, auth: dict[str, Any]) -> Peer:
        await self.sio.connect(url, auth=auth, transports=["websocket"], wait_timeout=10)
        for _ in range(500):
            if self.welcome:
                return self
            await asyncio.sleep(0.02)
        raise TimeoutError("no joined event")


async def _api(http: aiohttp.ClientSession, url: str, token: str, path: str,
               body: dict[str, Any]) -> dict[str, Any]:
    async with http.post(url + path, json=body,
                         headers={"Authorization": f"Bearer {token}"}) as r:
        out: dict[str, Any] = await r.json()
        assert r.status == 201, out
        return out


class FuzzRoom:
    """A live session with a mediator and parties A and B, all admitted. The mediator and
    A send fuzz; B is the witness whose chat must keep reaching both."""

    def __init__(self, med: Peer, a: Peer, b: Peer, session_id: str) -> None:
        self.med, self.a, self.b, self.session_id = med, a, b, session_id

    @classmethod
    async def open(cls, url: str, http: aiohttp.ClientSession, token: str,
                   number: str) -> FuzzRoom:
        case = await _api(http, url, token, "/api/v1/cases",
                          {"number": number, "dispute_type": "fuzz"})
        sess = await _api(http, url, token, f"/api/v1/cases/{case['id']}/sessions", {})
        med = await Peer().connect(url, {"token": token, "session_id": sess["id"]})
        parties = []
        for side, name in (("A", "张三"), ("B", "李四")):
            inv = await _api(http, url, token, f"/api/v1/sessions/{sess['id']}/invites",
                             {"role": "party", "side": side})
            p = await Peer().connect(url, {"invite": inv["token"], "name": name,
                                           "consent": True})
            ack = await med.sio.call("admit", {"participant_id": p.pid}, timeout=ACK_TIMEOUT_S)
            assert ack.get("ok"), ack
            await asyncio.wait_for(p.admitted.wait(), ACK_TIMEOUT_S)
            parties.append(p)
        return cls(med, parties[0], parties[1], sess["id"])

    async def alive(self, n: int) -> str | None:
        """None when B's chat reaches the mediator and A and every connection is up;
        otherwise what is wrong."""
        for who, p in (("mediator", self.med), ("party A", self.a), ("party B", self.b)):
            if not p.sio.connected:
                return f"{who}'s connection dropped"
        text = f"还在吗 {n}"
        try:
            ack = await self.b.sio.call("chat", {"text": text}, timeout=ACK_TIMEOUT_S)
        except Exception as exc:
            return f"witness chat failed: {type(exc).__name__}"
        if not (isinstance(ack, dict) and ack.get("ok")):
            return f"witness chat refused: {ack}"
        end = time.monotonic() + ACK_TIMEOUT_S
        while time.monotonic() < end:
            if text in self.med.chats and text in self.a.chats:
                return None
            await asyncio.sleep(0.02)
        return "witness chat did not reach the mediator and party A"

    async def close(self) -> None:
        for p in (self.med, self.a, self.b):
            if p.sio.connected:
                await p.sio.disconnect()


def classify_ack(ack: Any) -> str:
    """``ok``, an error code, or ``malformed``/``internal`` (both counted as failures)."""
    if not isinstance(ack, dict):
        return "malformed"
    if ack.get("ok") is True:
        return "ok"
    err = ack.get("error")
    if ack.get("ok") is False and isinstance(err, dict) and isinstance(err.get("code"), str) \
            and isinstance(err.get("message"), str) and err["message"]:
        return "internal" if err["code"] == "internal" else err["code"]
    return "malformed"


class SocketFuzzer:
    """Sends generated payloads for every event through a room's two fuzzing peers."""

    def __init__(self, events: dict[str, type[BaseModel]], stats: SocketStats) -> None:
        self.events = events
        self.stats = stats

    async def send(self, peer: Peer, who: str, event: str, payload: Json) -> None:
        self.stats.events += 1
        self.stats.per_event[event] += 1
        try:
            ack = await peer.sio.call(event, payload, timeout=ACK_TIMEOUT_S)
        except RecursionError:
            self.stats.outcomes["unsendable"] += 1  # our client could not encode it
            return
        except Exception as exc:  # TimeoutError, or the connection went away
            self.stats.server_errors += 1
            self.stats.outcomes["no_ack"] += 1
            self.stats.note(f"{who} {event}: no ack ({type(exc).__name__}) for "
                            f"{_short(payload)}")
            return
        outcome = classify_ack(ack)
        self.stats.outcomes[outcome] += 1
        if outcome in ("internal", "malformed"):
            self.stats.server_errors += 1
            self.stats.note(f"{who} {event}: {outcome} ack {ack!r:.200} for {_short(payload)}")

    async def round(self, room: FuzzRoom, per_event: int, until: float = float("inf"),
                    pool: PayloadPool | None = None) -> bool:
        """One pass over every event from both fuzzing peers, then the liveness check.
        Returns False when the room did not survive (counted in ``crashed_rooms``)."""
        if pool is not None:
            batches = {e: pool.sample(e, per_event) for e in sorted(self.events)}
        else:
            batches = {e: await asyncio.to_thread(generate, m, per_event)
                       for e, m in sorted(self.events.items())}

        async def stream(peer: Peer, who: str, items: list[tuple[str, Json]]) -> None:
            for event, payload in items:
                if time.monotonic() >= until:
                    return
                await self.send(peer, who, event, payload)
                await asyncio.sleep(EVENT_GAP_S)

        # Even payloads from the mediator, odd ones from party A, both at once: two
        # connections of one room under fire, each with its own grants.
        items = [(e, p) for e, batch in batches.items() for p in batch if not is_ending(e, p)]
        random.shuffle(items)  # every event early in the round, whatever the deadline
        await asyncio.gather(stream(room.med, "mediator", items[0::2]),
                             stream(room.a, "party", items[1::2]))
        if time.monotonic() < until:
            await send_lifecycle_names(room.a.sio, "/", self.stats, "party")
        self.stats.rounds += 1
        problem = await room.alive(self.stats.rounds)
        if problem is not None:
            self.stats.crashed_rooms += 1
            self.stats.note(f"room {room.session_id}: {problem}")
            return False
        return True


def _short(payload: Json) -> str:
    text = repr(payload)
    return text if len(text) < 160 else f"{text[:120]}... ({len(text)} chars)"


# -- the expert console (/experts) -----------------------------------------------------
CONSOLE_NAMESPACE = "/experts"
LIFECYCLE_PAYLOADS: list[Any] = [None, {}, "client disconnect", [{}, {"token": "forged"}],
                                 {"token": "x" * 300}, 7]
"""Sent as events named ``connect`` and ``disconnect`` on every namespace each round: the
server must refuse them (``unknown_event``) and the connection must live on."""


class FuzzConsole:
    """An expert's console connection on /experts. It is alive when it is connected and a
    well-formed ``decline`` of a call that does not exist gets its clear refusal."""

    def __init__(self, sio: socketio.AsyncClient, url: str) -> None:
        self.sio, self.url = sio, url

    @classmethod
    async def open(cls, url: str, token: str) -> FuzzConsole:
        sio = socketio.AsyncClient(reconnection=False)
        await sio.connect(url, auth={"token": token}, namespaces=[CONSOLE_NAMESPACE],
                          transports=["websocket"], wait_timeout=10)
        return cls(sio, url)

    async def call(self, event: str, payload: Json) -> Any:
        return await self.sio.call(event, payload, namespace=CONSOLE_NAMESPACE,
                                   timeout=ACK_TIMEOUT_S)

    async def alive(self) -> str | None:
        if not self.sio.connected:
            return "the console's connection dropped"
        try:
            ack = await self.call("decline", {"call_id": "0" * 32})
        except Exception as exc:
            return f"console did not answer: {type(exc).__name__}"
        if not (isinstance(ack, dict) and ack.get("error", {}).get("code") == "call_not_found"):
            return f"console answered a plain decline with {ack!r:.200}"
        return None

    async def close(self) -> None:
        if self.sio.connected:
            await self.sio.disconnect()


async def send_lifecycle_names(sio: socketio.AsyncClient, namespace: str, stats: SocketStats,
                               who: str) -> None:
    """Events named like the lifecycle callbacks: refused, and the connection survives."""
    for event in ("connect", "disconnect"):
        for payload in LIFECYCLE_PAYLOADS:
            stats.events += 1
            stats.per_event[f"{namespace}:{event}"] += 1
            try:
                ack = await sio.call(event, payload, namespace=namespace,
                                     timeout=ACK_TIMEOUT_S)
            except Exception as exc:
                stats.server_errors += 1
                stats.outcomes["no_ack"] += 1
                stats.note(f"{who} {namespace} {event}: no ack ({type(exc).__name__})")
                continue
            outcome = classify_ack(ack)
            stats.outcomes[outcome] += 1
            if outcome != "unknown_event":
                stats.server_errors += 1
                stats.note(f"{who} {namespace} {event}: {outcome} ack {ack!r:.200}")
            await asyncio.sleep(EVENT_GAP_S)


class ConsoleFuzzer:
    """Sends generated payloads for every console event through an expert's console."""

    def __init__(self, events: dict[str, type[BaseModel]], stats: SocketStats) -> None:
        self.events = events
        self.stats = stats

    async def round(self, console: FuzzConsole, per_event: int, until: float = float("inf"),
                    pool: PayloadPool | None = None) -> bool:
        """One pass over every console event, then the liveness check. Returns False
        when the console did not survive (counted in ``crashed_rooms``)."""
        if pool is not None:
            batches = {e: pool.sample(e, per_event) for e in sorted(self.events)}
        else:
            batches = {e: await asyncio.to_thread(generate, m, per_event)
                       for e, m in sorted(self.events.items())}
        items = [(e, p) for e, batch in batches.items() for p in batch]
        random.shuffle(items)
        for event, payload in items:
            if time.monotonic() >= until:
                break
            self.stats.events += 1
            self.stats.per_event[f"{CONSOLE_NAMESPACE}:{event}"] += 1
            try:
                ack = await console.call(event, payload)
            except RecursionError:
                self.stats.outcomes["unsendable"] += 1
                continue
            except Exception as exc:
                self.stats.server_errors += 1
                self.stats.outcomes["no_ack"] += 1
                self.stats.note(f"console {event}: no ack ({type(exc).__name__}) for "
                                f"{_short(payload)}")
                continue
            outcome = classify_ack(ack)
            self.stats.outcomes[outcome] += 1
            if outcome in ("internal", "malformed"):
                self.stats.server_errors += 1
                self.stats.note(f"console {event}: {outcome} ack {ack!r:.200} for "
                                f"{_short(payload)}")
            await asyncio.sleep(EVENT_GAP_S)
        if time.monotonic() < until:
            await send_lifecycle_names(console.sio, CONSOLE_NAMESPACE, self.stats, "console")
        self.stats.rounds += 1
        problem = await console.alive()
        if problem is not None:
            self.stats.crashed_rooms += 1
            self.stats.note(problem)
            return False
        return True
