"""Grants: what a participant may do in a room, as data (after LiveKit's VideoGrant)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

from signaling.errors import Forbidden

SOURCES = ("audio", "video", "screen")


@dataclass(frozen=True)
class Grants:
    """The permissions of one participant in one session."""

    can_publish: bool = False
    """May send media at all."""
    can_publish_sources: frozenset[str] = field(default_factory=frozenset)
    """Which sources: audio, video, screen."""
    can_subscribe: bool = False
    """May receive the media routing allows."""
    can_chat: bool = False
    """May send chat messages to the space they are in."""
    room_admin: bool = False
    """Mediator powers: admit, deny, mute, remove, caucuses, end."""
    hidden: bool = False
    """Never listed to non-admins and never routed to others (observers)."""
    caucus_scope: str | None = None
    """When set, the participant may only ever be in this caucus (a scoped expert)."""

    def with_changes(self, **changes: Any) -> Grants:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["can_publish_sources"] = sorted(self.can_publish_sources)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Grants:
        d = dict(d)
        d["can_publish_sources"] = frozenset(d.get("can_publish_sources", ()))
        return cls(**d)


ALL_SOURCES = frozenset(SOURCES)
CAMERA_SOURCES = frozenset({"audio", "video"})


def grants_for_role(role: str) -> Grants:
    """The default grants of each room role; every default is spelled out here."""
    if role == "mediator":
        return Grants(can_publish=True, can_publish_sources=ALL_SOURCES, can_subscribe=True,
                      can_chat=True, room_admin=True)
    if role in ("party", "representative", "expert", "interpreter"):
        # A screen only once the mediator allows it, per seat (signaling/screenshare.py).
        return Grants(can_publish=True, can_publish_sources=CAMERA_SOURCES, can_subscribe=True,
                      can_chat=True)
    if role == "clerk":
        return Grants(can_publish=True, can_publish_sources=CAMERA_SOURCES,
                      can_subscribe=True, can_chat=True)
    if role == "observer":
        return Grants(can_subscribe=True, hidden=True)
    raise ValueError(f"unknown role {role!r}")


def ensure_admin(grants: Grants) -> None:
    if not grants.room_admin:
        raise Forbidden("Only the mediator may do this.", code="not_room_admin")


def ensure_chat(grants: Grants) -> None:
    if not grants.can_chat:
        raise Forbidden("You may not send messages in this room.", code="chat_not_allowed")


def ensure_screen(grants: Grants) -> None:
    if not grants.can_publish or "screen" not in grants.can_publish_sources:
        raise Forbidden("The mediator has not allowed you to share your screen.",
                        code="share_not_granted")
