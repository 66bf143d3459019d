"""The door from signaling to the media layer (the SFU), as signaling needs it.

Signaling relays WebRTC messages and tells the media layer the room's state; it never
touches peer connections itself. The SFU in ``media`` implements this in-process in
embedded mode; ``NoMedia`` answers when media is switched off.
"""

from __future__ import annotations

from typing import Any, Protocol

from signaling.errors import TiaojieError
from signaling.rooms.room import Room


class MediaPort(Protocol):
    """What signaling asks of the media layer."""

    async def handle_signal(self, session_id: str, participant_id: str,
                            message: dict[str, Any]) -> dict[str, Any] | None:
        """Apply an offer/answer/candidate/restart from a participant; answer an offer."""
        ...

    async def update_room(self, room: Room) -> None:
        """The room's layout, mutes or membership changed: re-derive the routes."""
        ...

    async def remove_participant(self, session_id: str, participant_id: str) -> None: ...

    def ice_servers_for(self, participant_id: str) -> list[dict[str, Any]]: ...

    def client_config(self, participant_id: str) -> dict[str, Any]:
        """The browser's RTCConfiguration (iceServers with minted TURN credentials, policy)."""
        ...

    async def close(self) -> None: ...


class NoMedia:
    """Media switched off (or not placed on this node): every request gets a clear error."""

    async def handle_signal(self, session_id: str, participant_id: str,
                            message: dict[str, Any]) -> dict[str, Any] | None:
        raise TiaojieError("Audio and video are not available on this server.",
                           code="media_unavailable", status=503)

    async def update_room(self, room: Room) -> None:
        return None

    async def remove_participant(self, session_id: str, participant_id: str) -> None:
        return None

    def ice_servers_for(self, participant_id: str) -> list[dict[str, Any]]:
        return []

    def client_config(self, participant_id: str) -> dict[str, Any]:
        return {"iceServers": [], "iceTransportPolicy": "all", "media": False}

    async def close(self) -> None:
        return None
