"""The Room: the live state of one session, as plain data that knows nothing of Socket.IO.

Signaling records what people ask for; this model decides. Every change that moves
people bumps ``layout_version`` so that clients and the media router can tell stale
layouts from new ones.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from signaling.errors import BadRequest, Conflict, Forbidden, NotFound
from signaling.grants import SOURCES, Grants

MemberState = Literal["lobby", "room", "denied", "removed", "left"]

MAX_CAUCUSES = 8
INTERPRETER = "interpreter"


@dataclass
class Member:
    """A participant as the live room sees them."""

    participant_id: str
    name: str
    role: str
    side: str | None
    grants: Grants
    state: MemberState = "lobby"
    caucus_id: str | None = None
    """None means the joint session (面对面)."""
    connected: bool = False
    disconnected_at: float | None = None
    hand_raised: bool = False
    muted_sources: set[str] = field(default_factory=set)
    """Sources the mediator has muted; media routes nothing from them."""
    shared_device: int = 1
    """How many people share this participant's device (diarization splits them)."""
    voices: list[str] = field(default_factory=list)
    """Names enrolled on a shared device (their voiceprints stay in the pipeline's memory)."""
    enrolling: str | None = None
    """The name whose enrollment sentence a shared device is waiting for."""
    declared_voices: list[str] = field(default_factory=list)
    """Who said at the device check that they share this device (the mediator decides)."""
    consented: bool = True
    """Agreed at joining to be recorded and transcribed (the seat's ``consented_at``)."""
    sids: list[str] = field(default_factory=list)
    """Socket.IO connection ids of this participant, on whichever node holds them."""
    interprets_for: str | None = None
    """An interpreter's party: they follow that participant into and out of caucuses."""
    interpretation: str | None = None
    """An interpreter's kind: sign, dialect or foreign."""
    sharing: bool = False
    """Sharing their screen now (routed like their camera; needs the "screen" grant)."""
    audio_only: bool = False
    """On a weak line: no video is routed to or from them (signaling/screenshare.py)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "participant_id": self.participant_id, "name": self.name, "role": self.role,
            "side": self.side, "grants": self.grants.to_dict(), "state": self.state,
            "caucus_id": self.caucus_id, "connected": self.connected,
            "disconnected_at": self.disconnected_at, "hand_raised": self.hand_raised,
            "muted_sources": sorted(self.muted_sources), "shared_device": self.shared_device,
            "voices": list(self.voices), "enrolling": self.enrolling,
            "declared_voices": list(self.declared_voices),
            "consented": self.consented, "sids": list(self.sids),
            "interprets_for": self.interprets_for, "interpretation": self.interpretation,
            "sharing": self.sharing, "audio_only": self.audio_only,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Member:
        d = dict(d)
        d["grants"] = Grants.from_dict(d["grants"])
        d["muted_sources"] = set(d.get("muted_sources", ()))
        return cls(**d)

    def public(self, *, for_admin: bool) -> dict[str, Any]:
        """What other participants see of this member."""
        out: dict[str, Any] = {
            "participant_id": self.participant_id, "name": self.name, "role": self.role,
            "side": self.side, "caucus_id": self.caucus_id, "connected": self.connected,
            "hand_raised": self.hand_raised, "muted_sources": sorted(self.muted_sources),
            "interprets_for": self.interprets_for, "interpretation": self.interpretation,
            "sharing": self.sharing, "audio_only": self.audio_only,
            "can_share": "screen" in self.grants.can_publish_sources,
        }
        if for_admin:
            out["state"] = self.state
            out["hidden"] = self.grants.hidden
            out["shared_device"] = self.shared_device
            out["voices"] = list(self.voices)
            out["enrolling"] = self.enrolling
            out["declared_voices"] = list(self.declared_voices)
        return out


@dataclass
class Caucus:
    """A private sub-room (背靠背) of one session."""

    id: str
    name: str
    created_at: float
    limit_s: int | None = None
    """When the mediator's timer warns (seconds after ``created_at``); None: never."""

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "created_at": self.created_at,
                "limit_s": self.limit_s}


