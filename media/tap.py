"""The transcription tap: decoded audio leaving the SFU, one chunk at a time.

This is the contract between ``media`` (which decodes each publisher's audio once)
and ``transcription`` (which consumes it). Only these two types cross the line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

TAP_SAMPLE_RATE = 16_000
"""Every tap chunk is mono PCM at this rate."""


@dataclass(frozen=True)
class Speaker:
    """Who a track belongs to, as the room knows them."""

    participant_id: str
    """The participant whose track carried the audio."""
    name: str
    """Display name shown on captions."""
    role: str
    """Room role: mediator, party, representative, expert, clerk, observer."""


@dataclass(frozen=True)
class TapStamp:
    """Where a publisher's audio is heard right now, as routing decided it.

    The router stamps every audio producer on each reconcile; each frame carries the
    stamp current when it ARRIVED, so that a caption of it is attributed and delivered by
    what was true when it was spoken, never by a later state (a caucus that ended, a
    person moved in). A producer with no stamp is not tapped at all: no publish grant, a
    mute, the lobby, a removed seat or an ended session mean no captions.
    """

    speaker: Speaker
    """The participant whose track carries the audio."""
    caucus_id: str | None
    """The space the speaker is in; None for the joint session."""
    heard_by: frozenset[str]
    """Participants routing lets hear this audio (the speaker not included)."""
    version: int = 0
    """The room layout version the stamp was derived from."""


@dataclass(frozen=True)
class TapChunk:
    """A short run of one participant's decoded audio, 16 kHz mono int16."""

    session_id: str
    """The session (room) the audio was spoken in."""
    speaker: Speaker
    """The participant whose track carried it."""
    caucus_id: str | None
    """The caucus the speaker was in when it was spoken; None for the joint session."""
    samples: npt.NDArray[np.int16]
    """Mono samples at ``TAP_SAMPLE_RATE``."""
    start: float
    """Seconds since the session's tap clock started (monotonic), of the first sample."""
    heard_by: frozenset[str] = frozenset()
    """Who routing let hear these samples when they arrived (the speaker not included).
    Captions of them reach at most these people (and the speaker)."""


class TapSink(Protocol):
    """Anything that accepts tap chunks. ``push`` must not block the event loop."""

    def push(self, chunk: TapChunk) -> None: ...

    def end_of_stream(self, session_id: str, participant_id: str) -> None:
        """The participant's audio stopped reaching the tap (track ended, muted, sent to
        the lobby, removed, session ended): close the open utterance."""
        ...
