"""The winner's join grant: a seat prepared in the room, limited to the call's scope.

The grant is a random token whose hash is the seat's resume token, so that the expert
joins over the ordinary room namespace with ``{"resume": token}`` and lands directly in
their scope: a consultation caucus (mediator and expert only), a given caucus, or the
joint session. ``Grants.caucus_scope`` pins them there, so that neither they nor the
mediator can move them elsewhere. Revoking replaces the stored hash with a random one,
so the token is refused from then on even if the live room state were lost.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from experts.errors import CallClosed
from experts.tables import ExpertCall, ExpertProfile
from signaling.context import Services
from signaling.credentials import hash_token, new_token
from signaling.db.base import utcnow
from signaling.db.models import MediationSession, Participant
from signaling.errors import TiaojieError
from signaling.grants import grants_for_role
from signaling.rooms.room import Member, Room
from signaling.seats import ParticipantId, SessionId

log = logging.getLogger("tiaojie.experts.grant")


@dataclass(frozen=True)
class JoinGrant:
    """What the winning expert is handed to enter the session."""

    token: str
    """Connect to the room namespace with ``{"resume": token}``; valid while the call is."""
    session_id: str
    participant_id: str
    scope: str
    caucus_id: str | None
    """The only caucus the expert may be in; None for the joint session."""


async def _publish(services: Services, room: Room) -> None:
    # What Hub does after every change, through its public parts.
    assert services.hub is not None
    await services.hub.broadcast_layout(room)
    try:
        await services.media.update_room(room)
    except Exception:  # the media layer never breaks signaling
        log.exception("media update failed for session %s", room.session_id)


INTERPRETATION_DOMAINS = {"sign_language": "sign", "dialect": "dialect",
                          "foreign_language": "foreign"}
"""Expert domains whose experts interpret: called into the joint session, they take an
interpreter's seat, which the mediator attaches to the party they interpret for (they then
follow that party into caucuses). Called for a consultation or into one caucus, they stay
an expert scoped to it."""


def seat_role(call: ExpertCall) -> tuple[str, str | None]:
    """The room role (and interpretation kind) the call's winner is seated with."""
    kind = INTERPRETATION_DOMAINS.get(call.domain)
    if kind is not None and call.scope == "joint":
        return "interpreter", kind
    return "expert", None


async def issue(services: Services, call: ExpertCall, expert: ExpertProfile) -> JoinGrant:
    """Prepare the expert's seat in the call's scope and return the grant."""
    hub = services.hub
    assert hub is not None
    async with services.db.session() as db:
        session = await db.get(MediationSession, call.session_id)
        if session is None or session.status == "ended":
            raise CallClosed("The session has ended.", code="session_ended")
    room = await services.rooms.get(call.session_id)
    if room is None or room.ended:
        raise CallClosed("The session is not live.", code="session_ended")
    caucus_id = call.caucus_id
    if call.scope == "consultation":
        # The mediator steps aside with the expert; the parties stay in the joint session.
        caucus_id = await hub.create_caucus(SessionId(call.session_id),
                                            ParticipantId(call.mediator_participant_id),
                                            f"专家咨询 · {expert.display_name}",
                                            [call.mediator_participant_id])
    elif call.scope == "caucus" and (caucus_id is None or caucus_id not in room.caucuses):
        raise CallClosed("The caucus no longer exists.", code="caucus_not_found")
    token = new_token()
    role, interpretation = seat_role(call)
    async with services.db.session() as db:
        p = Participant(session_id=call.session_id, user_id=expert.user_id, role=role,
                        display_name=expert.display_name, resume_token_hash=hash_token(token),
                        consented_at=utcnow(), joined_from="expert console",
                        interpretation=interpretation)
        db.add(p)
        await db.commit()
    grants = grants_for_role(role).with_changes(caucus_scope=caucus_id)
    async with services.rooms.edit(call.session_id) as room:
        room.seat(Member(participant_id=p.id, name=expert.display_name, role=role,
                         side=None, grants=grants, state="room", caucus_id=caucus_id,
                         interpretation=interpretation))
    await hub.log_event(call.session_id, "expert.seated", actor_id=call.mediator_participant_id,
                        caucus_id=caucus_id,
                        payload={"call_id": call.id, "participant_id": p.id,
                                 "expert_id": expert.id, "scope": call.scope, "role": role})
    await _publish(services, room)
    return JoinGrant(token=token, session_id=call.session_id, participant_id=p.id,
                     scope=call.scope, caucus_id=caucus_id)


async def revoke(services: Services, call: ExpertCall, reason: str) -> None:
    """Take the seat away: the token stops working and the expert leaves the room.

    For a consultation the caucus closes too, so the mediator returns to the joint session.
    Safe to call twice and from any node.
    """
    hub = services.hub
    assert hub is not None
    if call.participant_id is None:
        return
    async with services.db.session() as db:
        p = await db.get(Participant, call.participant_id)
        if p is not None:
            p.resume_token_hash = hash_token(new_token())
            p.left_at = p.left_at or utcnow()
            await db.commit()
    room = await services.rooms.get(call.session_id)
    if room is None:
        return
    m = room.members.get(call.participant_id)
    if m is not None and m.state != "removed":
        try:
            await hub.remove(call.session_id, call.mediator_participant_id, call.participant_id)
        except TiaojieError as err:  # the mediator's seat is gone: remove without them
            log.info("removing expert seat directly (%s)", err.code)
            async with services.rooms.edit(call.session_id) as room:
                room.remove(call.participant_id)
            await _publish(services, room)
    if call.scope == "consultation" and call.caucus_id:
        room = await services.rooms.get(call.session_id)
        if room is not None and call.caucus_id in room.caucuses:
            try:
                await hub.end_caucus(SessionId(call.session_id),
                                     ParticipantId(call.mediator_participant_id), call.caucus_id)
            except TiaojieError as err:
                log.info("consultation caucus not closed (%s)", err.code)
    await hub.log_event(call.session_id, "expert.released", actor_id=call.mediator_participant_id,
                        payload={"call_id": call.id, "participant_id": call.participant_id,
                                 "reason": reason})
