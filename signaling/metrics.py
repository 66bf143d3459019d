"""Prometheus metrics: rooms, participants, forwarded streams, captions, errors.

``/metrics`` is not public: it answers an administrator's login, or a scraper that sends
``Authorization: Bearer <TIAOJIE_METRICS_TOKEN>``. The figures name no person, but they
tell an outsider how many sessions and caucuses run and when, which is the office's
business, not theirs.
"""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from signaling.credentials import tokens_equal
from signaling.errors import Forbidden
from signaling.keys import SERVICES


class Metrics:
    """One registry per app, so that several apps in one test process do not collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.rooms = Gauge("tiaojie_rooms", "Live rooms known to this node", registry=r)
        self.participants = Gauge("tiaojie_participants", "Participants in rooms",
                                  ["state"], registry=r)
        self.events = Counter("tiaojie_socket_events_total", "Socket.IO events handled",
                              ["event", "outcome"], registry=r)
        self.http_errors = Counter("tiaojie_http_errors_total", "HTTP error answers",
                                   ["status"], registry=r)
        self.forwarded_streams = Gauge("tiaojie_forwarded_streams", "Consumers forwarding now",
                                       registry=r)
        self.media_received_bytes = Gauge("tiaojie_media_received_bytes",
                                          "Encoded bytes received from publishers", registry=r)
        self.media_forwarded_bytes = Gauge("tiaojie_media_forwarded_bytes",
                                           "Encoded bytes forwarded to subscribers", registry=r)
        self.media_packets_lost = Gauge("tiaojie_media_packets_lost",
                                        "Packets lost on the way in", registry=r)
        self.media_packets_forwarded = Gauge(
            "tiaojie_media_packets_forwarded",
            "RTP packets sent to subscribers (rate / process CPU = packets per core)",
            registry=r)
        self.media_packets_dropped = Gauge(
            "tiaojie_media_packets_dropped",
            "Packets taken in for an active subscriber but not sent", registry=r)
        self.forward_latency = Gauge("tiaojie_forward_latency_ms_p50",
                                     "Median receive-to-send hand-over", registry=r)
        self.captions = Counter("tiaojie_captions_total", "Captions delivered", ["final"],
                                registry=r)
        self.caption_latency = Histogram("tiaojie_caption_latency_seconds",
                                         "Utterance end to final caption", registry=r,
                                         buckets=(0.25, 0.5, 1, 2, 4, 8, 16))
        self.queue_depth = Gauge("tiaojie_transcription_queue_depth",
                                 "Audio segments waiting for a worker", registry=r)


async def ensure_metrics_reader(request: web.Request) -> None:
    """Let the configured scraper token or an administrator's login through; anyone else
    gets 401 (not logged in) or 403 (logged in, not an administrator)."""
    from signaling.api.auth import require_principal

    configured = request.app[SERVICES].settings.metrics_token
    header = request.headers.get("Authorization", "")
    if configured and header.lower().startswith("bearer ") \
            and tokens_equal(header[7:].strip(), configured):
        return
    principal = await require_principal(request)
    if principal.role != "admin":
        raise Forbidden("Only administrators read the metrics.", code="role_not_allowed")


async def metrics_handler(request: web.Request) -> web.Response:
    await ensure_metrics_reader(request)
    services = request.app[SERVICES]
    m: Metrics = services.extras["metrics"]
    rooms = getattr(services.rooms, "_rooms", None)
    if rooms is not None:
        m.rooms.set(len(rooms))
    # The embedded SFU, or the local one of a media node in a cluster.
    stats = getattr(services.media, "sfu", None) or getattr(
        getattr(services.media, "local", None), "sfu", None)
    if stats is not None:
        s = await stats.stats()
        m.forwarded_streams.set(s.forwarded_streams)
        m.media_received_bytes.set(s.received_bytes)
        m.media_forwarded_bytes.set(s.forwarded_bytes)
        m.media_packets_lost.set(s.packets_lost)
        m.media_packets_forwarded.set(s.packets_forwarded)
        m.media_packets_dropped.set(s.packets_dropped)
        if s.forward_latency_ms_p50 is not None:
            m.forward_latency.set(s.forward_latency_ms_p50)
    body = generate_latest(m.registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
