"""Who in the room may read a draft, what each reader sees, and who signs as whom.

Plain functions over signaling's ``Room``: they decide, the event handlers only ask.
When in doubt the answer is no: a participant who is not in the room, or not in the
caucus a draft was written in, does not see it, and an unbound signer cannot sign.
"""

from __future__ import annotations

from typing import Any

from signaling.errors import BadRequest, Conflict
from signaling.rooms.room import Member, Room

from .ceremony import Signer
from .context import mask_id_number

STAFF_ROLES = ("mediator", "clerk")
"""Room roles that need the parties' full identity data (they keep the case file)."""
SIGNING_PARTY_ROLES = ("party", "representative")
RECORDER_ROLES = ("clerk", "mediator")


def can_read(room: Room, participant_id: str, caucus_id: str | None) -> bool:
    """Whether a participant may read a draft living in ``caucus_id`` (None: joint).

    A caucus draft stays with that caucus: its members read it while they are in it,
    and the mediator (who wrote it there) always may. Nobody else, ever. A participant
    limited to one caucus (an expert called for a consultation) reads only the drafts of
    that caucus, never the joint agreement with the parties' identities."""
    m = room.members.get(participant_id)
    if m is None or m.state != "room" or room.ended:
        return False
    scope = m.grants.caucus_scope
    if scope is not None:
        return caucus_id == scope and m.caucus_id == scope
    if caucus_id is None or m.grants.room_admin:
        return True
    return m.caucus_id == caucus_id


def audience(room: Room, caucus_id: str | None, actor_id: str) -> list[Member]:
    """Who receives a draft's changes: the members of its space and the actor."""
    ids = set(room.audience(caucus_id))
    ids.add(actor_id)
    return [room.members[i] for i in sorted(ids) if can_read(room, i, caucus_id)]


def mask_phone(value: str | None) -> str | None:
    """Keep the last four digits, which is what a party needs to recognise a number."""
    if not value:
        return value
    return "*" * max(len(value) - 4, 0) + value[-4:]


def needs_identity(m: Member) -> bool:
    return m.role in STAFF_ROLES


def masked_data(data: dict[str, Any]) -> dict[str, Any]:
    """Document data with ID numbers and phone numbers masked (a copy)."""
    out = dict(data)
    out["parties"] = [
        {**p, "id_number": mask_id_number(p.get("id_number")) or None,
         "phone": mask_phone(p.get("phone"))}
        for p in data.get("parties", [])
    ]
    for role in ("mediator", "recorder"):
        if isinstance(data.get(role), dict):
            out[role] = {**data[role], "phone": mask_phone(data[role].get("phone"))}
    return out


def bind_signers(
    room: Room,
    signers: tuple[Signer, ...],
    requested: dict[str, str],
    *,
    opener_id: str,
    caucus_id: str | None,
) -> dict[str, str]:
    """signer_id -> participant_id for every required signer.

    ``requested`` comes from the mediator; the rest is found by rule: a party whose
    party_id is a participant id signs from that seat, the mediator who opens the
    ceremony signs as mediator, and the one clerk present signs as recorder.
    Every seat must be someone in the room who can read the draft, in a role that
    fits, and no one signs twice.
    """
    ids = {s.signer_id for s in signers}
    unknown = sorted(set(requested) - ids)
    if unknown:
        raise BadRequest(f"Not signers of this document: {', '.join(unknown)}.",
                         code="not_a_signer")
    readers = [room.members[i] for i in room.members if can_read(room, i, caucus_id)]
    seats: dict[str, str] = {}
    for s in signers:
        chosen = requested.get(s.signer_id)
        if chosen is None:
            if s.signer_id == "mediator":
                chosen = opener_id
            elif s.signer_id == "recorder":
                clerks = [m.participant_id for m in readers if m.role == "clerk"]
                chosen = clerks[0] if len(clerks) == 1 else None
            elif s.signer_id in room.members:
                chosen = s.signer_id
        if chosen is not None:
            seats[s.signer_id] = chosen
    missing = sorted(ids - set(seats))
    if missing:
        raise Conflict("Say who signs as: " + ", ".join(missing) + ".",
                       code="signer_not_seated", details={"missing": missing})
    if len(set(seats.values())) != len(seats):
        raise BadRequest("One participant cannot sign twice.", code="seat_taken")
    for signer_id, pid in seats.items():
        m = room.members.get(pid)
        if m is None or not can_read(room, pid, caucus_id):
            raise BadRequest(f"{signer_id} must be someone in the room who can read the draft.",
                             code="seat_not_present")
        if signer_id == "mediator":
            fits = m.grants.room_admin
        elif signer_id == "recorder":
            fits = m.role in RECORDER_ROLES
        else:
            fits = m.role in SIGNING_PARTY_ROLES
        if not fits:
            raise BadRequest(f"A {m.role} cannot sign as {signer_id}.", code="seat_role_mismatch")
    return seats


def seat_of(seats: dict[str, str], participant_id: str) -> str | None:
    """The signer id a participant signs as, if any."""
    for signer_id, pid in seats.items():
        if pid == participant_id:
            return signer_id
    return None
