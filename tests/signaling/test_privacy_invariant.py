"""One privacy invariant, tested against random room histories (issue 13).

A hypothesis ``RuleBasedStateMachine`` drives a real room: the whole app on a real port
(real Hub, Socket.IO namespace, room store, SFU with aiortc publishers over loopback, the
transcription tap and caption pipeline, the agreements and evidence code, SQLite or
PostgreSQL). Only the speech recognizer is fake: it "hears" the marker tone mixed into
each act of speech and returns that act's marker word, after a realistic decode delay
(so the races of real decoding stay open).

Three named sides (A, B and a 第三人 C) and a sign-language interpreter attached to a
party, whom the mediator re-attaches at will; caucuses with any set of members.

Rules: admit, deny, send back, remove, caucus create/move/end/return all, mute/unmute,
interpreter attach/detach (the interpreter follows their party into and out of caucuses),
an expert call in every scope and its end, chat, hand, evidence upload/show, draft
create/edit/comment, speech by anyone at any moment (acts play in real time, so moves
and ends land in the middle of them), reconnect, end session.

After every step (behind a barrier event sent to every connection) it checks, for every
channel, that nothing produced in a space reached anyone outside it at that moment:

* media: the SFU's routes equal the routes the test's own model of the room allows;
* chat, hands, drafts, comments, shown evidence: each arrived while its receiver was in
  the space it belongs to, and is labelled with the space it was produced in;
* partial and final captions: labelled with the space the speaker was in when the
  words were spoken; received only by people who were in that space for the whole
  utterance and still there when it arrived;
* the stored transcript, the clerk's transcript export and event log, evidence
  downloads, draft lists, the layout each participant sees (no hidden observer, a scoped
  expert only their caucus), and the metrics' labels.

Budget: ``EXAMPLES`` (10) examples of up to ``STEPS`` (16) steps per database, in CI.
Measured on this machine (2 cores, shared), 2026-12-01: about 61 s on SQLite and 65 s on
PostgreSQL on a quiet host, 96–223 s each at load 5–10.
With three sides and the interpreter (issue 17), 2026-12-01 at load 20–45: 4
derandomized examples in 64 s on PostgreSQL; 8 random examples (``TIAOJIE_PRIVACY_RANDOM=1``)
in 263 s on SQLite; 6 random ones in 114 s with 3 interpreter re-attachments, all passing.
With the caucus-relabel bug put back (``_final`` reading ``stream.caucus_id`` instead of
the snapshot ``heard.caucus_id``, a one-line revert), it failed in example 4 of the 10
("words spoken in <caucus> labelled None", and a caption reaching the mediator outside
the joint space); 420 s including hypothesis's shrinking, at load 5–10.
From batched finals (ef1c965) until 2026-12-01 the fake recognizer did not fake the batch
decode, so no final caption was produced and that revert went unnoticed; with finals
faked again (1,521 finals in a passing run, 224 s on SQLite), the same one-line revert
fails in example 5 ("words spoken in <caucus> labelled None", a final), 455 s at load 4-7.
"""

from __future__ import annotations

import asyncio
import fractions
import itertools
import math
import os
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import av
import numpy as np
import numpy.typing as npt
import pytest
from aiortc import MediaStreamTrack
from hypothesis import HealthCheck, Verbosity, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from agreements.demo import demo_agreement
from media.routing import Route
from tests.conftest import SHARED_DATA
from tests.signaling.harness import (
    Client,
    Server,
    Staff,
    connect,
    login,
    make_user,
    running_server,
)
from tests.signaling.rtc_bot import FRAME, RATE, RtcBot, load_speech
from transcription.asr import Recognition

pytestmark = pytest.mark.slow

T = TypeVar("T")

EXAMPLES = int(os.environ.get("TIAOJIE_PRIVACY_EXAMPLES", "10"))
STEPS = int(os.environ.get("TIAOJIE_PRIVACY_STEPS", "16"))
DECODE_S = 0.08
"""How long the fake recognizer takes: long enough that the ingest thread moves on
while a final is being decoded (the window of the relabel race)."""
SLACK_S = 0.15
"""Tolerance around a step's call/ack window when deciding where someone was."""
MARK_BASE_HZ, MARK_STEP_HZ, MARKS = 2500.0, 200.0, 12
TAP_RATE = 16_000
PARTIES = ("A1", "A2", "B1", "C1")
"""Parties of three named sides: 申请人 (A1, A2), 被申请人 (B1), 第三人 (C1)."""
SEATS = PARTIES + ("I",)
"""And the sign-language interpreter, attached to a party: they follow that party."""
STATS: dict[str, int] = dict.fromkeys(
    ("started", "first_failure_in_example", "open_ms", "settle_ms", "check_ms", "close_ms",
     "examples", "steps", "acts", "changes", "captions", "finals", "chats", "attaches"), 0)
"""What the examples exercised (printed at the end, to see that they did)."""


# -- the marker tones and the fake recognizer -----------------------------------------

def mark_hz(k: int) -> float:
    return MARK_BASE_HZ + MARK_STEP_HZ * k


def heard_mark(audio: npt.NDArray[np.float32]) -> int | None:
    """The marker tone in ``audio`` (16 kHz), if one stands out."""
    if audio.size < TAP_RATE // 10:
        return None
    spectrum = np.abs(np.fft.rfft(audio * np.hanning(audio.size)))
    freqs = np.fft.rfftfreq(audio.size, 1 / TAP_RATE)
    band = (freqs > MARK_BASE_HZ - MARK_STEP_HZ / 2) & (
        freqs < mark_hz(MARKS - 1) + MARK_STEP_HZ / 2)
    if not band.any():
        return None
    peak = int(np.argmax(np.where(band, spectrum, 0)))
    if spectrum[peak] < 8 * float(np.median(spectrum[band])):
        return None
    k = round((freqs[peak] - MARK_BASE_HZ) / MARK_STEP_HZ)
    return k if 0 <= k < MARKS else None


def fake_recognize(model: Any, audio: npt.NDArray[np.float32], language: str,
                   beam_size: int = 1, **_: Any) -> Recognition:
    time.sleep(DECODE_S)
    k = heard_mark(audio)
    return Recognition("" if k is None else f"mark{k}", 1.0, language, ())


def fake_recognize_batch(model: Any, requests: Any, language: str, beam_size: int = 1,
                         **_: Any) -> list[Recognition]:
    """Finals are decoded in batches (``recognize_batch``): each piece is heard alone, as
    the real batch decodes each piece independently."""
    return [fake_recognize(model, r.audio, language) for r in requests]


