"""The Hub on its own: joining (invitation, resume, staff), leaving, and the grace period
a dropped connection keeps its seat for, over a real database and room store, with no
server and no browser (tests/signaling/test_join_flow.py covers the same through
Socket.IO)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import socketio
from sqlalchemy import func, select

from signaling import eventlog
from signaling.accounts import Principal, create_user, ensure_office
from signaling.cases import create_case, create_session
from signaling.context import Services
from signaling.credentials import hash_token
from signaling.db.engine import Database
from signaling.db.migrate import migrate
from signaling.db.models import MediationSession, Participant, SessionEvent
from signaling.errors import TiaojieError
from signaling.hub import Hub
from signaling.invites import create_invite
from signaling.rooms.room import Member
from signaling.rooms.store import LocalRoomStore
from signaling.schemas import CaseIn, InviteIn, SessionIn
from signaling.seats import Seat
from signaling.settings import load_settings

GRACE_S = 3600.0
"""Long enough that no seat expires by itself during a test; a test that wants expiry
sets the grace period to zero and waits for the expiry to finish."""


@dataclass
class World:
    hub: Hub
    services: Services
    session_id: str
    mediator: Principal

    async def member(self, participant_id: str) -> Member:
        room = await self.services.rooms.get(self.session_id)
        assert room is not None
        return room.member(participant_id)

    async def events(self, kind: str) -> list[SessionEvent]:
        async with self.services.db.session() as db:
            rows = await eventlog.read(db, self.session_id, caucuses=None)
        return [e for e in rows if e.kind == kind]

    async def party(self, name: str = "张三", *, consent: bool = True) -> Seat:
        async with self.services.db.session() as db:
            _inv, token = await create_invite(db, self.mediator, self.session_id,
                                              InviteIn(role="party", side="A"))
        return await self.hub.join_with_invite(token, name, consent, "test")

    async def admitted_party(self, name: str = "张三") -> Seat:
        mediator = await self.hub.join_as_staff(self.mediator, self.session_id)
        seat = await self.party(name)
        await self.hub.admit(self.session_id, mediator.participant_id, seat.participant_id)
        return seat

    def grace_s(self, seconds: float) -> None:
        self.services.settings = self.services.settings.model_copy(
            update={"reconnect_grace_s": seconds})


async def staff(db: Database, office: str, username: str, role: str) -> Principal:
    async with db.session() as s:
        o = await ensure_office(s, office)
        u = await create_user(s, office_id=o.id, username=username, password="x" * 12,
                              role=role, display_name=username.title())
        await s.commit()
        return Principal(user_id=u.id, office_id=o.id, role=role, display_name=u.display_name,
                         username=username, login_session_id="-", csrf_token="-")


async def make_world(database_url: str, tmp_path: Path) -> AsyncIterator[World]:
    db = Database(database_url)
    await migrate(db)
    settings = load_settings(data_dir=tmp_path, database_url=database_url, env="test",
                             reconnect_grace_s=GRACE_S)
    services = Services(settings=settings, db=db, rooms=LocalRoomStore())
    hub = Hub(services, socketio.AsyncServer(async_mode="aiohttp"))
    services.hub = hub
    mediator = await staff(db, "北新泾街道人民调解委员会", "li", "mediator")
    async with db.session() as s:
        case = await create_case(s, mediator, CaseIn(number="（2026）长北调字第7号",
                                                     dispute_type="neighbour"))
        session = await create_session(s, mediator, case.id, SessionIn(title="第一次调解"))
    try:
        yield World(hub, services, session.id, mediator)
    finally:
        # The Hub's timers and background work belong to this test's event loop.
        pending = [*hub.grace.tasks.values(), *hub._background]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        await hub.flush()
        await db.close()


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async for w in make_world(f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}", tmp_path):
        yield w


@pytest.fixture
async def world_on_each_database(database_url: str, tmp_path: Path) -> AsyncIterator[World]:
    async for w in make_world(database_url, tmp_path):
        yield w


async def expiry_done(w: World, participant_id: str) -> None:
    """Wait until the seat expiry the Hub started for ``participant_id`` has finished
    (expired the seat, or found nothing to do, or was cancelled)."""
    task = w.hub.grace.tasks.get(participant_id)
    if task is not None:
        await asyncio.wait([task])


async def refusal(awaitable: Awaitable[Any]) -> TiaojieError:
    with pytest.raises(TiaojieError) as info:
        await awaitable
    return info.value


async def finished(timer: asyncio.Task[None]) -> bool:
    """Whether a grace timer ends once what should stop it has happened. The bound only
    turns a timer left running (an hour, GRACE_S) into a failure instead of a hang."""
    await asyncio.wait([timer], timeout=30)
    return timer.done()


# -- joining -------------------------------------------------------------------------------

async def test_an_invited_party_is_seated_in_the_lobby_with_a_resume_token_stored_only_as_a_hash(
        world_on_each_database: World) -> None:
    w = world_on_each_database
    seat = await w.party("张三")

    m = await w.member(seat.participant_id)
    assert (m.state, m.connected, m.role, m.side, m.name) == ("lobby", True, "party", "A", "张三")
    assert m.grants.can_chat and not m.grants.room_admin
    assert seat.resume_token
    async with w.services.db.session() as db:
        p = await db.get(Participant, seat.participant_id)
    assert p is not None
    assert p.resume_token_hash == hash_token(seat.resume_token) != seat.resume_token
    assert p.consented_at is not None
    [joined] = await w.events("participant.joined")
    assert joined.actor_id == seat.participant_id and joined.payload["via"] == "invite"
    assert len(await w.events("consent.recorded")) == 1


async def test_a_party_who_did_not_consent_has_no_consent_recorded(world: World) -> None:
    seat = await world.party(consent=False)

    async with world.services.db.session() as db:
        p = await db.get(Participant, seat.participant_id)
    assert p is not None and p.consented_at is None
    assert await world.events("consent.recorded") == []


async def test_resuming_returns_the_same_seat_and_no_new_token(
        world_on_each_database: World) -> None:
    w = world_on_each_database
    first = await w.party()
    assert first.resume_token is not None

    again = await w.hub.join_with_resume(first.resume_token)

    assert (again.session_id, again.participant_id, again.role) == (
        first.session_id, first.participant_id, "party")
    assert again.resume_token is None
    assert len(await w.events("participant.reconnected")) == 1


async def test_an_unknown_resume_token_is_refused(world: World) -> None:
    err = await refusal(world.hub.join_with_resume("not-a-seat"))
    assert err.code == "resume_invalid"


async def test_a_denied_or_removed_party_cannot_resume(world: World) -> None:
    mediator = await world.hub.join_as_staff(world.mediator, world.session_id)
    denied = await world.party("甲")
    removed = await world.admitted_party("乙")
    assert denied.resume_token and removed.resume_token

    await world.hub.deny(world.session_id, mediator.participant_id, denied.participant_id,
                         "not a party to this case")
    await world.hub.remove(world.session_id, mediator.participant_id, removed.participant_id)

    assert (await refusal(world.hub.join_with_resume(denied.resume_token))).code == "seat_denied"
    assert (await refusal(world.hub.join_with_resume(removed.resume_token))).code == \
        "seat_removed"


async def test_a_party_whose_room_state_was_lost_is_seated_again_in_the_lobby(
        world: World) -> None:
    seat = await world.admitted_party()
    assert seat.resume_token
    # As after a Redis restart: the database remembers the seat, the room store does not.
    world.services.rooms = LocalRoomStore()

    again = await world.hub.join_with_resume(seat.resume_token)

    m = await world.member(again.participant_id)
    assert again.participant_id == seat.participant_id
    assert (m.state, m.connected) == ("lobby", True)


async def test_the_mediator_enters_the_room_directly_and_the_session_goes_live(
        world: World) -> None:
    seat = await world.hub.join_as_staff(world.mediator, world.session_id)
    again = await world.hub.join_as_staff(world.mediator, world.session_id)

    assert again.participant_id == seat.participant_id
    m = await world.member(seat.participant_id)
    assert (m.state, m.caucus_id, m.role) == ("room", None, "mediator")
    assert m.grants.room_admin
    async with world.services.db.session() as db:
        session = await db.get(MediationSession, world.session_id)
        seats = await db.scalar(select(func.count()).select_from(Participant).where(
            Participant.session_id == world.session_id))
    assert session is not None and session.status == "live" and session.started_at is not None
    assert seats == 1


async def test_a_clerk_joins_as_a_clerk_without_starting_the_session(world: World) -> None:
    clerk = await staff(world.services.db, "北新泾街道人民调解委员会", "wang", "clerk")

    seat = await world.hub.join_as_staff(clerk, world.session_id)

    assert seat.role == "clerk"
    assert (await world.member(seat.participant_id)).state == "room"
    async with world.services.db.session() as db:
        session = await db.get(MediationSession, world.session_id)
    assert session is not None and session.status == "scheduled"


async def test_staff_of_another_office_or_an_expert_cannot_join_as_staff(world: World) -> None:
    other = await staff(world.services.db, "另一个调委会", "zhao", "mediator")
    expert = await staff(world.services.db, "北新泾街道人民调解委员会", "qian", "expert")

    assert (await refusal(world.hub.join_as_staff(other, world.session_id))).code == \
        "session_not_found"
    assert (await refusal(world.hub.join_as_staff(expert, world.session_id))).code == \
        "role_not_allowed"
    assert await world.services.rooms.get(world.session_id) is None


async def test_nobody_joins_or_resumes_an_ended_session(world: World) -> None:
    mediator = await world.hub.join_as_staff(world.mediator, world.session_id)
    seat = await world.party()
    assert seat.resume_token

    await world.hub.end_session(world.session_id, mediator.participant_id)

    assert (await refusal(world.hub.join_with_resume(seat.resume_token))).code == \
        "session_ended"
    assert (await refusal(world.hub.join_as_staff(world.mediator, world.session_id))).code == \
        "session_ended"


# -- leaving -------------------------------------------------------------------------------

async def test_a_party_who_leaves_is_out_of_the_room_and_comes_back_through_the_lobby(
        world: World) -> None:
    seat = await world.admitted_party()
    assert seat.resume_token

    await world.hub.leave(world.session_id, seat.participant_id)

    m = await world.member(seat.participant_id)
    assert (m.state, m.connected) == ("left", False)
    room = await world.services.rooms.get(world.session_id)
    assert room is not None and seat.participant_id not in room.audience(None)
    [left] = await world.events("participant.left")
    assert left.payload == {"reason": "left"}

    await world.hub.join_with_resume(seat.resume_token)

    assert (await world.member(seat.participant_id)).state == "lobby"


async def test_only_the_last_connection_of_a_participant_closing_counts_as_gone(
        world: World) -> None:
    seat = await world.party()
    await world.hub.connection_opened(world.session_id, seat.participant_id, "sid-phone")
    await world.hub.connection_opened(world.session_id, seat.participant_id, "sid-laptop")
    await world.hub.connection_opened(world.session_id, seat.participant_id, "sid-phone")

    assert (await world.member(seat.participant_id)).sids == ["sid-phone", "sid-laptop"]
    assert await world.hub.connection_closed(world.session_id, seat.participant_id,
                                             "sid-phone") is False
    assert await world.hub.connection_closed(world.session_id, seat.participant_id,
                                             "sid-laptop") is True
    assert await world.hub.connection_closed(world.session_id, "nobody", "sid-x") is False


# -- the grace period -----------------------------------------------------------------------

async def test_a_dropped_party_keeps_its_seat_during_the_grace_period(world: World) -> None:
    seat = await world.admitted_party()

    await world.hub.disconnected(world.session_id, seat.participant_id)

    m = await world.member(seat.participant_id)
    assert (m.state, m.connected) == ("room", False)
    assert m.disconnected_at is not None
    assert await world.events("participant.left") == []


async def test_coming_back_within_the_grace_period_cancels_the_expiry(world: World) -> None:
    seat = await world.admitted_party()
    assert seat.resume_token
    await world.hub.disconnected(world.session_id, seat.participant_id)
    timer = world.hub.grace.tasks[seat.participant_id]

    await world.hub.join_with_resume(seat.resume_token)
    assert await finished(timer)

    m = await world.member(seat.participant_id)
    assert (m.state, m.connected, m.disconnected_at) == ("room", True, None)
    assert await world.events("participant.left") == []


async def test_a_seat_not_reclaimed_in_time_is_let_go_and_logged(world: World) -> None:
    seat = await world.admitted_party()
    assert seat.resume_token
    world.grace_s(0.0)

    await world.hub.disconnected(world.session_id, seat.participant_id)
    await expiry_done(world, seat.participant_id)

    m = await world.member(seat.participant_id)
    assert (m.state, m.connected) == ("left", False)
    [left] = await world.events("participant.left")
    assert left.actor_id == seat.participant_id
    assert left.payload == {"reason": "connection_lost"}
    # The seat is not lost for good: the resume link brings the party back to the lobby.
    await world.hub.join_with_resume(seat.resume_token)
    assert (await world.member(seat.participant_id)).state == "lobby"


async def test_a_party_waiting_in_the_lobby_is_also_let_go_after_the_grace_period(
        world: World) -> None:
    seat = await world.party()
    world.grace_s(0.0)

    await world.hub.disconnected(world.session_id, seat.participant_id)
    await expiry_done(world, seat.participant_id)

    assert (await world.member(seat.participant_id)).state == "left"


async def test_the_expiry_never_turns_a_removed_seat_into_one_that_may_resume(
        world: World) -> None:
    mediator = await world.hub.join_as_staff(world.mediator, world.session_id)
    seat = await world.admitted_party()
    assert seat.resume_token
    await world.hub.remove(world.session_id, mediator.participant_id, seat.participant_id)
    world.grace_s(0.0)

    await world.hub.disconnected(world.session_id, seat.participant_id)
    await expiry_done(world, seat.participant_id)

    assert (await world.member(seat.participant_id)).state == "removed"
    assert await world.events("participant.left") == []
    assert (await refusal(world.hub.join_with_resume(seat.resume_token))).code == \
        "seat_removed"


async def test_ending_the_session_stops_every_grace_timer(world: World) -> None:
    mediator = await world.hub.join_as_staff(world.mediator, world.session_id)
    seat = await world.admitted_party()
    await world.hub.disconnected(world.session_id, seat.participant_id)
    timer = world.hub.grace.tasks[seat.participant_id]

    await world.hub.end_session(world.session_id, mediator.participant_id)
    assert await finished(timer)

    assert seat.participant_id not in world.hub.grace.tasks
    assert await world.events("participant.left") == []
