"""The switchboard: rings experts for a call, escalates, settles the race, watches the seat.

One per node. Any node may take any step of any call: what must happen once (the
winning accept, a time-out, the end) is a conditional transition in ``call.advance``, so
the node that loses simply does nothing. Timers live on the node that started them; if
that node dies, ``ExpertCall.deadline`` still refuses late accepts.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, select, update
from sqlalchemy.exc import IntegrityError

from experts import call as calls
from experts import grant as grants
from experts import ledger
from experts.config import ExpertConfig
from experts.directory import may_call, search
from experts.errors import (
    AlreadyTaken,
    CallClosed,
    CallNotFound,
    ExpertBusy,
    ExpertNotFound,
    NotRung,
    ScopeInvalid,
)
from experts.notifier import LogNotifier, Notifier, WebhookNotifier
from experts.presence import LocalPresence, Presence, RedisPresence
from experts.schemas import CallIn
from experts.seat_watcher import SeatWatcher
from experts.tables import ExpertCall, ExpertProfile, ExpertRing
from experts.timeline import CallTimeline
from signaling.cases import session_office
from signaling.context import Services
from signaling.db.base import utcnow
from signaling.db.models import MediationSession, Office, Participant
from signaling.errors import Forbidden, NotFound
from signaling.grants import ensure_admin
from signaling.tasks import cancel_and_wait

log = logging.getLogger("tiaojie.experts")

CONSOLE_NAMESPACE = "/experts"

def expert_room(expert_id: str) -> str:
    """The Socket.IO room (on /experts) holding one expert's consoles on every node."""
    return f"expert:{expert_id}"


