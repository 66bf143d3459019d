"""The one door into aiortc's private state.

aiortc decodes everything it receives and encodes everything it sends; an SFU must do
neither. Every touch of aiortc internals that forwarding needs lives here, and
``check_seams()`` verifies all of them at start-up (and in tests/media/test_aiortc_seams.py)
so that an aiortc upgrade that moves them fails loudly instead of silently decoding.
The version range is pinned in pyproject (``aiortc>=1.16,<1.17``).

The seams (see shared/notes/sfu-passthrough.md for the measurements behind them):

* receive, per packet (what the SFU forwards): the receiver's private jitter buffer is
  replaced by ``_PacketTap``, whose ``add`` hands every RTP packet to the Producer as it
  arrives (RTX already unwrapped, NACKs to the publisher already sent, receiver
  statistics and REMB already counted: all of that stays aiortc's) and never assembles a
  frame. The decoder queue is swapped too, so that the decoder thread only ever sees the
  shutdown marker and the remote track still ends as usual.
* receive, per frame (test clients and tools that want whole frames): the decoder queue
  alone is replaced by ``_EncodedFrameQueue``, which hands each reassembled encoded frame
  to a callback as an ``av.Packet``.
* send, per packet: ``RtpOutlet`` writes ready-made RTP packets straight to the started
  sender's SRTP session and nominated ICE pair, synchronously: no track, no encoder, no
  task switch per packet. It calls libsrtp's ``srtp_protect`` on the session's own buffer
  as ``pylibsrtp.Session.protect`` does, without that method's allocation per call (which
  cost more than the encryption itself: 4.2 against 2.4 µs a packet). What the sender would
  have done with them is done here too:
  its RTCP sender reports carry the outlet's packet and octet counts and RTP/NTP time
  pair, and a subscriber's NACK (routed by aiortc to the sender's ``_retransmit``) is
  handed to the Consumer, which answers from its own retransmission history.
* bandwidth: aiortc estimates each publisher's video bandwidth from packet arrival times
  (``RemoteBitrateEstimator``, Python, per packet) and sends REMB whenever it sees
  "overuse", which a busy event loop causes by itself: under CPU load it sent REMB for
  half the packets it received and cost an eighth of the SFU's CPU. As Janus VideoRoom
  does, the receiver's estimator is removed (``stop_bandwidth_estimation``) and the
  Producer sends a fixed REMB cap once a second (``send_remb``); browsers keep their own
  loss-based control under it.
* keyframes: a subscriber's PLI/FIR lands in the sender's ``_send_keyframe`` (which would
  only flag its unused encoder); it is redirected to the Producer, which sends a PLI to
  the publisher through the receiver's ``_send_rtcp_pli`` for the media SSRC.
* identity: the sender's ``_stream_id`` becomes the publisher's participant id, so the
  browser's ``track`` event carries it as ``streams[0].id`` (the SDP ``msid``).
* codecs: the negotiated codecs of a publisher's transceiver (``_codecs``) pin the
  subscriber's transceiver to the same codec.
* header extensions: aiortc's ``createOffer`` numbers RTP header extensions from its
  module table ``HEADER_EXTENSIONS`` whatever the browser's offer numbered them, and the
  one transport-wide map then parses the browser's packets with the wrong ids (a 3-byte
  abs-send-time read as a 1-byte audio level kills the DTLS loop). ``create_offer`` lends
  that table the ids already negotiated on this connection for the length of the call.
  Payload types likewise: it renumbers every m-line from its ``CODECS`` table, and the
  browser then sends with the new numbers while the running receiver only knows the old
  ones (media stops). ``create_offer`` lends ``CODECS`` with this connection's numbers.
* ICE: aioice's ``get_host_addresses`` leaves out 127.0.0.1 and offers every interface;
  it is wrapped to offer the configured announced addresses instead.
* sockets: aioice sizes each ICE socket's receive buffer from its module constant
  ``turn.UDP_SOCKET_BUFFER_SIZE`` (256 KB, about 220 packets: a pause of the event loop of
  a few tens of milliseconds, a garbage collection or a busy neighbour, drops what a few
  megabytes would have kept); ``set_socket_buffers`` sets that constant (the kernel caps
  the buffer at ``net.core.rmem_max``).
"""

