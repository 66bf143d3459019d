"""Who a room connection is: typed ids, the room roles, and the frozen ``Seat``.

Core: imports nothing of the project. Ids are ``NewType``s over ``str`` (free at run
time), so that a session id cannot be passed where a participant id is wanted; a value
read from outside (a database row, a Socket.IO session) becomes one where it enters.
The room roles are a ``StrEnum``: a ``RoomRole`` compares equal to its plain string
(``RoomRole.MEDIATOR == "mediator"``), so the code and stored rows that still hold
strings keep working while more of it is converted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NewType

SessionId = NewType("SessionId", str)
"""A mediation session (``sessions.id``): one room."""
ParticipantId = NewType("ParticipantId", str)
"""A seat in one session (``participants.id``): a person's place in that room."""
CaseId = NewType("CaseId", str)
"""A case (``cases.id``), which holds sessions."""


class RoomRole(StrEnum):
    """The role a participant holds in a room (``participants.role``); each one's default
    grants are spelled out in ``signaling.grants.grants_for_role``."""

    MEDIATOR = "mediator"
    PARTY = "party"
    REPRESENTATIVE = "representative"
    EXPERT = "expert"
    INTERPRETER = "interpreter"
    CLERK = "clerk"
    OBSERVER = "observer"


@dataclass(frozen=True)
class Seat:
    """Who a connection is: the outcome of joining, and what every room event handler is
    given about its caller. The seat's grants are not here: they change while the
    connection lasts (the mediator grants a screen, limits an expert to a caucus), so they
    are read from the room each time."""

    session_id: SessionId
    participant_id: ParticipantId
    role: RoomRole
    resume_token: str | None = None
    """Given once, on the first join, so that the participant can come back; never kept
    in the connection's session."""
    login: str | None = None
    """The staff login (login session id) the connection was opened with; None for a
    party's link. Checked on every event, so that a logout ends the connection's rights."""

    def to_session(self) -> dict[str, Any]:
        """What the connection's Socket.IO session keeps (plain JSON values)."""
        return {"session_id": self.session_id, "participant_id": self.participant_id,
                "role": self.role.value, "login": self.login}

    @classmethod
    def from_session(cls, session: Mapping[str, Any]) -> Seat:
        """The seat a connection's Socket.IO session holds (see ``to_session``)."""
        return cls(SessionId(session["session_id"]), ParticipantId(session["participant_id"]),
                   RoomRole(session["role"]), None, session.get("login"))

    def as_dict(self, sid: str) -> dict[str, Any]:
        """The seat as the handlers registered by other packages still take it
        (``signaling.sockets.namespace.register_event``): session_id, participant_id,
        role, login and the connection's sid."""
        return {**self.to_session(), "sid": sid}
