"""The reconnect grace: a dropped connection keeps its seat for ``reconnect_grace_s``.

When a participant's last connection drops, their seat is marked disconnected and a timer
starts; coming back (``Hub.join_with_resume``, ``Hub.join_as_staff``) cancels it, and
otherwise the seat leaves the room when it runs out. Timers live on the node that started
them, one per participant.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from signaling.hub import Hub

log = logging.getLogger("tiaojie.hub")


class ReconnectGrace:
    """The Hub's seat-expiry timers."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.tasks: dict[str, asyncio.Task[None]] = {}

    def cancel(self, participant_id: str) -> None:
        t = self.tasks.pop(participant_id, None)
        if t is not None:
            t.cancel()

    async def disconnected(self, session_id: str, participant_id: str) -> None:
        """A connection dropped: keep the seat for the grace period, then mark them gone."""
        async with self.hub.s.rooms.edit(session_id) as room:
            m = room.members.get(participant_id)
            if m is None:
                return
            m.connected = False
            m.disconnected_at = time.time()
        await self.hub._after_change(room)
        self.cancel(participant_id)
        self.tasks[participant_id] = asyncio.create_task(
            self._expire_seat(session_id, participant_id))

    async def _expire_seat(self, session_id: str, participant_id: str) -> None:
        s = self.hub.s
        try:
            await asyncio.sleep(s.settings.reconnect_grace_s)
            async with s.rooms.edit(session_id) as room:
                m = room.members.get(participant_id)
                if m is None or m.connected or m.state not in ("room", "lobby"):
                    return
                room.leave(participant_id)
            await s.media.remove_participant(session_id, participant_id)
            await self.hub.log_event(session_id, "participant.left", actor_id=participant_id,
                                     payload={"reason": "connection_lost"})
            await self.hub._after_change(room)
        except asyncio.CancelledError:
            pass
        except Exception:
            log.exception("seat expiry failed")
        finally:
            self.tasks.pop(participant_id, None)