from __future__ import annotations

import dataclasses
import fractions
import inspect
import queue
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import aioice.ice
import aioice.turn
import av
import pylibsrtp
from aiortc import (
    RTCPeerConnection,
    RTCRtpReceiver,
    RTCRtpSender,
    RTCRtpTransceiver,
    RTCSessionDescription,
    clock,
)
from aiortc import rtcpeerconnection as _pc_module
from aiortc.rtcdtlstransport import RTCDtlsTransport
from aiortc.rtcdtlstransport import State as _DtlsState
from aiortc.rtcicetransport import RTCIceTransport
from aiortc.rtcrtpparameters import RTCRtpCodecParameters, RTCRtpHeaderExtensionParameters
from aiortc.rtp import RTCP_PSFB_APP, RtcpPsfbPacket, RtpPacket, pack_remb_fci
from pylibsrtp import _binding as _srtp_binding

from .errors import SeamsMissing

_DECODER_QUEUE = "_RTCRtpReceiver__decoder_queue"
_DECODER_THREAD = "_RTCRtpReceiver__decoder_thread"
_RTX_SSRC = "_RTCRtpReceiver__rtx_ssrc"
_JITTER_BUFFER = "_RTCRtpReceiver__jitter_buffer"
_ESTIMATOR = "_RTCRtpReceiver__remote_bitrate_estimator"
_RTCP_SSRC = "_RTCRtpReceiver__rtcp_ssrc"
_SENDER_COUNTERS = (
    "_RTCRtpSender__packet_count",
    "_RTCRtpSender__octet_count",
    "_RTCRtpSender__rtp_timestamp",
    "_RTCRtpSender__ntp_timestamp",
)

FrameCallback = Callable[[RTCRtpCodecParameters, av.Packet], None]  # type: ignore[type-arg]
"""Called on the event loop thread with each complete encoded frame of a receiver."""
PacketCallback = Callable[[RtpPacket], None]
"""Called on the event loop thread with each RTP packet a receiver accepted."""


class _FakeDtls:
    """Just enough of an RTCDtlsTransport to construct a receiver/sender for checks."""

    state = "new"