def fake_load(config: Any, language: str | None = None) -> tuple[Any, Any]:
    class Spec:
        name = "fake"
        multilingual = True
    return Spec(), None


_SPEECH: npt.NDArray[np.int16] | None = None


def speech_with_mark(k: int) -> npt.NDArray[np.int16]:
    """About a second of real speech with marker tone ``k``, then silence that closes the
    utterance (48 kHz mono int16)."""
    global _SPEECH
    if _SPEECH is None:
        clip = load_speech(str(SHARED_DATA / "speech" / "en" / "spk1_snt1.wav"), gap_s=0.0)
        voiced = np.flatnonzero(np.abs(clip.astype(np.int32)) > 2000)
        _SPEECH = clip[voiced[0]:voiced[0] + int(1.2 * RATE)]
    t = np.arange(_SPEECH.size) / RATE
    tone = 0.12 * 32767 * np.sin(2 * math.pi * mark_hz(k) * t)
    voice = np.clip(_SPEECH.astype(np.float64) * 0.8 + tone, -32767, 32767).astype(np.int16)
    return np.concatenate([voice, np.zeros(int(0.9 * RATE), np.int16)])


@dataclass
class Act:
    """One act of speech by one participant."""

    n: int
    speaker: str
    mark: int
    started: float | None = None
    """Monotonic time its first sample was sent."""
    ended: float | None = None


class ScriptedMic(MediaStreamTrack):
    """A microphone that plays acts of speech in real time, one after another, for as
    long as ``supply`` gives new ones (everyone talks all the time, wherever they are:
    every change of the room lands in the middle of someone's sentence)."""

    kind = "audio"

    def __init__(self, supply: Callable[[], Act | None]) -> None:
        super().__init__()
        self.supply = supply
        self.queue: deque[tuple[Act, npt.NDArray[np.int16]]] = deque()
        self.playing: tuple[Act, npt.NDArray[np.int16], int] | None = None
        self._pts = 0
        self._start: float | None = None

    def idle(self) -> bool:
        return self.playing is None and not self.queue

    async def recv(self) -> av.AudioFrame:
        loop = asyncio.get_running_loop()
        if self._start is None:
            self._start = loop.time()
        await asyncio.sleep(max(0.0, self._start + self._pts / RATE - loop.time()))
        chunk = np.zeros(FRAME, np.int16)
        if self.playing is None and not self.queue:
            act = self.supply()
            if act is not None:
                self.queue.append((act, speech_with_mark(act.mark)))
        if self.playing is None and self.queue:
            act, audio = self.queue.popleft()
            act.started = time.monotonic()
            self.playing = (act, audio, 0)
        if self.playing is not None:
            act, audio, at = self.playing
            part = audio[at:at + FRAME]
            chunk[:part.size] = part
            if at + FRAME >= audio.size:
                act.ended = time.monotonic()
                self.playing = None
            else:
                self.playing = (act, audio, at + FRAME)
        frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate, frame.pts = RATE, self._pts
        frame.time_base = fractions.Fraction(1, RATE)
        self._pts += FRAME
        return frame


# -- running the app in a thread of its own ---------------------------------------------

class Bot(RtcBot):
    """An RtcBot that takes a refused answer calmly: the seat may be gone (removed, sent
    back, ended) by the time a renegotiation offer is answered."""

    async def _on_signal(self, message: dict[str, Any]) -> None:
        try:
            await super()._on_signal(message)
        except AssertionError:
            pass


class LoopThread:
    """An event loop in a thread: hypothesis drives the machine synchronously."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 120) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@dataclass
class World:
    """What lives across examples: the server, its staff and the expert's console."""

    loop: LoopThread
    srv: Server
    http: aiohttp.ClientSession
    staff: Staff
    clerk: Staff
    expert_token: str
    console: Any
    numbers: Iterator[int] = field(default_factory=itertools.count)


# -- the test's own model of the room ----------------------------------------------------

JOINT = None


@dataclass
class Seat:
    """A participant as the test believes them to be."""

    name: str
    role: str
    client: Client | None = None
    pid: str = ""
    token: str = ""
    """Resume token (parties), or None for the mediator (who rejoins by login)."""
    state: str = "lobby"
    space: str | None = None
    muted: bool = False
    scope: str | None = None
    bot: RtcBot | None = None
    mic: ScriptedMic | None = None


@dataclass
class Change:
    """A step that may have moved people: its call/ack window and who was where after."""

    t0: float
    t1: float
    after: dict[str, tuple[str, str | None]]


