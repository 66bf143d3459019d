"""A Transport: one participant's aiortc peer connection.

Negotiation (who offers):
* The participant offers first, with its own tracks as ``sendonly`` transceivers; the
  server answers (``handle_offer``). A later offer on the same connection (e.g. adding a
  screen) is answered the same way.
* Every track the participant receives is added by the server, which then sends its own
  offer through ``send`` (``{"type": "offer", "sdp", "tracks": {mid: {...}}}``); the
  participant answers (``handle_answer``). Only one server offer is outstanding at a time;
  changes made meanwhile go into the next one.
* If the participant offers while a server offer is outstanding, the offer is refused
  with ``NegotiationCollision`` (retryable): the browser is the polite peer.
aiortc gathers all its candidates before its SDP is made, so the server never trickles.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiortc import (
    RTCBundlePolicy,
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCRtpSender,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamTrack
from aiortc.rtcrtpparameters import RTCRtpCodecCapability, RTCRtpCodecParameters
from aiortc.sdp import candidate_from_sdp

from . import aiortc_seams
from .config import MediaConfig
from .consumer import Consumer
from .errors import BadMessage, BadSdp, CodecNotForwardable, NegotiationCollision, WrongState
from .producer import Producer

logger = logging.getLogger(__name__)

Send = Callable[[str, str, dict[str, Any]], Awaitable[None]]
FORWARDABLE = {"audio/opus", "video/vp8", "video/h264"}
"""Codecs aiortc can pack without encoding (their encoders have ``pack``)."""

_UFRAG = re.compile(r"^a=ice-ufrag:(\S+)", re.MULTILINE)


def ice_ufrag(sdp: str) -> str | None:
    """The first ICE username fragment in an SDP (a new peer connection has a new one)."""
    m = _UFRAG.search(sdp)
    return m.group(1) if m else None


def capability_for(codec: RTCRtpCodecParameters) -> list[RTCRtpCodecCapability]:
    """Codec preferences that pin a subscriber's sender to the publisher's codec."""
    kind = codec.mimeType.split("/")[0]
    caps = RTCRtpSender.getCapabilities(kind).codecs
    keys = ("profile-level-id", "packetization-mode")
    for cap in caps:
        if cap.mimeType.lower() != codec.mimeType.lower() or cap.clockRate != codec.clockRate:
            continue
        if codec.mimeType.lower() == "video/h264" and any(
            str(cap.parameters.get(k)) != str(codec.parameters.get(k)) for k in keys
        ):
            continue
        chosen = [cap]
        chosen += [c for c in caps if c.mimeType.lower() == f"{kind}/rtx"]
        return chosen
    raise CodecNotForwardable(f"no sender capability matches {codec.mimeType}")


def _ice_servers(config: MediaConfig) -> list[RTCIceServer]:
    servers = []
    for s in config.ice_servers:
        urls = s.get("urls")
        username = s.get("username")
        credential = s.get("credential")
        servers.append(
            RTCIceServer(
                urls=urls if isinstance(urls, (str, list)) else [],
                username=username if isinstance(username, str) else None,
                credential=credential if isinstance(credential, str) else None,
            )
        )
    return servers


class Transport:
    """One participant's peer connection: Producers in, Consumers out."""

    def __init__(
        self,
        *,
        session_id: str,
        participant_id: str,
        config: MediaConfig,
        send: Send,
        on_producer: Callable[[Producer], None],
        on_producer_ended: Callable[[Producer], None],
        on_failed: Callable[[Transport], None],
    ) -> None:
        self.session_id = session_id
        self.participant_id = participant_id
        self.consumers: dict[tuple[str, str], Consumer] = {}
        """(publisher_id, source) → Consumer on this connection."""
        self.producers: dict[str, Producer] = {}
        """source → Producer published on this connection."""
        self.closed = False
        self._config = config
        self._send = send
        self._on_producer = on_producer
        self._on_producer_ended = on_producer_ended
        self._on_failed = on_failed
        self._pending: list[Consumer] = []
        self._offered: list[Consumer] = []
        self._sources: dict[str, str] = {}
        self._negotiation: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        # An explicit (possibly empty) list: aiortc otherwise falls back to public STUN.
        # max-bundle: every m-line on one transport. aiortc's default ("balanced") gives a
        # second video m-line (a screen beside the camera) the first video's transport
        # and marks it bundled, so the BUNDLE step moves only the first one: the screen's
        # receiver is left on a transport that is stopped and never receives a packet.
        self.pc = RTCPeerConnection(
            RTCConfiguration(
                iceServers=_ice_servers(config), bundlePolicy=RTCBundlePolicy.MAX_BUNDLE
            )
        )
        self.pc.on("track", self._on_track)
        self.pc.on("connectionstatechange", self._on_state)

    @property
    def live(self) -> bool:
        """Not closed by us, and the peer connection has not failed or closed."""
        return not self.closed and self.pc.connectionState not in ("failed", "closed")

    @property
    def remote_ufrag(self) -> str | None:
        desc = self.pc.remoteDescription
        return ice_ufrag(desc.sdp) if desc is not None else None

    # --- participant → server -------------------------------------------------------
    async def handle_offer(self, sdp: str, sources: dict[str, str]) -> dict[str, object]:
        """Apply the participant's offer and return the answer."""
        async with self._lock:
            if self.pc.signalingState != "stable":
                raise NegotiationCollision("answer the server's offer, then offer again")
            self._sources.update(sources)
            try:
                await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
            except Exception as exc:
                if "send parameters" in str(exc):
                    # aiortc found no codec in common: it can only forward Opus, VP8, H.264.
                    raise CodecNotForwardable(f"offer has no forwardable codec: {exc}") from exc
                raise BadSdp(f"offer rejected: {exc}") from exc
            refused = self._unforwardable()
            if refused:
                raise CodecNotForwardable(
                    f"cannot forward {', '.join(refused)}: offer Opus audio and VP8 or H.264 video"
                )
            answer = await self.pc.createAnswer()
            await self.pc.setLocalDescription(answer)
        if self._pending:
            self._schedule_negotiation()
        return {"type": "answer", "sdp": self.pc.localDescription.sdp}

    async def handle_answer(self, sdp: str) -> None:
        """Apply the participant's answer to the server's offer."""
        async with self._lock:
            if self.pc.signalingState != "have-local-offer":
                raise WrongState("no server offer is outstanding")
            try:
                await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))
            except Exception as exc:
                raise BadSdp(f"answer rejected: {exc}") from exc
            offered, self._offered = self._offered, []
        for consumer in offered:
            consumer.set_ready()
        if self._pending:
            self._schedule_negotiation()

    async def add_candidate(self, candidate: dict[str, object]) -> None:
        """A trickled browser candidate (``RTCIceCandidate.toJSON()``); empty = end."""
        line = candidate.get("candidate")
        if not isinstance(line, str):
            raise BadMessage("candidate.candidate must be a string")
        if not line:
            return  # end-of-candidates: aiortc needs no notice
        try:
            parsed = candidate_from_sdp(line.removeprefix("candidate:"))
        except Exception as exc:
            raise BadMessage(f"unparsable candidate: {exc}") from exc
        mid = candidate.get("sdpMid")
        index = candidate.get("sdpMLineIndex")
        parsed.sdpMid = mid if isinstance(mid, str) else None
        parsed.sdpMLineIndex = index if isinstance(index, int) else None
        if parsed.sdpMid is None and parsed.sdpMLineIndex is None:
            parsed.sdpMLineIndex = 0
        try:
            await self.pc.addIceCandidate(parsed)
        except (ValueError, KeyError, AttributeError) as exc:
            # A candidate for an unknown mid, or before any description: drop it, go on.
            logger.info("candidate from %s ignored: %s", self.participant_id, exc)

    def _unforwardable(self) -> list[str]:
        """Codecs the participant would publish with that the SFU cannot forward."""
        refused = []
        for t in self.pc.getTransceivers():
            if t.receiver.track is None:
                continue
            codecs = [
                c for c in aiortc_seams.negotiated_codecs(t) if "rtx" not in c.mimeType.lower()
            ]
            if codecs and codecs[0].mimeType.lower() not in FORWARDABLE:
                refused.append(codecs[0].mimeType)
        return refused

    # --- server → participant -------------------------------------------------------
    def add_consumer(self, consumer: Consumer) -> None:
        """Queue a new consumer; it is sent in the next server offer."""
        self.consumers[(consumer.publisher_id, consumer.source)] = consumer
        self._pending.append(consumer)
        self._schedule_negotiation()

    def _schedule_negotiation(self) -> None:
        if self.closed or (self._negotiation is not None and not self._negotiation.done()):
            return
        self._negotiation = asyncio.ensure_future(self._negotiate())

    async def _negotiate(self) -> None:
        """Send one offer carrying every queued consumer (loop task, never raises)."""
        try:
            await asyncio.sleep(self._config.renegotiation_delay)
            async with self._lock:
                if self.closed or not self._pending or self.pc.signalingState != "stable":
                    return  # handle_answer / handle_offer reschedules
                if self.pc.connectionState != "connected":
                    # aiortc starts new senders only from a description applied while
                    # DTLS is up; an answer applied mid-handshake would leave them idle.
                    return  # _on_state reschedules once connected
                batch, self._pending = self._pending, []
                for consumer in batch:
                    if consumer.closed or consumer.producer is None:
                        self.consumers.pop((consumer.publisher_id, consumer.source), None)
                        continue
                    self._add_transceiver(consumer)
                    self._offered.append(consumer)
                if not self._offered:
                    return
                offer = await aiortc_seams.create_offer(self.pc)
                await self.pc.setLocalDescription(offer)
                message = {
                    "type": "offer",
                    "sdp": self.pc.localDescription.sdp,
                    "tracks": self.tracks(),
                }
            await self._send(self.session_id, self.participant_id, message)
        except asyncio.CancelledError:
            pass
        except Exception:
            logger.exception("renegotiation with %s failed", self.participant_id)

    def _add_transceiver(self, consumer: Consumer) -> None:
        assert consumer.producer is not None
        transceiver = self.pc.addTransceiver(consumer.track, direction="sendonly")
        # Must precede the offer: the sender sends with the first negotiated codec, which
        # must be the publisher's, since nothing is transcoded.
        transceiver.setCodecPreferences(capability_for(consumer.producer.codec))
        aiortc_seams.set_stream_id(transceiver.sender, consumer.publisher_id)
        aiortc_seams.on_keyframe_request(transceiver.sender, consumer.request_keyframe)
        aiortc_seams.on_nack(transceiver.sender, consumer.retransmit)
        consumer.transceiver = transceiver

    def tracks(self) -> dict[str, dict[str, str]]:
        """mid → who and what, for every track this participant receives."""
        out: dict[str, dict[str, str]] = {}
        for c in self.consumers.values():
            if c.mid is not None:
                out[c.mid] = {"participant_id": c.publisher_id, "source": c.source, "kind": c.kind}
        return out

    # --- aiortc events --------------------------------------------------------------
    def _on_track(self, track: MediaStreamTrack) -> None:
        transceiver = next(
            (t for t in self.pc.getTransceivers() if t.receiver.track is track), None
        )
        if transceiver is None or transceiver.mid is None:
            return
        source = self._sources.get(transceiver.mid)
        if source not in ("audio", "video", "screen") or _kind_of(source) != track.kind:
            source = track.kind
        # aiortc fires "track" once per transceiver, so a source already published here
        # came from another m-line: a second video track (declared "video" by a client
        # that only knows kinds) is the screen.
        if source == "video" and "video" in self.producers and "screen" not in self.producers:
            source = "screen"
        codecs = [
            c
            for c in aiortc_seams.negotiated_codecs(transceiver)
            if "rtx" not in c.mimeType.lower()
        ]
        if not codecs or codecs[0].mimeType.lower() not in FORWARDABLE:
            logger.warning("%s publishes %s: not forwardable", self.participant_id, codecs[:1])
            return
        producer = Producer(
            participant_id=self.participant_id,
            source=source,
            track=track,
            receiver=transceiver.receiver,
            codec=codecs[0],
            keyframe_interval=self._config.keyframe_interval,
            on_ended=self._producer_ended,
            bitrate_cap=self._config.video_bitrate_cap,
        )
        old = self.producers.get(source)
        self.producers[source] = producer
        if old is not None:
            old.close()
        self._on_producer(producer)

    def _producer_ended(self, producer: Producer) -> None:
        if self.producers.get(producer.source) is producer:
            del self.producers[producer.source]
        self._on_producer_ended(producer)

    async def _on_state(self) -> None:
        state = self.pc.connectionState
        logger.info("%s/%s connection %s", self.session_id, self.participant_id, state)
        if state == "connected" and self._pending:
            self._schedule_negotiation()
        if state in ("failed", "closed") and not self.closed:
            # The participant's side went away (network loss, or its browser closed the
            # connection without a word): keep the seat for the reconnect grace.
            self._on_failed(self)

    async def close(self) -> None:
        """Close the connection: its producers end, its consumers stop."""
        if self.closed:
            return
        self.closed = True
        if self._negotiation is not None:
            self._negotiation.cancel()
        for consumer in self.consumers.values():
            consumer.close()
        for producer in list(self.producers.values()):
            producer.close()
        try:
            await self.pc.close()
        except Exception:
            logger.exception("closing %s's peer connection failed", self.participant_id)


def _kind_of(source: str | None) -> str:
    return "audio" if source == "audio" else "video"