def check_seams() -> None:
    """Raise ``SeamsMissing`` unless every private name and behaviour used here exists."""
    problems: list[str] = []
    receiver = RTCRtpReceiver("video", _FakeDtls())  # type: ignore[arg-type]
    for name in (_DECODER_QUEUE, _DECODER_THREAD, _RTX_SSRC, "_track"):
        if not hasattr(receiver, name):
            problems.append(f"RTCRtpReceiver instance lacks {name}")
    if not isinstance(getattr(receiver, _DECODER_QUEUE, None), queue.Queue):
        problems.append("RTCRtpReceiver decoder queue is not a queue.Queue")
    if getattr(receiver, _DECODER_THREAD, "missing") is not None:
        problems.append("RTCRtpReceiver decoder thread starts before receive()")
    if not callable(getattr(RTCRtpReceiver, "_send_rtcp_pli", None)):
        problems.append("RTCRtpReceiver._send_rtcp_pli missing")
    handle = inspect.getsource(RTCRtpReceiver._handle_rtp_packet)
    if "__decoder_queue.put((codec, encoded_frame))" not in handle:
        problems.append("RTCRtpReceiver._handle_rtp_packet no longer queues (codec, frame)")
    if "self.__decoder_queue" not in inspect.getsource(RTCRtpReceiver.receive):
        problems.append("RTCRtpReceiver.receive no longer hands the decoder queue to its thread")

    if not hasattr(receiver, _JITTER_BUFFER) or not callable(
        getattr(getattr(receiver, _JITTER_BUFFER, None), "add", None)
    ):
        problems.append("RTCRtpReceiver instance lacks its jitter buffer")
    if "self.__jitter_buffer.add(packet)" not in handle:
        problems.append("RTCRtpReceiver._handle_rtp_packet no longer feeds the jitter buffer")
    if "unwrap_rtx(" not in handle or "self.__nack_generator" not in handle:
        problems.append("RTCRtpReceiver._handle_rtp_packet no longer unwraps RTX before NACK")
    if "self.__remote_bitrate_estimator is not None" not in handle:
        problems.append("RTCRtpReceiver._handle_rtp_packet no longer checks its estimator")
    for name in (_ESTIMATOR, _RTCP_SSRC):
        if not hasattr(receiver, name):
            problems.append(f"RTCRtpReceiver instance lacks {name}")
    if not callable(getattr(RTCRtpReceiver, "_send_rtcp", None)):
        problems.append("RTCRtpReceiver._send_rtcp missing")
    if "self.__decoder_thread" not in handle:
        problems.append("RTCRtpReceiver._handle_rtp_packet no longer checks its decoder thread")

    # (RTCRtpSender needs a running loop to construct, so it is checked by its source.)
    sender_init = inspect.getsource(RTCRtpSender.__init__)
    for name in ("self._ssrc", "self._rtx_ssrc") + tuple(
        "self." + n.removeprefix("_RTCRtpSender") for n in _SENDER_COUNTERS
    ):
        if name not in sender_init:
            problems.append(f"RTCRtpSender no longer has {name}")
    if "await self._retransmit(seq)" not in inspect.getsource(RTCRtpSender._handle_rtcp_packet):
        problems.append("RTCRtpSender no longer routes NACK through _retransmit")
    rtcp_src = inspect.getsource(RTCRtpSender._run_rtcp)
    if "self.__packet_count" not in rtcp_src or "self.__rtp_timestamp" not in rtcp_src:
        problems.append("RTCRtpSender._run_rtcp no longer reports its counters")
    if "self._tx_srtp" not in inspect.getsource(RTCDtlsTransport.__init__):
        problems.append("RTCDtlsTransport lacks _tx_srtp")
    if "self._tx_srtp.protect(data)" not in inspect.getsource(RTCDtlsTransport._send_rtp):
        problems.append("RTCDtlsTransport._send_rtp no longer protects with _tx_srtp")
    session_init = inspect.getsource(pylibsrtp.Session.__init__)
    if any(f"self.{n} =" not in session_init for n in ("_cdata", "_buffer", "_srtp")) or (
        '"char[]", 1500' not in session_init
    ):
        problems.append("pylibsrtp.Session no longer keeps _srtp/_cdata/_buffer of 1500 bytes")
    if "lib.srtp_protect" not in inspect.getsource(pylibsrtp.Session.protect) or not callable(
        getattr(_srtp_binding.lib, "srtp_protect", None)
    ):
        problems.append("pylibsrtp.Session.protect no longer calls lib.srtp_protect")
    if "self._connection" not in inspect.getsource(RTCIceTransport.__init__):
        problems.append("RTCIceTransport lacks _connection")
    if "self._nominated" not in inspect.getsource(aioice.ice.Connection.__init__):
        problems.append("aioice Connection lacks _nominated")
    if "active_pair.protocol.send_data(data, active_pair.remote_addr)" not in inspect.getsource(
        aioice.ice.Connection.sendto
    ):
        problems.append("aioice Connection.sendto no longer sends through the pair's protocol")
    if "self.transport.sendto(data, addr)" not in inspect.getsource(
        aioice.ice.StunProtocol.send_data
    ):
        problems.append("aioice StunProtocol.send_data no longer writes to its transport")
    if not callable(getattr(RTCRtpSender, "_send_keyframe", None)):
        problems.append("RTCRtpSender._send_keyframe missing")
    if "self._stream_id" not in inspect.getsource(RTCRtpSender.__init__):
        problems.append("RTCRtpSender no longer has _stream_id")
    if ".pack(" not in inspect.getsource(RTCRtpSender._next_encoded_frame):
        problems.append("RTCRtpSender._next_encoded_frame no longer packs pre-encoded data")
    if "self._send_keyframe()" not in inspect.getsource(RTCRtpSender._handle_rtcp_packet):
        problems.append("RTCRtpSender no longer routes PLI/FIR through _send_keyframe")
    msid_src = inspect.getsource(_pc_module.create_media_description_for_transceiver)
    if "sender._stream_id" not in msid_src:
        problems.append("aiortc no longer builds msid from sender._stream_id")
    if "transceiver._codecs" not in msid_src:
        problems.append("aiortc no longer keeps negotiated codecs in transceiver._codecs")

    offer_src = inspect.getsource(RTCPeerConnection.createOffer)
    if "HEADER_EXTENSIONS[transceiver.kind]" not in offer_src or "await " in offer_src:
        problems.append(
            "RTCPeerConnection.createOffer no longer reads HEADER_EXTENSIONS in one step"
        )
    if "CODECS[transceiver.kind]" not in offer_src:
        problems.append("RTCPeerConnection.createOffer no longer reads CODECS")
    if not callable(getattr(_pc_module, "is_codec_compatible", None)):
        problems.append("aiortc.rtcpeerconnection.is_codec_compatible missing")
    if not isinstance(getattr(_pc_module, "HEADER_EXTENSIONS", None), dict):
        problems.append("aiortc.rtcpeerconnection.HEADER_EXTENSIONS missing")
    for name in ("_headerExtensions", "_codecs"):
        if name not in inspect.getsource(RTCRtpTransceiver.__init__):
            problems.append(f"RTCRtpTransceiver lacks {name}")

    if "turn.UDP_SOCKET_BUFFER_SIZE" not in inspect.getsource(
        aioice.ice.Connection.get_component_candidates
    ):
        problems.append("aioice no longer sizes host sockets from turn.UDP_SOCKET_BUFFER_SIZE")
    if not callable(getattr(aioice.ice, "get_host_addresses", None)):
        problems.append("aioice.ice.get_host_addresses missing")
    elif "get_host_addresses(" not in inspect.getsource(aioice.ice.Connection.gather_candidates):
        problems.append("aioice Connection.gather_candidates no longer calls get_host_addresses")
    if problems:
        raise SeamsMissing("aiortc internals moved: " + "; ".join(problems))


