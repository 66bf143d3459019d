"""Transcription of a whole recording (an in-person session uploaded by a clerk)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .asr import join_text, to_simplified
from .diarization import Audio, Diarizer, Turn, diarizer_for
from .models import TranscriptionConfig, load


@dataclass(frozen=True)
class Line:
    """One speaker's consecutive words in a recording's transcript."""

    speaker: str
    """Cluster label ("SPEAKER_00") or enrolled name."""
    start: float
    """Seconds from the start of the recording."""
    end: float
    """Seconds from the start of the recording."""
    text: str
    """The words."""

    def to_dict(self) -> dict[str, object]:
        """The ``--json`` form: ``{speaker, start, end, text}``."""
        return {"speaker": self.speaker, "start": round(self.start, 2),
                "end": round(self.end, 2), "text": self.text}


def _speaker_at(turns: list[Turn], start: float, end: float) -> str | None:
    """The turn overlapping [start, end] most; the nearest turn when none overlaps."""
    if not turns:
        return None
    overlaps = [max(0.0, min(end, t.end) - max(start, t.start)) for t in turns]
    best = int(np.argmax(overlaps))
    if overlaps[best] > 0:
        return turns[best].speaker
    mid = (start + end) / 2
    return min(turns, key=lambda t: min(abs(mid - t.start), abs(mid - t.end))).speaker


def transcribe_recording(audio: Audio, config: TranscriptionConfig, language: str | None = None,
                         speakers: int | None = None, diarizer: Diarizer | None = None,
                         enrollment: Mapping[str, Audio] | None = None) -> list[Line]:
    """Speaker-attributed lines: one Whisper pass with word times, words given to turns."""
    lang = language or config.language
    _spec, model = load(config, lang)
    if speakers == 1 and not enrollment:
        turns: list[Turn] = []
    else:
        turns = (diarizer or diarizer_for(config.pyannote_dir)).diarize(audio, speakers,
                                                                    enrollment)
    segments, _ = model.transcribe(
        audio, language=lang, beam_size=config.beam_size, vad_filter=True,
        word_timestamps=True, condition_on_previous_text=False)
    lines: list[Line] = []
    words: list[str] = []
    cur: tuple[str, float, float] | None = None
    for seg in segments:
        for w in seg.words or []:
            who = _speaker_at(turns, w.start, w.end) or "SPEAKER_00"
            if cur is not None and who != cur[0]:
                lines.append(Line(cur[0], cur[1], cur[2], join_text(words, lang)))
                words, cur = [], None
            text = to_simplified(w.word) if lang == "zh" else w.word
            words.append(text if lang == "zh" else text.strip())
            cur = (who, cur[1] if cur else float(w.start), float(w.end))
    if cur is not None and words:
        lines.append(Line(cur[0], cur[1], cur[2], join_text(words, lang)))
    return lines


def to_rttm(turns: list[Turn], uri: str) -> str:
    """RTTM lines (``SPEAKER uri 1 start duration <NA> <NA> speaker <NA> <NA>``)."""
    safe = uri.replace(" ", "_")
    return "".join(f"SPEAKER {safe} 1 {t.start:.3f} {t.end - t.start:.3f} <NA> <NA> "
                   f"{t.speaker.replace(' ', '_')} <NA> <NA>\n" for t in turns)
