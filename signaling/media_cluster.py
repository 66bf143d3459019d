"""Media across several nodes: each session's SFU runs on one node, placed through Redis.

Every ``tiaojie serve`` node with media on is also a media node: it reports its load to
the placement registry (``media.placement.RedisPlacement``) and serves the sessions
placed on it. A node that receives a participant's WebRTC message for a session placed
elsewhere relays it over Redis to the owner and waits for the answer; the owner's SFU
pushes its own messages through Socket.IO's Redis channel, which reaches the participant
on whichever node holds the connection. When a node dies its registration expires, the
next message re-places the session on a live node, and the browsers' restart
(a new peer connection) lands there.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from redis.asyncio import Redis

from media.placement import NodeInfo, RedisPlacement
from signaling.errors import TiaojieError
from signaling.media_adapter import LocalMedia
from signaling.rooms.room import Room
from signaling.rooms.store import RoomStore
from signaling.tasks import cancel_and_wait

log = logging.getLogger("tiaojie.media.cluster")

REPORT_EVERY_S = 2.0
NODE_TTL_S = 6
"""A node that stops reporting for this long loses its sessions to live nodes."""
CALL_TIMEOUT_S = 4.0
"""A relayed request unanswered this long marks its node dead (its sessions move)."""


class ClusterMedia:
    """MediaPort for a multi-node deployment: local SFU for owned sessions, relay otherwise."""

    def __init__(self, local: LocalMedia | None, redis: Redis, prefix: str, node_id: str,
                 rooms: RoomStore) -> None:
        """``local`` is None on a node that relays only (media off: ``serve`` nodes in a
        deployment with separate ``tiaojie media`` nodes)."""
        self.local = local
        self.redis = redis
        self.prefix = prefix
        self.node_id = node_id
        self.rooms = rooms
        self.placement = RedisPlacement(redis, prefix, node_ttl=NODE_TTL_S)
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.turn: Any = local
        self._tasks: list[asyncio.Task[None]] = []
        self.on_speech: Callable[[str], Awaitable[bool]] | None = None
        """Applies a session's speech settings (language, vocabulary, shared devices,
        enrollment) from the shared state to this node's pipeline; True when it has one.
        Run when a session lands here and when another node changes a setting."""

    def _channel(self, node_id: str) -> str:
        return f"{self.prefix}:media:rpc:{node_id}"

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self._listen())]
        if self.local is not None:
            await self._report()
            self._tasks.append(asyncio.create_task(self._report_loop()))

    async def _report(self) -> None:
        assert self.local is not None
        # A session counts one (as placement counts it on claiming it) plus its connections.
        load = float(sum(1 + len(r.transports) for r in self.local.sfu.routers.values()))
        await self.placement.report(NodeInfo(self.node_id, self._channel(self.node_id), load))

    async def _report_loop(self) -> None:
        while True:
            await asyncio.sleep(REPORT_EVERY_S)
            try:
                await self._report()
            except asyncio.CancelledError:
                raise
            except Exception:  # Redis away: keep serving what we have, report again later
                log.warning("could not report media load", exc_info=True)

    async def _listen(self) -> None:
        while True:
            pubsub = self.redis.pubsub()
            try:
                await pubsub.subscribe(self._channel(self.node_id))
                async for msg in pubsub.listen():
                    if msg.get("type") != "message":
                        continue
                    asyncio.create_task(self._on_message(json.loads(msg["data"])))
            except asyncio.CancelledError:
                await pubsub.aclose()  # type: ignore[no-untyped-call]
                raise
            except Exception:
                log.warning("media relay channel lost; resubscribing", exc_info=True)
                await asyncio.sleep(1.0)

    async def _on_message(self, m: dict[str, Any]) -> None:
        if m.get("kind") == "reply":
            fut = self._pending.pop(m["id"], None)
            if fut is not None and not fut.done():
                fut.set_result(m)
            return
        reply: dict[str, Any] = {"kind": "reply", "id": m["id"]}
        try:
            if m["op"] == "signal":
                reply["result"] = await self._owned_signal(m["session_id"], m["participant_id"],
                                                           m["message"])
            elif m["op"] == "room" and self.local is not None:
                room = await self.rooms.get(m["session_id"])
                if room is not None:
                    landed = m["session_id"] not in self.local.sfu.routers
                    await self.local.update_room(room)
                    if landed:
                        await self._sync_speech(m["session_id"])
            elif m["op"] == "speech":
                reply["result"] = await self.on_speech(m["session_id"]) \
                    if self.on_speech is not None and self.local is not None else False
            elif m["op"] == "remove" and self.local is not None:
                await self.local.remove_participant(m["session_id"], m["participant_id"])
        except TiaojieError as err:
            reply["error"] = err.to_dict()
        except Exception:
            log.exception("relayed media %s failed", m.get("op"))
            reply["error"] = {"code": "media_error", "message": "The media server failed."}
        if m.get("reply_to"):
            await self.redis.publish(m["reply_to"], json.dumps(reply))

    async def _owned_signal(self, session_id: str, participant_id: str,
                            message: dict[str, Any]) -> dict[str, Any] | None:
        assert self.local is not None
        if session_id not in self.local.sfu.routers:
            # Newly placed here (first use, or its node died): learn the room first.
            room = await self.rooms.get(session_id)
            if room is not None:
                await self.local.update_room(room)
            await self._sync_speech(session_id)
        return await self.local.handle_signal(session_id, participant_id, message)

    async def _sync_speech(self, session_id: str) -> None:
        """A session landed here: its speech settings, made on other nodes before, apply."""
        if self.on_speech is None:
            return
        try:
            await self.on_speech(session_id)
        except Exception:  # captions with default settings rather than no media
            log.exception("could not apply the speech settings of session %s", session_id)

    async def _owner(self, session_id: str) -> NodeInfo:
        return await self.placement.node_for(session_id)

    async def _call(self, owner: NodeInfo, body: dict[str, Any]) -> dict[str, Any]:
        rid = uuid.uuid4().hex
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[rid] = fut
        await self.redis.publish(owner.signal_url, json.dumps(
            {**body, "id": rid, "reply_to": self._channel(self.node_id)}))
        try:
            reply = await asyncio.wait_for(fut, CALL_TIMEOUT_S)
        except TimeoutError:
            # The owner is gone (killed, partitioned): drop its registration and the
            # session's claim now rather than waiting for them to expire, so that the
            # participant's retry places the session on a live node.
            await self.redis.delete(f"{self.prefix}:media:node:{owner.node_id}",
                                    f"{self.prefix}:media:session:{body['session_id']}")
            await self.redis.zrem(f"{self.prefix}:media:nodes", owner.node_id)
            raise TiaojieError("The media server did not answer; try again.",
                               code="media_timeout", status=503) from None
        finally:
            self._pending.pop(rid, None)
        if "error" in reply:
            e = reply["error"]
            raise TiaojieError(e["message"], code=e["code"], status=400)
        return reply

    # -- MediaPort ------------------------------------------------------------------
    async def handle_signal(self, session_id: str, participant_id: str,
                            message: dict[str, Any]) -> dict[str, Any] | None:
        owner = await self._owner(session_id)
        if owner.node_id == self.node_id and self.local is not None:
            return await self._owned_signal(session_id, participant_id, message)
        reply = await self._call(owner, {"op": "signal", "session_id": session_id,
                                         "participant_id": participant_id, "message": message})
        result: dict[str, Any] | None = reply.get("result")
        return result

    async def update_room(self, room: Room) -> None:
        try:
            owner = await self._owner(room.session_id)
        except Exception:  # no media node yet: routing is applied when one takes the session
            return
        if owner.node_id == self.node_id and self.local is not None:
            await self.local.update_room(room)
        else:
            await self.redis.publish(owner.signal_url, json.dumps(
                {"op": "room", "session_id": room.session_id, "id": uuid.uuid4().hex}))
        if room.ended:
            await self.placement.release(room.session_id)

    async def remove_participant(self, session_id: str, participant_id: str) -> None:
        try:
            owner = await self._owner(session_id)
        except Exception:
            return
        if owner.node_id == self.node_id and self.local is not None:
            await self.local.remove_participant(session_id, participant_id)
        else:
            await self.redis.publish(owner.signal_url, json.dumps(
                {"op": "remove", "session_id": session_id, "participant_id": participant_id,
                 "id": uuid.uuid4().hex}))

    async def speech_changed(self, session_id: str) -> bool | None:
        """A speech setting of the session changed on this node: the node whose SFU
        carries it applies them again (``on_speech``), waiting for its answer so that its
        refusal reaches the mediator. True/False: that node transcribes or not; None: the
        session runs here (applied locally already) or on no node yet (applied when it
        lands)."""
        try:
            owner = await self._owner(session_id)
        except Exception:  # no media node yet
            return None
        if owner.node_id == self.node_id and self.local is not None:
            return None
        reply = await self._call(owner, {"op": "speech", "session_id": session_id})
        return bool(reply.get("result"))

    def ice_servers_for(self, participant_id: str) -> list[dict[str, Any]]:
        servers: list[dict[str, Any]] = self.turn.ice_servers_for(participant_id)
        return servers

    def client_config(self, participant_id: str) -> dict[str, Any]:
        config: dict[str, Any] = self.turn.client_config(participant_id)
        return config

    async def close(self) -> None:
        await cancel_and_wait(self._tasks)
        if self.local is not None:
            await self.local.close()
