"""The in-process SFU behind the MediaPort: room state in, media errors out as codes."""

from __future__ import annotations

import logging
from typing import Any

from media.archive import ArchiveSink
from media.config import MediaConfig
from media.errors import MediaError
from media.routing import ParticipantView, RoomView
from media.sfu import SFU
from media.tap import TapSink
from signaling.errors import TiaojieError
from signaling.rooms.room import Room
from signaling.settings import Settings

log = logging.getLogger("tiaojie.media")


def room_view(room: Room) -> RoomView:
    """What the media router needs of the room: who is present, where, with which grants."""
    return RoomView(
        session_id=room.session_id,
        participants=tuple(
            ParticipantView(
                participant_id=m.participant_id, name=m.name, role=m.role,
                caucus_id=m.caucus_id, hidden=m.grants.hidden,
                can_publish=m.grants.can_publish, can_subscribe=m.grants.can_subscribe,
                muted_sources=frozenset(m.muted_sources)
                | (frozenset({"audio", "video", "screen"}) - m.grants.can_publish_sources)
                | (frozenset() if m.sharing else frozenset({"screen"})),
                present=m.state == "room" and not room.ended,
                consented=m.consented,
                audio_only=m.audio_only,
            )
            for m in room.members.values()
        ),
        recording=room.recording and not room.ended,
        version=room.layout_version,
    )


def media_config(settings: Settings) -> MediaConfig:
    stun = [u for s in settings.ice_servers for u in _urls(s) if u.startswith("stun")]
    return MediaConfig(
        announced_addresses=list(settings.announced_addresses), ice_servers=[],
        client_stun_urls=stun, turn_urls=list(settings.turn_urls),
        turn_secret=settings.turn_secret or None, turn_ttl=settings.turn_ttl_s,
        relay_only=settings.relay_only, reconnect_grace=settings.reconnect_grace_s,
    )


def _urls(server: dict[str, Any]) -> list[str]:
    urls = server.get("urls", [])
    return [urls] if isinstance(urls, str) else list(urls)


class LocalMedia:
    """MediaPort over an SFU in this process (the embedded mode)."""

    def __init__(self, sfu: SFU) -> None:
        self.sfu = sfu

    @classmethod
    def create(cls, settings: Settings, send: Any, tap: TapSink | None,
               archive: ArchiveSink | None = None) -> LocalMedia:
        return cls(SFU(send=send, tap=tap, config=media_config(settings), archive=archive))

    async def handle_signal(self, session_id: str, participant_id: str,
                            message: dict[str, Any]) -> dict[str, Any] | None:
        try:
            return await self.sfu.handle_signal(session_id, participant_id, message)
        except MediaError as err:
            raise TiaojieError(err.message, code=err.code, status=400) from None

    async def update_room(self, room: Room) -> None:
        await self.sfu.update_room(room_view(room))
        if room.ended:
            await self.sfu.close_session(room.session_id)

    async def remove_participant(self, session_id: str, participant_id: str) -> None:
        await self.sfu.remove_participant(session_id, participant_id)

    def ice_servers_for(self, participant_id: str) -> list[dict[str, Any]]:
        return self.sfu.ice_servers_for(participant_id)

    def client_config(self, participant_id: str) -> dict[str, Any]:
        return self.sfu.client_config(participant_id)

    async def close(self) -> None:
        await self.sfu.close()
