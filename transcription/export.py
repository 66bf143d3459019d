"""Transcript exports: pure functions from final utterances to text, SRT, WebVTT and JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence

from .utterance import Caption


def _ordered(utterances: Sequence[Caption]) -> list[Caption]:
    """Final utterances in time order; partial captions are never part of a transcript."""
    return sorted((u for u in utterances if u.final), key=lambda u: (u.start, u.end))


def _clock(seconds: float, sep: str) -> str:
    ms = max(0, round(seconds * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _one_line(text: str) -> str:
    """Cue text must not contain a blank line (it would end the cue early)."""
    return " ".join(text.split())


def to_text(utterances: Sequence[Caption]) -> str:
    """``[00:01:02] Name: text`` lines, the form clerks paste into the record."""
    lines = [f"[{_clock(u.start, '.')[:8]}] {u.speaker.name}: {_one_line(u.text)}"
             for u in _ordered(utterances)]
    return "\n".join(lines) + ("\n" if lines else "")


def to_srt(utterances: Sequence[Caption]) -> str:
    """SubRip: numbered cues, comma before milliseconds, speaker name in front."""
    cues = [f"{i}\n{_clock(u.start, ',')} --> {_clock(u.end, ',')}\n"
            f"{u.speaker.name}: {_one_line(u.text)}\n"
            for i, u in enumerate(_ordered(utterances), 1)]
    return "\n".join(cues)


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_webvtt(utterances: Sequence[Caption]) -> str:
    """WebVTT with a ``<v Speaker>`` voice span per cue, so players can style speakers."""
    cues = [f"{u.utterance_id}\n{_clock(u.start, '.')} --> {_clock(u.end, '.')}\n"
            f"<v {_vtt_escape(u.speaker.name)}>{_vtt_escape(_one_line(u.text))}\n"
            for u in _ordered(utterances)]
    return "WEBVTT\n\n" + "\n".join(cues)


def to_json(utterances: Sequence[Caption]) -> str:
    """Every stored field of each final utterance, as a JSON list."""
    return json.dumps([u.to_record() for u in _ordered(utterances)], ensure_ascii=False,
                      indent=2)
