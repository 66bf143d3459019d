"""The switchboard: rings experts for a call, escalates, settles the race, watches the seat.

One per node. Any node may take any step of any call: what must happen once (the
winning accept, a time-out, the end) is a conditional transition in ``call.advance``, so
the node that loses simply does nothing. Timers live on the node that started them; if
that node dies, ``ExpertCall.deadline`` still refuses late accepts.
"""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from experts import call as calls
from experts import grant as grants
from experts import ledger
from experts.directory import available_at, may_call, search
from experts.errors import (
    AlreadyTaken,
    CallClosed,
    CallNotFound,
    ExpertBusy,
    ExpertNotFound,
    NotRung,
    ScopeInvalid,
)
from experts.notifier import LogNotifier, Notification, Notifier, WebhookNotifier
from experts.presence import LocalPresence, Presence, RedisPresence
from experts.schemas import CallIn
from experts.tables import ExpertCall, ExpertProfile, ExpertRing
from signaling.cases import session_office
from signaling.context import Services
from signaling.db.base import utcnow
from signaling.db.models import MediationSession, Office, Participant
from signaling.errors import Forbidden, NotFound
from signaling.grants import ensure_admin
from signaling.tasks import cancel_and_wait

log = logging.getLogger("tiaojie.experts")

CONSOLE_NAMESPACE = "/experts"

# Timeouts are module-level so that tests can shorten them before a server starts.
RING_TIMEOUT_S = 45.0
"""How long the online tier rings before escalating."""
TURN_S = 15.0
"""In turns: how long each expert rings before the next one."""
ESCALATION_WAIT_S = 120.0
"""After notifying offline experts, how long the call waits for one to open the console."""
JOIN_TIMEOUT_S = 120.0
"""How long the winner's grant waits for them to enter the room."""
WATCH_S = 0.5
"""How often a joined expert's seat is checked (left, caucus closed, session ended)."""
ARRIVAL_WATCH_S = 0.05
"""How often an accepted expert's seat is checked for their arrival: the mediator is
waiting for exactly this moment, and the phase lasts seconds."""
WAKE_POLL_S = 1.0
"""A ringing call re-reads its rings this often to see answers given on other nodes."""
SWEEP_S = 5.0
"""How often every node looks for calls a dead node left behind."""
SWEEP_GRACE_S = 30.0
"""How long past its deadline a ringing call must be before another node expires it
(its own node escalates or expires it on time unless it died)."""

Strategy = Literal["all", "turns"]