class Switchboard:
    """Calls for one node: ringing, escalation, acceptance, the winner's seat and its end."""

    def __init__(self, services: Services, config: ExpertConfig | None = None,
                 notifier: Notifier | None = None) -> None:
        self.s = services
        self.config = config or ExpertConfig.from_env()
        if notifier is None:
            notifier = (WebhookNotifier(self.config.webhook_url, self.config.webhook_secret)
                        if self.config.webhook_url else LogNotifier())
        self.notifier: Notifier = notifier
        self.presence: Presence = (RedisPresence(services.redis, services.settings.redis_prefix)
                                   if services.redis is not None else LocalPresence())
        self._tasks: set[asyncio.Task[None]] = set()
        self._wake: dict[str, asyncio.Event] = {}
        self.timeline = CallTimeline(self)
        self.seats = SeatWatcher(self)

    # -- plumbing -----------------------------------------------------------------
    def _spawn(self, coro: Any) -> None:
        t: asyncio.Task[None] = asyncio.create_task(coro)
        self._tasks.add(t)
        t.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        await cancel_and_wait(list(self._tasks))

    def _poke(self, call_id: str) -> None:
        ev = self._wake.get(call_id)
        if ev is not None:
            ev.set()

    async def _emit_expert(self, expert_ids: list[str], event: str, data: Any) -> None:
        sio = self.s.sio
        assert sio is not None
        # All at once: the last of fifty losers should not wait for the other 49 sends.
        await asyncio.gather(*(sio.emit(event, data, room=expert_room(eid),
                                        namespace=CONSOLE_NAMESPACE) for eid in expert_ids))

    async def _load(self, call_id: str) -> ExpertCall:
        async with self.s.db.session() as db:
            c = await db.get(ExpertCall, call_id)
        if c is None:
            raise CallNotFound()
        return c

    async def state_of(self, call_id: str) -> dict[str, Any]:
        """What the mediator is shown: the call's state and how its rings stand."""
        async with self.s.db.session() as db:
            c = await db.get(ExpertCall, call_id)
            assert c is not None
            rings = list((await db.execute(select(ExpertRing).where(
                ExpertRing.call_id == call_id))).scalars())
            winner = await db.get(ExpertProfile, c.accepted_by) if c.accepted_by else None
        count = {k: sum(1 for r in rings if r.state == k)
                 for k in ("ringing", "notified", "declined", "no_answer", "taken")}
        out: dict[str, Any] = {"call_id": c.id, "state": c.state, "tier": c.tier,
                               "domain": c.domain, "scope": c.scope, "caucus_id": c.caucus_id,
                               "end_reason": c.end_reason, "deadline": c.deadline.isoformat(),
                               **count}
        if winner is not None:
            out["expert"] = {"expert_id": winner.id, "name": winner.display_name,
                             "organisation": winner.organisation,
                             "participant_id": c.participant_id}
        return out

    async def _tell_mediator(self, call_id: str) -> None:
        assert self.s.hub is not None
        c = await self._load(call_id)
        await self.s.hub.emit_to([c.mediator_participant_id], "expert_call_state",
                                 await self.state_of(call_id))

    async def busy_experts(self) -> set[str]:
        async with self.s.db.session() as db:
            rows = (await db.execute(select(ExpertCall.accepted_by).where(
                ExpertCall.state.in_(calls.LIVE)))).scalars()
            return {r for r in rows if r}

    async def status_of(self, expert_ids: list[str]) -> dict[str, str]:
        online = await self.presence.online()
        busy = await self.busy_experts()
        return {e: "busy" if e in busy else "online" if e in online else "offline"
                for e in expert_ids}

    # -- the mediator asks ------------------------------------------------------------
    async def request(self, seat: dict[str, Any], body: CallIn) -> dict[str, Any]:
        """Open a call from the mediator's seat and start ringing. Returns its first state."""
        session_id, mediator_pid = seat["session_id"], seat["participant_id"]
        room = await self.s.rooms.get(session_id)
        if room is None:
            raise NotFound("No such session.", code="session_not_found")
        if room.ended:
            raise CallClosed("This session has ended.", code="session_ended")
        me = room.member(mediator_pid)
        ensure_admin(me.grants)
        if seat.get("role") != "mediator":
            raise Forbidden("Only the mediator may call an expert.", code="not_room_admin")
        if body.scope == "caucus":
            if body.caucus_id is None or body.caucus_id not in room.caucuses:
                raise ScopeInvalid("Name an existing caucus for scope=caucus.",
                                   code="caucus_not_found")
        elif body.caucus_id is not None:
            raise ScopeInvalid("caucus_id goes with scope=caucus only.")
        async with self.s.db.session() as db:
            office = await session_office(db, session_id)
            session = await db.get(MediationSession, session_id)
            assert office is not None and session is not None
            if body.expert_id is not None:
                # A named expert of this office (or lent to it by an office of its city),
                # active, in the domain asked for: any other office's id answers as an
                # unknown one.
                named = await db.get(ExpertProfile, body.expert_id)
                if named is None or not named.active or \
                        not await may_call(db, office, named):
                    raise ExpertNotFound()
                if body.domain not in named.domains:
                    raise ScopeInvalid("This expert does not work in that domain.",
                                       code="expert_domain_mismatch")
            mp = await db.get(Participant, mediator_pid)
            c = ExpertCall(office_id=office, case_id=session.case_id, session_id=session_id,
                           mediator_participant_id=mediator_pid,
                           mediator_user_id=mp.user_id if mp else None, domain=body.domain,
                           language=body.language, named_expert_id=body.expert_id,
                           scope=body.scope, caucus_id=body.caucus_id,
                           strategy=self.config.strategy,
                           deadline=utcnow() + timedelta(seconds=self._online_window()))
            db.add(c)
            await db.commit()
        await self.s.hub.log_event(session_id, "expert.called",  # type: ignore[union-attr]
                                   actor_id=mediator_pid,
                                   payload={"call_id": c.id, "domain": c.domain,
                                            "scope": c.scope, "language": c.language,
                                            "named_expert_id": c.named_expert_id})
        self._wake[c.id] = asyncio.Event()
        candidates = await self._candidates(c)
        if c.strategy == "all" and candidates:
            await self._ring(c, candidates)
        self._spawn(self.timeline.run(c.id, candidates))
        return await self.state_of(c.id)

    def _online_window(self) -> float:
        return self.config.ring_timeout_s

    async def _matching(self, c: ExpertCall) -> list[ExpertProfile]:
        async with self.s.db.session() as db:
            if c.named_expert_id:
                p = await db.get(ExpertProfile, c.named_expert_id)
                ok = p is not None and p.active and await may_call(db, c.office_id, p)
                return [p] if ok and p is not None else []
            return await search(db, c.office_id, domain=c.domain, language=c.language,
                                city=True)

    async def _candidates(self, c: ExpertCall) -> list[ExpertProfile]:
        """Online, idle, matching experts, least recently called first, then best rated."""
        online = await self.presence.online()
        busy = await self.busy_experts()
        found = [p for p in await self._matching(c) if p.id in online and p.id not in busy]
        epoch = datetime.min.replace(tzinfo=utcnow().tzinfo)
        found.sort(key=lambda p: (p.last_call_at or epoch,
                                  -(p.rating_sum / p.rating_count if p.rating_count else 0.0)))
        return found

    async def _ring(self, c: ExpertCall, experts: list[ExpertProfile]) -> None:
        now = utcnow()
        async with self.s.db.session() as db:
            for p in experts:
                db.add(ExpertRing(call_id=c.id, expert_id=p.id, state="ringing", rung_at=now))
            await db.execute(update(ExpertProfile).where(
                ExpertProfile.id.in_([p.id for p in experts])).values(last_call_at=now))
            await db.commit()
        payload = await self._ring_payload(c)
        await self._emit_expert([p.id for p in experts], "ring", payload)
        await self._tell_mediator(c.id)

    async def _ring_payload(self, c: ExpertCall) -> dict[str, Any]:
        # Only what an expert needs to decide: never the case summary or the parties.
        # The calling office is named: a lent expert may be rung by an office not their own.
        async with self.s.db.session() as db:
            session = await db.get(MediationSession, c.session_id)
            office = await db.get(Office, c.office_id)
        return {"call_id": c.id, "domain": c.domain, "language": c.language, "scope": c.scope,
                "session_title": session.title if session else "",
                "office_name": office.name if office else "",
                "answer_by": c.deadline.isoformat()}

    # -- experts answer ---------------------------------------------------------------
    async def pending_for(self, expert_id: str) -> list[dict[str, Any]]:
        """Rings still open for an expert (shown when the console opens)."""
        async with self.s.db.session() as db:
            rows = list((await db.execute(select(ExpertCall).join(
                ExpertRing, ExpertRing.call_id == ExpertCall.id).where(
                ExpertRing.expert_id == expert_id, ExpertRing.state.in_(calls.RING_OPEN),
                ExpertCall.state == "ringing"))).scalars())
        return [await self._ring_payload(c) for c in rows]

    async def _open_ring(self, call_id: str, expert: ExpertProfile) -> ExpertCall:
        """The call, if this expert may still answer it; the reason otherwise."""
        async with self.s.db.session() as db:
            # The call and this expert's ring in one statement, so from one snapshot: the
            # winner's accept moves the call before settle_race closes the losers' rings,
            # so a loser of the race reads its ring closed only beside the call taken
            # (already_taken), never beside a call read a moment before the win.
            row = (await db.execute(
                select(ExpertCall, ExpertRing).outerjoin(ExpertRing, and_(
                    ExpertRing.call_id == ExpertCall.id, ExpertRing.expert_id == expert.id))
                .where(ExpertCall.id == call_id))).first()
            c, ring = (row[0], row[1]) if row is not None else (None, None)
            # Another office's call answers as unknown, unless that office may call this
            # expert now (same city, it calls the city's experts, ours are lent): sharing
            # withdrawn after the ring refuses the answer.
            if c is None or not await may_call(db, c.office_id, expert):
                raise CallNotFound()
        if ring is None:
            raise NotRung()
        if c.state != "ringing" or ring.state not in calls.RING_OPEN:
            # A ring that closed while its call still rang (declined, or lapsed in turns):
            # the call may have been taken since, so read it again to say why, as before.
            raise self._closed(await self._load(call_id) if c.state == "ringing" else c,
                               expert.id)
        return c

    @staticmethod
    def _closed(c: ExpertCall, expert_id: str) -> Exception:
        """Why this expert can no longer answer: taken by another, or closed, and how."""
        if c.accepted_by is not None and c.accepted_by != expert_id:
            return AlreadyTaken()
        if c.accepted_by == expert_id:
            return CallClosed("You have already accepted this call.", code="already_accepted")
        return CallClosed({
            "cancelled": "The mediator withdrew this call.",
            "declined": "This call was declined.",
        }.get(c.state, "This call is no longer open."), code=f"call_{c.state}"
            if c.state in ("cancelled", "declined", "expired") else "call_closed")

    async def answer(self, expert: ExpertProfile, call_id: str) -> grants.JoinGrant:
        """Accept a call. Exactly one expert wins; everyone else gets ``already_taken``."""
        await self._open_ring(call_id, expert)
        if expert.id in await self.busy_experts():
            raise ExpertBusy()
        now = utcnow()
        async with self.s.db.session() as db:
            # The race is decided here and only here: one conditional UPDATE.
            try:
                won = await calls.advance(db, call_id, "accepted", only_from=("ringing",),
                                          when=ExpertCall.deadline > now,
                                          accepted_by=expert.id, accepted_at=now)
            except IntegrityError:  # this expert won another call at the same moment
                await db.rollback()
                raise ExpertBusy() from None
        if not won:
            raise self._closed(await self._load(call_id), expert.id)
        async with self.s.db.session() as db:
            losers = await calls.settle_race(db, call_id, expert.id, now)
            c = await db.get(ExpertCall, call_id)
        assert c is not None
        await self._emit_expert(losers, "ring_cancelled", {"call_id": call_id,
                                                           "reason": "taken"})
        self._poke(call_id)
        try:
            g = await grants.issue(self.s, c, expert)
        except Exception as exc:
            async with self.s.db.session() as db:
                await calls.advance(db, call_id, "ended", end_reason="seat_failed",
                                    ended_at=utcnow())
            await self._tell_mediator(call_id)
            if isinstance(exc, CallClosed):
                raise
            raise CallClosed("The session could not take the expert.",
                             code="seat_failed") from exc
        async with self.s.db.session() as db:
            await db.execute(update(ExpertCall).where(ExpertCall.id == call_id).values(
                participant_id=g.participant_id, caucus_id=g.caucus_id))
            await db.commit()
        await self._tell_mediator(call_id)
        self._spawn(self.seats.watch(call_id))
        return g

    async def decline(self, expert: ExpertProfile, call_id: str) -> None:
        await self._open_ring(call_id, expert)
        async with self.s.db.session() as db:
            await calls.settle_ring(db, call_id, expert.id, "declined", utcnow())
        self._poke(call_id)
        await self._tell_mediator(call_id)

    # -- the mediator ends or withdraws ----------------------------------------------------
    async def _mediator_call(self, seat: dict[str, Any], call_id: str) -> ExpertCall:
        room = await self.s.rooms.get(seat["session_id"])
        if room is None:
            raise NotFound("No such session.", code="session_not_found")
        ensure_admin(room.member(seat["participant_id"]).grants)
        c = await self._load(call_id)
        if c.session_id != seat["session_id"]:
            raise CallNotFound()
        return c

    async def cancel(self, seat: dict[str, Any], call_id: str) -> dict[str, Any]:
        """Withdraw a ringing call, or release the expert of an accepted/joined one."""
        c = await self._mediator_call(seat, call_id)
        now = utcnow()
        async with self.s.db.session() as db:
            if await calls.advance(db, call_id, "cancelled", end_reason="cancelled",
                                   ended_at=now):
                rings = list((await db.execute(select(ExpertRing.expert_id).where(
                    ExpertRing.call_id == call_id,
                    ExpertRing.state.in_(calls.RING_OPEN)))).scalars())
                await calls.settle_open_rings(db, call_id, "cancelled", now)
                await self._emit_expert(rings, "ring_cancelled", {"call_id": call_id,
                                                                  "reason": "cancelled"})
                self._poke(call_id)
                await self._tell_mediator(call_id)
                return await self.state_of(call_id)
        await self.finish(c.id, "ended_by_mediator")
        return await self.state_of(call_id)

    async def finish(self, call_id: str, reason: str) -> bool:
        """End an accepted or joined call: close the ledger line and revoke the seat."""
        now = utcnow()
        async with self.s.db.session() as db:
            # The end and the ledger's closed line commit together: nobody (and no takeover
            # after a crash) ever sees an ended call whose visit is still open.
            moved = await calls.advance(db, call_id, "ended", end_reason=reason, ended_at=now,
                                        commit=False)
            if moved:
                await ledger.close_visit(db, call_id, now)
            await db.commit()
        if not moved:
            return False
        c = await self._load(call_id)
        await grants.revoke(self.s, c, reason)
        if c.accepted_by:
            await self._emit_expert([c.accepted_by], "call_ended",
                                    {"call_id": call_id, "reason": reason})
        await self._tell_mediator(call_id)
        return True

    async def hang_up(self, expert: ExpertProfile, call_id: str) -> None:
        c = await self._load(call_id)
        if c.accepted_by != expert.id:
            raise CallNotFound()
        if not await self.finish(call_id, "expert_left"):
            raise CallClosed("This call has already ended.", code="call_ended")

    # -- the winner's seat (experts.seat_watcher) ------------------------------------------
    async def check_seat(self, c: ExpertCall) -> None:
        """One look at a live call's seat (``SeatWatcher.check_seat``)."""
        await self.seats.check_seat(c)

    async def sweep(self) -> None:
        """Take over what a dead node left (``SeatWatcher.sweep``); every node runs it."""
        await self.seats.sweep()
