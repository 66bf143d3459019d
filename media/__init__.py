"""Media: the SFU that forwards encoded audio and video between participants."""

from .config import MediaConfig
from .errors import MediaError
from .routing import ParticipantView, RoomView, Route, routes
from .sfu import SFU, SfuStats

__all__ = [
    "SFU",
    "MediaConfig",
    "MediaError",
    "ParticipantView",
    "RoomView",
    "Route",
    "SfuStats",
    "routes",
]
