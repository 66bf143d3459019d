"""Placement: which media node serves a session.

A session sticks to the node it was placed on; a new session goes to the least-loaded
live node (LiveKit's ``roomallocator``). Embedded mode has one node, this process
(``LocalPlacement``); with Redis, media nodes (``tiaojie media``) register their load
with a time-to-live and sessions are claimed atomically (``RedisPlacement``). Both sit
behind one interface so that signaling does not care which it has.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class NodeInfo:
    """A media node as placement sees it."""

    node_id: str
    """Stable id of the media process."""
    signal_url: str
    """Where signaling reaches this node's SFU (empty for the embedded node)."""
    load: float
    """Current load, e.g. forwarded streams or CPU share; lower is preferred."""


class Placement(Protocol):
    """Decides and remembers which node serves each session."""

    async def node_for(self, session_id: str) -> NodeInfo:
        """The node serving ``session_id``, placing the session if it has none."""
        ...

    async def report(self, node: NodeInfo) -> None:
        """Register or refresh this node and its load (call periodically)."""
        ...

    async def release(self, session_id: str) -> None:
        """The session ended: forget where it was."""
        ...


class LocalPlacement:
    """Embedded mode: every session runs on this process's SFU."""

    def __init__(self, node_id: str = "local") -> None:
        self._node = NodeInfo(node_id, "", 0.0)

    async def node_for(self, session_id: str) -> NodeInfo:
        return self._node

    async def report(self, node: NodeInfo) -> None:
        self._node = node

    async def release(self, session_id: str) -> None:
        return None


class NoMediaNode(Exception):
    """No live media node is registered (retry when one starts)."""

    code = "no_media_node"
    retryable = True


class RedisPlacement:
    """Placement shared by every process through Redis.

    Keys (under ``prefix``): ``media:nodes`` a sorted set of node id by load;
    ``media:node:<id>`` the node's info, expiring after ``node_ttl`` unless refreshed
    (a dead node drops out on its own); ``media:session:<id>`` the node a session is on,
    claimed with SET NX so that two signaling processes placing the same new session at
    once agree on one winner.
    """

    def __init__(self, redis: Any, prefix: str = "tiaojie", node_ttl: int = 15) -> None:
        self._redis = redis
        self._prefix = prefix
        self._ttl = node_ttl

    def _key(self, *parts: str) -> str:
        return ":".join((self._prefix, "media", *parts))

    async def report(self, node: NodeInfo) -> None:
        info = f"{node.signal_url}\n{node.load}"
        await self._redis.set(self._key("node", node.node_id), info, ex=self._ttl)
        await self._redis.zadd(self._key("nodes"), {node.node_id: node.load})

    async def _node(self, node_id: str) -> NodeInfo | None:
        raw = await self._redis.get(self._key("node", node_id))
        if raw is None:
            return None
        text = raw.decode() if isinstance(raw, bytes) else str(raw)
        url, _, load = text.partition("\n")
        return NodeInfo(node_id, url, float(load or 0))

    async def node_for(self, session_id: str) -> NodeInfo:
        key = self._key("session", session_id)
        current = await self._redis.get(key)
        if current is not None:
            node_id = current.decode() if isinstance(current, bytes) else str(current)
            node = await self._node(node_id)
            if node is not None:
                return node  # sticky while its node lives
            # Its node died: only the caller that deletes the stale claim re-places it.
            await self._redis.delete(key)
        for raw_id in await self._redis.zrange(self._key("nodes"), 0, -1):
            node_id = raw_id.decode() if isinstance(raw_id, bytes) else str(raw_id)
            node = await self._node(node_id)
            if node is None:
                await self._redis.zrem(self._key("nodes"), node_id)  # expired: prune
                continue
            if await self._redis.set(key, node_id, nx=True):
                # Count the new session against the node at once: a burst of sessions
                # placed before its next report spreads over the nodes instead of all
                # landing on the one that looked idle (the report then gives the truth).
                await self._redis.zincrby(self._key("nodes"), 1, node_id)
            winner = await self._redis.get(key)
            winner_id = winner.decode() if isinstance(winner, bytes) else str(winner)
            chosen = node if winner_id == node_id else await self._node(winner_id)
            if chosen is not None:
                return chosen
        raise NoMediaNode("no live media node is registered")

    async def release(self, session_id: str) -> None:
        await self._redis.delete(self._key("session", session_id))