class PrivacyMachine(RuleBasedStateMachine):
    """The room under random histories; see the module docstring."""

    world: World

    def __init__(self) -> None:
        super().__init__()
        self.seats: dict[str, Seat] = {}
        self.caucus_ids: set[str] = set()
        self.ended = False
        self.session_id = ""
        self.case_number = ""
        self.timeline: list[Change] = []
        self.acts: list[Act] = []
        self.chats: dict[str, str | None] = {}
        """Chat text → the space it was said in."""
        self.drafts: dict[str, tuple[str | None, int]] = {}
        """draft id → (space, latest version)."""
        self.evidence: dict[str, dict[str, Any]] = {}
        self.shows: list[tuple[str, str | None]] = []
        self.call: dict[str, Any] | None = None
        self.barrier_n = 0
        self.heard_at: dict[str, float] = {}
        """utterance id → when its audio reached the server (from its live captions)."""
        self.checked: dict[int, int] = {}
        self.self_space: dict[str, tuple[str, str | None]] = {}
        """pid → (state, space) as the client's own events told it so far."""
        self.interprets_for: str | None = None
        """The party the interpreter I is attached to (the model of ``Room._follow``)."""

    # -- plumbing -----------------------------------------------------------------
    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 120) -> T:
        return self.world.loop.run(coro, timeout)

    def snapshot(self) -> dict[str, tuple[str, str | None]]:
        return {s.pid: (s.state, s.space) for s in self.seats.values() if s.pid}

    def changed(self, t0: float) -> None:
        self.timeline.append(Change(t0, time.monotonic(), self.snapshot()))

    def seat(self, name: str) -> Seat:
        return self.seats[name]

    def in_room(self, *, scoped: bool = True) -> list[Seat]:
        return [s for s in self.seats.values() if s.state == "room"
                and (scoped or s.scope is None)]

    async def _call(self, who: Seat, event: str, body: dict[str, Any]) -> Any:
        if who.client is None or not who.client.sio.connected:
            # Removed, denied or ended: the server closed this connection; nothing it
            # could send would reach the room.
            return {"ok": False, "error": {"code": "disconnected"}}
        return await who.client.call(event, body)

    def call_ok(self, who: Seat, event: str, body: dict[str, Any]) -> dict[str, Any]:
        ack = self.run(self._call(who, event, body))
        assert ack["ok"], (event, body, ack)
        return dict(ack)

    def call_refused(self, who: Seat, event: str, body: dict[str, Any]) -> dict[str, Any]:
        ack = self.run(self._call(who, event, body))
        assert not ack["ok"], (event, body, ack)
        return dict(ack)

    # -- set-up -------------------------------------------------------------------
    @initialize()
    def open_the_room(self) -> None:
        n = next(self.world.numbers)
        STATS["started"] += 1
        t = time.monotonic()
        self.case_number = f"INV-{os.getpid()}-{n}"
        self.session_id = self.run(self._open(self.case_number))
        STATS["open_ms"] += int((time.monotonic() - t) * 1000)

    async def _open(self, number: str) -> str:
        w = self.world
        st_, case = await w.staff.call("POST", "/api/v1/cases",
                                       {"number": number, "dispute_type": "neighbour"})
        assert st_ == 201, case
        st_, side = await w.staff.call("POST", f"/api/v1/cases/{case['id']}/sides",
                                       {"name": "第三人"})
        assert st_ == 201 and side["key"] == "C", side
        st_, sess = await w.staff.call("POST", f"/api/v1/cases/{case['id']}/sessions",
                                       {"language": "en"})
        assert st_ == 201, sess
        sid = str(sess["id"])
        med = Seat("M", "mediator", state="room")
        med.client = await connect(w.srv.url, {"token": w.staff.token, "session_id": sid})
        med.pid = med.client.pid
        self.seats["M"] = med
        await self._publish(med)
        for name, side in (("A1", "A"), ("A2", "A"), ("B1", "B"), ("C1", "C")):
            await self._join(sid, Seat(name, "party"), side=side)
        await self._join(sid, Seat("I", "interpreter"), side="B", role="interpreter")
        await self._join(sid, Seat("O", "observer"), role="observer")
        # Everyone starts in the joint session, as a mediation does; the rules send
        # people back, admit them again, move and remove them.
        for name in ("A1", "A2", "B1", "C1", "I", "O"):
            seat = self.seats[name]
            assert (await med.client.call("admit", {"participant_id": seat.pid}))["ok"]
            seat.state = "room"
            await self._publish(seat)
        assert (await med.client.call("interpreter_attach", {
            "participant_id": self.seats["I"].pid,
            "interprets_for": self.seats["B1"].pid}))["ok"]
        self.interprets_for = "B1"
        self.timeline.append(Change(0.0, time.monotonic(), self.snapshot()))
        # The mediator is already in a caucus (背靠背) with A1 when the history begins.
        t0 = time.monotonic()
        a1 = self.seats["A1"]
        ack = await med.client.call("caucus_create", {"name": "甲方", "members": [a1.pid]})
        assert ack["ok"], ack
        cid = str(ack["caucus_id"])
        assert (await med.client.call("caucus_move", {"participant_id": med.pid,
                                                      "caucus_id": cid}))["ok"]
        self.caucus_ids.add(cid)
        a1.space = med.space = cid
        self.changed(t0)
        return sid

    async def _join(self, sid: str, seat: Seat, side: str | None = None,
                    role: str = "party") -> None:
        extra = {"interpretation": "sign"} if role == "interpreter" else {}
        inv = await self.world.staff.invite(sid, side=side, role=role, **extra)
        seat.client = await connect(self.world.srv.url, {"invite": inv["token"],
                                                          "name": seat.name, "consent": True})
        seat.pid = seat.client.pid
        seat.token = seat.client.welcome["resume_token"]
        self.seats[seat.name] = seat

    def _next_act(self, seat: Seat) -> Act | None:
        if not self.chatter:
            return None
        act = Act(len(self.acts), seat.pid, len(self.acts) % MARKS)
        self.acts.append(act)
        return act

    chatter = True
    """Everyone keeps talking; off at the end so that the last words can be checked."""

    async def _publish(self, seat: Seat) -> None:
        assert seat.client is not None
        seat.mic = ScriptedMic(lambda: self._next_act(seat))
        seat.bot = Bot(seat.client, track=seat.mic)
        await seat.bot.publish()

    # -- the mediator's controls -----------------------------------------------------
    def admit(self, who: str) -> None:
        s = self.seat(who)
        if s.state != "lobby":
            self.call_refused(self.seat("M"), "admit", {"participant_id": s.pid})
            return
        t0 = time.monotonic()
        self.call_ok(self.seat("M"), "admit", {"participant_id": s.pid})
        s.state, s.space = "room", s.scope
        if who == "I" and self.interprets_for is not None:
            party = self.seat(self.interprets_for)
            s.space = party.space if party.state == "room" else None
        self._follow(who)
        self.changed(t0)
        if s.bot is None:
            self.run(self._publish(s))

    def deny(self, who: str) -> None:
        s = self.seat(who)
        if s.state != "lobby":
            return
        t0 = time.monotonic()
        self.call_ok(self.seat("M"), "deny", {"participant_id": s.pid, "reason": "不适合"})
        s.state, s.space = "denied", None
        self.changed(t0)

    def send_back(self, who: str) -> None:
        s = self.seat(who)
        if s.state != "room":
            return
        t0 = time.monotonic()
        self.call_ok(self.seat("M"), "send_back", {"participant_id": s.pid})
        s.state, s.space = "lobby", None
        self._follow(who)
        self.changed(t0)

    def remove(self, who: str) -> None:
        s = self.seat(who)
        if s.state in ("removed", "denied"):
            return
        t0 = time.monotonic()
        self.call_ok(self.seat("M"), "remove", {"participant_id": s.pid})
        s.state, s.space = "removed", None
        self._follow(who)
        self.changed(t0)

    def caucus_create(self, members: set[str], with_mediator: bool) -> str:
        seats = [self.seat(m) for m in sorted(members)
                 if self.seat(m).state == "room" and self.seat(m).scope is None]
        if len(self.caucus_ids) >= 3:
            return ""
        t0 = time.monotonic()
        ack = self.call_ok(self.seat("M"), "caucus_create",
                           {"name": "背靠背", "members": [s.pid for s in seats]})
        cid = str(ack["caucus_id"])
        self.caucus_ids.add(cid)
        for s in seats:
            s.space = cid
            self._follow(s.name)
        if with_mediator:
            self.call_ok(self.seat("M"), "caucus_move", {"participant_id": self.seat("M").pid,
                                                         "caucus_id": cid})
            self.seat("M").space = cid
        self.changed(t0)
        return cid

    def _mid_sentence(self, seats: list[Seat]) -> None:
        """Wait until these people are in the middle of a sentence, so that the next
        change lands in it (the race the attack found)."""
        talking = [x for x in seats if x.mic is not None and x.state == "room"]
        if talking:
            self.run(self._until_talking(talking))

    async def _until_talking(self, seats: list[Seat]) -> None:
        def mid(x: Seat) -> bool:
            playing = x.mic.playing if x.mic is not None else None
            return playing is not None and int(0.5 * RATE) < playing[2] < int(1.0 * RATE)

        loop = asyncio.get_running_loop()
        end = loop.time() + 4
        while not all(mid(x) for x in seats) and loop.time() < end:
            await asyncio.sleep(0.01)

    def move(self, who: str, to: str | None, mid_sentence: bool) -> None:
        s = self.seat(who)
        ok = s.state == "room" and (s.scope is None or s.scope == to)
        if mid_sentence and ok:
            self._mid_sentence([s])
        t0 = time.monotonic()
        body = {"participant_id": s.pid, "caucus_id": to}
        if not ok:
            self.call_refused(self.seat("M"), "caucus_move", body)
            return
        self.call_ok(self.seat("M"), "caucus_move", body)
        if s.space != to:
            s.space = to
            self._follow(who)
        self.changed(t0)

    def end_caucus(self, cid: str, mid_sentence: bool) -> None:
        if cid not in self.caucus_ids:
            return
        if mid_sentence:
            self._mid_sentence([x for x in self.seats.values() if x.space == cid])
        t0 = time.monotonic()
        self.call_ok(self.seat("M"), "caucus_end", {"caucus_id": cid})
        self.caucus_ids.discard(cid)
        moved = [s for s in self.seats.values()
                 if s.space == cid and s.state == "room" and s.scope is None]
        for s in moved:
            s.space = None
        for s in moved:
            self._follow(s.name)
        self.changed(t0)
        self._expert_follows(t0)

    def return_all(self, mid_sentence: bool) -> None:
        if mid_sentence:
            self._mid_sentence([x for x in self.seats.values() if x.space is not None])
        t0 = time.monotonic()
        self.call_ok(self.seat("M"), "caucus_return_all", {})
        for s in self.seats.values():
            if s.state == "room" and s.scope is None:
                s.space = None
        # The interpreter is in the room, not scoped: back in the joint session like all.
        # A consultation's caucus stays with its expert; every other caucus is gone.
        self.caucus_ids = set()
        self.changed(t0)
        self._expert_follows(t0)

    def _expert_follows(self, t0: float) -> None:
        """An expert limited to a caucus that just closed is taken out of the session by
        the switchboard's seat watcher, a moment later: wait for it, as a change."""
        e = self.seats.get("E")
        if e is None or e.scope is None or e.scope in self.caucus_ids:
            return
        self.run(self._gone(e.pid))
        e.state, e.space = "removed", None
        self.seats.pop("E")
        self.retired.append(e)
        self.call = None
        self.changed(t0)
        self.run(self._close_seat(e))

    async def _gone(self, pid: str) -> None:
        loop = asyncio.get_running_loop()
        end = loop.time() + 20
        while True:
            room = await self.world.srv.services.rooms.get(self.session_id)
            if room is None or room.member(pid).state != "room":
                return
            assert loop.time() < end, "the expert stayed in a closed caucus"
            await asyncio.sleep(0.05)

    def _follow(self, who: str) -> None:
        """The interpreter goes where their party goes (``Room._follow``): into the
        party's caucus, back to the joint session when the party leaves it or the room."""
        i = self.seats.get("I")
        if i is None or who != self.interprets_for or i.state != "room":
            return
        party = self.seat(who)
        i.space = party.space if party.state == "room" else None

    def attach(self, to: str | None) -> None:
        i = self.seat("I")
        body = {"participant_id": i.pid, "interprets_for": self.seat(to).pid if to else None}
        t0 = time.monotonic()
        if i.state == "room" and to is not None:
            self._mid_sentence([i])
        self.call_ok(self.seat("M"), "interpreter_attach", body)
        STATS["attaches"] += 1
        self.interprets_for = to
        if to is not None:
            self._follow(to)
        self.changed(t0)

    def mute(self, who: str, muted: bool) -> None:
        s = self.seat(who)
        t0 = time.monotonic()
        self.call_ok(self.seat("M"), "mute", {"participant_id": s.pid, "source": "audio",
                                              "muted": muted})
        s.muted = muted
        self.changed(t0)

    # -- experts --------------------------------------------------------------------
    def expert_call(self, scope: str) -> None:
        body: dict[str, Any] = {"domain": "property", "scope": scope}
        if scope == "caucus":
            if not self.caucus_ids:
                return
            body["caucus_id"] = sorted(self.caucus_ids)[0]
        ack = self.call_ok(self.seat("M"), "expert_call", body)
        call_id = ack["call"]["call_id"]
        t0 = time.monotonic()
        grant = self.run(self._answer(call_id))
        e = Seat("E", "expert", scope=grant.get("caucus_id") if scope != "joint" else None)
        e.client = self.run(connect(self.world.srv.url, {"resume": grant["token"]}))
        e.pid, e.token = e.client.pid, grant["token"]
        e.state = "room"
        e.space = self._own_space(e.client.welcome.get("layout") or {}, e.pid)
        if scope == "consultation":
            cid = grant["caucus_id"]
            self.caucus_ids.add(cid)
            self.seat("M").space = cid
            assert e.space == cid
        self.seats["E"] = e
        self.call = {"call_id": call_id, "scope": scope}
        self.changed(t0)
        self.run(self._publish(e))

    async def _answer(self, call_id: str) -> dict[str, Any]:
        con = self.world.console
        await con.wait_for("ring", lambda d: d["call_id"] == call_id, timeout=20)
        acc = await con.call("accept", {"call_id": call_id})
        assert acc["ok"], acc
        return dict(acc["grant"])

    def expert_call_end(self) -> None:
        assert self.call is not None
        t0 = time.monotonic()
        self.call_ok(self.seat("M"), "expert_call_end", {"call_id": self.call["call_id"]})
        e = self.seats.pop("E")
        e.state = "removed"
        if e.scope is not None and self.call["scope"] == "consultation":
            self.caucus_ids.discard(e.scope)
            m = self.seat("M")
            if m.space == e.scope:
                m.space = None
        self.retired.append(e)
        self.call = None
        self.changed(t0)
        self.run(self._close_seat(e))

    retired: list[Seat]

    async def _close_seat(self, s: Seat) -> None:
        if s.bot is not None:
            await s.bot.close()
        if s.client is not None and s.client.sio.connected:
            await s.client.close()

    # -- talk ----------------------------------------------------------------------
    def chat(self, who: str) -> None:
        s = self.seats.get(who)
        if s is None:
            return
        text = f"chat{next(self.world.numbers)}"
        ack = self.run(self._call(s, "chat", {"text": text}))
        allowed = s.state == "room" and s.role != "observer"
        assert ack["ok"] == allowed, (who, s.state, ack)
        if allowed:
            self.chats[text] = s.space

    def hand(self, who: str) -> None:
        s = self.seat(who)
        ack = self.run(self._call(s, "hand", {"raised": True}))
        assert ack["ok"] == (s.state == "room"), (who, s.state, ack)

    # -- evidence and documents ---------------------------------------------------------
    def evidence_upload(self, who: str) -> None:
        s = self.seat(who)
        title = f"ev{next(self.world.numbers)}"
        status, body = self.run(self._upload(s, title))
        if s.state != "room":
            assert status in (403, 410), (status, body)
            return
        assert status == 201, body
        self.evidence[body["id"]] = {"uploader": s.pid, "space": s.space, "title": title,
                                     "shown": set()}

    async def _upload(self, s: Seat, title: str) -> tuple[int, Any]:
        png = b"\x89PNG\r\n\x1a\n" + bytes(64)
        async with self.world.http.post(
                f"{self.world.srv.url}/api/v1/sessions/{self.session_id}/evidence",
                params={"title": title}, data=png, headers={"X-Seat-Token": s.token}) as r:
            return r.status, await r.json()

    def evidence_show(self, i: int) -> None:
        ids = sorted(self.evidence)
        eid = ids[i % len(ids)]
        m = self.seat("M")
        self.call_ok(m, "evidence_show", {"evidence_id": eid})
        space = "joint" if m.space is None else m.space
        self.evidence[eid]["shown"].add(space)
        self.shows.append((eid, m.space))

    def draft_create(self) -> None:
        m = self.seat("M")
        ack = self.call_ok(m, "draft_create", {"kind": "agreement",
                                               "data": self._agreement()})
        self.drafts[str(ack["draft_id"])] = (m.space, 1)

    def _agreement(self) -> dict[str, Any]:
        data = demo_agreement().model_dump(mode="json")
        ids = {"P1": self.seat("A1").pid, "P2": self.seat("B1").pid}
        for party in data["parties"]:
            party["party_id"] = ids[party["party_id"]]
        for clause in data["clauses"]:
            clause["obligor"], clause["obligee"] = ids[clause["obligor"]], ids[clause["obligee"]]
        data["case_number"] = self.case_number
        return data

    def _may_read(self, s: Seat, space: str | None) -> bool:
        if s.state != "room" or self.ended:
            return False
        if s.scope is not None:
            return space == s.scope and s.space == s.scope
        return s.role == "mediator" or space is None or s.space == space

    def draft_edit(self, i: int) -> None:
        ids = sorted(self.drafts)
        did = ids[i % len(ids)]
        space, version = self.drafts[did]
        m = self.seat("M")
        body = {"draft_id": did, "data": self._agreement(), "base_version": version}
        ack = self.run(self._call(m, "draft_edit", body))
        if self._may_read(m, space):
            assert ack["ok"], ack
            self.drafts[did] = (space, int(ack["version"]))
        else:
            assert ack["error"]["code"] == "draft_not_found", ack

    def draft_comment(self, i: int, who: str) -> None:
        s = self.seats.get(who)
        if s is None:
            return
        ids = sorted(self.drafts)
        did = ids[i % len(ids)]
        space, version = self.drafts[did]
        ack = self.run(self._call(s, "draft_comment", {"draft_id": did, "version": version,
                                                       "text": f"c{did[:6]}"}))
        may = self._may_read(s, space) and (s.role == "mediator" or s.space == space)
        assert ack["ok"] == may, (who, s, space, ack)

    # -- connections ------------------------------------------------------------------
    def reconnect(self, who: str) -> None:
        s = self.seat(who)
        if s.state not in ("room", "lobby"):
            return
        self.run(self._reconnect(s))

    async def _reconnect(self, s: Seat) -> None:
        assert s.client is not None
        old = s.client
        await self._barrier()
        self._check_client(s)
        await old.close()
        auth = ({"token": self.world.staff.token, "session_id": self.session_id}
                if s.role == "mediator" else {"resume": s.token})
        s.client = await connect(self.world.srv.url, auth)
        self.retired_clients.append(old)
        if s.bot is not None:
            s.bot.rebind(s.client)

    retired_clients: list[Client]

    def end_session(self) -> None:
        t0 = time.monotonic()
        self.call_ok(self.seat("M"), "end_session", {})
        self.ended = True
        for s in self.seats.values():
            if s.state == "room":
                s.state = "left"
        self.changed(t0)

    # -- the rules: few and broad, so that every example mixes all kinds of change ------
    # (hypothesis's swarm testing switches whole rules off per example)

    @precondition(lambda self: not self.ended)
    @rule(op=st.sampled_from(("admit", "deny", "send_back", "remove", "mute", "unmute")),
          who=st.sampled_from(SEATS + ("O",)), i=st.integers(0, 5))
    def change_a_seat(self, op: str, who: str, i: int) -> None:
        party = who if who in SEATS else SEATS[i % len(SEATS)]
        if op == "admit":
            self.admit(who)
        elif op == "deny":
            self.deny(party)
        elif op == "send_back":
            self._mid_sentence([self.seat(who)])
            self.send_back(who)
        elif op == "remove":
            self.remove(party)
        else:
            self._mid_sentence([self.seat(party)])
            self.mute(party, op == "mute")

    @precondition(lambda self: not self.ended)
    @rule(op=st.sampled_from(("create", "move", "move", "end", "return_all", "attach")),
          who=st.sampled_from(("M",) + SEATS), i=st.integers(0, 5), flag=st.booleans(),
          members=st.sets(st.sampled_from(SEATS), max_size=4))
    def shape_the_caucuses(self, op: str, who: str, i: int, flag: bool,
                           members: set[str]) -> None:
        """Every change here lands in the middle of the sentences of the people it moves
        (everyone talks all the time): the race the attack found. Caucuses take any set
        of members, of any sides, the interpreter among them or following their party."""
        caucuses = sorted(self.caucus_ids)
        if op == "create":
            self.caucus_create(members, flag)
        elif op == "attach":
            self.attach(None if i == 5 else PARTIES[i % len(PARTIES)])
        elif op == "move":
            to = None if not caucuses or i % 3 == 0 else caucuses[i % len(caucuses)]
            self.move(who, to, True)
        elif op == "end" and caucuses:
            self.end_caucus(caucuses[i % len(caucuses)], True)
        elif op == "return_all" and caucuses:
            self.return_all(True)

    @precondition(lambda self: not self.ended)
    @rule(op=st.sampled_from(("chat", "chat", "hand", "evidence_upload", "evidence_show",
                              "draft_create", "draft_edit", "draft_comment")),
          who=st.sampled_from(("M", "A1", "A2", "B1", "C1", "I", "O", "E")),
          i=st.integers(0, 5))
    def say_something(self, op: str, who: str, i: int) -> None:
        party = who if who in SEATS else SEATS[i % len(SEATS)]
        if op == "chat":
            self.chat(who)
        elif op == "hand":
            self.hand(party)
        elif op == "evidence_upload":
            self.evidence_upload(party)
        elif op == "evidence_show" and self.evidence:
            self.evidence_show(i)
        elif op == "draft_create":
            self.draft_create()
        elif op == "draft_edit" and self.drafts:
            self.draft_edit(i)
        elif op == "draft_comment" and self.drafts:
            self.draft_comment(i, who)

    @precondition(lambda self: not self.ended)
    @rule(op=st.sampled_from(("consultation", "caucus", "joint", "end")))
    def call_an_expert(self, op: str) -> None:
        if op == "end":
            if self.call is not None:
                self.expert_call_end()
        elif self.call is None:
            self.expert_call(op)

    @precondition(lambda self: not self.ended)
    @rule(who=st.sampled_from(("M",) + SEATS))
    def drop_and_rejoin(self, who: str) -> None:
        self.reconnect(who)

    @precondition(lambda self: not self.ended and self.steps >= STEPS // 2)
    @rule()
    def end_the_session(self) -> None:
        self.end_session()

    steps = 0

    @rule()
    def time_passes(self) -> None:
        """Speech goes on while nothing else happens."""
        self.run(asyncio.sleep(0.4))

    # -- the invariant ------------------------------------------------------------------
    @invariant()
    def nothing_reached_anyone_outside_its_space(self) -> None:
        if not self.session_id:
            return
        STATS["steps"] += 1
        self.steps += 1
        self.run(self._barrier())
        self.run(self._check_routes())
        for s in self._all_seats():
            if s.client is not None:
                self._check_client(s)
        self._check_layouts()

    def _all_seats(self) -> list[Seat]:
        return list(self.seats.values()) + list(getattr(self, "retired", []))

    async def _barrier(self) -> None:
        """Every emit made so far has reached every connection (one socket, in order)."""
        self.barrier_n += 1
        n = self.barrier_n
        sio = self.world.srv.services.sio
        live = [s for s in self._all_seats() if s.client is not None and s.client.sio.connected]
        for s in live:
            await sio.emit("barrier", {"n": n}, to=f"p:{s.pid}", namespace="/")
        for s in live:
            assert s.client is not None
            if s.client.sio.connected:
                try:
                    await s.client.wait_for("barrier", lambda d: d["n"] == n, timeout=10)
                except AssertionError:
                    if s.client.sio.connected:  # dropped meanwhile (ended, removed): fine
                        raise

    async def _check_routes(self) -> None:
        media = self.world.srv.services.media
        router = media.sfu.routers.get(self.session_id)
        if router is None:
            return
        self._origin = router._tap_origin
        expected = set()
        people = [s for s in self._all_seats() if s.pid and s.state == "room" and not self.ended]
        for pub in people:
            if pub.role == "observer":
                continue  # hidden, and no publish grant
            for sub in people:
                if sub.pid != pub.pid and sub.space == pub.space:
                    for source in ("audio", "video", "screen"):
                        if source == "audio" and pub.muted:
                            continue
                        if source == "screen":
                            continue  # nobody shares a screen in this walk
                        expected.add(Route(pub.pid, source, sub.pid))
        assert set(router.active_routes) == expected, (
            set(router.active_routes) ^ expected)

    def _check_client(self, s: Seat) -> None:
        """Replay this client's events in order, knowing where it was from its own
        layouts: content of a space arrives only while the receiver is in it."""
        assert s.client is not None
        events = s.client.events
        start = self.checked.get(id(s.client), 0)
        state, space = self.self_space.get(s.pid, ("lobby", None))
        for event, data in events[start:]:
            if event in ("joined", "admitted", "layout"):
                layout = data.get("layout") if event != "layout" else data
                if event == "joined":
                    state = data["state"]
                if event == "admitted":
                    state = "room"
                if layout:
                    space = self._own_space(layout, s.pid, default=space)
            elif event == "sent_back":
                state, space = "lobby", None
            elif event in ("removed", "denied", "session_ended"):
                state = "gone"
            elif event in ("chat", "hand", "draft", "draft_comment", "evidence"):
                label = self._label(event, data)
                if event == "evidence":
                    ok = state == "room" and (data["id"], space) in self.shows
                elif event in ("draft", "draft_comment"):
                    draft_space = self.drafts[data["draft_id"]][0]
                    ok = state == "room" and self._view_may_read(s, space, draft_space)
                else:
                    ok = state == "room" and label == space
                assert ok, f"{s.name} in {state}/{space} got {event} of {label}: {data}"
                if event == "chat":
                    assert self.chats.get(data["text"], "missing") == label, data
        self.checked[id(s.client)] = len(events)
        self.self_space[s.pid] = (state, space)

    @staticmethod
    def _view_may_read(s: Seat, space: str | None, draft_space: str | None) -> bool:
        """What ``agreements.seats.can_read`` allows, from where the client was."""
        if s.scope is not None:
            return draft_space == s.scope and space == s.scope
        return s.role == "mediator" or draft_space is None or space == draft_space

    @staticmethod
    def _label(event: str, data: dict[str, Any]) -> str | None:
        if event in ("chat", "hand"):
            return data.get("caucus_id")
        if event in ("draft", "draft_comment"):
            return data.get("caucus_id")
        return None

    @staticmethod
    def _own_space(layout: dict[str, Any], pid: str,
                   default: str | None = None) -> str | None:
        if pid in layout.get("joint", []):
            return None
        for c in layout.get("caucuses", []):
            if pid in c["members"]:
                return str(c["id"])
        return default

    def _check_layouts(self) -> None:
        observer = self.seats["O"].pid
        for s in self._all_seats():
            if s.client is None or s.role == "mediator":
                continue
            for lay in s.client.received("layout"):
                seen = {p["participant_id"] for p in lay["participants"]}
                assert observer not in seen or s.pid == observer, (s.name, lay)
                if s.scope is not None:
                    assert {c["id"] for c in lay["caucuses"]} <= {s.scope}, lay
                    assert not lay["joint"], lay

    # -- captions: where and when -----------------------------------------------------
    def _where(self, pid: str, t: float) -> set[tuple[str, str | None]]:
        """Where ``pid`` may have been at monotonic time ``t`` (two places while a step
        that moved people was in flight)."""
        places = set()
        before: tuple[str, str | None] = ("absent", None)
        for ch in self.timeline:
            if t < ch.t0 - SLACK_S:
                break
            after = ch.after.get(pid, ("absent", None))
            if t <= ch.t1 + SLACK_S:
                places.update({before, after})
            before = after
        places.add(before)
        return places if len(places) > 1 else {before}

    def _definitely_in(self, pid: str, space: str | None, t: float) -> bool:
        return self._where(pid, t) == {("room", space)}

    def _definitely_out(self, pid: str, space: str | None, t: float) -> bool:
        return ("room", space) not in self._where(pid, t)

    PROBE_S = 0.25
    """Into an utterance: its start includes lookback before the voice began."""

    def check_captions(self, origin: float) -> None:
        boundaries = sorted({x for ch in self.timeline for x in (ch.t0, ch.t1)})
        spaces = {None, *self.caucus_history()}
        for r in self._all_seats():
            if r.client is None:
                continue
            for c in self._captions(r):
                speaker, label = c["speaker"]["participant_id"], c["caucus"]
                # When its audio reached the server (routing decides then who hears it);
                # its media-time start runs ahead of that after a stall on a busy host.
                start = origin + c["heard_at"]
                end = start + (c["end"] - c["start"])
                self.heard_at[c["utterance_id"]] = start
                for where in spaces - {label}:
                    if self._definitely_in(speaker, where, start + self.PROBE_S):
                        raise AssertionError(f"words spoken in {where} labelled {label}: {c}")
                if r.pid == speaker:
                    continue
                window = [start, end] + [b for b in boundaries if start < b < end]
                for t in window:
                    assert not self._definitely_out(r.pid, label, t), (
                        f"{r.name} was outside {label} while {c} was spoken")

    def _captions(self, r: Seat) -> list[dict[str, Any]]:
        out = []
        for client in [r.client, *[c for c in self.retired_clients
                                   if c.welcome.get("participant_id") == r.pid]]:
            if client is not None:
                out.extend(client.received("caption"))
        return out

    def check_store(self, origin: float) -> None:
        rows = self.run(self._utterances())
        for u in rows:
            start = self.heard_at.get(u.id)
            if start is None:
                continue  # captioned to nobody live (its caucus had ended): nothing to time
            for where in {None, *self.caucus_history()}:
                if where != u.caucus_id and self._definitely_in(u.participant_id, where,
                                                                start + self.PROBE_S):
                    raise AssertionError(
                        f"stored {u.text!r} as {u.caucus_id}, spoken in {where}")

    def caucus_history(self) -> set[str]:
        return {sp for ch in self.timeline for (_st, sp) in ch.after.values() if sp}

    async def _utterances(self) -> list[Any]:
        from transcription.store import utterances

        async with self.world.srv.services.db.session() as db:
            return await utterances(db, self.session_id, caucuses=None)

    async def _clerk_views(self) -> tuple[str, str, str]:
        c = self.world.clerk
        sid = self.session_id
        _, events = await c.call("GET", f"/api/v1/sessions/{sid}/events")
        _, transcript = await c.call("GET", f"/api/v1/sessions/{sid}/transcript")
        async with self.world.http.get(
                f"{self.world.srv.url}/api/v1/sessions/{sid}/transcript/export?format=txt",
                headers={"Authorization": f"Bearer {c.token}"}) as r:
            export = await r.text()
        return str(events), str(transcript), export

    def check_clerk_and_evidence(self) -> None:
        events, transcript, export = self.run(self._clerk_views())
        for text, space in self.chats.items():
            if space is not None:
                assert text not in events, f"caucus chat {text} in the clerk's log"
        for ev in self.evidence.values():
            if ev["space"] is not None:
                assert ev["title"] not in events, f"caucus evidence {ev['title']} logged joint"
        for row in self.run(self._utterances()):
            if row.caucus_id is not None:
                assert row.id not in transcript and f"[{row.id}]" not in export
        for eid, ev in self.evidence.items():
            for s in self._all_seats():
                if not s.token or self.ended:
                    continue
                status = self.run(self._download(s, eid))
                space = "joint" if s.space is None else s.space
                allowed = s.state == "room" and (
                    ev["uploader"] == s.pid or space in ev["shown"])
                assert (status == 200) == allowed, (s.name, eid, ev, status)

    async def _download(self, s: Seat, eid: str) -> int:
        async with self.world.http.get(f"{self.world.srv.url}/api/v1/evidence/{eid}",
                                       headers={"X-Seat-Token": s.token}) as r:
            return r.status

    def check_metrics(self) -> None:
        from prometheus_client import generate_latest

        text = generate_latest().decode()
        for s in self._all_seats():
            assert not s.pid or s.pid not in text
        for cid in self.caucus_history():
            assert cid not in text
        assert "mark" not in text.replace("benchmark", "")

    def teardown(self) -> None:
        if not self.session_id:
            return
        try:
            t = time.monotonic()
            self.run(self._settle(), timeout=180)
            STATS["settle_ms"] += int((time.monotonic() - t) * 1000)
            t = time.monotonic()
            self.run(self._barrier())
            for s in self._all_seats():
                if s.client is not None:
                    self._check_client(s)
            try:
                self.check_captions(self._origin)
                self.check_store(self._origin)
                self.check_clerk_and_evidence()
                self.check_metrics()
            except AssertionError:
                if not STATS["first_failure_in_example"]:
                    STATS["first_failure_in_example"] = STATS["started"]
                raise
            STATS["check_ms"] += int((time.monotonic() - t) * 1000)
            STATS["examples"] += 1
            STATS["acts"] += len(self.acts)
            STATS["changes"] += len(self.timeline) - 1
            STATS["captions"] += sum(len(self._captions(s)) for s in self._all_seats())
            STATS["finals"] += sum(1 for s in self._all_seats() for c in self._captions(s)
                                   if c.get("final"))
            STATS["chats"] += len(self.chats)
        finally:
            t = time.monotonic()
            self.run(self._close_all(), timeout=60)
            STATS["close_ms"] += int((time.monotonic() - t) * 1000)

    async def _settle(self) -> None:
        """Every act spoken, heard and captioned."""
        self.chatter = False
        loop = asyncio.get_running_loop()
        end = loop.time() + 10  # at most one act (2.1 s) each; a closed connection stops
        while loop.time() < end and any(                         # reading its microphone
                s.mic is not None and not s.mic.idle() for s in self._all_seats()
                if s.state in ("room", "lobby") and not self.ended):
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.3)  # the last frames' way to the server
        pipeline = self.world.srv.services.extras.get("transcription")
        if pipeline is not None:
            await pipeline.drain()

    _origin = 0.0

    async def _close_all(self) -> None:
        m = self.seats.get("M")
        if not self.ended and m is not None and m.client is not None and m.client.sio.connected:
            await m.client.call("end_session", {})  # ends an expert call still running
        for s in self._all_seats():
            await self._close_seat(s)
        for c in getattr(self, "retired_clients", []):
            if c.sio.connected:
                await c.close()


