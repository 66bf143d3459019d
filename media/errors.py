"""Errors the SFU reports to one participant, each with a stable code.

The signaling edge maps them to an ack ``{"ok": false, "error": {"code", "message"}}``.
``retryable`` says whether sending the same request again later can succeed.
"""

from __future__ import annotations


class MediaError(Exception):
    """Base class: something one participant asked for could not be done."""

    code = "media_error"
    retryable = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_dict(self) -> dict[str, object]:
        """The shape the signaling layer sends back to the participant."""
        return {"code": self.code, "message": self.message, "retryable": self.retryable}


class BadMessage(MediaError):
    """The signaling message is not one of the shapes the SFU understands."""

    code = "bad_message"


class BadSdp(MediaError):
    """The SDP could not be parsed or applied; the participant's other state is kept."""

    code = "bad_sdp"


class UnknownParticipant(MediaError):
    """The session or participant is not in the room view the SFU was given."""

    code = "unknown_participant"


class CodecNotForwardable(MediaError):
    """A track uses a codec the SFU cannot forward without transcoding."""

    code = "codec_not_forwardable"


class NegotiationCollision(MediaError):
    """The participant offered while the server's own offer was outstanding (glare).

    Answer the server's offer first, then offer again.
    """

    code = "glare"
    retryable = True


class WrongState(MediaError):
    """An answer arrived with no offer outstanding, or similar out-of-order input."""

    code = "wrong_state"


class SeamsMissing(MediaError):
    """The installed aiortc no longer has the private names the SFU relies on."""

    code = "aiortc_seams_missing"