@dataclass
class ExpertConfig:
    """The expert service's settings, from ``TIAOJIE_EXPERTS_*`` environment variables."""

    strategy: Strategy = "all"
    """all: ring every matching online expert at once; turns: one by one, least recently
    called first, then the best rated."""
    ring_timeout_s: float = field(default_factory=lambda: RING_TIMEOUT_S)
    turn_s: float = field(default_factory=lambda: TURN_S)
    escalation_wait_s: float = field(default_factory=lambda: ESCALATION_WAIT_S)
    join_timeout_s: float = field(default_factory=lambda: JOIN_TIMEOUT_S)
    webhook_url: str = ""
    """Empty: notifications are logged (embedded mode)."""
    webhook_secret: str = ""

    @classmethod
    def from_env(cls) -> ExpertConfig:
        env = os.environ
        c = cls()
        strategy = env.get("TIAOJIE_EXPERTS_STRATEGY", c.strategy)
        if strategy not in ("all", "turns"):
            raise ValueError("TIAOJIE_EXPERTS_STRATEGY must be 'all' or 'turns'")
        c.strategy = strategy  # type: ignore[assignment]
        for name in ("ring_timeout_s", "turn_s", "escalation_wait_s", "join_timeout_s"):
            raw = env.get(f"TIAOJIE_EXPERTS_{name.upper()}")
            if raw:
                setattr(c, name, float(raw))
        c.webhook_url = env.get("TIAOJIE_EXPERTS_WEBHOOK_URL", "")
        c.webhook_secret = env.get("TIAOJIE_EXPERTS_WEBHOOK_SECRET", "")
        return c


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
        self._spawn(self._run_call(c.id, candidates))
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

    # -- the call's timeline (owned by the node that opened it) --------------------------
    async def _run_call(self, call_id: str, candidates: list[ExpertProfile]) -> None:
        try:
            c = await self._load(call_id)
            if c.strategy == "turns":
                for p in candidates:
                    if (await self._load(call_id)).state != "ringing":
                        return
                    await self._ring(c, [p])
                    await self._wait(call_id, self.config.turn_s)
                    await self._lapse(call_id, [p.id], "no_answer")
            elif candidates:
                await self._wait(call_id, self.config.ring_timeout_s)
                await self._lapse(call_id, [p.id for p in candidates], "no_answer")
            if (await self._load(call_id)).state != "ringing":
                return
            if await self._escalate(call_id):
                await self._wait(call_id, self.config.escalation_wait_s)
            await self._expire(call_id)
        except asyncio.CancelledError:
            pass
        except Exception:
            log.exception("expert call %s failed", call_id)
        finally:
            self._wake.pop(call_id, None)

    async def _wait(self, call_id: str, seconds: float) -> None:
        """Sleep until the time is up, every open ring is answered, or the call moved."""
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        ev = self._wake.get(call_id)
        while (left := end - loop.time()) > 0:
            if ev is not None:
                ev.clear()
                try:
                    await asyncio.wait_for(ev.wait(), min(left, WAKE_POLL_S))
                except TimeoutError:
                    pass
            else:
                await asyncio.sleep(min(left, WAKE_POLL_S))
            async with self.s.db.session() as db:
                c = await db.get(ExpertCall, call_id)
                open_rings = (await db.execute(select(ExpertRing.id).where(
                    ExpertRing.call_id == call_id,
                    ExpertRing.state.in_(calls.RING_OPEN)))).first()
            if c is None or c.state != "ringing" or open_rings is None:
                return

    async def _lapse(self, call_id: str, expert_ids: list[str], to: str) -> None:
        now = utcnow()
        lapsed = []
        async with self.s.db.session() as db:
            for eid in expert_ids:
                if await calls.settle_ring(db, call_id, eid, to, now, while_ringing=True):
                    lapsed.append(eid)
        if lapsed:
            await self._emit_expert(lapsed, "ring_cancelled", {"call_id": call_id,
                                                               "reason": to})
            await self._tell_mediator(call_id)

    async def _escalate(self, call_id: str) -> bool:
        """Notify matching experts who are available now but not online; False if none."""
        c = await self._load(call_id)
        online = await self.presence.online()
        async with self.s.db.session() as db:
            rung = set((await db.execute(select(ExpertRing.expert_id).where(
                ExpertRing.call_id == call_id))).scalars())
        now = utcnow()
        targets = [p for p in await self._matching(c) if p.id not in online
                   and p.id not in rung and available_at(p.availability, now)]
        deadline = now + timedelta(seconds=self.config.escalation_wait_s)
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
                await self.notifier.notify(Notification(
                    call_id=call_id, expert_id=p.id, expert_name=p.display_name, phone=p.phone,
                    domain=c.domain, scope=c.scope, office_id=c.office_id,
                    console_url=console, answer_by=deadline.isoformat()))
            except Exception:  # a listener's error never breaks the emitter
                log.exception("notifier failed for call %s", call_id)
        await self._tell_mediator(call_id)
        return bool(targets)

    async def _expire(self, call_id: str) -> None:
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
            await self._emit_expert(rings, "ring_cancelled", {"call_id": call_id,
                                                              "reason": "expired"})
            await self._tell_mediator(call_id)

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
            c = await db.get(ExpertCall, call_id)
            # Another office's call answers as unknown, unless that office may call this
            # expert now (same city, it calls the city's experts, ours are lent): sharing
            # withdrawn after the ring refuses the answer.
            if c is None or not await may_call(db, c.office_id, expert):
                raise CallNotFound()
            ring = (await db.execute(select(ExpertRing).where(
                ExpertRing.call_id == call_id, ExpertRing.expert_id == expert.id))) \
                .scalar_one_or_none()
        if ring is None:
            raise NotRung()
        if c.state != "ringing" or ring.state not in calls.RING_OPEN:
            # Read in two statements: a ring closed by the winner's settle_race can be seen
            # beside a call read a moment before the win. Read the call again to say why.
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
        self._spawn(self._watch(call_id))
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

    # -- the winner's seat ---------------------------------------------------------------
    async def _watch(self, call_id: str) -> None:
        """Follow the winner's seat until the call ends (see ``check_seat``)."""
        try:
            state = "accepted"
            while True:
                await asyncio.sleep(ARRIVAL_WATCH_S if state == "accepted" else WATCH_S)
                c = await self._load(call_id)
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
            await self.finish(c.id, "session_ended")
        elif m is None or m.state in ("left", "removed", "denied"):
            await self.finish(c.id, "expert_left")
        elif c.caucus_id is not None and c.caucus_id not in room.caucuses:
            await self.finish(c.id, "consultation_ended")
        elif c.state == "accepted" and m.connected:
            await self._joined(c, now)
        elif c.state == "accepted" and c.accepted_at is not None and \
                now - c.accepted_at > timedelta(seconds=self.config.join_timeout_s):
            async with self.s.db.session() as db:
                moved = await calls.advance(db, c.id, "expired", only_from=("accepted",),
                                            end_reason="not_joined", ended_at=now)
            if moved:
                await grants.revoke(self.s, c, "not_joined")
                await self._tell_mediator(c.id)

    async def sweep(self) -> None:
        """Take over what a dead node left: ringing calls long past their deadline expire,
        and live calls' seats are looked at. Runs on every node, now and then."""
        cutoff = utcnow() - timedelta(seconds=SWEEP_GRACE_S)
        async with self.s.db.session() as db:
            rows = list((await db.execute(select(ExpertCall).where(
                ExpertCall.state.in_(("ringing", *calls.LIVE))))).scalars())
        for c in rows:
            if c.state == "ringing":
                # A call whose timeline runs here is this node's business.
                if c.id not in self._wake and c.deadline < cutoff:
                    await self._expire(c.id)
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
        await self._tell_mediator(c.id)