@pytest.fixture
def fake_recognizer(monkeypatch: pytest.MonkeyPatch) -> None:
    import transcription.pipeline as pipeline

    monkeypatch.setattr(pipeline, "recognize", fake_recognize)
    # Without this the batched finals, the warm-up and the record's second pass failed
    # on the fake model: no final caption was produced, so only partials were checked.
    monkeypatch.setattr(pipeline, "recognize_batch", fake_recognize_batch)
    # And the record's second pass bounds its prompt with the model's tokenizer.
    monkeypatch.setattr(pipeline, "token_counter", lambda model: len)
    monkeypatch.setattr(pipeline, "load", fake_load)


async def _world(loop: LoopThread, database_url: str, tmp: Path,
                 stack: list[AbstractAsyncContextManager[Any]]) -> World:
    cm = running_server(database_url, tmp, media=True, transcription=True, language="en",
                        reconnect_grace_s=30.0)
    srv = await cm.__aenter__()
    stack.append(cm)
    http = aiohttp.ClientSession()
    await make_user(srv, "li")
    await make_user(srv, "qian", role="clerk")
    await make_user(srv, "boss", role="admin")
    await make_user(srv, "zhuan", role="expert")
    staff, clerk = await login(srv, http, "li"), await login(srv, http, "qian")
    admin, expert = await login(srv, http, "boss"), await login(srv, http, "zhuan")
    st_, prof = await admin.call("POST", "/api/v1/experts", {
        "user_id": expert.user["id"], "domains": ["property"], "languages": ["zh"],
        "availability": [{"weekday": d, "start": "00:00", "end": "24:00"}
                         for d in range(7)]})
    assert st_ == 201, prof
    from tests.experts.kit import open_console

    console = await open_console(srv.url, expert.token)
    return World(loop, srv, http, staff, clerk, expert.token, console)


