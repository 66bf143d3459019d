"""Where room state lives: in this process (embedded) or in Redis (several nodes).

``async with store.edit(session_id) as room:`` loads the room under a lock and saves it
when the block ends without an error, so that two nodes never interleave changes.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Protocol

from redis.asyncio import Redis

from signaling.rooms.room import Room

ROOM_TTL_S = 7 * 24 * 3600
LOCK_TIMEOUT_S = 10.0


class RoomStore(Protocol):
    """Loads and saves rooms atomically."""

    def edit(self, session_id: str) -> AbstractAsyncContextManager[Room]: ...

    async def get(self, session_id: str) -> Room | None: ...

    async def drop(self, session_id: str) -> None: ...


class LocalRoomStore:
    """Rooms in a dict, one asyncio lock each: the embedded single-process mode."""

    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, object]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    @asynccontextmanager
    async def edit(self, session_id: str) -> AsyncIterator[Room]:
        lock = self._locks.setdefault(session_id, asyncio.Lock())
        async with lock:
            raw = self._rooms.get(session_id)
            room = Room.from_dict(raw) if raw is not None else Room(session_id=session_id)
            yield room
            # Stored as a copy so that a failed edit leaves the previous state intact.
            self._rooms[session_id] = json.loads(json.dumps(room.to_dict()))

    async def get(self, session_id: str) -> Room | None:
        raw = self._rooms.get(session_id)
        return Room.from_dict(raw) if raw is not None else None

    async def drop(self, session_id: str) -> None:
        self._rooms.pop(session_id, None)


class RedisRoomStore:
    """Rooms as JSON values in Redis, edited under a Redis lock so every node sees one state."""

    def __init__(self, redis: Redis, prefix: str = "tiaojie") -> None:
        self._redis = redis
        self._prefix = prefix

    def _key(self, session_id: str) -> str:
        return f"{self._prefix}:room:{session_id}"

    @asynccontextmanager
    async def edit(self, session_id: str) -> AsyncIterator[Room]:
        lock = self._redis.lock(f"{self._key(session_id)}:lock", timeout=LOCK_TIMEOUT_S,
                                blocking_timeout=LOCK_TIMEOUT_S)
        async with lock:
            raw = await self._redis.get(self._key(session_id))
            room = Room.from_dict(json.loads(raw)) if raw else Room(session_id=session_id)
            yield room
            await self._redis.set(self._key(session_id), json.dumps(room.to_dict()), ex=ROOM_TTL_S)

    async def get(self, session_id: str) -> Room | None:
        raw = await self._redis.get(self._key(session_id))
        return Room.from_dict(json.loads(raw)) if raw else None

    async def drop(self, session_id: str) -> None:
        await self._redis.delete(self._key(session_id))
