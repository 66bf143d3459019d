"""What crosses the package line: a caption (partial or final) of one utterance.

``Utterance`` is the same object as ``Caption``: a final caption is the utterance the
transcript stores; partial captions carry the same ``utterance_id`` and are replaced by
the final one on screen.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from media.tap import Speaker


@dataclass(frozen=True)
class Caption:
    """The text of one utterance by one speaker, as known at one moment."""

    utterance_id: str
    """Stable id: partials and the final caption of one utterance share it."""
    session_id: str
    """The session (room) it was spoken in."""
    speaker: Speaker
    """Who spoke: the track's participant, or a diarized voice of a shared device."""
    caucus_id: str | None
    """The caucus it was spoken in; None for the joint session. Decides who may see it."""
    start: float
    """Start, in seconds on the session's tap clock."""
    end: float
    """End, in seconds on the session's tap clock."""
    text: str
    """The words; Chinese is converted to simplified characters."""
    final: bool
    """False for a live partial caption, True for the utterance the transcript keeps."""
    model: str
    """The speech model that wrote it (e.g. "base", "tiny.en", "local:large-v3")."""
    confidence: float
    """exp(mean token log-probability), 0..1; low values mark text a clerk should check."""
    language: str
    """The language it was transcribed in ("zh", "en")."""
    voice: str | None = None
    """For a shared device: the diarized voice label ("1", "2") or enrolled name; else None."""
    heard_at: float | None = None
    """When its first audio reached the server, on the tap clock (``start`` is media
    time). Routing decides who hears audio as it arrives, so this is the moment that
    fixed ``caucus_id`` and ``heard_by``. None where unknown (stored utterances)."""
    heard_by: frozenset[str] = frozenset()
    """Who routing let hear the audio when it was spoken (the speaker not included). A
    live caption reaches at most these people and the speaker, and only those of them
    still in that space: it never widens who learns what was said. Not stored: the
    transcript's readers are decided by ``caucus_id``."""
    source: str = "live"
    """"live": the caption people saw; "record": the second pass, decoded again in idle
    time with beam search and the neighbouring utterances as context, which becomes the
    record's text (never sent to the room, stored as a new version)."""

    def to_event(self) -> dict[str, Any]:
        """The Socket.IO ``caption`` payload."""
        return {
            "utterance_id": self.utterance_id,
            "speaker": {
                "participant_id": self.speaker.participant_id,
                "name": self.speaker.name,
                "role": self.speaker.role,
            },
            "caucus": self.caucus_id,
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "text": self.text,
            "final": self.final,
            "heard_at": None if self.heard_at is None else round(self.heard_at, 3),
        }

    def to_record(self) -> dict[str, Any]:
        """Every field, JSON-ready: what the transcript store persists."""
        event = self.to_event()
        event.update(session_id=self.session_id, model=self.model,
                     confidence=round(self.confidence, 4), language=self.language,
                     voice=self.voice)
        return event

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Caption:
        """Inverse of ``to_record`` (used by the Redis queue and stores)."""
        spk = record["speaker"]
        return cls(utterance_id=record["utterance_id"], session_id=record["session_id"],
                   speaker=Speaker(spk["participant_id"], spk["name"], spk["role"]),
                   caucus_id=record.get("caucus"), start=float(record["start"]),
                   end=float(record["end"]), text=record["text"], final=bool(record["final"]),
                   model=record["model"], confidence=float(record["confidence"]),
                   language=record["language"], voice=record.get("voice"))


Utterance = Caption
"""A final caption is an utterance of the transcript."""


def audience(caption: Caption, caucus_of: Mapping[str, str | None],
             mediators: Iterable[str]) -> set[str]:
    """Participant ids allowed to receive ``caption``.

    ``caucus_of`` maps each participant in the session to the caucus they are in (None
    for the joint session). A joint-session caption goes to everyone; a caucus caption
    only to that caucus's members and the mediators, never to the other side. When in
    doubt (a caucus nobody is known to be in) the answer is the mediators alone.
    """
    mediator_ids = set(mediators)
    if caption.caucus_id is None:
        return set(caucus_of) | mediator_ids
    members = {pid for pid, caucus in caucus_of.items() if caucus == caption.caucus_id}
    return members | mediator_ids


def in_joint_record(caption: Caption) -> bool:
    """Caucus utterances stay out of the joint record (the mediator may add a summary)."""
    return caption.final and caption.caucus_id is None
