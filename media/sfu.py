"""The SFU facade the signaling server calls: one object per process.

Message shapes (participant → server, through ``handle_signal``):
* ``{"type": "offer", "sdp": str, "sources": {mid: "audio"|"video"|"screen"}}``: the
  participant's own tracks (``sources`` optional: default audio → "audio", first video →
  "video", next → "screen"). Returns ``{"type": "answer", "sdp": str}``. An offer with a
  new ICE ufrag is a new peer connection (a rejoin): it replaces the old one.
* ``{"type": "answer", "sdp": str}``: the answer to the server's last offer. Returns None.
* ``{"type": "candidate", "candidate": RTCIceCandidateInit}``. Returns None.
* ``{"type": "restart"}``: drop the participant's connection; it should create a new
  one and offer again. Returns ``{"type": "restart", "iceServers": [...],
  "iceTransportPolicy": ...}`` with fresh TURN credentials.
Server → participant (through ``send``): ``{"type": "offer", "sdp": str, "tracks":
{mid: {"participant_id", "source", "kind"}}}``; the participant answers with an "answer".
Errors are raised as ``media.errors.MediaError`` (``code``, ``message``, ``retryable``)
and concern only the participant who sent the message.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from . import aiortc_seams
from .archive import ArchiveSink
from .config import MediaConfig
from .errors import BadMessage, BadSdp, MediaError, UnknownParticipant
from .router import Router
from .routing import RoomView
from .tap import TapSink
from .transport import Transport, ice_ufrag
from .turn import ice_servers

logger = logging.getLogger(__name__)

MAX_SDP = 64 * 1024
"""Longest SDP accepted; anything longer is hostile or broken."""


@dataclass(frozen=True)
class SfuStats:
    """Figures for metrics, at one instant."""

    rooms: int
    """Sessions with a Router."""
    participants: int
    """Live transports."""
    producers: int
    """Published tracks being received."""
    forwarded_streams: int
    """Consumers forwarding now."""
    received_bytes: int
    """Encoded bytes received from publishers since start (rate = difference over time)."""
    forwarded_bytes: int
    """Encoded bytes handed to subscribers' senders since start."""
    forward_latency_ms_p50: float | None
    """Median server receive → send hand-over, over recent frames."""
    packets_lost: int
    """Packets publishers' streams lost on their way in (RTCP receiver statistics)."""
    packets_received: int
    """Packets received from publishers."""
    received_kbps: float
    """Publishers' encoded bitrate into the server since the previous ``stats()`` call."""
    forwarded_kbps: float
    """Encoded bitrate handed to subscribers since the previous ``stats()`` call."""
    packets_forwarded: int = 0
    """RTP packets sent to subscribers (live connections, retransmissions not counted);
    its rate over this process's CPU is the packets-per-core figure SFUs are sized by."""
    packets_dropped: int = 0
    """Packets the server took in for an active consumer but did not send (waiting for
    a keyframe, connection down, reordered from before a resume)."""


