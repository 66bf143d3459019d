"""Who has the expert console open right now, on any node.

A console is one Socket.IO connection on the ``/experts`` namespace. In embedded mode the
set lives in this process; with Redis each node writes its own connections into one sorted
set scored by the last time the node vouched for them, so that a node that dies stops
vouching and its experts age out instead of staying "online" for ever.
"""

from __future__ import annotations

import time
from typing import Protocol

from redis.asyncio import Redis

PRESENCE_TTL_S = 30.0
"""A connection not vouched for within this long counts as gone (a dead node's)."""
REFRESH_S = 10.0
"""How often each node vouches for its connections again."""


class Presence(Protocol):
    """The set of open expert consoles."""

    async def add(self, expert_id: str, sid: str) -> None: ...

    async def remove(self, expert_id: str, sid: str) -> None: ...

    async def refresh(self, entries: list[tuple[str, str]]) -> None: ...

    async def online(self) -> set[str]: ...


class LocalPresence:
    """Consoles of this process only: the embedded single-node mode."""

    def __init__(self) -> None:
        self._sids: dict[str, set[str]] = {}

    async def add(self, expert_id: str, sid: str) -> None:
        self._sids.setdefault(expert_id, set()).add(sid)

    async def remove(self, expert_id: str, sid: str) -> None:
        sids = self._sids.get(expert_id)
        if sids is not None:
            sids.discard(sid)
            if not sids:
                del self._sids[expert_id]

    async def refresh(self, entries: list[tuple[str, str]]) -> None:
        return None

    async def online(self) -> set[str]:
        return set(self._sids)


class RedisPresence:
    """Consoles of every node, in one Redis sorted set (member ``expert_id:sid``)."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._key = f"{prefix}:experts:presence"

    async def add(self, expert_id: str, sid: str) -> None:
        await self._redis.zadd(self._key, {f"{expert_id}:{sid}": time.time()})

    async def remove(self, expert_id: str, sid: str) -> None:
        await self._redis.zrem(self._key, f"{expert_id}:{sid}")

    async def refresh(self, entries: list[tuple[str, str]]) -> None:
        now = time.time()
        if entries:
            await self._redis.zadd(self._key, {f"{e}:{s}": now for e, s in entries})
        # Anyone may sweep what nobody vouched for: the result is the same on every node.
        await self._redis.zremrangebyscore(self._key, "-inf", now - PRESENCE_TTL_S)

    async def online(self) -> set[str]:
        raw = await self._redis.zrangebyscore(self._key, time.time() - PRESENCE_TTL_S, "+inf")
        out = set()
        for m in raw:
            text = m.decode() if isinstance(m, bytes) else str(m)
            out.add(text.split(":", 1)[0])
        return out
