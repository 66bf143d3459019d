"""Room state: who is waiting, who is in, who is in which caucus; stored locally or in Redis."""

from signaling.rooms.room import Caucus, Member, Room
from signaling.rooms.store import LocalRoomStore, RedisRoomStore, RoomStore

__all__ = ["Caucus", "LocalRoomStore", "Member", "RedisRoomStore", "Room", "RoomStore"]