class SFU:
    """The selective forwarding unit: routers per session, signaling in, media through."""

    def __init__(
        self,
        send: Callable[[str, str, dict[str, Any]], Awaitable[None]],
        tap: TapSink | None = None,
        config: MediaConfig | None = None,
        archive: ArchiveSink | None = None,
    ) -> None:
        # Fail at start-up, not mid-call, if an aiortc upgrade moved its internals.
        aiortc_seams.check_seams()
        self.config = config or MediaConfig()
        aiortc_seams.set_announced_addresses(self.config.announced_addresses)
        aiortc_seams.set_socket_buffers(self.config.socket_buffer_bytes)
        self._send = send
        self._tap = tap
        self._archive = archive
        self.routers: dict[str, Router] = {}
        self._last_stats = (time.monotonic(), 0, 0)

    # --- signaling seam -------------------------------------------------------------
    async def handle_signal(
        self, session_id: str, participant_id: str, message: dict[str, Any]
    ) -> dict[str, Any] | None:
        """Handle one message from a participant; see the module docstring for shapes."""
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            raise BadMessage("message must be an object with a string 'type'")
        router = self.routers.get(session_id)
        if router is None or router.view.participant(participant_id) is None:
            raise UnknownParticipant(f"{participant_id!r} is not in session {session_id!r}")
        kind = message["type"]
        transport = router.transports.get(participant_id)
        if kind == "offer":
            sdp = _sdp(message)
            # An offer that could not start a connection must not replace a working one.
            if "\nm=" not in sdp.replace("\r\n", "\n") or ice_ufrag(sdp) is None:
                raise BadSdp("an offer needs at least one media section and ICE credentials")
            sources = message.get("sources") or {}
            if not isinstance(sources, dict):
                raise BadMessage("sources must map mid to source")
            fresh = (
                transport is None
                or not transport.live
                or (transport.remote_ufrag is not None and transport.remote_ufrag != ice_ufrag(sdp))
            )
            if fresh or transport is None:
                transport = router.create_transport(participant_id)
            try:
                return await transport.handle_offer(
                    sdp, {str(k): str(v) for k, v in sources.items()}
                )
            except MediaError:
                if fresh:
                    # Nothing of a refused first offer is kept: the participant starts over.
                    await router.drop_transport(transport)
                raise
        if kind == "answer":
            await self._live(transport).handle_answer(_sdp(message))
            return None
        if kind == "candidate":
            candidate = message.get("candidate")
            if candidate is None:
                return None
            if not isinstance(candidate, dict):
                raise BadMessage("candidate must be an object")
            await self._live(transport).add_candidate(candidate)
            return None
        if kind == "restart":
            if transport is not None:
                router.transports.pop(participant_id, None)
                await transport.close()
            return {"type": "restart", **self.client_config(participant_id)}
        raise BadMessage(f"unknown message type {kind!r}")

    @staticmethod
    def _live(transport: Transport | None) -> Transport:
        if transport is None or not transport.live:
            raise UnknownParticipant("no connection: send an offer first")
        return transport

    async def update_room(self, view: RoomView) -> None:
        """Apply a new room state (routing takes effect on the next frame)."""
        router = self.routers.get(view.session_id)
        if router is None:
            router = Router(
                session_id=view.session_id, config=self.config, send=self._send, tap=self._tap,
                archive=self._archive,
            )
            self.routers[view.session_id] = router
        router.update(view)

    async def remove_participant(self, session_id: str, participant_id: str) -> None:
        """The participant left the session for good."""
        router = self.routers.get(session_id)
        if router is not None:
            await router.remove_participant(participant_id)

    async def close_session(self, session_id: str) -> None:
        """The session ended: close every connection in it."""
        router = self.routers.pop(session_id, None)
        if router is not None:
            await router.close()

    def ice_servers_for(self, participant_id: str) -> list[dict[str, object]]:
        """The browser's ``iceServers``, with TURN credentials minted for this participant."""
        c = self.config
        return ice_servers(
            participant_id=participant_id,
            stun_urls=c.client_stun_urls,
            turn_urls=c.turn_urls,
            secret=c.turn_secret,
            ttl=c.turn_ttl,
        )

    def client_config(self, participant_id: str) -> dict[str, object]:
        """The browser's ``RTCConfiguration``."""
        return {
            "iceServers": self.ice_servers_for(participant_id),
            "iceTransportPolicy": "relay" if self.config.relay_only else "all",
            "bundlePolicy": "max-bundle",
        }

    async def stats(self) -> SfuStats:
        """Counters for metrics."""
        participants = producers = forwarded = rx = tx = lost = received = 0
        packets_forwarded = packets_dropped = 0
        latencies: list[float] = []
        for router in self.routers.values():
            for transport in router.transports.values():
                if not transport.live:
                    continue
                participants += 1
                for producer in transport.producers.values():
                    producers += 1
                    rx += producer.bytes
                for consumer in transport.consumers.values():
                    forwarded += consumer.is_active
                    tx += consumer.bytes_sent
                    packets_forwarded += consumer.packets_sent
                    packets_dropped += consumer.packets_dropped
                    latencies.extend(consumer.latencies)
                for receiver in transport.pc.getReceivers():
                    report = await receiver.getStats()
                    for s in report.values():
                        if getattr(s, "type", None) == "inbound-rtp":
                            lost += max(0, getattr(s, "packetsLost", 0) or 0)
                            received += getattr(s, "packetsReceived", 0) or 0
        latencies.sort()
        p50 = latencies[len(latencies) // 2] * 1000 if latencies else None
        now = time.monotonic()
        then, rx0, tx0 = self._last_stats
        self._last_stats = (now, rx, tx)
        span = max(1e-6, now - then)
        return SfuStats(
            rooms=len(self.routers),
            participants=participants,
            producers=producers,
            forwarded_streams=forwarded,
            received_bytes=rx,
            forwarded_bytes=tx,
            forward_latency_ms_p50=p50,
            packets_lost=lost,
            packets_received=received,
            received_kbps=round(max(0, rx - rx0) * 8 / span / 1000, 1),
            forwarded_kbps=round(max(0, tx - tx0) * 8 / span / 1000, 1),
            packets_forwarded=packets_forwarded,
            packets_dropped=packets_dropped,
        )

    async def close(self) -> None:
        """Close every session."""
        for session_id in list(self.routers):
            await self.close_session(session_id)


def _sdp(message: dict[str, Any]) -> str:
    sdp = message.get("sdp")
    if not isinstance(sdp, str) or not sdp.strip():
        raise BadMessage("sdp must be a non-empty string")
    if len(sdp) > MAX_SDP:
        raise BadMessage("sdp too long")
    return sdp
