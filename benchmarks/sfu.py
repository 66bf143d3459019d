#!/usr/bin/env python3
"""SFU benchmark: forwarding encoded frames vs. aiortc's MediaRelay (decode + re-encode).

R rooms of 4 participants; each participant is a bot (one process per room) that
publishes audio + video and subscribes to the other three. The bots never encode or
decode: a short clip is encoded once (VP8 + Opus) before the run and its packets are
replayed through aiortc senders (``encoder.pack``); received frames are counted at the
receiver's encoded-frame seam. The server is its own process, measured with getrusage
(user + sys, all its threads) over a fixed window after every stream is flowing.

Modes, in the same run:
* passthrough: ``media.SFU`` (the code under test), renegotiating as a browser would;
* naive: one RTCPeerConnection per participant whose outgoing tracks are
  ``MediaRelay.subscribe(publisher track)``: each publisher decoded once, every
  subscriber's copy encoded again (what a relay built from aiortc's examples does).

Usage: python3 benchmarks/sfu.py [--rooms 10] [--duration 20] [--naive-rooms 1]
Prints a table and a final line ``RESULT {json}``. Environment: SFU_BENCH_STRICT_CONSENT=1
keeps aioice's consent expiry (off by default: see ``_relax_consent``); SFU_BENCH_DEBUG=1
logs ICE/DTLS/transport events.
"""

from __future__ import annotations

import argparse
import asyncio
import fractions
import json
import multiprocessing as mp
import os
import resource
import sys
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

PARTICIPANTS = 4
KINDS = ("audio", "video")


# --- the clip, encoded once -----------------------------------------------------------
@dataclass
class Clip:
    """Pre-encoded media the bots replay."""

    video: list[bytes]
    """VP8 frames; frame 0 is a keyframe (the clip loops on it)."""
    audio: list[bytes]
    """Opus packets of 20 ms."""
    fps: int
    """Video frame rate."""


