"""A call's timeline, owned by the node that opened it: ring (all at once, or in turns),
wait for an answer, let unanswered rings lapse, escalate to experts who are available but
not online, and expire the call nobody took.

Every step that must happen once is a conditional transition (``experts.call``), so a
node whose timeline lost a race simply does nothing. Part of the ``Switchboard``.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from experts import call as calls
from experts import config
from experts.directory import available_at
from experts.notifier import Notification
from experts.tables import ExpertCall, ExpertProfile, ExpertRing
from signaling.db.base import utcnow

if TYPE_CHECKING:
    from experts.switchboard import Switchboard

log = logging.getLogger("tiaojie.experts")


class CallTimeline:
    """The timers of the calls this node opened."""

    def __init__(self, board: Switchboard) -> None:
        self.board = board
        self.s = board.s

    async def run(self, call_id: str, candidates: list[ExpertProfile]) -> None:
        try:
            c = await self.board._load(call_id)
            if c.strategy == "turns":
                for p in candidates:
                    if (await self.board._load(call_id)).state != "ringing":
                        return
                    await self.board._ring(c, [p])
                    await self.wait(call_id, self.board.config.turn_s)
                    await self.lapse(call_id, [p.id], "no_answer")
            elif candidates:
                await self.wait(call_id, self.board.config.ring_timeout_s)
                await self.lapse(call_id, [p.id for p in candidates], "no_answer")
            if (await self.board._load(call_id)).state != "ringing":
                return
            if await self.escalate(call_id):
                await self.wait(call_id, self.board.config.escalation_wait_s)
            await self.expire(call_id)
        except asyncio.CancelledError:
            pass
        except Exception:
            log.exception("expert call %s failed", call_id)
        finally:
            self.board._wake.pop(call_id, None)

    async def wait(self, call_id: str, seconds: float) -> None:
        """Sleep until the time is up, every open ring is answered, or the call moved."""
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        ev = self.board._wake.get(call_id)
        while (left := end - loop.time()) > 0:
            if ev is not None:
                ev.clear()
                try:
                    await asyncio.wait_for(ev.wait(), min(left, config.WAKE_POLL_S))
                except TimeoutError:
                    pass
            else:
                await asyncio.sleep(min(left, config.WAKE_POLL_S))
            async with self.s.db.session() as db:
                c = await db.get(ExpertCall, call_id)
                open_rings = (await db.execute(select(ExpertRing.id).where(
                    ExpertRing.call_id == call_id,
                    ExpertRing.state.in_(calls.RING_OPEN)))).first()
            if c is None or c.state != "ringing" or open_rings is None:
                return

    async def lapse(self, call_id: str, expert_ids: list[str], to: str) -> None:
        now = utcnow()
        lapsed = []
        async with self.s.db.session() as db:
            for eid in expert_ids:
                if await calls.settle_ring(db, call_id, eid, to, now, while_ringing=True):
                    lapsed.append(eid)
        if lapsed:
            await self.board._emit_expert(lapsed, "ring_cancelled",
                                          {"call_id": call_id, "reason": to})
            await self.board._tell_mediator(call_id)

    async def escalate(self, call_id: str) -> bool:
        """Notify matching experts who are available now but not online; False if none."""
        c = await self.board._load(call_id)
        online = await self.board.presence.online()
        async with self.s.db.session() as db:
            rung = set((await db.execute(select(ExpertRing.expert_id).where(
                ExpertRing.call_id == call_id))).scalars())
        now = utcnow()
        targets = [p for p in await self.board._matching(c) if p.id not in online
                   and p.id not in rung and available_at(p.availability, now)]
        deadline = now + timedelta(seconds=self.board.config.escalation_wait_s)
        async with self.s.db.session() as db:
            res = await db.execute(update(ExpertCall).where(
                ExpertCall.id == call_id, ExpertCall.state == "ringing",
                ExpertCall.tier == "online").values(
                tier="escalated", deadline=deadline if targets else now))
            for p in targets:
                db.add(ExpertRing(call_id=call_id, expert_id=p.id, state="notified",
                                  rung_at=now))
            await db.commit()
        if res.rowcount != 1:  # type: ignore[attr-defined]
            return False
        console = f"{self.s.settings.public_url}/experts/console"
        for p in targets:
            try:
                await self.board.notifier.notify(Notification(
                    call_id=call_id, expert_id=p.id, expert_name=p.display_name, phone=p.phone,
                    domain=c.domain, scope=c.scope, office_id=c.office_id,
                    console_url=console, answer_by=deadline.isoformat()))
            except Exception:  # a listener's error never breaks the emitter
                log.exception("notifier failed for call %s", call_id)
        await self.board._tell_mediator(call_id)
        return bool(targets)

    async def expire(self, call_id: str) -> None:
        """Close a call nobody took: ``declined`` when every expert offered it said no,
        ``expired`` when someone simply did not answer (or nobody could be offered it)."""
        async with self.s.db.session() as db:
            states = list((await db.execute(select(ExpertRing.state).where(
                ExpertRing.call_id == call_id))).scalars())
            refused = bool(states) and all(s == "declined" for s in states)
            moved = await calls.advance(db, call_id, "declined" if refused else "expired",
                                        only_from=("ringing",),
                                        end_reason="declined" if refused else "no_answer",
                                        ended_at=utcnow())
            if moved:
                rings = list((await db.execute(select(ExpertRing.expert_id).where(
                    ExpertRing.call_id == call_id,
                    ExpertRing.state.in_(calls.RING_OPEN)))).scalars())
                await calls.settle_open_rings(db, call_id, "no_answer", utcnow())
        if moved:
            await self.board._emit_expert(rings, "ring_cancelled",
                                          {"call_id": call_id, "reason": "expired"})
            await self.board._tell_mediator(call_id)