class _EncodedFrameQueue:
    """Stands in for a receiver's decoder queue: encoded frames go to a callback.

    ``put`` is called by ``_handle_rtp_packet`` (event loop thread) with
    ``(codec, JitterFrame)``, or with ``None`` when the receiver stops. ``get`` is called by
    the decoder thread, which then only ever sees the ``None`` and exits, ending the
    remote track as usual. Nothing accumulates: frames are handed over, never queued.
    """

    def __init__(self, on_frame: FrameCallback) -> None:
        self._on_frame = on_frame
        self._shutdown: queue.Queue[None] = queue.Queue()

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        if item is None:
            self._shutdown.put(None)
            return
        codec, frame = item
        packet = av.Packet(frame.data)
        packet.pts = frame.timestamp  # already 0-based by aiortc's TimestampMapper
        packet.time_base = fractions.Fraction(1, codec.clockRate)
        self._on_frame(codec, packet)

    def get(self, block: bool = True, timeout: float | None = None) -> None:
        return self._shutdown.get(block, timeout)


def install_encoded_frame_tap(receiver: RTCRtpReceiver, on_frame: FrameCallback) -> None:
    """Make ``receiver`` hand encoded frames to ``on_frame`` instead of decoding them.

    Must run in ``pc.on("track")``: before ``receive()`` starts the decoder thread.
    """
    if getattr(receiver, _DECODER_THREAD) is not None:
        raise RuntimeError("decoder thread already started: install in the track event")
    setattr(receiver, _DECODER_QUEUE, _EncodedFrameQueue(on_frame))


class _PacketTap:
    """Stands in for a receiver's jitter buffer: every RTP packet goes to a callback.

    ``add`` is called by ``_handle_rtp_packet`` (event loop thread) after aiortc has
    counted the packet, unwrapped RTX and sent NACKs for gaps; it returns "no PLI, no
    frame", so nothing is ever reassembled or queued for decoding.
    """

    def __init__(self, on_packet: PacketCallback) -> None:
        self._on_packet = on_packet

    def add(self, packet: RtpPacket) -> tuple[bool, None]:
        self._on_packet(packet)
        return False, None


