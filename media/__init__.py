"""Media: the SFU that forwards encoded audio and video between participants."""

from .config import MediaConfig
from .errors import MediaError
from .placement import LocalPlacement, NodeInfo, Placement, RedisPlacement
from .routing import ParticipantView, RoomView, Route, routes
from .sfu import SFU, SfuStats

__all__ = [
    "SFU",
    "LocalPlacement",
    "MediaConfig",
    "MediaError",
    "NodeInfo",
    "ParticipantView",
    "Placement",
    "RedisPlacement",
    "RoomView",
    "Route",
    "SfuStats",
    "routes",
]
