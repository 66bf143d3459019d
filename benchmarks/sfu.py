#!/usr/bin/env python3
"""SFU benchmark: what one media core forwards, in the units the best SFUs report.

R rooms of 4 participants; each participant is a bot that publishes audio + video and
subscribes to the other three (6 forwarded streams per bot, 24 per room). The bots never
encode or decode: a short clip (VP8 640x480 + Opus) is encoded once before the run and
replayed through aiortc senders (``encoder.pack``); received packets are counted as they
come out of SRTP (by SSRC; RTX included), with none of a receiver's work after that. Bots
run one process per room. The server runs ``--workers``
processes (each its own event loop and UDP sockets), each reporting its load to the
session placement (``media.placement.RedisPlacement``, through Redis) that puts each
room on the least-loaded worker; it is measured with getrusage (user + sys, all threads)
over a fixed window once every stream flows.

Runs, in this order:
1. fixed load (``--rooms``, default 5 rooms of 4, as the issue's Janus comparison), for each
   of ``--modes``: ``sfu`` (this tree), ``before`` (the SFU of another checkout given by
   ``--before-tree``, same bots, same sitting), ``naive`` (aiortc's MediaRelay: decode each
   publisher, encode per subscriber);
2. capacity: for each worker count in ``--carried`` (default 1,2) rooms are added
   ``--ramp-step`` at a time until a step loses >= 1 % of packets or delivers < 95 % of
   frames; ``rooms_carried`` is the last step that did neither.

Figures (per mode): forwarded_packets_per_s (packets the subscribers received per second),
cpu_us_per_packet (server CPU per forwarded packet), subscriptions_per_core (forwarded
streams divided by the cores the server used), cpu_ms_per_stream_second (as before),
loss_pct (packets published x 3 that no subscriber received: dropped on the way in,
dropped or never forwarded by the server, or lost on the way out), server_drop_pct (of
packets the server took in for an active consumer, those it did not send; this tree only),
delivery_pct (frames received / frames the clip's rate promises).

Usage:
  python3 benchmarks/sfu.py                                  # < 10 min
  python3 benchmarks/sfu.py --before-tree /tmp/tiaojie-before --carried ''
  python3 benchmarks/sfu.py --profile                        # cProfile of one worker
  python3 benchmarks/sfu.py --smoke                          # seconds
Prints tables and a final line ``RESULT {json}``. Environment: SFU_BENCH_REDIS_URL
(default redis://127.0.0.1:6379/0; without Redis only one worker runs);
SFU_BENCH_STRICT_CONSENT=1 keeps aioice's consent expiry (off by default: see
``_relax_consent``); SFU_BENCH_DEBUG=1 logs ICE/DTLS/transport events.
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
import uuid
from dataclasses import asdict, dataclass
from multiprocessing.connection import Connection
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

PARTICIPANTS = 4
KINDS = ("audio", "video")
REDIS_URL = os.environ.get("SFU_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
LIVEKIT_PACKETS_PER_VCPU = 47_700
"""LiveKit's published forwarding figure (packets per second per vCPU)."""
MEDIASOUP_CONSUMERS_PER_CORE = 500
"""mediasoup's published rule of thumb (consumers per worker core)."""


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
    """One participant: publishes the clip, counts the packets and frames it receives."""

    def __init__(self, url: str, session: str, pid: str, others: list[str], clip: Clip) -> None:
        self.url, self.session, self.pid, self.others, self.clip = url, session, pid, others, clip
        self.packets: dict[int, int] = {}
        """Media packets received, by SSRC."""
        self.frames: dict[int, int] = {}
        self.retransmissions = 0
        self._pt_kind: dict[int, str] = {}
        self.expected = 2 * len(others)
        self.pc: Any = None
        self.recv_pc: Any = None
        """The peer connection media arrives on (``pc`` here; Janus subscribes on another)."""
        self.ws: Any = None
        self._next = 1
        self._waiting: dict[int, asyncio.Future[Any]] = {}

    async def start(self, http: Any) -> None:
        from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

        from media import aiortc_seams

        track_cls = _replay_track_class()
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))

        def on_track(track: Any) -> None:
            # Nothing reaches the receiver (see _count_at_dtls); no decoder is fed either.
            t = next(t for t in self.pc.getTransceivers() if t.receiver.track is track)
            aiortc_seams.install_packet_tap(t.receiver, lambda packet: None)

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
        self._count_at_dtls()

    def _count_at_dtls(self) -> None:
        """Count what arrives right after SRTP, by SSRC, and go no further.

        A browser would parse, reorder and decode; a bot only has to say what arrived.
        Skipping aiortc's per-packet receive work (parsing, statistics, REMB, NACK) keeps
        the bots cheaper than the server they load, so that the server is what runs out."""
        dtls = (self.recv_pc or self.pc).getTransceivers()[0].sender.transport

        async def count(data: bytes, arrival_time_ms: int) -> None:
            pt = data[1] & 0x7F
            kind = self._pt_kind.get(pt)
            if kind is None:
                self._learn_payload_types()
                kind = self._pt_kind.get(pt, "")
            ssrc = int.from_bytes(data[8:12], "big")
            if kind == "rtx":
                self.retransmissions += 1
                return
            self.packets[ssrc] = self.packets.get(ssrc, 0) + 1
            if kind == "audio" or data[1] & 0x80:  # an Opus frame a packet; VP8 ends on M
                self.frames[ssrc] = self.frames.get(ssrc, 0) + 1

        dtls._handle_rtp_data = count

    def _learn_payload_types(self) -> None:
        for t in (self.recv_pc or self.pc).getTransceivers():
            for c in t._codecs:
                rtx = c.mimeType.lower().endswith("/rtx")
                self._pt_kind[c.payloadType] = "rtx" if rtx else t.kind

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
        return len(self.packets) >= self.expected and all(n > 0 for n in self.packets.values())

    async def counts(self) -> tuple[int, int, int]:
        """(packets published, packets received, frames received), all at one instant."""
        sent = 0
        for sender in self.pc.getSenders():
            for s in (await sender.getStats()).values():  # never suspends: one snapshot
                if getattr(s, "type", None) == "outbound-rtp":
                    sent += s.packetsSent or 0
        received = sum(self.packets.values()) + self.retransmissions
        return sent, received, sum(self.frames.values())