def run_machine(database_url: str, tmp_path: Path) -> None:
    loop = LoopThread()
    stack: list[AbstractAsyncContextManager[Any]] = []
    world = loop.run(_world(loop, database_url, tmp_path, stack))

    class Machine(PrivacyMachine):
        def __init__(self) -> None:
            super().__init__()
            self.world = world
            self.retired = []
            self.retired_clients = []

    started = time.monotonic()
    try:
        run_state_machine_as_test(Machine, settings=settings(  # type: ignore[no-untyped-call]
            max_examples=EXAMPLES, stateful_step_count=STEPS, deadline=None,
            # The same histories in every CI run; TIAOJIE_PRIVACY_RANDOM=1 explores anew.
            derandomize=not os.environ.get("TIAOJIE_PRIVACY_RANDOM"),
            suppress_health_check=list(HealthCheck),
            verbosity=(Verbosity.verbose if os.environ.get("TIAOJIE_PRIVACY_VERBOSE")
                       else Verbosity.normal)))
        # The race the invariant exists for is in final captions: they must have flowed.
        assert STATS["finals"] > 0, "no final caption was produced: only partials checked"
    finally:
        print(f"privacy invariant: {EXAMPLES} examples x {STEPS} steps in "
              f"{time.monotonic() - started:.0f} s; {STATS}")

        async def close() -> None:
            await world.console.close()
            await world.http.close()
            for cm in reversed(stack):
                await cm.__aexit__(None, None, None)

        loop.run(close())
        loop.close()


