"""The process-wide services every handler reaches through the aiohttp app."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from redis.asyncio import Redis

from signaling.db.engine import Database
from signaling.media_port import MediaPort, NoMedia
from signaling.rooms.store import RoomStore
from signaling.settings import Settings

if TYPE_CHECKING:
    import socketio

    from signaling.hub import Hub
    from signaling.notify import Dispatcher


T = TypeVar("T")


class Slot(Generic[T]):
    """A typed seat in ``Services`` for one feature's per-process state (its runtime, its
    loops), like aiohttp's ``AppKey``: ``services.get(slot)`` is typed ``T | None``."""

    def __init__(self, name: str, kind: type[T]) -> None:
        self.name = name
        self.kind = kind

    def __repr__(self) -> str:
        return f"Slot({self.name!r})"


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
    """Untyped per-process singletons still kept by name (the transcription pipeline, the
    metrics); a feature's own state goes in a typed ``Slot`` instead."""
    slots: dict[Slot[Any], Any] = field(default_factory=dict)
    """Each feature's typed state, by ``Slot`` (``get``, ``put``, ``pop``)."""
    on_logout: list[Callable[[str], Awaitable[None]]] = field(default_factory=list)
    """Called with a login session id when it is logged out: each namespace closes the
    sockets opened with it."""

    def get(self, slot: Slot[T]) -> T | None:
        """What ``slot`` holds, or None."""
        found = self.slots.get(slot)
        if found is not None and not isinstance(found, slot.kind):
            raise TypeError(f"{slot!r} holds a {type(found).__name__}")
        return found

    def put(self, slot: Slot[T], value: T) -> T:
        """Keep ``value`` in ``slot``; returns it."""
        if not isinstance(value, slot.kind):
            raise TypeError(f"{slot!r} takes a {slot.kind.__name__}")
        self.slots[slot] = value
        return value

    def pop(self, slot: Slot[T]) -> T | None:
        """Empty ``slot``, returning what it held."""
        found = self.get(slot)
        self.slots.pop(slot, None)
        return found
