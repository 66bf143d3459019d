"""The seat watcher: follows an expert who won a call into the room and out of it.

``watch`` looks at the winner's seat until the call ends; ``check_seat`` is one look
(joined, left, consultation closed, session ended, never came); ``sweep`` runs on every
node and takes over what a dead node left (ringing calls long past their deadline, live
calls' seats). Every move is conditional, so any node may look at any call. Part of the
``Switchboard``.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from experts import call as calls
from experts import config, ledger
from experts import grant as grants
from experts.tables import ExpertCall
from signaling.db.base import utcnow

if TYPE_CHECKING:
    from experts.switchboard import Switchboard

log = logging.getLogger("tiaojie.experts")


class SeatWatcher:
    """Where the winners of this node's calls are (and, on a sweep, anyone's)."""

    def __init__(self, board: Switchboard) -> None:
        self.board = board
        self.s = board.s

    async def watch(self, call_id: str) -> None:
        """Follow the winner's seat until the call ends (see ``check_seat``)."""
        try:
            state = "accepted"
            while True:
                await asyncio.sleep(config.ARRIVAL_WATCH_S if state == "accepted"
                                    else config.WATCH_S)
                c = await self.board._load(call_id)
                state = c.state
                if c.state not in calls.LIVE or c.participant_id is None:
                    return
                await self.check_seat(c)
        except asyncio.CancelledError:
            pass
        except Exception:
            log.exception("watching expert call %s failed", call_id)

    async def check_seat(self, c: ExpertCall) -> None:
        """One look at a live call's seat: joined when the expert is connected; ended when
        they left, the consultation closed or the session ended; expired when they never
        came. Every move is conditional, so any node may look at any call."""
        assert c.participant_id is not None
        room = await self.s.rooms.get(c.session_id)
        m = room.members.get(c.participant_id) if room else None
        now = utcnow()
        if room is None or room.ended:
            await self.board.finish(c.id, "session_ended")
        elif m is None or m.state in ("left", "removed", "denied"):
            await self.board.finish(c.id, "expert_left")
        elif c.caucus_id is not None and c.caucus_id not in room.caucuses:
            await self.board.finish(c.id, "consultation_ended")
        elif c.state == "accepted" and m.connected:
            await self._joined(c, now)
        elif c.state == "accepted" and c.accepted_at is not None and \
                now - c.accepted_at > timedelta(seconds=self.board.config.join_timeout_s):
            async with self.s.db.session() as db:
                moved = await calls.advance(db, c.id, "expired", only_from=("accepted",),
                                            end_reason="not_joined", ended_at=now)
            if moved:
                await grants.revoke(self.s, c, "not_joined")
                await self.board._tell_mediator(c.id)

    async def sweep(self) -> None:
        """Take over what a dead node left: ringing calls long past their deadline expire,
        and live calls' seats are looked at. Runs on every node, now and then."""
        cutoff = utcnow() - timedelta(seconds=config.SWEEP_GRACE_S)
        async with self.s.db.session() as db:
            rows = list((await db.execute(select(ExpertCall).where(
                ExpertCall.state.in_(("ringing", *calls.LIVE))))).scalars())
        for c in rows:
            if c.state == "ringing":
                # A call whose timeline runs here is this node's business.
                if c.id not in self.board._wake and c.deadline < cutoff:
                    await self.board.timeline.expire(c.id)
            elif c.participant_id is not None:
                await self.check_seat(c)

    async def _joined(self, c: ExpertCall, now: datetime) -> None:
        async with self.s.db.session() as db:
            if not await calls.advance(db, c.id, "joined", joined_at=now):
                return
            assert c.accepted_by is not None
            await ledger.open_visit(db, c, c.accepted_by, now)
        await self.s.hub.log_event(c.session_id, "expert.joined",  # type: ignore[union-attr]
                                   actor_id=c.participant_id, caucus_id=c.caucus_id,
                                   payload={"call_id": c.id})
        await self.board._tell_mediator(c.id)