class JanusBot(Bot):
    """One participant in a Janus VideoRoom (mode ``janus``), over Janus's REST API: a
    publisher handle with the same replayed clip, and one multistream subscription to the
    other three publishers on a second peer connection, counted as ``Bot`` counts."""

    def __init__(self, url: str, session: str, pid: str, others: list[str], clip: Clip,
                 room: int) -> None:
        super().__init__(url, session, pid, others, clip)
        self.room = room
        self.http: Any = None
        self.sid = 0
        self.feed = 0
        self.pub = 0
        self._events: dict[str, asyncio.Future[Any]] = {}
        self._poller: asyncio.Future[None] | None = None

    async def _post(self, path: str, body: dict[str, Any]) -> Any:
        async with self.http.post(f"{self.url}{path}",
                                  json={**body, "transaction": uuid.uuid4().hex}) as r:
            return await r.json()

    async def _attach(self) -> int:
        out = await self._post(f"/janus/{self.sid}", {"janus": "attach",
                                                       "plugin": "janus.plugin.videoroom"})
        return int(out["data"]["id"])

    async def _poll(self) -> None:
        """Janus's long poll: asynchronous answers arrive here, by transaction."""
        while True:
            async with self.http.get(f"{self.url}/janus/{self.sid}?maxev=10") as r:
                data = await r.json(content_type=None)
            for ev in data if isinstance(data, list) else [data]:
                fut = self._events.get(ev.get("transaction", ""))
                if fut is not None and ev.get("janus") == "event" and not fut.done():
                    fut.set_result(ev)

    async def _message(self, handle: int, body: dict[str, Any],
                       jsep: dict[str, Any] | None = None) -> Any:
        tx = uuid.uuid4().hex
        self._events[tx] = asyncio.get_running_loop().create_future()
        msg: dict[str, Any] = {"janus": "message", "body": body, "transaction": tx}
        if jsep:
            msg["jsep"] = jsep
        try:
            async with self.http.post(f"{self.url}/janus/{self.sid}/{handle}", json=msg) as r:
                ack = await r.json()
            if ack.get("janus") == "success":  # a synchronous request answers at once
                return ack
            return await asyncio.wait_for(self._events[tx], 30)
        finally:
            self._events.pop(tx, None)

    async def _trickle_done(self, handle: int) -> None:
        # aiortc's descriptions carry every candidate; Janus waits for this otherwise.
        await self._post(f"/janus/{self.sid}/{handle}",
                         {"janus": "trickle", "candidate": {"completed": True}})

    async def start(self, http: Any) -> None:
        from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

        from media import aiortc_seams

        self.http = http
        self.sid = int((await self._post("/janus", {"janus": "create"}))["data"]["id"])
        self._poller = asyncio.ensure_future(self._poll())
        self.pub = await self._attach()
        if self.pid == "p0":
            await self._message(self.pub, {
                "request": "create", "room": self.room, "publishers": PARTICIPANTS,
                "audiocodec": "opus", "videocodec": "vp8", "bitrate": 0})
        track_cls = _replay_track_class()
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.pc.addTransceiver(
            track_cls("audio", self.clip.audio, 48000, 960, 0.02), direction="sendonly"
        )
        fps = self.clip.fps
        video = track_cls("video", self.clip.video, 90000, 90000 // fps, 1 / fps)
        sender = self.pc.addTransceiver(video, direction="sendonly").sender
        aiortc_seams.on_keyframe_request(sender, video.keyframe)
        await self.pc.setLocalDescription(await self.pc.createOffer())
        ev = await self._message(
            self.pub, {"request": "joinandconfigure", "room": self.room, "ptype": "publisher",
                       "display": self.pid, "audio": True, "video": True},
            {"type": "offer", "sdp": self.pc.localDescription.sdp})
        await self._trickle_done(self.pub)
        self.feed = int(ev["plugindata"]["data"]["id"])
        await self.pc.setRemoteDescription(RTCSessionDescription(**ev["jsep"]))

    async def subscribe(self) -> None:
        """Once the room's other publishers are in: one subscription to all three."""
        from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

        from media import aiortc_seams

        while True:
            listed = await self._message(self.pub, {"request": "listparticipants",
                                                     "room": self.room})
            feeds = [q["id"] for q in listed["plugindata"]["data"]["participants"]
                     if q.get("publisher") and q["id"] != self.feed]
            if len(feeds) >= len(self.others):
                break
            await asyncio.sleep(0.2)
        sub = await self._attach()
        ev = await self._message(sub, {"request": "join", "room": self.room,
                                       "ptype": "subscriber",
                                       "streams": [{"feed": f} for f in feeds]})
        self.recv_pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))

        def on_track(track: Any) -> None:
            t = next(t for t in self.recv_pc.getTransceivers() if t.receiver.track is track)
            aiortc_seams.install_packet_tap(t.receiver, lambda packet: None)

        self.recv_pc.on("track", on_track)
        await self.recv_pc.setRemoteDescription(RTCSessionDescription(**ev["jsep"]))
        await self.recv_pc.setLocalDescription(await self.recv_pc.createAnswer())
        await self._message(sub, {"request": "start"},
                            {"type": "answer", "sdp": self.recv_pc.localDescription.sdp})
        await self._trickle_done(sub)
        self._count_at_dtls()

    async def close(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
        for pc in (self.pc, self.recv_pc):
            if pc is not None:
                await pc.close()


def host_address() -> str:
    """This machine's own primary IPv4 address (no packet is sent: a UDP connect only picks
    the route). Janus's ICE (libnice) never gathers loopback, so its mode runs on this
    address; packets between two of the host's own addresses never leave the host."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("198.51.100.1", 9))  # TEST-NET-2: only a route lookup
        return str(probe.getsockname()[0])


def bot_main(conn: Connection, urls: list[str], redis: str, prefix: str, session: str,
             clip: Clip, mode: str = "sfu") -> None:
    _debug_logging("bot")
    asyncio.run(_bot_main(conn, urls, redis, prefix, session, clip, mode))


async def _room_url(urls: list[str], redis: str, prefix: str, session: str) -> str:
    """The worker the placement puts this room on (the only one without Redis)."""
    if not redis:
        return urls[0]
    from redis.asyncio import Redis

    from media.placement import RedisPlacement

    r = Redis.from_url(redis)
    try:
        return (await RedisPlacement(r, prefix=prefix).node_for(session)).signal_url
    finally:
        await r.aclose()


async def _bot_main(conn: Connection, urls: list[str], redis: str, prefix: str, session: str,
                    clip: Clip, mode: str = "sfu") -> None:
    import aiohttp

    from media import aiortc_seams

    aiortc_seams.set_announced_addresses([host_address() if mode == "janus" else "127.0.0.1"])
    aiortc_seams.set_socket_buffers(4 * 1024 * 1024)  # as the SFU's: a stalled bot keeps packets
    _relax_consent()
    loop = asyncio.get_running_loop()
    pids = [f"p{i}" for i in range(PARTICIPANTS)]
    url = await _room_url(urls, redis, prefix, session)
    async with aiohttp.ClientSession() as http:
        bots: list[Bot] = (
            [JanusBot(url, session, p, [o for o in pids if o != p], clip,
                      1000 + int(session.lstrip("r"))) for p in pids]
            if mode == "janus" else
            [Bot(url, session, p, [o for o in pids if o != p], clip) for p in pids]
        )
        for b in bots:
            await b.start(http)
        for b in bots:
            if isinstance(b, JanusBot):
                await b.subscribe()
        while True:
            cmd = await loop.run_in_executor(None, conn.recv)
            if cmd == "ready":
                conn.send(all(b.ready() for b in bots))
            elif cmd == "flowing":
                conn.send(sum(n > 0 for b in bots for n in b.packets.values()))
            elif cmd == "counts":
                totals = [await b.counts() for b in bots]
                conn.send((time.monotonic(), *(sum(t[i] for t in totals) for i in range(3))))
            elif cmd == "stop":
                for b in bots:
                    if isinstance(b, JanusBot):
                        await b.close()
                    else:
                        await b.pc.close()
                conn.send("bye")
                return


# --- servers --------------------------------------------------------------------------
class NaiveServer:
    """The relay built from aiortc's examples: decode each publisher, encode per subscriber.

    Negotiates like the SFU (the participant offers its tracks, the server then offers
    the others' tracks), so the two modes differ only in how media crosses the server.
    """

    def __init__(self, send: Any, members: list[str]) -> None:
        from aiortc.contrib.media import MediaRelay

        self.relay = MediaRelay()
        self.send = send
        self.members = members
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

        for other in self.members:
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


@dataclass
class WorkerSpec:
    """What one server process runs."""

    mode: str
    """"sfu", "before" or "naive"."""
    index: int
    """Worker number (its placement id is ``w<index>``)."""
    redis: str
    """Redis URL for placement; empty: the only worker, no placement."""
    prefix: str
    """Placement key prefix of this run."""
    tree: str
    """Source tree whose ``media`` package the "before" mode imports."""


def server_main(conn: Connection, spec: WorkerSpec) -> None:
    if spec.tree:
        # The other checkout's media package, imported before anything else imports ours.
        sys.path.insert(0, spec.tree)
        for name in [m for m in sys.modules if m == "media" or m.startswith("media.")]:
            del sys.modules[name]
    _debug_logging(f"server{spec.index}")
    _relax_consent()
    asyncio.run(_server_main(conn, spec))


def _counters(sfu: Any) -> dict[str, int] | None:
    """This tree's per-packet counters (None for a tree that has none)."""
    if sfu is None:
        return None
    out = {"received": 0, "offered": 0, "sent": 0, "dropped": 0, "retransmitted": 0}
    for router in sfu.routers.values():
        for t in router.transports.values():
            for p in t.producers.values():
                out["received"] += getattr(p, "packets", 0)
            for c in t.consumers.values():
                if not hasattr(c, "packets_offered"):
                    return None
                out["offered"] += c.packets_offered
                out["sent"] += c.packets_sent
                out["dropped"] += c.packets_dropped
                out["retransmitted"] += c.packets_retransmitted
    return out


async def _server_main(conn: Connection, spec: WorkerSpec) -> None:
    from aiohttp import WSMsgType, web

    from media.config import MediaConfig
    from media.routing import ParticipantView, RoomView
    from media.sfu import SFU

    sockets: dict[tuple[str, str], web.WebSocketResponse] = {}

    async def send(session: str, pid: str, message: dict[str, Any]) -> None:
        await sockets[(session, pid)].send_str(json.dumps({"push": message}))

    sfu = (
        SFU(send, None, MediaConfig(announced_addresses=["127.0.0.1"]))
        if spec.mode != "naive"
        else None
    )
    people = tuple(ParticipantView(f"p{i}", f"p{i}", "party") for i in range(PARTICIPANTS))
    naive: NaiveServer | None = None
    if sfu is None:
        naive = NaiveServer(send, [p.participant_id for p in people])
        # Same aioice host gathering as the SFU (loopback only) for a like-for-like run.
        from media import aiortc_seams

        aiortc_seams.set_announced_addresses(["127.0.0.1"])

    async def ws_handler(request: web.Request) -> web.WebSocketResponse:
        session, pid = request.query["session"], request.query["pid"]
        if sfu is not None and session not in sfu.routers:
            await sfu.update_room(RoomView(session, people))  # placed here: a new room
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
    url = f"http://127.0.0.1:{port}"
    reporter: asyncio.Task[None] | None = None
    if spec.redis:
        reporter = asyncio.create_task(_report_load(spec, url, sfu))
    conn.send(url)
    loop = asyncio.get_running_loop()
    profile: Any = None

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
            conn.send(
                (ru.ru_utime + ru.ru_stime, time.monotonic(), ru.ru_maxrss, _counters(sfu),
                 sum(c.is_active for c in consumers()))
            )
        elif cmd == "profile-start":
            import cProfile

            profile = cProfile.Profile(time.process_time)  # CPU, not a busy host's wall
            profile.enable()
            conn.send("ok")
        elif isinstance(cmd, tuple) and cmd[0] == "profile-stop":
            profile.disable()
            profile.dump_stats(cmd[1])
            conn.send("ok")
        elif cmd == "latency":
            lat = sorted(x for c in consumers() for x in getattr(c, "latencies", ()))
            conn.send(lat)
        elif cmd == "stop":
            if reporter is not None:
                reporter.cancel()
            if sfu is not None:
                await sfu.close()
            if naive is not None:
                for pc in naive.pcs.values():
                    await pc.close()
            await runner.cleanup()
            conn.send("bye")
            return


JANUS = "/usr/bin/janus"
JANUS_LIBS = "/usr/lib/x86_64-linux-gnu/janus"
JANUS_PLUGINS_OFF = ("audiobridge", "duktape", "echotest", "lua", "nosip", "recordplay", "sip",
                     "streaming", "textroom", "videocall", "voicemail")
JANUS_TRANSPORTS_OFF = ("mqtt", "nanomsg", "pfunix", "rabbitmq", "websockets")


def janus_config(folder: str, port: int) -> None:
    """Janus with only the VideoRoom plugin and the plain HTTP API on loopback."""
    off = ",".join(f"libjanus_{n}.so" for n in JANUS_PLUGINS_OFF)
    transports_off = ",".join(f"libjanus_{n}.so" for n in JANUS_TRANSPORTS_OFF)
    files = {
        "janus.jcfg": (
            f'general: {{ configs_folder = "{folder}" plugins_folder = "{JANUS_LIBS}/plugins" '
            f'transports_folder = "{JANUS_LIBS}/transports" events_folder = '
            f'"{JANUS_LIBS}/events" loggers_folder = "{JANUS_LIBS}/loggers" debug_level = 3 '
            "session_timeout = 300 }\n"
            'media: { rtp_port_range = "20000-59999" }\n'
            f'plugins: {{ disable = "{off}" }}\n'
            f'transports: {{ disable = "{transports_off}" }}\n'
            'events: { broadcast = false }\nloggers: { disable = "libjanus_jsonlog.so" }\n'),
        "janus.transport.http.jcfg": (
            f'general: {{ json = "compact" base_path = "/janus" http = true port = {port} '
            'interface = "lo" https = false }\nadmin: { admin_http = false }\n'),
        "janus.plugin.videoroom.jcfg": "general: { }\n",
    }
    for name, text in files.items():
        with open(os.path.join(folder, name), "w") as f:
            f.write(text)


def janus_server_main(conn: Connection, spec: WorkerSpec) -> None:
    """Janus VideoRoom (C, Debian's ``janus``) as the server of mode ``janus``: started with
    its own configuration, measured from /proc (all its threads), stopped at the end."""
    import socket
    import subprocess
    import tempfile
    import urllib.request

    folder = tempfile.mkdtemp(prefix="sfu-bench-janus-")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    janus_config(folder, port)
    proc = subprocess.Popen([JANUS, "-F", folder, "-N", "-L", os.path.join(folder, "janus.log")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            with urllib.request.urlopen(f"{url}/janus/info", timeout=1):  # noqa: S310 (loopback)
                break
        except OSError:
            time.sleep(0.1)
    else:
        proc.kill()
        raise SystemExit(f"janus did not answer on {url} (log: {folder}/janus.log)")
    conn.send(url)
    tick = os.sysconf("SC_CLK_TCK")

    def usage() -> tuple[float, int]:
        with open(f"/proc/{proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        with open(f"/proc/{proc.pid}/status") as f:
            hwm = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
        return (int(fields[11]) + int(fields[12])) / tick, hwm  # utime + stime; kB

    while True:
        cmd = conn.recv()
        if cmd == "cpu":
            cpu, hwm = usage()
            conn.send((cpu, time.monotonic(), hwm, None, 0))
        elif cmd == "latency":
            conn.send([])
        elif cmd == "stop":
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
            conn.send("bye")
            return


async def _report_load(spec: WorkerSpec, url: str, sfu: Any) -> None:
    """Report this worker's load to the placement, as ``tiaojie media`` workers do."""
    from redis.asyncio import Redis

    from media.placement import NodeInfo, RedisPlacement

    r = Redis.from_url(spec.redis)
    placement = RedisPlacement(r, prefix=spec.prefix, node_ttl=5)
    try:
        while True:
            routers = sfu.routers.values() if sfu is not None else ()
            load = float(sum(1 + len(x.transports) for x in routers))
            await placement.report(NodeInfo(f"w{spec.index}", url, load))
            await asyncio.sleep(0.5)
    finally:
        await r.aclose()


# --- orchestration --------------------------------------------------------------------
@dataclass
class ModeResult:
    """One run's measurements."""

    mode: str
    workers: int
    rooms: int
    streams: int
    seconds: float
    cpu_pct_of_core: float
    cpu_ms_per_stream_second: float
    forwarded_packets_per_s: float
    cpu_us_per_packet: float | None
    subscriptions_per_core: float | None
    loss_pct: float
    server_drop_pct: float | None
    retransmitted: int | None
    delivery_pct: float
    streams_flowing: int
    latency_p50_ms: float | None
    latency_p99_ms: float | None
    max_rss_mb: float
    active_consumers: int
    load_avg_1m: float

    @property
    def carried(self) -> bool:
        """Under 1 % loss, at least 95 % of frames, every stream flowing."""
        return (
            self.loss_pct < 1.0 and self.delivery_pct >= 95.0
            and self.streams_flowing == self.streams
        )


# --- a slice of a core per worker (Linux cgroups) ------------------------------------------
CGROUP_ROOTS = ("/sys/fs/cgroup/cpu", "/sys/fs/cgroup")
"""cgroup v1's cpu controller, then the v2 unified tree."""
CGROUP_PERIOD_US = 10_000
"""A short period, so that a capped worker is paused for milliseconds, not a tenth of a
second (packets wait in the socket buffer meanwhile)."""


class CpuSlice:
    """One cgroup per server worker, capped at ``fraction`` of one core.

    On a two-core host the bots that load the server need as much CPU as the server, so
    "one worker per core" cannot be shown with whole cores: the bots run out first. Capping
    each worker at the same slice of a core makes the worker what runs out, and shows
    whether a second worker carries more rooms than the first alone (``--worker-cpu``)."""

    def __init__(self, name: str, fraction: float) -> None:
        root = next((r for r in CGROUP_ROOTS
                     if os.access(r, os.W_OK) and (os.path.exists(f"{r}/cpu.cfs_quota_us")
                                                   or os.path.exists(f"{r}/cgroup.controllers"))),
                    None)
        if root is None:
            raise SystemExit("--worker-cpu needs a writable cgroup cpu controller "
                             "(/sys/fs/cgroup/cpu or cgroup v2); run as root or omit it")
        self.path = f"{root}/{name}"
        os.makedirs(self.path, exist_ok=True)
        quota = max(1000, int(fraction * CGROUP_PERIOD_US))
        if os.path.exists(f"{self.path}/cpu.cfs_quota_us"):
            with open(f"{self.path}/cpu.cfs_period_us", "w") as f:
                f.write(str(CGROUP_PERIOD_US))
            with open(f"{self.path}/cpu.cfs_quota_us", "w") as f:
                f.write(str(quota))
        else:
            with open(f"{self.path}/cpu.max", "w") as f:
                f.write(f"{quota} {CGROUP_PERIOD_US}")

    def add(self, pid: int) -> None:
        with open(f"{self.path}/cgroup.procs", "w") as f:
            f.write(str(pid))

    def remove(self) -> None:
        try:
            os.rmdir(self.path)
        except OSError as exc:  # a process still in it: left for the operator, named
            print(f"  cgroup {self.path} not removed: {exc}", file=sys.stderr)


def ask(conn: Connection, cmd: Any, timeout: float = 120) -> Any:
    conn.send(cmd)
    if not conn.poll(timeout):
        raise TimeoutError(f"no answer to {cmd!r}")
    return conn.recv()


def run_mode(mode: str, rooms: int, workers: int, args: argparse.Namespace, clip: Clip,
             profile_to: str = "") -> ModeResult:
    ctx = mp.get_context("spawn")
    redis = REDIS_URL if (workers > 1 or args.placement) and REDIS_URL else ""
    prefix = f"sfu-bench-{uuid.uuid4().hex[:8]}"
    servers = []
    slices: list[CpuSlice] = []
    for i in range(workers):
        parent, child = ctx.Pipe()
        spec = WorkerSpec(mode, i, redis, prefix, args.before_tree if mode == "before" else "")
        target = janus_server_main if mode == "janus" else server_main
        proc = ctx.Process(target=target, args=(child, spec), daemon=True)
        proc.start()
        if args.worker_cpu and proc.pid is not None:
            slices.append(CpuSlice(f"{prefix}-w{i}", args.worker_cpu))
            slices[-1].add(proc.pid)  # before it has set up anything: all its work is capped
        servers.append((proc, parent))
    urls = [c.recv() for _, c in servers]
    if redis:
        time.sleep(1.0)  # every worker has reported once
    bots = []
    for r in range(rooms):
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=bot_main,
                           args=(child, urls, redis, prefix, f"r{r}", clip, mode), daemon=True)
        proc.start()
        bots.append((proc, parent))
        time.sleep(args.stagger)  # rooms open one after the other, as in an office
    streams = rooms * PARTICIPANTS * (PARTICIPANTS - 1) * len(KINDS)
    try:
        deadline = time.monotonic() + args.ready_timeout
        while not all(ask(c, "ready") for _, c in bots):
            if time.monotonic() > deadline:
                # An overloaded host: measure anyway and report how many streams flowed.
                print(f"  {mode}: not every stream flowing after {args.ready_timeout}s",
                      flush=True)
                break
            time.sleep(0.5)
        flowing = sum(ask(c, "flowing") for _, c in bots)
        time.sleep(args.warmup)
        ask(servers[0][1], "latency")
        before = [ask(c, "counts") for _, c in bots]
        cpu0 = [ask(c, "cpu") for _, c in servers]
        if profile_to:
            ask(servers[0][1], "profile-start")
        time.sleep(args.duration)
        if profile_to:
            ask(servers[0][1], ("profile-stop", profile_to))
        cpu1 = [ask(c, "cpu") for _, c in servers]
        after = [ask(c, "counts") for _, c in bots]
        lat = sorted(x for _, c in servers for x in ask(c, "latency"))
    finally:
        for proc, c in bots + servers:
            try:
                ask(c, "stop", timeout=20)
            except (OSError, EOFError, TimeoutError) as exc:
                print(f"  a process did not stop cleanly: {exc!r}", file=sys.stderr)
            proc.join(5)
            if proc.is_alive():
                proc.terminate()
                proc.join(5)
        for cpu_slice in slices:
            cpu_slice.remove()
    # Each room's counts are rates over that room's own window (the rooms are asked one
    # after the other, and on a busy host the answers are far apart).
    pairs = list(zip(after, before, strict=True))
    published = sum(a[1] - b[1] for a, b in pairs)
    received = sum(a[2] - b[2] for a, b in pairs)
    received_per_s = sum((a[2] - b[2]) / (a[0] - b[0]) for a, b in pairs)
    frames_per_s = sum((a[3] - b[3]) / (a[0] - b[0]) for a, b in pairs)
    seconds = max(c1[1] - c0[1] for c0, c1 in zip(cpu0, cpu1, strict=True))
    cpu_s = sum(c1[0] - c0[0] for c0, c1 in zip(cpu0, cpu1, strict=True))
    expected_packets = published * (PARTICIPANTS - 1)
    # Frames every subscriber should receive a second: 50 Opus + fps VP8 per stream pair.
    expected_frames_per_s = streams / 2 * (50 + clip.fps)
    counters: list[dict[str, int] | None] = [
        None if c0[3] is None or c1[3] is None else {k: c1[3][k] - c0[3][k] for k in c1[3]}
        for c0, c1 in zip(cpu0, cpu1, strict=True)
    ]
    server = (
        {k: sum(c[k] for c in counters if c is not None) for k in counters[0]}
        if all(c is not None for c in counters) and counters[0] is not None
        else None
    )
    cores = cpu_s / seconds if seconds else 0.0

    def pct(q: float) -> float | None:
        return round(lat[min(len(lat) - 1, int(q * len(lat)))] * 1000, 3) if lat else None

    return ModeResult(
        mode=mode,
        workers=workers,
        rooms=rooms,
        streams=streams,
        seconds=round(seconds, 2),
        cpu_pct_of_core=round(100 * cores, 1),
        cpu_ms_per_stream_second=round(cpu_s * 1000 / (streams * seconds), 3),
        forwarded_packets_per_s=round(received_per_s, 1),
        cpu_us_per_packet=(
            round(cpu_s * 1e6 / (received_per_s * seconds), 2) if received_per_s else None
        ),
        # Streams carried per core, counting only what was delivered.
        subscriptions_per_core=(
            round(streams * min(1.0, frames_per_s / expected_frames_per_s) / cores, 1)
            if cores
            else None
        ),
        loss_pct=round(100 * max(0, expected_packets - received) / max(1, expected_packets), 3),
        server_drop_pct=(
            round(100 * server["dropped"] / max(1, server["offered"]), 3) if server else None
        ),
        retransmitted=server["retransmitted"] if server else None,
        delivery_pct=round(100 * frames_per_s / expected_frames_per_s, 1),
        streams_flowing=flowing,
        latency_p50_ms=pct(0.5),
        latency_p99_ms=pct(0.99),
        max_rss_mb=round(max(c[2] for c in cpu1) / 1024, 1),
        active_consumers=sum(c[4] for c in cpu1),
        load_avg_1m=round(os.getloadavg()[0], 2),
    )


COLUMNS = [
    "mode", "workers", "rooms", "streams", "streams_flowing", "delivery_pct", "loss_pct",
    "server_drop_pct", "cpu_pct_of_core", "forwarded_packets_per_s", "cpu_us_per_packet",
    "subscriptions_per_core", "cpu_ms_per_stream_second", "latency_p50_ms", "latency_p99_ms",
    "max_rss_mb", "load_avg_1m",
]


def table(rows: list[ModeResult]) -> None:
    print("| " + " | ".join(COLUMNS) + " |")
    print("|" + "---|" * len(COLUMNS))
    for r in rows:
        print("| " + " | ".join(str(getattr(r, c)) for c in COLUMNS) + " |", flush=True)


def print_profile(path: str, top: int) -> None:
    import pstats

    print(f"\nserver worker profile ({path}), top {top} by own time:")
    stats = pstats.Stats(path)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)


def redis_up() -> bool:
    if not REDIS_URL:
        return False

    async def ping() -> bool:
        from redis.asyncio import Redis

        r = Redis.from_url(REDIS_URL)
        try:
            return bool(await r.ping())
        except (OSError, ConnectionError):
            return False
        finally:
            await r.aclose()

    try:
        return asyncio.run(ping())
    except Exception:  # noqa: BLE001 - any failure means no Redis for this run
        return False


def main() -> None:
    global REDIS_URL
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--rooms", type=int, default=5, help="rooms of 4 at the fixed load")
    ap.add_argument("--workers", type=int, default=1, help="server worker processes, fixed load")
    ap.add_argument("--modes", default="sfu",
                    help="comma-separated: sfu, before, naive, janus (Janus VideoRoom, "
                         "Debian's janus package, same bots)")
    ap.add_argument("--before-tree", default="", help="another checkout: adds mode 'before'")
    ap.add_argument("--naive-rooms", type=int, default=1, help="rooms of 4 for the naive relay")
    ap.add_argument("--carried", default="1,2", help="worker counts to find rooms carried for")
    ap.add_argument("--ramp-start", type=int, default=2)
    ap.add_argument("--ramp-step", type=int, default=2)
    ap.add_argument("--ramp-max", type=int, default=16)
    ap.add_argument("--duration", type=float, default=15.0, help="measured seconds, fixed load")
    ap.add_argument("--ramp-duration", type=float, default=10.0, help="measured seconds a step")
    ap.add_argument("--warmup", type=float, default=3.0, help="seconds after all streams flow")
    ap.add_argument("--stagger", type=float, default=0.3, help="seconds between rooms opening")
    ap.add_argument("--width", type=int, default=640)
    ap.add_argument("--height", type=int, default=480)
    ap.add_argument("--fps", type=int, default=20)
    ap.add_argument("--bitrate", type=int, default=400_000, help="video bits per second")
    ap.add_argument("--ready-timeout", type=float, default=45.0)
    ap.add_argument("--placement", action="store_true",
                    help="place rooms through Redis even with one worker")
    ap.add_argument("--repeat", type=int, default=1,
                    help="fixed-load runs per mode, taken in turns; the median is reported")
    ap.add_argument("--profile", action="store_true",
                    help="cProfile worker 0 over the fixed-load window (sfu mode only; "
                         "its CPU figures include the profiler)")
    ap.add_argument("--profile-out", default="sfu-profile.pstats")
    ap.add_argument("--worker-cpu", type=float, default=0.0,
                    help="cap each server worker at this fraction of one core (a cgroup "
                         "each; root): shows workers adding up where the bots would "
                         "otherwise run out of cores before the server (2-core hosts)")
    ap.add_argument("--smoke", action="store_true",
                    help="seconds: 2 rooms on 2 workers, no capacity ramp")
    args = ap.parse_args()
    if args.smoke:
        args.rooms, args.workers, args.duration, args.warmup = 2, 2, 3.0, 1.0
        args.carried, args.stagger, args.ready_timeout = "", 0.0, 60.0
    if not redis_up():
        REDIS_URL = ""
        if args.workers > 1 or args.carried.replace("1", "").strip(","):
            print("no Redis at SFU_BENCH_REDIS_URL: one worker only, no capacity for more")
            args.workers = 1
            args.carried = "1" if args.carried else ""
    modes = [m for m in args.modes.split(",") if m]
    if args.before_tree and "before" not in modes:
        modes.append("before")
    if "janus" in modes and not os.path.exists(JANUS):
        raise SystemExit(f"mode janus needs {JANUS} (Debian: apt-get install janus)")
    if args.profile:
        modes = ["sfu"]
        args.carried = ""

    started = time.monotonic()
    clip = encode_clip(args.width, args.height, args.fps, 4.0, args.bitrate)
    kbps = sum(map(len, clip.video)) * 8 / 4.0 / 1000
    print(
        f"clip: {len(clip.video)} VP8 frames {args.width}x{args.height}@{args.fps} "
        f"({kbps:.0f} kbps), {len(clip.audio)} Opus packets; host: {os.cpu_count()} CPUs, "
        f"load {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    runs: dict[str, list[ModeResult]] = {m: [] for m in modes}
    for _ in range(args.repeat):
        # Modes take turns, so that a change in the host's load hits them alike.
        for mode in modes:
            rooms = args.naive_rooms if mode == "naive" else args.rooms
            workers = 1 if mode in ("naive", "before", "janus") else args.workers
            print(f"fixed load, {mode}: {rooms} rooms x {PARTICIPANTS}, {workers} worker(s), "
                  f"{args.duration}s ...", flush=True)
            profile_to = os.path.abspath(args.profile_out) if args.profile else ""
            runs[mode].append(run_mode(mode, rooms, workers, args, clip, profile_to))
    print()
    table([r for mode_runs in runs.values() for r in mode_runs])
    # Per mode, the run with the (lower) median CPU per packet among those in which every
    # stream flowed (a run starved by the host before it started is no measurement).
    def representative(rs: list[ModeResult]) -> ModeResult:
        whole = [r for r in rs if r.streams_flowing == r.streams] or rs
        return sorted(whole, key=lambda r: r.cpu_us_per_packet or 0.0)[(len(whole) - 1) // 2]

    fixed = {m: representative(rs) for m, rs in runs.items()}
    if args.profile:
        print_profile(os.path.abspath(args.profile_out), 30)

    steps: list[ModeResult] = []
    carried: dict[str, int] = {}
    ramp_args = argparse.Namespace(**{**vars(args), "duration": args.ramp_duration})
    for w in [int(x) for x in args.carried.split(",") if x]:
        carried[str(w)] = 0
        rooms = args.ramp_start
        while rooms <= args.ramp_max:
            print(f"capacity, {w} worker(s): {rooms} rooms ...", flush=True)
            step = run_mode("sfu", rooms, w, ramp_args, clip)
            steps.append(step)
            print(f"  loss {step.loss_pct} %, delivery {step.delivery_pct} %, "
                  f"{step.streams_flowing}/{step.streams} flowing, server "
                  f"{step.cpu_pct_of_core} % of a core", flush=True)
            if not step.carried:
                break
            carried[str(w)] = rooms
            rooms += args.ramp_step
    if steps:
        print()
        table(steps)

    s = fixed.get("sfu") or next(iter(fixed.values()))
    b = fixed.get("before")
    n = fixed.get("naive")
    j = fixed.get("janus")

    def ratio(x: float | None, y: float | None) -> float | None:
        return round(x / y, 3) if x and y else None

    summary = {
        "rooms": s.rooms,
        "workers": s.workers,
        "streams_forwarded": s.streams,
        "forwarded_packets_per_s": s.forwarded_packets_per_s,
        "cpu_us_per_packet": s.cpu_us_per_packet,
        "subscriptions_per_core": s.subscriptions_per_core,
        "cpu_ms_per_stream_second": s.cpu_ms_per_stream_second,
        "loss_pct": s.loss_pct,
        "server_drop_pct": s.server_drop_pct,
        "delivery_pct": s.delivery_pct,
        "packets_per_core_s_at_this_cost": (
            round(1e6 / s.cpu_us_per_packet) if s.cpu_us_per_packet else None
        ),
        "livekit_packets_per_vcpu_s": LIVEKIT_PACKETS_PER_VCPU,
        "mediasoup_consumers_per_core": MEDIASOUP_CONSUMERS_PER_CORE,
        "rooms_carried": carried or None,
        "worker_cpu_cap": args.worker_cpu or None,
        "before_cpu_us_per_packet": b.cpu_us_per_packet if b else None,
        "after_over_before_cpu_per_packet": ratio(s.cpu_us_per_packet, b.cpu_us_per_packet)
        if b else None,
        "naive_cpu_ms_per_stream_second": n.cpu_ms_per_stream_second if n else None,
        "janus_cpu_us_per_packet": j.cpu_us_per_packet if j else None,
        "sfu_over_janus_cpu_per_packet": ratio(s.cpu_us_per_packet, j.cpu_us_per_packet)
        if j else None,
        "forward_latency_p50_ms": s.latency_p50_ms,
        "forward_latency_p99_ms": s.latency_p99_ms,
        "modes": {m: asdict(r) for m, r in fixed.items()},
        "cpu_us_per_packet_runs": {
            m: [r.cpu_us_per_packet for r in rs] for m, rs in runs.items()
        },
        "host_load_avg_1m": round(os.getloadavg()[0], 2),
        "video": f"{args.width}x{args.height}@{args.fps} VP8 {kbps:.0f} kbps + Opus",
        "wall_s": round(time.monotonic() - started, 1),
    }
    print(f"RESULT {json.dumps(summary)}")


if __name__ == "__main__":
    main()
