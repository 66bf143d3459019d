"""Errors of the transcription package: one base class, each with a stable ``code``.

The edges (HTTP routes, Socket.IO acks, the CLI) map ``code`` to their own responses;
``retryable`` says whether trying again later can help.
"""

from __future__ import annotations


class TranscriptionError(Exception):
    """Base of every error this package raises on purpose."""

    code: str = "transcription_error"
    retryable: bool = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_dict(self) -> dict[str, str]:
        """The ``{"code", "message"}`` shape the signaling ack and HTTP errors carry."""
        return {"code": self.code, "message": self.message}


class ModelNotFound(TranscriptionError):
    """No speech model could be resolved (no local directory, no packaged model)."""

    code = "model_not_found"


class ModelCorrupt(TranscriptionError):
    """A packaged model's assembled file does not match its published checksum."""

    code = "model_corrupt"


class LanguageNotSupported(TranscriptionError):
    """The session's language cannot be transcribed by any available model."""

    code = "language_not_supported"


class DiarizerNotConfigured(TranscriptionError):
    """The pyannote pipeline was asked for but no local pipeline directory is set."""

    code = "diarizer_not_configured"


class DiarizerUnavailable(TranscriptionError):
    """A diarizer's optional dependency or weights are not installed."""

    code = "diarizer_unavailable"


class AudioDecodeError(TranscriptionError):
    """A recording could not be decoded (not a format PyAV reads, or no audio stream)."""

    code = "audio_decode_error"