@dataclass
class Room:
    """The live state of one session."""

    session_id: str
    layout_version: int = 0
    members: dict[str, Member] = field(default_factory=dict)
    caucuses: dict[str, Caucus] = field(default_factory=dict)
    ended: bool = False
    recording: bool = False
    """Audio is being archived (the session's switch, on a server that records)."""
    sides: dict[str, str] = field(default_factory=dict)
    """The case's named sides, key → name (申请人, 被申请人, 第三人, ...)."""
    exhibits: dict[str, dict[str, Any]] = field(default_factory=dict)
    """The exhibit each space is looking at, space ("joint" or a caucus id) →
    ``{"evidence": <the evidence event>, "page": n}``: what a late joiner opens."""

    # -- serialisation -------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id, "layout_version": self.layout_version,
            "members": {k: m.to_dict() for k, m in self.members.items()},
            "caucuses": {k: c.to_dict() for k, c in self.caucuses.items()},
            "ended": self.ended, "recording": self.recording, "sides": dict(self.sides),
            "exhibits": dict(self.exhibits),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Room:
        return cls(
            session_id=d["session_id"], layout_version=d["layout_version"],
            members={k: Member.from_dict(m) for k, m in d["members"].items()},
            caucuses={k: Caucus(**c) for k, c in d["caucuses"].items()},
            ended=d.get("ended", False), recording=d.get("recording", False),
            sides=dict(d.get("sides", {})),
            exhibits=dict(d.get("exhibits", {})),
        )

    # -- lookups -------------------------------------------------------------
    def member(self, participant_id: str) -> Member:
        m = self.members.get(participant_id)
        if m is None:
            raise NotFound("No such participant in this session.", code="participant_not_found")
        return m

    def in_room(self) -> list[Member]:
        return [m for m in self.members.values() if m.state == "room"]

    def admins(self) -> list[str]:
        return [m.participant_id for m in self.in_room() if m.grants.room_admin]

    def space_of(self, participant_id: str) -> str | None:
        return self.member(participant_id).caucus_id

    def members_of_space(self, caucus_id: str | None) -> list[str]:
        """Participants in the joint session (None) or in one caucus."""
        return [m.participant_id for m in self.in_room() if m.caucus_id == caucus_id]

    def audience(self, caucus_id: str | None) -> list[str]:
        """Who may receive what is said in a space: its members, nobody else.

        The mediator hears a caucus only while they are in it, like any member.
        """
        return self.members_of_space(caucus_id)

    def everyone(self) -> list[str]:
        return [m.participant_id for m in self.in_room()]

    def lobby(self) -> list[Member]:
        return [m for m in self.members.values() if m.state == "lobby"]

    # -- changes -------------------------------------------------------------
    def _bump(self) -> None:
        self.layout_version += 1

    def seat(self, member: Member) -> Member:
        """Add a new participant, or refresh one who came back."""
        existing = self.members.get(member.participant_id)
        if existing is not None:
            return existing
        self.members[member.participant_id] = member
        self._bump()
        return member

    def admit(self, participant_id: str) -> Member:
        m = self.member(participant_id)
        if m.state not in ("lobby",):
            raise Conflict("This participant is not waiting.", code="not_in_lobby")
        m.state = "room"
        m.caucus_id = m.grants.caucus_scope
        if m.interprets_for is not None and m.interprets_for in self.members:
            party = self.members[m.interprets_for]
            if party.state == "room" and m.grants.caucus_scope is None:
                m.caucus_id = party.caucus_id  # an interpreter goes where their party is
        self._follow(m)
        self._bump()
        return m

    def deny(self, participant_id: str) -> Member:
        m = self.member(participant_id)
        if m.state != "lobby":
            raise Conflict("This participant is not waiting.", code="not_in_lobby")
        m.state = "denied"
        self._bump()
        return m

    def send_back(self, participant_id: str) -> Member:
        m = self.member(participant_id)
        if m.state != "room" or m.grants.room_admin:
            raise Conflict("Only a participant in the room can be sent back to the lobby.",
                           code="target_not_in_room")
        m.state = "lobby"
        m.caucus_id = None
        m.hand_raised = False
        self._follow(m)
        self._bump()
        return m

    def remove(self, participant_id: str) -> Member:
        m = self.member(participant_id)
        if m.grants.room_admin:
            raise Forbidden("A mediator cannot be removed.", code="cannot_remove_admin")
        m.state = "removed"
        m.caucus_id = None
        self._follow(m)
        self._bump()
        return m

    def leave(self, participant_id: str) -> Member:
        m = self.member(participant_id)
        m.state = "left"
        m.connected = False
        m.hand_raised = False
        self._bump()
        return m

    def create_caucus(self, name: str, limit_s: int | None = None) -> Caucus:
        if len(self.caucuses) >= MAX_CAUCUSES:
            raise Conflict("Too many caucuses in this session.", code="too_many_caucuses")
        cid = secrets.token_hex(8)
        c = Caucus(id=cid, name=name, created_at=time.time(), limit_s=limit_s)
        self.caucuses[cid] = c
        self._bump()
        return c

    def extend_caucus(self, caucus_id: str, seconds: int) -> Caucus:
        """Move the caucus's warning later: from its limit, or from now if it had none."""
        c = self.caucuses.get(caucus_id)
        if c is None:
            raise NotFound("No such caucus.", code="caucus_not_found")
        base = c.limit_s if c.limit_s is not None else int(time.time() - c.created_at)
        c.limit_s = max(base, int(time.time() - c.created_at)) + seconds
        return c

    def interpreters_of(self, participant_id: str) -> list[Member]:
        return [m for m in self.members.values()
                if m.role == INTERPRETER and m.interprets_for == participant_id]

    def _follow(self, party: Member) -> None:
        """Interpreters attached to ``party`` go where the party goes: into the caucus the
        party is in, back to the joint session when the party leaves it or the room."""
        target = party.caucus_id if party.state == "room" else None
        for i in self.interpreters_of(party.participant_id):
            if i.state != "room" or i.caucus_id == target:
                continue
            if i.grants.caucus_scope is not None and target != i.grants.caucus_scope:
                continue  # a scoped seat never leaves its scope
            i.caucus_id = target
            i.hand_raised = False

    def attach_interpreter(self, interpreter_id: str, party_id: str | None) -> Member:
        """Attach an interpreter to the participant they interpret for (or detach); an
        interpreter in the room joins that participant's space at once."""
        i = self.member(interpreter_id)
        if i.role != INTERPRETER:
            raise Conflict("Only an interpreter can be attached to a participant.",
                           code="not_an_interpreter")
        if party_id is not None:
            p = self.member(party_id)
            if p.role == INTERPRETER or p.grants.room_admin or p.grants.hidden:
                raise Conflict("An interpreter interprets for a party, an agent or an expert.",
                               code="cannot_interpret_for")
        i.interprets_for = party_id
        if party_id is not None:
            self._follow(self.member(party_id))
        self._bump()
        return i

    def move(self, participant_id: str, caucus_id: str | None) -> Member:
        m = self.member(participant_id)
        if m.state != "room":
            raise Conflict("Only a participant in the room can be moved.",
                           code="target_not_in_room")
        if caucus_id is not None and caucus_id not in self.caucuses:
            raise NotFound("No such caucus.", code="caucus_not_found")
        if m.grants.caucus_scope is not None and caucus_id != m.grants.caucus_scope:
            raise Forbidden("This participant's access is limited to one caucus.",
                            code="outside_scope")
        if m.caucus_id != caucus_id:
            m.caucus_id = caucus_id
            m.hand_raised = False
            self._follow(m)
            self._bump()
        return m

    def end_caucus(self, caucus_id: str) -> list[str]:
        """Close a caucus; its members return to the joint session. Returns who moved."""
        if caucus_id not in self.caucuses:
            raise NotFound("No such caucus.", code="caucus_not_found")
        moved = []
        for m in self.in_room():
            if m.caucus_id == caucus_id:
                m.caucus_id = None if m.grants.caucus_scope is None else m.caucus_id
                moved.append(m.participant_id)
        for pid in moved:  # their interpreters come back with them
            self._follow(self.members[pid])
        del self.caucuses[caucus_id]
        self.exhibits.pop(caucus_id, None)
        self._bump()
        return moved

    def exhibit_for(self, participant_id: str) -> dict[str, Any] | None:
        """The exhibit shown in this participant's space now (the joint session or their
        own caucus, never another's); None outside the room or when none is shown."""
        m = self.members.get(participant_id)
        if m is None or m.state != "room" or self.ended:
            return None
        return self.exhibits.get("joint" if m.caucus_id is None else m.caucus_id)

    def end(self) -> list[str]:
        """The session is over: nothing is routed any more and no seat acts again.

        Bumps the layout version like every change that routing depends on, so that a
        snapshot taken before the end can never be applied after it. Returns everyone
        who had a seat."""
        self.ended = True
        for m in self.members.values():
            m.hand_raised = False
        self._bump()
        return list(self.members)

    def return_all(self) -> None:
        for cid in list(self.caucuses):
            self.end_caucus(cid)

    def mute(self, participant_id: str, source: str, muted: bool) -> Member:
        if source not in SOURCES:
            raise BadRequest(f"Unknown source {source!r}.", code="unknown_source")
        m = self.member(participant_id)
        (m.muted_sources.add if muted else m.muted_sources.discard)(source)
        self._bump()
        return m

    def set_hand(self, participant_id: str, raised: bool) -> Member:
        m = self.member(participant_id)
        m.hand_raised = raised
        return m

    # -- views ---------------------------------------------------------------
    def layout(self, *, for_admin: bool, scope: str | None = None,
               member_of: str | None = None) -> dict[str, Any]:
        """The room as one viewer may see it. ``scope``: the viewer is limited to that
        caucus (an expert in a consultation) and sees only it and its members.
        ``member_of``: the caucus a participant viewer is in. A caucus's name is the
        mediator's words ("与张三谈赔偿底线"): only its members and room admins read it;
        everyone else sees that a caucus exists, and who is in it, without its name."""
        visible = [m for m in self.in_room() if for_admin or not m.grants.hidden]
        caucuses = list(self.caucuses.values())
        if scope is not None and not for_admin:
            visible = [m for m in visible if m.caucus_id == scope]
            caucuses = [c for c in caucuses if c.id == scope]
        now = time.time()
        return {
            "session_id": self.session_id,
            "version": self.layout_version,
            "recording": self.recording and not self.ended,
            "joint": [m.participant_id for m in visible if m.caucus_id is None],
            "caucuses": [
                {"id": c.id,
                 "name": c.name if for_admin or c.id in (scope, member_of) else "",
                 "members": [m.participant_id for m in visible if m.caucus_id == c.id],
                 "elapsed_s": round(now - c.created_at, 1), "limit_s": c.limit_s}
                for c in caucuses
            ],
            "participants": [m.public(for_admin=for_admin) for m in visible],
            "sides": [{"key": k, "name": n} for k, n in sorted(self.sides.items())],
        }

    def layout_for(self, participant_id: str) -> dict[str, Any]:
        m = self.member(participant_id)
        return self.layout(for_admin=m.grants.room_admin, scope=m.grants.caucus_scope,
                           member_of=m.caucus_id)