def install_packet_tap(receiver: RTCRtpReceiver, on_packet: PacketCallback) -> None:
    """Make ``receiver`` hand each RTP packet to ``on_packet``: no reassembly, no decoding.

    Must run in ``pc.on("track")``: before ``receive()`` starts the decoder thread.
    """
    if getattr(receiver, _DECODER_THREAD) is not None:
        raise RuntimeError("decoder thread already started: install in the track event")
    # The decoder thread then only ever gets the shutdown marker, which ends the track.
    setattr(receiver, _DECODER_QUEUE, _EncodedFrameQueue(lambda codec, packet: None))
    setattr(receiver, _JITTER_BUFFER, _PacketTap(on_packet))


_SRTP_LIMIT = 1500 - pylibsrtp.SRTP_MAX_TRAILER_LEN
"""Longest RTP packet pylibsrtp's session buffer (1,500 bytes) can protect."""


class _Protect:
    """``pylibsrtp.Session.protect`` for one session, with its integer allocated once."""

    def __init__(self, session: pylibsrtp.Session) -> None:
        self.session = session
        self._srtp = session._srtp[0]
        self._cdata = session._cdata
        self._buffer = session._buffer
        self._len = _srtp_binding.ffi.new("int *")

    def __call__(self, data: bytes) -> bytes | None:
        n = len(data)
        if n > _SRTP_LIMIT:
            return None
        self._buffer[0:n] = data
        self._len[0] = n
        if _srtp_binding.lib.srtp_protect(self._srtp, self._cdata, self._len):
            return None
        out: bytes = self._buffer[0 : self._len[0]]
        return out


class RtpOutlet:
    """Where one subscriber track's packets leave: its started ``RTCRtpSender``.

    Built once the subscriber's answer has started the sender. Packets are written to the
    sender's DTLS transport's SRTP session and to the nominated ICE pair's datagram
    transport (plain UDP or a TURN allocation, both synchronous ``sendto``), which is what
    ``RTCDtlsTransport._send_rtp`` does after three awaits that never suspend.
    """

    def __init__(self, transceiver: RTCRtpTransceiver) -> None:
        sender = transceiver.sender
        codecs = negotiated_codecs(transceiver)
        media = codecs[0]
        self.ssrc: int = sender._ssrc
        """The SSRC the subscriber's SDP announced for this track."""
        self.rtx_ssrc: int = sender._rtx_ssrc
        """The SSRC retransmissions go out on."""
        self.payload_type: int = media.payloadType or 0
        """The subscriber's number for the publisher's codec."""
        self.rtx_payload_type: int | None = next(
            (
                c.payloadType
                for c in codecs
                if _is_rtx(c) and c.parameters.get("apt") == media.payloadType
            ),
            None,
        )
        """RTX payload type, or None when the subscriber negotiated no RTX."""
        ids = {e.uri: e.id for e in transceiver._headerExtensions}
        self.extension_ids: dict[str, int] = ids
        """Header extension URI → id on the subscriber's connection."""
        self.mid: str | None = transceiver.mid
        self._sender = sender
        self._dtls: RTCDtlsTransport = sender.transport
        self._ice: RTCIceTransport = self._dtls.transport
        self._protect: _Protect | None = None

    def send(self, data: bytes) -> bool:
        """Protect and send one RTP packet now; False when the connection is not up."""
        dtls = self._dtls
        if dtls._state is not _DtlsState.CONNECTED:
            return False
        pair = self._ice._connection._nominated.get(1)
        if pair is None:
            return False
        protect = self._protect
        if protect is None or protect.session is not dtls._tx_srtp:
            protect = self._protect = _Protect(dtls._tx_srtp)
        protected = protect(data)
        if protected is None:
            return False
        pair.protocol.transport.sendto(protected, pair.remote_addr)
        return True

    def report(self, packets: int, octets: int, rtp_timestamp: int) -> None:
        """Give the sender's RTCP sender reports this track's counts and an RTP/NTP pair
        (the NTP time is now: call it right after sending a packet stamped
        ``rtp_timestamp``), as its own send loop would have."""
        s = self._sender
        setattr(s, _SENDER_COUNTERS[0], packets)
        setattr(s, _SENDER_COUNTERS[1], octets)
        setattr(s, _SENDER_COUNTERS[2], rtp_timestamp)
        setattr(s, _SENDER_COUNTERS[3], clock.current_ntp_time())


