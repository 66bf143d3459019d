"""Configuration of the media server, filled by the process that embeds it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class MediaConfig:
    """How the SFU connects to participants."""

    announced_addresses: list[str] = field(default_factory=list)
    """IP addresses the server gathers host candidates on and announces in its SDP.
    They must belong to local interfaces (aioice binds to them); behind a 1:1 NAT give the
    server a STUN server in ``ice_servers`` so that it also announces its public address.
    Empty: every non-loopback interface (aioice's default). Tests use ``["127.0.0.1"]``."""
    ice_servers: list[dict[str, object]] = field(default_factory=list)
    """STUN/TURN servers the *server's* peer connections use, W3C ``RTCIceServer`` shape.
    Empty by default: the server has public (announced) addresses and needs none; an
    explicit empty list also stops aiortc from falling back to a public STUN server."""
    client_stun_urls: list[str] = field(default_factory=list)
    """STUN URLs handed to browsers (``stun:host:port``), without credentials."""
    turn_urls: list[str] = field(default_factory=list)
    """TURN URLs handed to browsers (``turn:host:3478?transport=udp``), with minted credentials."""
    turn_secret: str | None = None
    """coturn's ``static-auth-secret`` (``use-auth-secret``); None: no TURN credentials."""
    turn_ttl: int = 24 * 3600
    """Seconds a minted TURN credential stays valid."""
    relay_only: bool = False
    """Tell browsers to use only TURN relay candidates (``iceTransportPolicy: "relay"``)."""
    reconnect_grace: float = 30.0
    """Seconds a participant whose connection failed keeps its seat before its
    published tracks are ended for good (tap end-of-stream)."""
    video_bitrate_cap: int = 1_500_000
    """REMB (bits/s) sent once a second to every publisher's video, as Janus VideoRoom's
    ``bitrate`` does: browsers adapt below it by their own loss-based control. 0 keeps
    aiortc's per-packet receive-side estimation instead (costlier, and under CPU load it
    mistakes the server's own delay for congestion)."""
    keyframe_interval: float = 0.3
    """Minimum seconds between keyframe requests forwarded to one publisher track."""
    renegotiation_delay: float = 0.05
    """Seconds to gather routing changes before sending one renegotiation offer."""
    socket_buffer_bytes: int = 4 * 1024 * 1024
    """Receive buffer asked for on each media socket (the kernel caps it at
    ``net.core.rmem_max``: raise that on media machines, as for any SFU)."""
