"""Screen sharing and audio-only seats: who may share, who is sharing, whose video pauses.

The mediator shares their screen by right; a party, agent or expert only once the
mediator allows it for their seat (``share_grant``), and revoking stops a share at once.
A share is routed exactly like a camera (media/routing.py): only to the members of the
sharer's space, so a share made in a caucus is seen by that caucus alone. A seat on a
weak line switches to audio only (itself, or the mediator for it): routing then pauses
every video consumer to and from that seat, so the bandwidth really drops.
"""

from __future__ import annotations

from typing import Any

from signaling.context import Services
from signaling.errors import Conflict, Forbidden, NotFound
from signaling.grants import CAMERA_SOURCES, ensure_admin, ensure_screen
from signaling.rooms.room import Member, Room
from signaling.schemas import Id, In

SHAREABLE_ROLES = ("party", "representative", "expert")
"""Seats the mediator may allow to share (the mediator always may; clerks and hidden
observers never do)."""


class ShareGrantIn(In):
    participant_id: Id
    allowed: bool


class ScreenShareIn(In):
    on: bool


class AudioOnlyIn(In):
    on: bool
    participant_id: Id | None = None
    """Someone else's seat (the mediator only); absent: the caller's own."""


async def _room(services: Services, session_id: str) -> Room:
    room = await services.rooms.get(session_id)
    if room is None:
        raise NotFound("No such session.", code="session_not_found")
    return room


def _in_room(m: Member) -> None:
    if m.state != "room":
        raise Forbidden("You are not in the room yet.", code="not_in_room")


async def _changed(services: Services, room: Room) -> None:
    assert services.hub is not None
    await services.hub._after_change(room)


async def share_grant(services: Services, seat: dict[str, Any], p: ShareGrantIn) -> dict[str, Any]:
    """The mediator allows (or stops allowing) one seat to share its screen."""
    room = await _room(services, seat["session_id"])
    me = room.member(seat["participant_id"])
    ensure_admin(me.grants)
    _in_room(me)
    async with services.rooms.edit(room.session_id) as room:
        m = room.member(p.participant_id)
        if m.state != "room":
            raise Conflict(
                "Only a participant in the room can be allowed to share.", code="target_not_in_room"
            )
        if m.role not in SHAREABLE_ROLES or m.grants.hidden:
            raise Conflict("This seat cannot share a screen.", code="cannot_share")
        sources = (CAMERA_SOURCES | {"screen"}) if p.allowed else CAMERA_SOURCES
        m.grants = m.grants.with_changes(can_publish_sources=frozenset(sources))
        stopped = m.sharing and not p.allowed
        if stopped:
            m.sharing = False
        room.layout_version += 1
    assert services.hub is not None
    await services.hub.log_event(
        room.session_id,
        "share.granted" if p.allowed else "share.revoked",
        actor_id=me.participant_id,
        payload={"participant_id": m.participant_id},
    )
    await services.hub.emit_to(
        [m.participant_id], "share_grant", {"allowed": p.allowed, "stopped": stopped}
    )
    await _changed(services, room)
    return {"allowed": p.allowed}


async def screen_share(
    services: Services, seat: dict[str, Any], p: ScreenShareIn
) -> dict[str, Any]:
    """The caller starts or stops sharing (the browser's own "stop sharing" bar ends the
    track; the page then says so here)."""
    async with services.rooms.edit(seat["session_id"]) as room:
        m = room.member(seat["participant_id"])
        _in_room(m)
        if p.on:
            ensure_screen(m.grants)
        changed = m.sharing != p.on
        m.sharing = p.on
        if changed:
            room.layout_version += 1
    if changed:
        assert services.hub is not None
        # Logged in the sharer's space: a share in a caucus stays out of the joint record.
        await services.hub.log_event(
            room.session_id,
            "screen.started" if p.on else "screen.stopped",
            actor_id=m.participant_id,
            caucus_id=m.caucus_id,
        )
        await _changed(services, room)
    return {"sharing": p.on}


async def audio_only(services: Services, seat: dict[str, Any], p: AudioOnlyIn) -> dict[str, Any]:
    """Audio only for a seat on a weak line: its own (anyone admitted) or someone else's
    (the mediator)."""
    target = p.participant_id or seat["participant_id"]
    room = await _room(services, seat["session_id"])
    me = room.member(seat["participant_id"])
    _in_room(me)
    if target != me.participant_id:
        ensure_admin(me.grants)
    async with services.rooms.edit(room.session_id) as room:
        m = room.member(target)
        if m.state != "room":
            raise Conflict(
                "Only a participant in the room can be switched.", code="target_not_in_room"
            )
        changed = m.audio_only != p.on
        m.audio_only = p.on
        if changed:
            room.layout_version += 1
    assert services.hub is not None
    if changed:
        await services.hub.log_event(
            room.session_id,
            "participant.audio_only",
            actor_id=me.participant_id,
            payload={"participant_id": target, "on": p.on},
        )
        await services.hub.emit_to([target], "audio_only", {"on": p.on, "by": me.participant_id})
        await _changed(services, room)
    return {"audio_only": p.on}


def add_events() -> None:
    from signaling.sockets.namespace import register_event

    register_event("share_grant", ShareGrantIn, share_grant)
    register_event("screen_share", ScreenShareIn, screen_share)
    register_event("audio_only", AudioOnlyIn, audio_only)