def on_nack(sender: RTCRtpSender, callback: Callable[[int], None]) -> None:
    """Call ``callback(sequence_number)`` for each packet the subscriber NACKs."""

    async def retransmit(sequence_number: int) -> None:
        callback(sequence_number)

    # An instance attribute shadows the method that RTCRtpSender._handle_rtcp_packet awaits.
    sender._retransmit = retransmit  # type: ignore[method-assign]


def stop_bandwidth_estimation(receiver: RTCRtpReceiver) -> None:
    """Stop ``receiver``'s per-packet bandwidth estimation and the REMB it sends."""
    setattr(receiver, _ESTIMATOR, None)


def send_remb(receiver: RTCRtpReceiver, bitrate: int, ssrcs: list[int]) -> Awaitable[None]:
    """Tell the publisher behind ``receiver`` to send ``ssrcs`` at ``bitrate`` bps at most."""
    packet = RtcpPsfbPacket(
        fmt=RTCP_PSFB_APP,
        ssrc=getattr(receiver, _RTCP_SSRC) or 0,
        media_ssrc=0,
        fci=pack_remb_fci(bitrate, ssrcs),
    )
    result: Awaitable[None] = receiver._send_rtcp(packet)
    return result


def media_ssrcs(receiver: RTCRtpReceiver) -> list[int]:
    """SSRCs the receiver currently gets media on, retransmission (RTX) SSRCs left out."""
    rtx: dict[int, int] = getattr(receiver, _RTX_SSRC)
    return [s.source for s in receiver.getSynchronizationSources() if s.source not in rtx]


def send_pli(receiver: RTCRtpReceiver, media_ssrc: int) -> Awaitable[None]:
    """Ask the publisher behind ``receiver`` for a keyframe on ``media_ssrc``."""
    result: Awaitable[None] = receiver._send_rtcp_pli(media_ssrc)
    return result


def on_keyframe_request(sender: RTCRtpSender, callback: Callable[[], None]) -> None:
    """Call ``callback`` when the subscriber sends PLI/FIR for ``sender``'s stream."""
    # An instance attribute shadows the method that RTCRtpSender._handle_rtcp_packet calls.
    sender._send_keyframe = callback  # type: ignore[method-assign]


def set_stream_id(sender: RTCRtpSender, stream_id: str) -> None:
    """Set the msid stream id the sender announces (the browser's ``streams[0].id``)."""
    sender._stream_id = stream_id


def negotiated_codecs(transceiver: RTCRtpTransceiver) -> list[RTCRtpCodecParameters]:
    """The codecs negotiated for ``transceiver``, preferred first."""
    codecs: list[RTCRtpCodecParameters] = list(transceiver._codecs)
    return codecs


async def create_offer(pc: RTCPeerConnection) -> RTCSessionDescription:
    """``pc.createOffer()``, keeping the header extension ids already negotiated on ``pc``."""
    ids: dict[str, int] = {}
    for t in pc.getTransceivers():
        for ext in t._headerExtensions:
            ids.setdefault(ext.uri, ext.id)
    codecs_table: dict[str, list[RTCRtpCodecParameters]] = _pc_module.CODECS  # type: ignore[attr-defined]
    saved_codecs = dict(codecs_table)
    for kind, lent_codecs in _lend_payload_types(pc, saved_codecs).items():
        codecs_table[kind] = lent_codecs
    table: dict[str, list[RTCRtpHeaderExtensionParameters]] = (
        _pc_module.HEADER_EXTENSIONS)  # type: ignore[attr-defined]
    saved = dict(table)
    used = set(ids.values())
    for kind, exts in saved.items():
        lent = []
        for ext in exts:
            ext_id = ids.get(ext.uri)
            if ext_id is None:
                ext_id = ext.id if ext.id not in used else min(set(range(1, 15)) - used)
                ids[ext.uri] = ext_id
                used.add(ext_id)
            lent.append(RTCRtpHeaderExtensionParameters(id=ext_id, uri=ext.uri))
        table[kind] = lent
    try:
        # createOffer awaits nothing (checked by check_seams), so no other connection's
        # offer can see the lent table.
        return await pc.createOffer()
    finally:
        table.update(saved)
        codecs_table.update(saved_codecs)


