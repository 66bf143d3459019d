"""Who receives what: the routing table as a pure function of the room state.

Signaling owns the room (who is in which caucus, who is muted, who is hidden) and hands
the SFU a frozen ``RoomView``; ``routes`` turns it into the set of allowed
(publisher, source) → subscriber routes. The Router applies the difference between this
set and the consumers it has. Anything not in the set is not forwarded: the answer
when in doubt is "no".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Source = Literal["audio", "video", "screen"]
SOURCES: tuple[Source, ...] = ("audio", "video", "screen")


@dataclass(frozen=True)
class ParticipantView:
    """One participant as the room state sees it right now."""

    participant_id: str
    """Stable id of the seat; survives reconnection."""
    name: str
    """Display name (goes to the transcription tap)."""
    role: str
    """Room role: mediator, party, representative, expert, clerk, observer."""
    caucus_id: str | None = None
    """The caucus the participant is in; None for the joint session."""
    hidden: bool = False
    """Hidden observers receive but are never routed to anyone."""
    can_publish: bool = True
    """Grant: may send media at all."""
    can_subscribe: bool = True
    """Grant: may receive media at all."""
    muted_sources: frozenset[str] = field(default_factory=frozenset)
    """Sources ("audio", "video", "screen") the mediator has muted: forwarded to nobody."""
    present: bool = True
    """In the room now; False while away (nothing is routed to or from them)."""
    consented: bool = True
    """Agreed to be recorded: without it, none of their audio is archived."""
    audio_only: bool = False
    """On a weak line: only audio is routed to or from them (video and screen paused)."""


@dataclass(frozen=True)
class RoomView:
    """The room state routing depends on: a session and its participants."""

    session_id: str
    """The session (one Router per session)."""
    participants: tuple[ParticipantView, ...] = ()
    """Everyone with a seat, present or not."""
    recording: bool = False
    """The session's recording switch: when on, consenting speakers' audio is archived."""
    version: int = 0
    """The room's layout version this view was taken at; the router never applies a view
    older than the one it has (snapshots may arrive out of order)."""

    def participant(self, participant_id: str) -> ParticipantView | None:
        """The participant with this id, or None."""
        for p in self.participants:
            if p.participant_id == participant_id:
                return p
        return None


@dataclass(frozen=True, order=True)
class Route:
    """One allowed forward: a publisher's source reaches one subscriber."""

    publisher_id: str
    """Participant whose track is forwarded."""
    source: str
    """"audio", "video" or "screen"."""
    subscriber_id: str
    """Participant who receives it."""


def may_publish(p: ParticipantView, source: str) -> bool:
    """Whether anything of ``p``'s ``source`` may be forwarded to anyone."""
    return p.present and p.can_publish and not p.hidden and source not in p.muted_sources


def may_receive(publisher: ParticipantView, subscriber: ParticipantView) -> bool:
    """Whether ``subscriber`` may receive ``publisher``'s tracks at all.

    The same space only: both in the joint session (caucus None) or both in the same
    caucus. A mediator who moves into a caucus is a member of it like anyone else.
    """
    return (
        subscriber.present
        and subscriber.can_subscribe
        and subscriber.participant_id != publisher.participant_id
        and subscriber.caucus_id == publisher.caucus_id
    )


def routes(view: RoomView) -> frozenset[Route]:
    """Every allowed route in ``view``; nothing else may be forwarded."""
    out: set[Route] = set()
    for pub in view.participants:
        for source in SOURCES:
            if not may_publish(pub, source):
                continue
            for sub in view.participants:
                if source != "audio" and (pub.audio_only or sub.audio_only):
                    continue  # a weak line: its video is paused both ways
                if may_receive(pub, sub):
                    out.add(Route(pub.participant_id, source, sub.participant_id))
    return frozenset(out)