@pytest.mark.timeout(1800)
def test_nothing_said_in_a_space_reaches_anyone_outside_it(
        database_url: str, tmp_path: Path, fake_recognizer: None) -> None:
    run_machine(database_url, tmp_path)


def test_the_marker_tone_survives_opus_and_the_tap() -> None:
    """The fake recognizer's premise: an act's marker is found in the audio it gets."""
    from transcription.audio import int16_to_float

    for k in (0, 5, MARKS - 1):
        audio = speech_with_mark(k)[: int(1.2 * RATE)]
        codec = av.CodecContext.create("libopus", "w")
        codec.sample_rate, codec.layout, codec.format = RATE, "mono", "s16"
        decoder = av.CodecContext.create("libopus", "r")
        decoder.sample_rate, decoder.layout = RATE, "stereo"
        resampler = av.AudioResampler(format="s16", layout="mono", rate=TAP_RATE)
        out = []
        for i in range(0, audio.size - FRAME, FRAME):
            frame = av.AudioFrame.from_ndarray(audio[i:i + FRAME].reshape(1, -1),
                                               format="s16", layout="mono")
            frame.sample_rate, frame.pts = RATE, i
            for packet in codec.encode(frame):
                for decoded in decoder.decode(packet):
                    for r in resampler.resample(decoded):
                        out.append(r.to_ndarray().reshape(-1))
        tapped = int16_to_float(np.concatenate(out).astype(np.int16))
        assert heard_mark(tapped) == k
        assert heard_mark(tapped[: TAP_RATE // 2]) == k  # a partial's chunk too


_ = (AsyncIterator, Callable)
