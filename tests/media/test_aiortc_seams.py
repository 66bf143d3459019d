"""The aiortc internals the SFU relies on are still where it expects them.

If this fails after an aiortc upgrade, forwarding would silently fall back to decoding
(or break): update media/aiortc_seams.py and the pin in pyproject together.
"""

from __future__ import annotations

import fractions
from pathlib import Path

import aioice.ice
import aiortc
import pytest
from aiortc import RTCPeerConnection, RTCRtpReceiver
from aiortc.rtcrtpparameters import RTCRtpCodecParameters

from media import aiortc_seams
from media.errors import SeamsMissing


class _Dtls:
    state = "new"


def test_installed_aiortc_is_in_the_pinned_range() -> None:
    major, minor = (int(x) for x in aiortc.__version__.split(".")[:2])
    assert (major, minor) == (1, 16)


def test_every_private_name_and_behaviour_is_present() -> None:
    aiortc_seams.check_seams()


def test_check_fails_loudly_when_a_private_name_moves(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(RTCRtpReceiver, "_send_rtcp_pli")
    with pytest.raises(SeamsMissing, match="_send_rtcp_pli"):
        aiortc_seams.check_seams()


def test_encoded_frames_reach_the_callback_as_packets_and_nothing_is_decoded() -> None:
    from aiortc.jitterbuffer import JitterFrame

    receiver = RTCRtpReceiver("video", _Dtls())  # type: ignore[arg-type]
    got: list[tuple[str, bytes, int | None, fractions.Fraction | None]] = []
    aiortc_seams.install_encoded_frame_tap(
        receiver, lambda c, p: got.append((c.mimeType, bytes(p), p.pts, p.time_base))
    )
    queue = getattr(receiver, aiortc_seams._DECODER_QUEUE)
    codec = RTCRtpCodecParameters(mimeType="video/VP8", clockRate=90000, payloadType=96)
    queue.put((codec, JitterFrame(data=b"\x10\x02\x00", timestamp=3000)))
    assert got == [("video/VP8", b"\x10\x02\x00", 3000, fractions.Fraction(1, 90000))]
    # The decoder thread only ever sees the shutdown marker.
    queue.put(None)
    assert queue.get() is None


def test_the_tap_must_be_installed_before_the_decoder_thread_starts() -> None:
    receiver = RTCRtpReceiver("audio", _Dtls())  # type: ignore[arg-type]
    setattr(receiver, aiortc_seams._DECODER_THREAD, object())
    with pytest.raises(RuntimeError):
        aiortc_seams.install_encoded_frame_tap(receiver, lambda c, p: None)


def test_announced_addresses_replace_host_gathering_including_loopback() -> None:
    aiortc_seams.set_announced_addresses(["127.0.0.1"])
    try:
        assert aioice.ice.get_host_addresses(use_ipv4=True, use_ipv6=False) == ["127.0.0.1"]
    finally:
        aiortc_seams.set_announced_addresses([])
    assert "127.0.0.1" not in aioice.ice.get_host_addresses(use_ipv4=True, use_ipv6=False)


async def test_server_offers_keep_the_payload_types_and_extension_ids_already_negotiated() -> None:
    browserish = RTCPeerConnection()
    browserish.addTransceiver("video", direction="sendonly")
    offer = await browserish.createOffer()
    # A browser numbers differently from aiortc: VP8 on 120, mid on 9.
    sdp = offer.sdp.replace("VP8/90000", "VP8/90000").replace(" 97", " 120").replace(":97", ":120")
    sdp = sdp.replace("apt=97", "apt=120").replace("a=extmap:1 ", "a=extmap:9 ")
    server = RTCPeerConnection()
    await server.setRemoteDescription(aiortc.RTCSessionDescription(sdp=sdp, type="offer"))
    await server.setLocalDescription(await server.createAnswer())
    server.addTransceiver("video", direction="sendonly")
    reoffer = await aiortc_seams.create_offer(server)
    assert "a=rtpmap:120 VP8/90000" in reoffer.sdp
    assert "a=rtpmap:97 VP8/90000" not in reoffer.sdp
    assert "a=extmap:9 urn:ietf:params:rtp-hdrext:sdes:mid" in reoffer.sdp
    # The lent tables are given back.
    from aiortc.codecs import CODECS, HEADER_EXTENSIONS

    assert any(c.payloadType == 97 for c in CODECS["video"])
    assert HEADER_EXTENSIONS["video"][0].id == 1
    await browserish.close()
    await server.close()


def test_rtp_packets_reach_the_callback_one_by_one_and_no_frame_is_assembled() -> None:
    from aiortc.rtp import RtpPacket

    receiver = RTCRtpReceiver("video", _Dtls())  # type: ignore[arg-type]
    got: list[int] = []
    aiortc_seams.install_packet_tap(receiver, lambda p: got.append(p.sequence_number))
    buffer = getattr(receiver, aiortc_seams._JITTER_BUFFER)
    for seq in (5, 7, 6):
        assert buffer.add(RtpPacket(payload_type=96, sequence_number=seq)) == (False, None)
    assert got == [5, 7, 6]
    # The decoder thread still gets (only) the shutdown marker, which ends the track.
    queue = getattr(receiver, aiortc_seams._DECODER_QUEUE)
    queue.put(None)
    assert queue.get() is None


def test_check_fails_loudly_when_nacks_no_longer_reach_retransmit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from aiortc import RTCRtpSender

    async def handle(self: object, packet: object) -> None:
        return None

    monkeypatch.setattr(RTCRtpSender, "_handle_rtcp_packet", handle)
    with pytest.raises(SeamsMissing, match="NACK"):
        aiortc_seams.check_seams()


async def test_ice_sockets_ask_for_the_configured_buffers() -> None:
    import socket

    aiortc_seams.set_announced_addresses(["127.0.0.1"])
    aiortc_seams.set_socket_buffers(1024 * 1024)
    pc = RTCPeerConnection()
    try:
        pc.addTransceiver("audio")
        await pc.setLocalDescription(await pc.createOffer())
        ice = pc.getTransceivers()[0].sender.transport.transport
        sockets = [p.transport.get_extra_info("socket") for p in ice._connection._protocols]
        # (aioice sizes them right after creating them, from the constant the seam sets)
        assert sockets
        for sock in sockets:
            # Linux doubles what it grants (bookkeeping); capped by rmem_max.
            got = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
            cap = int(Path("/proc/sys/net/core/rmem_max").read_text()) * 2
            assert got >= min(2 * 1024 * 1024, cap) > 212992
    finally:
        await pc.close()
        aiortc_seams.set_socket_buffers(0)
        aiortc_seams.set_announced_addresses([])


def test_the_outlets_protect_encrypts_exactly_as_pylibsrtp_does() -> None:
    import os

    import pylibsrtp

    key = os.urandom(30)

    def session() -> pylibsrtp.Session:
        policy = pylibsrtp.Policy(
            key=key,
            ssrc_type=pylibsrtp.Policy.SSRC_ANY_OUTBOUND,
            srtp_profile=pylibsrtp.Policy.SRTP_PROFILE_AES128_CM_SHA1_80,
        )
        return pylibsrtp.Session(policy)

    ours, theirs = aiortc_seams._Protect(session()), session()
    for seq in range(3):
        packet = bytes([0x80, 96, 0, seq, 0, 0, 0, 1, 0, 0, 0, 2]) + os.urandom(1100)
        assert ours(packet) == theirs.protect(packet)
    assert ours(bytes(1400)) is None  # longer than the session's buffer allows
