"""Live transcription, diarization and transcripts for Tiaojie sessions.

The server constructs one ``TranscriptionPipeline`` per process and hands it to the
SFU as its ``TapSink``; see ``docs/benchmarks/transcription.md`` for the figures.
"""

from .diarization import Diarizer, EmbeddedDiarizer, OnlineVoices, PyannoteDiarizer, Turn
from .errors import (
    AudioDecodeError,
    DiarizerNotConfigured,
    DiarizerUnavailable,
    LanguageNotSupported,
    ModelCorrupt,
    ModelNotFound,
    TranscriptionError,
)
from .export import to_json, to_srt, to_text, to_webvtt
from .models import ModelSpec, TranscriptionConfig, load, resolve
from .pipeline import TranscriptionPipeline
from .utterance import Caption, Utterance, audience, in_joint_record

__all__ = [
    "AudioDecodeError", "Caption", "Diarizer", "DiarizerNotConfigured", "DiarizerUnavailable",
    "EmbeddedDiarizer", "LanguageNotSupported", "ModelCorrupt", "ModelNotFound", "ModelSpec",
    "OnlineVoices", "PyannoteDiarizer", "TranscriptionConfig", "TranscriptionError",
    "TranscriptionPipeline", "Turn", "Utterance", "audience", "in_joint_record", "load",
    "resolve", "to_json", "to_srt", "to_text", "to_webvtt",
]
