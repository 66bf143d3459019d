"""The Socket.IO side of signaling: one namespace, one thin handler per event."""

from signaling.sockets.namespace import EVENTS, RoomNamespace

__all__ = ["EVENTS", "RoomNamespace"]
