"""A Router: one session's media, and the routing table applied to it."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import replace

from .archive import ArchiveFeed, ArchiveSink
from .config import MediaConfig
from .consumer import Consumer
from .producer import Producer
from .routing import RoomView, Route, may_publish, routes
from .tap import Speaker, TapSink, TapStamp
from .tapfeed import TapFeed
from .transport import Send, Transport

logger = logging.getLogger(__name__)


class Router:
    """One session: its transports, the producers on them, and who consumes what.

    ``reconcile`` applies the difference between the routes the room view allows and the
    consumers that exist (LiveKit's ``reconcileSubscription``): an existing consumer is
    paused or resumed in place, which takes effect on the next frame and needs no
    renegotiation; only a route with no consumer yet needs one (a new server offer).
    Consumers are keyed by (subscriber, publisher, source), not by producer, so a
    publisher that reconnects is re-bound into its subscribers' existing tracks.
    """

    def __init__(
        self, *, session_id: str, config: MediaConfig, send: Send, tap: TapSink | None,
        archive: ArchiveSink | None = None,
    ) -> None:
        self.session_id = session_id
        self.view = RoomView(session_id)
        """The room state last given by signaling."""
        self.transports: dict[str, Transport] = {}
        """participant_id → live transport."""
        self.producers: dict[tuple[str, str], Producer] = {}
        """(participant_id, source) → live producer."""
        self.active_routes: frozenset[Route] = frozenset()
        """Routes allowed by the last view."""
        self._config = config
        self._send = send
        self._tap = tap
        self._archive = archive
        self._tap_origin = time.monotonic()
        self._expiry: dict[str, asyncio.TimerHandle] = {}

    def update(self, view: RoomView) -> bool:
        """Take a new room view and apply it now; a view older than the one applied is
        dropped (snapshots can arrive out of order: a stale one would route a caucus as
        it was before). Returns whether it was applied."""
        if view.version < self.view.version:
            logger.info("session %s: dropped room view %d older than %d", self.session_id,
                        view.version, self.view.version)
            return False
        self.view = view
        self.reconcile()
        return True

    def reconcile(self) -> None:
        """Make consumers match the routes allowed by the current view."""
        desired = routes(self.view)
        self.active_routes = desired
        for (pid, source), live in self.producers.items():
            stamp = self._tap_stamp(pid, source, desired)
            live.set_tap_stamp(stamp)
            live.set_archive_stamp(self._archive_stamp(pid, stamp))
        wanted: set[tuple[str, str, str]] = set()
        for route in sorted(desired):
            transport = self.transports.get(route.subscriber_id)
            if transport is None or not transport.live:
                continue
            wanted.add((route.subscriber_id, route.publisher_id, route.source))
            producer = self.producers.get((route.publisher_id, route.source))
            existing = transport.consumers.get((route.publisher_id, route.source))
            if existing is None or existing.closed:
                if producer is None:
                    continue  # nothing to forward yet; a new producer reconciles again
                consumer = Consumer(
                    route.subscriber_id, route.publisher_id, route.source, producer.kind
                )
                consumer.bind(producer)
                transport.add_consumer(consumer)
            else:
                consumer = existing
                if producer is not None:
                    consumer.bind(producer)
            consumer.resume()
        for transport in self.transports.values():
            for consumer in transport.consumers.values():
                if consumer.key not in wanted:
                    consumer.pause()

    def _tap_stamp(self, pid: str, source: str, desired: frozenset[Route]) -> TapStamp | None:
        """What the tap may know of ``pid``'s ``source`` now: only audio that routing lets
        reach the room at all (the same rule as forwarding), with who may hear it."""
        p = self.view.participant(pid)
        if source != "audio" or p is None or not may_publish(p, source):
            return None
        heard_by = frozenset(r.subscriber_id for r in desired
                             if r.publisher_id == pid and r.source == source)
        return TapStamp(Speaker(p.participant_id, p.name, p.role), p.caucus_id, heard_by,
                        self.view.version)

    def _archive_stamp(self, pid: str, stamp: TapStamp | None) -> TapStamp | None:
        """Audio is archived where it is tapped, while the session records and only for a
        speaker who consented to it."""
        p = self.view.participant(pid)
        if stamp is None or p is None or not self.view.recording or not p.consented:
            return None
        # Who else could hear it does not split the recording: where it was spoken does.
        return replace(stamp, heard_by=frozenset(), version=0)

    def create_transport(self, participant_id: str) -> Transport:
        """A new peer connection for ``participant_id``, replacing any old one."""
        old = self.transports.pop(participant_id, None)
        if old is not None:
            asyncio.ensure_future(old.close())
        handle = self._expiry.pop(participant_id, None)
        if handle is not None:
            handle.cancel()
        transport = Transport(
            session_id=self.session_id,
            participant_id=participant_id,
            config=self._config,
            send=self._send,
            on_producer=self._producer_added,
            on_producer_ended=self._producer_ended,
            on_failed=self._transport_failed,
        )
        self.transports[participant_id] = transport
        # Tracks from others that this participant may receive go into its first
        # server offer, after its own offer has been answered.
        self.reconcile()
        return transport

    def _producer_added(self, producer: Producer) -> None:
        key = (producer.participant_id, producer.source)
        old = self.producers.get(key)
        self.producers[key] = producer
        if old is not None and old is not producer:
            old.close()
        if self._tap is not None and producer.kind == "audio":
            producer.tap = TapFeed(
                sink=self._tap,
                session_id=self.session_id,
                participant_id=producer.participant_id,
                clock_origin=self._tap_origin,
            )
        if self._archive is not None and producer.kind == "audio":
            producer.archive = ArchiveFeed(
                sink=self._archive,
                session_id=self.session_id,
                participant_id=producer.participant_id,
                clock_origin=self._tap_origin,
            )
        self.reconcile()  # stamps the new producer before its first frame

    def _producer_ended(self, producer: Producer) -> None:
        key = (producer.participant_id, producer.source)
        if self.producers.get(key) is producer:
            del self.producers[key]

    def _transport_failed(self, transport: Transport) -> None:
        """The connection failed: keep the seat, let the participant come back.

        Its consumers elsewhere stay (producer-paused) so that a reconnect re-binds into
        them without renegotiating the others; after the grace period its producers end.
        """
        pid = transport.participant_id
        if self.transports.get(pid) is not transport or pid in self._expiry:
            return
        loop = asyncio.get_running_loop()
        self._expiry[pid] = loop.call_later(
            self._config.reconnect_grace,
            lambda: asyncio.ensure_future(self._expire(pid, transport)),
        )

    async def _expire(self, pid: str, transport: Transport) -> None:
        self._expiry.pop(pid, None)
        if self.transports.get(pid) is transport:
            del self.transports[pid]
        await transport.close()

    async def drop_transport(self, transport: Transport) -> None:
        """Forget a transport whose first offer was refused."""
        if self.transports.get(transport.participant_id) is transport:
            del self.transports[transport.participant_id]
        await transport.close()

    async def remove_participant(self, participant_id: str) -> None:
        """The participant left for good: close its connection, drop its consumers."""
        handle = self._expiry.pop(participant_id, None)
        if handle is not None:
            handle.cancel()
        transport = self.transports.pop(participant_id, None)
        if transport is not None:
            await transport.close()
        for other in self.transports.values():
            for consumer in other.consumers.values():
                if consumer.publisher_id == participant_id:
                    # The transceiver stays (no renegotiation); it just never sends again.
                    consumer.pause()

    async def close(self) -> None:
        for handle in self._expiry.values():
            handle.cancel()
        self._expiry.clear()
        transports = list(self.transports.values())
        self.transports.clear()
        await asyncio.gather(*(t.close() for t in transports), return_exceptions=True)
