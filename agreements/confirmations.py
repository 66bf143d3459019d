"""Parties confirm their own details from their own seat, and signers are seated by the
link each came in through.

``party_details_get`` shows a party (or their agent) exactly what the draft prints about
them, with their own numbers in full; ``party_confirm`` records that it is right or what
to correct, and tells the staff in the room. ``party_seats`` decides, for
``signing_open``, who in the room signs on each party's line: only a participant who
joined through that party's link or one of its agents' links, and the code goes to the
phone that person confirmed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from signaling.context import Services
from signaling.db.models import Participant
from signaling.errors import BadRequest, Conflict, Forbidden
from signaling.rooms.room import Room
from signaling.features import SocketEvent

from .context import build_context, mask_id_number
from .draft import DraftId
from .edge import refusals_as_edge_errors
from .identity import check_party, phone_problem
from .models import DocumentData, PartyDetails
from .parties import (
    Confirmation,
    agent_of,
    corrected,
    entry_digest,
    party_states,
    seats_for_invite,
    unconfirmed,
)
from .runtime import runtime
from .schemas import DraftRefIn, PartyConfirmIn
from .seats import SIGNING_PARTY_ROLES, can_read, mask_phone, needs_identity
from .tables import PartyConfirmationRow

Seat = dict[str, Any]


async def invites_of(db: AsyncSession, session_id: str) -> dict[str, str | None]:
    """participant_id -> the invite they joined through (None for staff)."""
    rows = await db.execute(select(Participant.id, Participant.invite_id).where(
        Participant.session_id == session_id))
    return {pid: invite for pid, invite in rows}


async def confirmations_of(db: AsyncSession, draft_id: str) -> list[Confirmation]:
    rows = (await db.execute(select(PartyConfirmationRow).where(
        PartyConfirmationRow.draft_id == draft_id))).scalars()
    return [Confirmation(r.party_id, r.participant_id, r.acting_as, r.version_number, r.status,
                         dict(r.details), r.details_digest, r.created_at) for r in rows]


async def confirmation_view(services: Services, draft_id: str, data: DocumentData
                            ) -> dict[str, dict[str, Any]]:
    """Per party, whether it confirmed what the draft says (for staff)."""
    async with services.db.session() as db:
        return party_states(data, await confirmations_of(db, draft_id))


def _printed_line(data: DocumentData, party_id: str, language: str) -> dict[str, Any]:
    for p in build_context(data, "en" if language == "en" else "zh-CN")["parties"]:
        if p["party_id"] == party_id:
            return {"role_label": p["role_label"], "name": p["name"], "details": p["details"],
                    "representative": p["representative"],
                    "agents": [a["line"] for a in p["agents"]]}
    return {}


async def _mine(services: Services, seat: Seat, draft_id: str
                ) -> tuple[Room, Any, Any, Any, list[tuple[PartyDetails, str]]]:
    from .events import _draft_row, _member  # the documents' loaders, shared

    room, m = await _member(services, seat)
    if m.role not in SIGNING_PARTY_ROLES:
        raise Forbidden("Only a party or their agent confirms party details.",
                        code="not_a_party")
    row = await _draft_row(services, seat, room, draft_id)
    with refusals_as_edge_errors():
        version = await runtime(services).run(
            lambda st: st.drafts.store.latest_version(DraftId(row.id)))
    async with services.db.session() as db:
        invite = (await invites_of(db, seat["session_id"])).get(m.participant_id)
    return room, m, row, version, seats_for_invite(version.data, invite)


def _own_view(party: PartyDetails, acting: str) -> dict[str, Any]:
    """The party's entry for one confirmer: in full, except the numbers of agents who are
    not the confirmer (each agent vouches for their own)."""
    out = party.model_dump(mode="json")
    for n, agent in enumerate(out["agents"]):
        if acting != f"agent:{n}":
            agent["id_number"] = mask_id_number(agent.get("id_number")) or None
            agent["phone"] = mask_phone(agent.get("phone"))
    return out


async def party_details_get(services: Services, seat: Seat, p: DraftRefIn) -> dict[str, Any]:
    """What the draft prints about the caller's own party (or the party they act for)."""
    _, _, row, version, mine = await _mine(services, seat, p.draft_id)
    async with services.db.session() as db:
        states = party_states(version.data, await confirmations_of(db, row.id))
    return {"draft_id": row.id, "version": version.number, "digest": version.digest,
            "parties": [{
                "party_id": party.party_id, "acting_as": acting,
                "kind": party.kind,
                # Their own entry in full: a party must see their own ID number to confirm it.
                "details": _own_view(party, acting),
                "printed": _printed_line(version.data, party.party_id, row.language),
                "state": states[party.party_id]["status"],
            } for party, acting in mine]}