def encode_clip(width: int, height: int, fps: int, seconds: float, bitrate: int) -> Clip:
    import av
    import numpy as np

    n = int(fps * seconds)
    enc: Any = av.CodecContext.create("libvpx", "w")
    enc.width, enc.height, enc.pix_fmt = width, height, "yuv420p"
    enc.time_base = fractions.Fraction(1, fps)
    enc.framerate = fractions.Fraction(fps, 1)
    enc.bit_rate = bitrate
    enc.gop_size = n
    enc.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
    rng = np.random.default_rng(1)
    yy, xx = np.mgrid[0:height, 0:width]
    video: list[bytes] = []
    for i in range(n):
        # A moving pattern plus a little noise: something like a camera's bitrate.
        img = np.stack(
            [
                (xx + 4 * i) % 256,
                (yy + 2 * i) % 256,
                ((xx + yy) // 2 + 3 * i) % 256,
            ],
            axis=-1,
        ).astype(np.uint8)
        img = np.clip(img + rng.integers(0, 12, img.shape), 0, 255).astype(np.uint8)
        frame = av.VideoFrame.from_ndarray(img, format="rgb24").reformat(format="yuv420p")
        frame.pts = i
        video += [bytes(p) for p in enc.encode(frame)]
    video += [bytes(p) for p in enc.encode(None)]

    aenc: Any = av.CodecContext.create("libopus", "w")
    aenc.sample_rate = 48000
    aenc.layout = "stereo"
    aenc.format = "s16"
    aenc.bit_rate = 32000
    aenc.time_base = fractions.Fraction(1, 48000)
    audio: list[bytes] = []
    for i in range(int(seconds * 50)):
        t = (np.arange(960) + 960 * i) / 48000
        s = (0.2 * 32767 * np.sin(2 * np.pi * (300 + 50 * np.sin(t)) * t)).astype(np.int16)
        aframe = av.AudioFrame.from_ndarray(
            np.repeat(s, 2).reshape(1, -1), format="s16", layout="stereo"
        )
        aframe.sample_rate = 48000
        aframe.pts = 960 * i
        audio += [bytes(p) for p in aenc.encode(aframe)]
    return Clip(video=video, audio=audio, fps=fps)


# --- bots -----------------------------------------------------------------------------
def _replay_track_class() -> type:
    import av
    from aiortc import MediaStreamTrack

    class ReplayTrack(MediaStreamTrack):
        """Replays pre-encoded packets in real time; RTCRtpSender packs them as they are."""

        def __init__(
            self, kind: str, packets: list[bytes], clock: int, step: int, interval: float
        ) -> None:
            super().__init__()
            self.kind = kind
            self._packets, self._clock, self._step, self._interval = packets, clock, step, interval
            self._n = 0
            self._clip_index = 0
            self._start: float | None = None

        def keyframe(self) -> None:
            """A PLI/FIR: answer it as a browser would, by sending a keyframe next
            (the clip's only keyframe is its first frame)."""
            self._clip_index = 0

        async def recv(self) -> av.Packet:
            if self._start is None:
                self._start = time.monotonic()
            delay = self._start + self._n * self._interval - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            packet = av.Packet(self._packets[self._clip_index % len(self._packets)])
            self._clip_index += 1
            packet.pts = self._n * self._step
            packet.time_base = fractions.Fraction(1, self._clock)
            self._n += 1
            return packet

    return ReplayTrack


class Bot:
    """One participant: publishes the clip, counts what it receives (without decoding)."""

    def __init__(
        self, url: str, session: str, pid: str, others: list[str], mode: str, clip: Clip
    ) -> None:
        self.url, self.session, self.pid, self.others, self.mode, self.clip = (
            url,
            session,
            pid,
            others,
            mode,
            clip,
        )
        self.frames: dict[int, int] = {}
        self.expected = 2 * len(others)
        self.pc: Any = None
        self.ws: Any = None
        self._next = 1
        self._waiting: dict[int, asyncio.Future[Any]] = {}

    async def start(self, http: Any) -> None:
        from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

        from media import aiortc_seams

        track_cls = _replay_track_class()
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))

        def on_track(track: Any) -> None:
            t = next(t for t in self.pc.getTransceivers() if t.receiver.track is track)
            key = id(t)
            self.frames[key] = 0

            def count(codec: Any, packet: Any) -> None:
                self.frames[key] += 1

            aiortc_seams.install_encoded_frame_tap(t.receiver, count)

        self.pc.on("track", on_track)
        self.pc.addTransceiver(
            track_cls("audio", self.clip.audio, 48000, 960, 0.02), direction="sendonly"
        )
        fps = self.clip.fps
        video = track_cls("video", self.clip.video, 90000, 90000 // fps, 1 / fps)
        sender = self.pc.addTransceiver(video, direction="sendonly").sender
        aiortc_seams.on_keyframe_request(sender, video.keyframe)
        self.ws = await http.ws_connect(f"{self.url}/ws?session={self.session}&pid={self.pid}")
        asyncio.ensure_future(self._read())
        await self.pc.setLocalDescription(await self.pc.createOffer())
        answer = await self.rpc({"type": "offer", "sdp": self.pc.localDescription.sdp})
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type="answer"))

    async def rpc(self, msg: dict[str, Any]) -> Any:
        i = self._next
        self._next += 1
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting[i] = fut
        await self.ws.send_str(json.dumps({"id": i, "msg": msg}))
        return await fut

    async def _read(self) -> None:
        from aiortc import RTCSessionDescription

        async for msg in self.ws:
            data = json.loads(msg.data)
            if "push" in data:
                offer = data["push"]
                await self.pc.setRemoteDescription(
                    RTCSessionDescription(sdp=offer["sdp"], type="offer")
                )
                await self.pc.setLocalDescription(await self.pc.createAnswer())
                asyncio.ensure_future(
                    self.rpc({"type": "answer", "sdp": self.pc.localDescription.sdp})
                )
            else:
                fut = self._waiting.pop(data["id"])
                if "error" in data:
                    fut.set_exception(RuntimeError(str(data["error"])))
                else:
                    fut.set_result(data["result"])

    def ready(self) -> bool:
        return len(self.frames) >= self.expected and all(n > 0 for n in self.frames.values())

    async def stats(self) -> tuple[int, int, int]:
        received = lost = 0
        for receiver in self.pc.getReceivers():
            for s in (await receiver.getStats()).values():
                if getattr(s, "type", None) == "inbound-rtp":
                    received += s.packetsReceived or 0
                    lost += max(0, s.packetsLost or 0)
        return received, lost, sum(self.frames.values())


def bot_main(
    conn: Connection, port: int, session: str, pids: list[str], mode: str, clip: Clip
) -> None:
    _debug_logging("bot")
    asyncio.run(_bot_main(conn, port, session, pids, mode, clip))