def _lend_payload_types(
    pc: RTCPeerConnection, codecs: dict[str, list[RTCRtpCodecParameters]]
) -> dict[str, list[RTCRtpCodecParameters]]:
    """aiortc's codec table renumbered with the payload types negotiated on ``pc``."""
    negotiated: list[RTCRtpCodecParameters] = []
    rtx_for: dict[int, int] = {}
    for t in pc.getTransceivers():
        for c in t._codecs:
            if _is_rtx(c):
                apt = c.parameters.get("apt")
                if isinstance(apt, int) and c.payloadType is not None:
                    rtx_for.setdefault(apt, c.payloadType)
            elif c.payloadType is not None:
                negotiated.append(c)
    used = {c.payloadType for c in negotiated if c.payloadType is not None}
    used |= set(rtx_for.values())

    def free(preferred: int) -> int:
        pt = preferred if preferred not in used else min(set(range(96, 128)) - used)
        used.add(pt)
        return pt

    lent: dict[str, list[RTCRtpCodecParameters]] = {}
    for kind, table in codecs.items():
        mapping: dict[int, int] = {}
        out: list[RTCRtpCodecParameters] = []
        for c in table:
            if _is_rtx(c) or c.payloadType is None:
                continue
            match = next((n for n in negotiated if _pc_module.is_codec_compatible(c, n)), None)
            pt = (
                match.payloadType
                if match is not None and match.payloadType is not None
                else free(c.payloadType)
            )
            mapping[c.payloadType] = pt
            out.append(dataclasses.replace(c, payloadType=pt))
        for c in table:
            apt = c.parameters.get("apt")
            if not _is_rtx(c) or not isinstance(apt, int) or apt not in mapping:
                continue
            base = mapping[apt]
            pt = rtx_for.get(base) or free(c.payloadType or 96)
            rtx = dataclasses.replace(c, payloadType=pt, parameters={"apt": base})
            # aiortc keeps each rtx right after its base codec.
            index = next(i for i, o in enumerate(out) if o.payloadType == base)
            out.insert(index + 1, rtx)
        lent[kind] = out
    return lent


def _is_rtx(codec: RTCRtpCodecParameters) -> bool:
    return codec.mimeType.lower().endswith("/rtx")


_announced: list[str] = []
_lock = threading.Lock()
_original_get_host_addresses = aioice.ice.get_host_addresses


def _get_host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
    with _lock:
        announced = list(_announced)
    if not announced:
        return _original_get_host_addresses(use_ipv4=use_ipv4, use_ipv6=use_ipv6)
    return [a for a in announced if (":" in a and use_ipv6) or (":" not in a and use_ipv4)]


def set_announced_addresses(addresses: list[str]) -> None:
    """Gather host candidates on ``addresses`` only (all interfaces when empty).

    Process-wide: aioice has no per-connection setting. One SFU per process.
    """
    with _lock:
        _announced[:] = addresses
    aioice.ice.get_host_addresses = _get_host_addresses



_DEFAULT_BUFFER = aioice.turn.UDP_SOCKET_BUFFER_SIZE


def set_socket_buffers(size: int) -> None:
    """Ask for a ``size``-byte receive buffer on every ICE socket made from now on
    (process-wide, like the announced addresses; 0 restores aioice's 256 KB)."""
    aioice.turn.UDP_SOCKET_BUFFER_SIZE = size or _DEFAULT_BUFFER