async def party_confirm(services: Services, seat: Seat, p: PartyConfirmIn) -> dict[str, Any]:
    room, m, row, version, mine = await _mine(services, seat, p.draft_id)
    if p.version != version.number:
        raise Conflict("The draft changed; read the new version first.", code="version_conflict")
    found = [(party, acting) for party, acting in mine if party.party_id == p.party_id]
    if not found:
        raise Forbidden("You confirm only the party whose link you joined through.",
                        code="not_your_party")
    party, acting = found[0]
    with refusals_as_edge_errors():
        wanted = corrected(party, acting, p.details, p.agent)
    problems = check_party(wanted, "party")
    signer = agent_of(wanted, acting) if acting != "party" else None
    phone = signer.phone if signer else wanted.phone
    if not phone or phone_problem(phone, mobile=True):
        from .identity import Problem

        field = f"party.agents.{acting.split(':')[1]}.phone" if signer else "party.phone"
        problems.append(Problem(field, "phone_not_mobile",
                                "请确认能接收短信验证码的手机号码",
                                "Confirm a mobile number that receives the signing code"))
    if problems:
        raise BadRequest("Some details need correcting.", code="invalid_details",
                         details={"problems": [x.to_dict() for x in problems]})
    digest = entry_digest(wanted)
    status = "confirmed" if digest == entry_digest(party) else "corrected"
    async with services.db.session() as db:
        db.add(PartyConfirmationRow(draft_id=row.id, party_id=party.party_id,
                                    participant_id=m.participant_id, acting_as=acting,
                                    version_number=version.number, status=status,
                                    details=wanted.model_dump(mode="json"),
                                    details_digest=digest))
        await db.commit()
        states = party_states(version.data, await confirmations_of(db, row.id))
    assert services.hub is not None
    await services.hub.log_event(seat["session_id"], "document.party_confirmed",
                                 actor_id=m.participant_id, caucus_id=row.caucus_id,
                                 payload={"draft_id": row.id, "party_id": party.party_id,
                                          "version": version.number, "status": status,
                                          "changes": states[party.party_id].get("changes", [])})
    # Staff see the state (and the corrections, to apply them); nobody else is told.
    staff = [i for i, mem in room.members.items()
             if needs_identity(mem) and can_read(room, i, row.caucus_id)]
    await services.hub.emit_to(staff, "party_confirmation", {
        "draft_id": row.id, "party_id": party.party_id, "name": wanted.name,
        **states[party.party_id]})
    return {"party_id": party.party_id, "status": status,
            "state": states[party.party_id]["status"]}


async def party_seats(services: Services, room: Room, session_id: str, data: DocumentData,
                      draft_id: str, requested: dict[str, str]
                      ) -> tuple[dict[str, str], dict[str, tuple[str, str | None]]]:
    """(signer_id -> participant_id, signer_id -> (agent name, confirmed phone)) for every
    party; refuses a seat that did not join through that party's or its agents' link."""
    async with services.db.session() as db:
        invites = await invites_of(db, session_id)
        confirmations = await confirmations_of(db, draft_id)
    waiting = unconfirmed(data, confirmations)
    if waiting:
        raise Conflict("Each party confirms their details first: " + "、".join(waiting) + ".",
                       code="details_not_confirmed", details={"waiting": waiting})
    newest = {c.party_id: c for c in sorted(confirmations, key=lambda c: c.created_at)}
    seats: dict[str, str] = {}
    acting: dict[str, tuple[str, str | None]] = {}
    for party in data.parties:
        links = party.seat_invites()
        in_room = [pid for pid, mem in room.members.items()
                   if mem.state == "room" and invites.get(pid) in links]
        chosen = requested.get(party.party_id)
        if chosen is not None and chosen not in in_room:
            raise BadRequest(f"{party.name} signs only from the seat that joined through "
                             "their own link or their agent's.", code="seat_wrong_party")
        if chosen is None:
            confirmer = newest[party.party_id].participant_id
            chosen = confirmer if confirmer in in_room else (in_room[0] if len(in_room) == 1
                                                             else None)
        if chosen is None:
            raise Conflict(f"{party.name} is not in the room, nor is their agent.",
                           code="party_not_present", details={"party_id": party.party_id})
        role = links[str(invites.get(chosen))]
        agent = agent_of(party, role)
        seats[party.party_id] = chosen
        acting[party.party_id] = (agent.name, agent.phone) if agent else ("", party.phone)
    return seats, acting


async def linked_party_seats(services: Services, room: Room, session_id: str,
                             data: DocumentData, requested: dict[str, str]
                             ) -> tuple[dict[str, str], dict[str, tuple[str, str | None]]]:
    """``party_seats`` for a document the parties read back in the room rather than
    confirm (the record, the oral register): a party named with its join link (the record
    prefilled from the agreement) signs from the seat that came in through that link or
    its agent's, the code going to that person's phone as the document gives it. A party
    without a link (its party_id is its seat) is left to ``bind_signers``."""
    linked = [p for p in data.parties if p.seat_invites() and p.party_id not in room.members]
    if not linked:
        return {}, {}
    async with services.db.session() as db:
        invites = await invites_of(db, session_id)
    seats: dict[str, str] = {}
    acting: dict[str, tuple[str, str | None]] = {}
    for party in linked:
        links = party.seat_invites()
        in_room = [pid for pid, mem in room.members.items()
                   if mem.state == "room" and invites.get(pid) in links]
        chosen = requested.get(party.party_id)
        if chosen is not None and chosen not in in_room:
            raise BadRequest(f"{party.name} signs only from the seat that joined through "
                             "their own link or their agent's.", code="seat_wrong_party")
        if chosen is None:
            # The party in person first, else their one agent present.
            own = [pid for pid in in_room if links[str(invites.get(pid))] == "party"]
            chosen = own[0] if own else (in_room[0] if len(in_room) == 1 else None)
        if chosen is None:
            raise Conflict(f"{party.name} is not in the room, nor is their agent.",
                           code="party_not_present", details={"party_id": party.party_id})
        agent = agent_of(party, links[str(invites.get(chosen))])
        seats[party.party_id] = chosen
        acting[party.party_id] = (agent.name, agent.phone) if agent else ("", party.phone)
    return seats, acting


SOCKET_EVENTS = (
    SocketEvent("party_details_get", DraftRefIn, party_details_get),
    SocketEvent("party_confirm", PartyConfirmIn, party_confirm),
)
"""The parties' confirmation events on the room namespace (``agreements/feature.py``)."""