async def _bot_main(
    conn: Connection, port: int, session: str, pids: list[str], mode: str, clip: Clip
) -> None:
    import aiohttp

    from media import aiortc_seams

    aiortc_seams.set_announced_addresses(["127.0.0.1"])
    _relax_consent()
    loop = asyncio.get_running_loop()
    async with aiohttp.ClientSession() as http:
        bots = [
            Bot(f"http://127.0.0.1:{port}", session, p, [o for o in pids if o != p], mode, clip)
            for p in pids
        ]
        for b in bots:
            await b.start(http)
        while True:
            cmd = await loop.run_in_executor(None, conn.recv)
            if cmd == "ready":
                conn.send(all(b.ready() for b in bots))
            elif cmd == "frames":
                conn.send([sorted(b.frames.values()) for b in bots])
            elif cmd == "stats":
                totals = [await b.stats() for b in bots]
                conn.send(tuple(sum(t[i] for t in totals) for i in range(3)))
            elif cmd == "stop":
                for b in bots:
                    await b.pc.close()
                conn.send("bye")
                return


# --- servers --------------------------------------------------------------------------
class NaiveServer:
    """The relay built from aiortc's examples: decode each publisher, encode per subscriber.

    Negotiates like the SFU (the participant offers its tracks, the server then offers
    the others' tracks), so the two modes differ only in how media crosses the server.
    """

    def __init__(self, send: Any, rooms: dict[str, list[str]]) -> None:
        from aiortc.contrib.media import MediaRelay

        self.relay = MediaRelay()
        self.send = send
        self.rooms = rooms
        self.sources: dict[tuple[str, str, str], asyncio.Future[Any]] = {}
        self.pcs: dict[tuple[str, str], Any] = {}

    def source(self, session: str, pid: str, kind: str) -> asyncio.Future[Any]:
        key = (session, pid, kind)
        if key not in self.sources:
            self.sources[key] = asyncio.get_running_loop().create_future()
        return self.sources[key]

    async def handle(self, session: str, pid: str, msg: dict[str, Any]) -> Any:
        from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

        if msg["type"] == "answer":
            await self.pcs[(session, pid)].setRemoteDescription(
                RTCSessionDescription(sdp=msg["sdp"], type="answer")
            )
            return None
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.pcs[(session, pid)] = pc

        @pc.on("track")
        def on_track(track: Any) -> None:
            fut = self.source(session, pid, track.kind)
            if not fut.done():
                fut.set_result(track)

        @pc.on("connectionstatechange")
        async def on_state() -> None:
            if pc.connectionState == "connected":
                await self._offer_others(session, pid, pc)

        await pc.setRemoteDescription(RTCSessionDescription(sdp=msg["sdp"], type="offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        return {"type": "answer", "sdp": pc.localDescription.sdp}

    async def _offer_others(self, session: str, pid: str, pc: Any) -> None:
        from aiortc import MediaStreamTrack

        from media import aiortc_seams

        relay, server = self.relay, self

        class Proxy(MediaStreamTrack):
            """Waits for the publisher's track, then reads the relay's copy of it."""

            def __init__(self, kind: str, publisher: str) -> None:
                super().__init__()
                self.kind = kind
                self._publisher = publisher
                self._inner: Any = None

            async def recv(self) -> Any:
                if self._inner is None:
                    source = await server.source(session, self._publisher, self.kind)
                    self._inner = relay.subscribe(source, buffered=False)
                return await self._inner.recv()

        for other in self.rooms[session]:
            if other != pid:
                pc.addTransceiver(Proxy("audio", other), direction="sendonly")
                pc.addTransceiver(Proxy("video", other), direction="sendonly")
        # aiortc's own createOffer renumbers payload types on renegotiation and breaks
        # the receive side; the SFU's fix for that is used here too, for a fair run.
        await pc.setLocalDescription(await aiortc_seams.create_offer(pc))
        await self.send(
            session, pid, {"type": "offer", "sdp": pc.localDescription.sdp, "tracks": {}}
        )


def _relax_consent() -> None:
    """aioice hangs up after six consent checks in a row go unanswered within one RTO
    (single shot, no retransmission). On a shared, overloaded benchmark host the event
    loops of the load generators lag past that and connections drop for reasons that have
    nothing to do with forwarding. Unless SFU_BENCH_STRICT_CONSENT is set, consent expiry
    is switched off in every benchmark process (server included)."""
    if not os.environ.get("SFU_BENCH_STRICT_CONSENT"):
        import aioice.ice

        aioice.ice.CONSENT_FAILURES = 1_000_000


def _debug_logging(role: str) -> None:
    """SFU_BENCH_DEBUG=1: log connection-level events (ICE consent, DTLS) to stderr."""
    if os.environ.get("SFU_BENCH_DEBUG"):
        import logging

        logging.basicConfig(level=logging.WARNING, format=f"{role} %(name)s %(message)s")
        for name in ("aioice.ice", "media.transport", "aiortc.rtcdtlstransport"):
            logging.getLogger(name).setLevel(logging.INFO)


def server_main(conn: Connection, mode: str, rooms: int) -> None:
    _debug_logging("server")
    _relax_consent()
    asyncio.run(_server_main(conn, mode, rooms))


async def _server_main(conn: Connection, mode: str, rooms: int) -> None:
    from aiohttp import WSMsgType, web

    from media.config import MediaConfig
    from media.routing import ParticipantView, RoomView
    from media.sfu import SFU

    sockets: dict[tuple[str, str], web.WebSocketResponse] = {}

    async def send(session: str, pid: str, message: dict[str, Any]) -> None:
        await sockets[(session, pid)].send_str(json.dumps({"push": message}))

    sfu = (
        SFU(send, None, MediaConfig(announced_addresses=["127.0.0.1"]))
        if mode == "passthrough"
        else None
    )
    room_members = {f"r{r}": [f"p{i}" for i in range(PARTICIPANTS)] for r in range(rooms)}
    naive = NaiveServer(send, room_members) if mode == "naive" else None
    if sfu is not None:
        for r in range(rooms):
            people = tuple(ParticipantView(f"p{i}", f"p{i}", "party") for i in range(PARTICIPANTS))
            await sfu.update_room(RoomView(f"r{r}", people))
    else:
        # Same aioice host gathering as the SFU (loopback only) for a like-for-like run.
        from media import aiortc_seams

        aiortc_seams.set_announced_addresses(["127.0.0.1"])

    async def ws_handler(request: web.Request) -> web.WebSocketResponse:
        session, pid = request.query["session"], request.query["pid"]
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        sockets[(session, pid)] = ws
        async for m in ws:
            if m.type != WSMsgType.TEXT:
                continue
            req = json.loads(m.data)
            try:
                if sfu is not None:
                    result = await sfu.handle_signal(session, pid, req["msg"])
                else:
                    assert naive is not None
                    result = await naive.handle(session, pid, req["msg"])
                await ws.send_str(json.dumps({"id": req["id"], "result": result}))
            except Exception as exc:  # noqa: BLE001 - report to the bot, keep serving the others
                await ws.send_str(json.dumps({"id": req["id"], "error": repr(exc)}))
        return ws

    app = web.Application()
    app.router.add_get("/ws", ws_handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    conn.send(port)
    loop = asyncio.get_running_loop()

    def consumers() -> list[Any]:
        if sfu is None:
            return []
        return [
            c
            for r in sfu.routers.values()
            for t in r.transports.values()
            for c in t.consumers.values()
        ]

    while True:
        cmd = await loop.run_in_executor(None, conn.recv)
        if cmd == "cpu":
            ru = resource.getrusage(resource.RUSAGE_SELF)
            conn.send((ru.ru_utime + ru.ru_stime, time.monotonic(), ru.ru_maxrss))
        elif cmd == "status":
            states: dict[str, int] = {}
            if sfu is not None:
                for router in sfu.routers.values():
                    for t in router.transports.values():
                        states[t.pc.connectionState] = states.get(t.pc.connectionState, 0) + 1
            producers = sum(len(x.producers) for x in sfu.routers.values()) if sfu else 0
            ru = resource.getrusage(resource.RUSAGE_SELF)
            conn.send(
                (
                    states,
                    producers,
                    sum(c.is_active for c in consumers()),
                    ru.ru_utime + ru.ru_stime,
                )
            )
        elif cmd == "reset":
            for c in consumers():
                c.track.latencies.clear()
            conn.send(sum(c.frames_dropped for c in consumers()))
        elif cmd == "latency":
            lat = sorted(x for c in consumers() for x in c.track.latencies)
            conn.send(
                (
                    lat,
                    sum(c.frames_dropped for c in consumers()),
                    sum(c.is_active for c in consumers()),
                )
            )
        elif cmd == "stop":
            if sfu is not None:
                await sfu.close()
            if naive is not None:
                for pc in naive.pcs.values():
                    await pc.close()
            await runner.cleanup()
            conn.send("bye")
            return


# --- orchestration --------------------------------------------------------------------
@dataclass
class ModeResult:
    """One mode's measurements."""

    mode: str
    rooms: int
    streams: int
    seconds: float
    cpu_ms: float
    cpu_ms_per_stream_second: float
    cpu_ms_per_delivered_stream_second: float
    cpu_pct_of_core: float
    loss_pct: float
    frames_received: int
    delivery_pct: float
    streams_flowing: int
    latency_p50_ms: float | None
    latency_p99_ms: float | None
    frames_dropped: int
    max_rss_mb: float
    active_consumers: int


def ask(conn: Connection, cmd: str, timeout: float = 120) -> Any:
    conn.send(cmd)
    if not conn.poll(timeout):
        raise TimeoutError(f"no answer to {cmd!r}")
    return conn.recv()


def run_mode(
    mode: str, rooms: int, duration: float, warmup: float, clip: Clip, ready_timeout: float
) -> ModeResult:
    ctx = mp.get_context("spawn")
    s_parent, s_child = ctx.Pipe()
    server = ctx.Process(target=server_main, args=(s_child, mode, rooms), daemon=True)
    server.start()
    port = s_parent.recv()
    bots = []
    pids = [f"p{i}" for i in range(PARTICIPANTS)]
    for r in range(rooms):
        parent, child = ctx.Pipe()
        proc = ctx.Process(
            target=bot_main, args=(child, port, f"r{r}", pids, mode, clip), daemon=True
        )
        proc.start()
        bots.append((proc, parent))
    try:
        deadline = time.monotonic() + ready_timeout
        while not all(ask(c, "ready") for _, c in bots):
            if time.monotonic() > deadline:
                # An overloaded host: measure anyway and report how many streams flowed.
                print(f"  {mode}: not every stream flowing after {ready_timeout}s", flush=True)
                break
            time.sleep(0.5)
        flowing = sum(n > 0 for _, c in bots for counts in ask(c, "frames") for n in counts)
        time.sleep(warmup)
        dropped0 = ask(s_parent, "reset")
        before = [ask(c, "stats") for _, c in bots]
        cpu0, t0, _ = ask(s_parent, "cpu")
        time.sleep(duration)
        cpu1, t1, rss = ask(s_parent, "cpu")
        after = [ask(c, "stats") for _, c in bots]
        lat, dropped1, active = ask(s_parent, "latency")
    finally:
        for proc, c in bots:
            try:
                ask(c, "stop", timeout=20)
            except (OSError, EOFError, TimeoutError) as exc:
                print(f"  bot did not stop cleanly: {exc!r}", file=sys.stderr)
            proc.join(5)
            if proc.is_alive():
                proc.terminate()
        try:
            ask(s_parent, "stop", timeout=20)
        except (OSError, EOFError, TimeoutError) as exc:
            print(f"  server did not stop cleanly: {exc!r}", file=sys.stderr)
        server.join(5)
        if server.is_alive():
            server.terminate()
    received = sum(a[0] - b[0] for a, b in zip(after, before, strict=True))
    lost = sum(a[1] - b[1] for a, b in zip(after, before, strict=True))
    frames = sum(a[2] - b[2] for a, b in zip(after, before, strict=True))
    streams = rooms * PARTICIPANTS * (PARTICIPANTS - 1) * len(KINDS)
    seconds = t1 - t0
    # Frames every subscriber should have received in the window: 50 Opus + fps VP8 a second.
    expected = streams / 2 * (50 + clip.fps) * seconds
    cpu_ms = (cpu1 - cpu0) * 1000

    def pct(q: float) -> float | None:
        return round(lat[min(len(lat) - 1, int(q * len(lat)))] * 1000, 3) if lat else None

    return ModeResult(
        mode=mode,
        rooms=rooms,
        streams=streams,
        seconds=round(seconds, 2),
        cpu_ms=round(cpu_ms, 1),
        cpu_ms_per_stream_second=round(cpu_ms / (streams * seconds), 3),
        # An overloaded host delivers less than the nominal load; normalise by what it did.
        cpu_ms_per_delivered_stream_second=round(
            cpu_ms / (streams * seconds * max(0.01, frames / max(1.0, expected))), 3
        ),
        cpu_pct_of_core=round(100 * (cpu1 - cpu0) / seconds, 1),
        loss_pct=round(100 * lost / max(1, received + lost), 3),
        frames_received=frames,
        delivery_pct=round(100 * frames / max(1.0, expected), 1),
        streams_flowing=flowing,
        latency_p50_ms=pct(0.5),
        latency_p99_ms=pct(0.99),
        frames_dropped=dropped1 - dropped0,
        max_rss_mb=round(rss / 1024, 1),
        active_consumers=active,
    )


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--rooms", type=int, default=10, help="rooms of 4 for the passthrough SFU")
    ap.add_argument("--naive-rooms", type=int, default=1, help="rooms of 4 for the naive relay")
    ap.add_argument("--duration", type=float, default=20.0, help="measured seconds per mode")
    ap.add_argument("--warmup", type=float, default=3.0, help="seconds after all streams flow")
    ap.add_argument("--width", type=int, default=640)
    ap.add_argument("--height", type=int, default=480)
    ap.add_argument("--fps", type=int, default=20)
    ap.add_argument("--bitrate", type=int, default=400_000, help="video bits per second")
    ap.add_argument("--ready-timeout", type=float, default=60.0)
    ap.add_argument("--modes", default="passthrough,naive")
    args = ap.parse_args()

    started = time.monotonic()
    clip = encode_clip(args.width, args.height, args.fps, 4.0, args.bitrate)
    kbps = sum(map(len, clip.video)) * 8 / 4.0 / 1000
    print(
        f"clip: {len(clip.video)} VP8 frames {args.width}x{args.height}@{args.fps} ({kbps:.0f} kbps), "
        f"{len(clip.audio)} Opus packets; host: {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}"
    )
    results: dict[str, ModeResult] = {}
    for mode in args.modes.split(","):
        rooms = args.rooms if mode == "passthrough" else args.naive_rooms
        print(
            f"running {mode}: {rooms} rooms x {PARTICIPANTS} for {args.duration}s ...", flush=True
        )
        results[mode] = run_mode(mode, rooms, args.duration, args.warmup, clip, args.ready_timeout)

    cols = [
        "mode",
        "streams_flowing",
        "delivery_pct",
        "rooms",
        "streams",
        "cpu_pct_of_core",
        "cpu_ms_per_stream_second",
        "cpu_ms_per_delivered_stream_second",
        "loss_pct",
        "latency_p50_ms",
        "latency_p99_ms",
        "frames_dropped",
        "max_rss_mb",
    ]
    print()
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for r in results.values():
        print("| " + " | ".join(str(getattr(r, c)) for c in cols) + " |")
    p = results.get("passthrough")
    n = results.get("naive")
    ratio = round(n.cpu_ms_per_stream_second / p.cpu_ms_per_stream_second, 2) if p and n else None
    ratio_delivered = (
        round(n.cpu_ms_per_delivered_stream_second / p.cpu_ms_per_delivered_stream_second, 2)
        if p and n
        else None
    )
    summary = {
        "rooms": p.rooms if p else None,
        "streams_forwarded": p.streams if p else None,
        "server_cpu_ms_per_stream_second": {
            m: r.cpu_ms_per_stream_second for m, r in results.items()
        },
        "cpu_ratio_naive_over_passthrough": ratio,
        "server_cpu_ms_per_delivered_stream_second": {
            m: r.cpu_ms_per_delivered_stream_second for m, r in results.items()
        },
        "cpu_ratio_per_delivered_naive_over_passthrough": ratio_delivered,
        "forward_latency_p50_ms": p.latency_p50_ms if p else None,
        "forward_latency_p99_ms": p.latency_p99_ms if p else None,
        "packet_loss_pct": p.loss_pct if p else None,
        "delivery_pct": {m: r.delivery_pct for m, r in results.items()},
        "streams_flowing": {m: f"{r.streams_flowing}/{r.streams}" for m, r in results.items()},
        "host_load_avg_1m": round(os.getloadavg()[0], 2),
        "naive_rooms": n.rooms if n else None,
        "naive_packet_loss_pct": n.loss_pct if n else None,
        "server_cpu_pct_of_core": {m: r.cpu_pct_of_core for m, r in results.items()},
        "frames_dropped": {m: r.frames_dropped for m, r in results.items()},
        "video": f"{args.width}x{args.height}@{args.fps} VP8 {kbps:.0f} kbps + Opus",
        "duration_s": args.duration,
        "wall_s": round(time.monotonic() - started, 1),
    }
    print(f"RESULT {json.dumps(summary)}")


if __name__ == "__main__":
    main()
