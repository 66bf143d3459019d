"""The process-wide services every handler reaches through the aiohttp app."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from redis.asyncio import Redis

from signaling.db.engine import Database
from signaling.media_port import MediaPort, NoMedia
from signaling.rooms.store import RoomStore
from signaling.settings import Settings

if TYPE_CHECKING:
    import socketio

    from signaling.hub import Hub
    from signaling.notify import Dispatcher


@dataclass
class Services:
    """Shared resources, opened and closed by the app's cleanup context."""

    settings: Settings
    db: Database
    rooms: RoomStore
    redis: Redis | None = None
    media: MediaPort = field(default_factory=NoMedia)
    sio: socketio.AsyncServer | None = None
    hub: Hub | None = None
    notifier: Dispatcher | None = None
    """SMS and e-mail senders chosen by the settings (``signaling.notify``)."""
    extras: dict[str, Any] = field(default_factory=dict)
    """Per-package singletons (transcription pipeline, agreement store, ...)."""
    on_logout: list[Callable[[str], Awaitable[None]]] = field(default_factory=list)
    """Called with a login session id when it is logged out: each namespace closes the
    sockets opened with it."""
