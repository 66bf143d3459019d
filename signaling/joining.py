"""Joining a session: seats taken by invitation, by resume link or by a staff account,
what a freshly connected participant is told, and the lobby the mediator admits from.

Part of the Hub (``signaling.hub``), which composes it and keeps the public names.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from signaling import invites, sides
from signaling.accounts import Principal
from signaling.cases import session_office
from signaling.credentials import hash_token, new_token
from signaling.db.base import utcnow
from signaling.db.models import MediationSession, Participant
from signaling.errors import Forbidden, NotFound, TiaojieError, Unauthorized
from signaling.grants import grants_for_role
from signaling.rooms.room import Member, Room
from signaling.seats import ParticipantId, RoomRole, Seat, SessionId

if TYPE_CHECKING:
    from signaling.hub import Hub

log = logging.getLogger("tiaojie.hub")


def _without_turn(servers: list[Any]) -> list[Any]:
    """STUN entries only: anything carrying a credential is a TURN server."""
    return [s for s in servers if not (isinstance(s, dict) and "credential" in s)]


async def _sides(db: Any, session_id: str) -> dict[str, str]:
    return {x.key: x.name for x in await sides.sides_of_session(db, session_id)}


class Joining:
    """Seating participants and letting them in, for the Hub."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.s = hub.s

    def _records(self, session: MediationSession) -> bool:
        """Whether the session's audio is archived: its switch, on a server that records."""
        return bool(self.s.settings.audio_archive and session.recording)

    # -- taking a seat -----------------------------------------------------------
    async def join_with_invite(self, token: str, name: str, consent: bool,
                               joined_from: str, shared_names: list[str] | None = None) -> Seat:
        async with self.s.db.session() as db:
            inv, session = await invites.redeem(db, token)
            resume = new_token()
            p = Participant(session_id=session.id, invite_id=inv.id, role=inv.role, side=inv.side,
                            display_name=name, resume_token_hash=hash_token(resume),
                            consented_at=utcnow() if consent else None,
                            joined_from=joined_from, interpretation=inv.interpretation)
            db.add(p)
            await db.commit()
            named = await _sides(db, session.id)
        member = Member(participant_id=p.id, name=name, role=p.role, side=p.side,
                        grants=grants_for_role(p.role), connected=True, consented=consent,
                        interpretation=p.interpretation,
                        declared_voices=list(shared_names or []))
        async with self.s.rooms.edit(session.id) as room:
            room.sides = named
            room.seat(member)
            room.recording = self._records(session)
        await self.hub.log_event(session.id, "participant.joined", actor_id=p.id,
                                 payload={"role": p.role, "side": p.side, "name": name,
                                          "consent": consent, "via": "invite"})
        if consent:
            await self.hub.log_event(session.id, "consent.recorded", actor_id=p.id,
                                     payload={"recording": True, "transcription": True})
        await self.hub._after_change(room)
        return Seat(SessionId(session.id), ParticipantId(p.id), RoomRole(p.role), resume)

    async def join_with_resume(self, token: str) -> Seat:
        async with self.s.db.session() as db:
            p = (await db.execute(select(Participant).where(
                Participant.resume_token_hash == hash_token(token)))).scalar_one_or_none()
            if p is None:
                raise Unauthorized("This seat is not known.", code="resume_invalid")
            session = await db.get(MediationSession, p.session_id)
            named = await _sides(db, p.session_id)
        if session is None or session.status == "ended":
            raise TiaojieError("This session has ended.", code="session_ended", status=410)
        async with self.s.rooms.edit(p.session_id) as room:
            room.sides = named
            m = room.members.get(p.id)
            if m is None:  # room state lost (e.g. Redis restarted): seat again, in the lobby
                m = room.seat(Member(participant_id=p.id, name=p.display_name, role=p.role,
                                     side=p.side, grants=grants_for_role(p.role),
                                     consented=p.consented_at is not None,
                                     interpretation=p.interpretation))
            room.recording = self._records(session)
            if m.state in ("removed", "denied"):
                raise Forbidden("You were not admitted to this session.", code=f"seat_{m.state}")
            if m.state == "left":
                m.state = "lobby"
                room.layout_version += 1
            m.connected = True
            m.disconnected_at = None
        self.hub.grace.cancel(p.id)
        await self.hub.log_event(p.session_id, "participant.reconnected", actor_id=p.id)
        await self.hub._after_change(room)
        return Seat(SessionId(p.session_id), ParticipantId(p.id), RoomRole(p.role))

    async def join_as_staff(self, principal: Principal, session_id: str) -> Seat:
        async with self.s.db.session() as db:
            office = await session_office(db, session_id)
            if office is None or office != principal.office_id:
                raise NotFound("No such session.", code="session_not_found")
            if principal.role not in ("mediator", "admin", "clerk"):
                raise Forbidden("Your role joins through an invitation.", code="role_not_allowed")
            session = await db.get(MediationSession, session_id)
            assert session is not None
            if session.status == "ended":
                raise TiaojieError("This session has ended.", code="session_ended", status=410)
            role = "clerk" if principal.role == "clerk" else "mediator"
            p = (await db.execute(select(Participant).where(
                Participant.session_id == session_id,
                Participant.user_id == principal.user_id))).scalar_one_or_none()
            if p is None:
                p = Participant(session_id=session_id, user_id=principal.user_id, role=role,
                                display_name=principal.display_name,
                                resume_token_hash=hash_token(new_token()), consented_at=utcnow())
                db.add(p)
            if role == "mediator" and session.status == "scheduled":
                session.status = "live"
                session.started_at = utcnow()
            await db.commit()
            language = session.language
            recording = self._records(session)
            named = await _sides(db, session_id)
        pipeline = self.s.extras.get("transcription")
        if pipeline is not None:
            try:
                pipeline.set_language(session_id, language)
            except Exception as exc:  # an unsupported language turns captions off, not the room
                log.warning("captions unavailable for session %s: %s", session_id, exc)
        await self.hub.refresh_speech_context(session_id)  # relays the language too
        async with self.s.rooms.edit(session_id) as room:
            room.sides = named
            m = room.seat(Member(participant_id=p.id, name=p.display_name, role=role, side=None,
                                 grants=grants_for_role(role)))
            room.recording = recording
            if m.state != "room":
                m.state = "room"
                m.caucus_id = None
                room.layout_version += 1
            m.connected = True
            m.disconnected_at = None
        self.hub.grace.cancel(p.id)
        await self.hub.log_event(session_id, "participant.joined", actor_id=p.id,
                                 payload={"role": role, "name": p.display_name, "via": "account"})
        await self.hub._after_change(room)
        return Seat(SessionId(session_id), ParticipantId(p.id), RoomRole(role))

    async def welcome(self, seat: Seat) -> dict[str, Any]:
        """What a freshly connected participant is told about themselves and the room."""
        room = await self.s.rooms.get(seat.session_id)
        assert room is not None
        m = room.member(seat.participant_id)
        out: dict[str, Any] = {
            "session_id": seat.session_id, "participant_id": m.participant_id,
            "name": m.name, "role": m.role, "side": m.side, "state": m.state,
            "grants": m.grants.to_dict(), **self.rtc_for(room, m),
        }
        if seat.resume_token:
            out["resume_token"] = seat.resume_token
        if m.state == "room":
            out["layout"] = room.layout_for(m.participant_id)
            out["exhibit"] = room.exhibit_for(m.participant_id)  # opened on arrival
        if m.shared_device > 1:  # a page opened again still shows the enrollment step
            out["voices"] = {"people": m.shared_device, "voices": list(m.voices),
                             "enrolling": m.enrolling}
        return out

    def rtc_for(self, room: Room, m: Member) -> dict[str, Any]:
        """The browser's ICE configuration. TURN credentials go only to a participant
        admitted to a live session: the lobby, a removed seat and an ended session get
        none, and every credential is short-lived (``turn_ttl_s``), because coturn cannot
        revoke one. ``turn_expires_at`` tells the browser when to ask again (``state``)."""
        config = dict(self.s.media.client_config(m.participant_id))
        servers = list(self.s.media.ice_servers_for(m.participant_id))
        if m.state != "room" or room.ended:
            config["iceServers"] = _without_turn(config.get("iceServers", []))
            servers = _without_turn(servers)
        expiry = [int(str(s["username"]).split(":", 1)[0]) for s in servers
                  if "credential" in s and str(s.get("username", "")).split(":", 1)[0].isdigit()]
        return {"rtc_config": config, "ice_servers": servers,
                "turn_expires_at": min(expiry) if expiry else None}

    # -- the lobby ----------------------------------------------------------------
    async def send_lobby(self, seat: Seat) -> None:
        """Who is waiting, to a member who admits, just connected. The broadcast made while
        seating them went out before their connection joined their participant's room, so
        a mediator entering a scheduled session the parties reached first would see an
        empty lobby until someone else arrived."""
        room = await self.s.rooms.get(seat.session_id)
        if room is None:
            return
        m = room.members.get(seat.participant_id)
        if m is None or m.state != "room" or not m.grants.room_admin:
            return
        await self.hub.emit_to([m.participant_id], "lobby",
                               {"waiting": [w.public(for_admin=True) for w in room.lobby()]})

    async def admit(self, session_id: str, actor_id: str, target_id: str) -> None:
        await self.hub._admin_edit(session_id, actor_id)
        async with self.s.rooms.edit(session_id) as room:
            m = room.admit(target_id)
        await self.hub.log_event(session_id, "lobby.admitted", actor_id=actor_id,
                                 payload={"participant_id": target_id})
        await self.hub.emit_to([target_id], "admitted",
                               {"layout": room.layout_for(m.participant_id),
                                "exhibit": room.exhibit_for(m.participant_id),
                                **self.rtc_for(room, m)})
        await self.hub._after_change(room)
        await self.hub.refresh_speech_context(session_id)

    async def deny(self, session_id: str, actor_id: str, target_id: str, reason: str) -> None:
        await self.hub._admin_edit(session_id, actor_id)
        async with self.s.rooms.edit(session_id) as room:
            room.deny(target_id)
        await self.hub.log_event(session_id, "lobby.denied", actor_id=actor_id,
                                 payload={"participant_id": target_id, "reason": reason})
        await self.hub.emit_to([target_id], "denied", {"reason": reason})
        await self.hub._after_change(room)
        await self.hub._disconnect_participant(room, target_id)

    async def send_back(self, session_id: str, actor_id: str, target_id: str) -> None:
        await self.hub._admin_edit(session_id, actor_id)
        async with self.s.rooms.edit(session_id) as room:
            room.send_back(target_id)
        await self.hub.log_event(session_id, "lobby.sent_back", actor_id=actor_id,
                                 payload={"participant_id": target_id})
        await self.hub.emit_to([target_id], "sent_back", {})
        await self.hub._after_change(room)
