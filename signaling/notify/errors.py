"""Notification errors: a message could not be delivered, and whether to try again."""

from __future__ import annotations

from signaling.errors import TiaojieError


class NotifyError(TiaojieError):
    """A message was not delivered. ``retryable`` says whether sending it again may work
    (a gateway that timed out or throttled us) or not (a refused credential, a bad number).

    The message never carries the text, the code or the recipient in full: it reaches the
    person who asked, and logs."""

    code = "notify_failed"
    status = 502

    def __init__(self, message: str, *, code: str | None = None, retryable: bool = False,
                 status: int | None = None) -> None:
        super().__init__(message, code=code, status=status)
        self.retryable = retryable

    def to_dict(self) -> dict[str, object]:
        body = dict(super().to_dict())
        body["retryable"] = self.retryable
        return body


class ChannelUnavailable(NotifyError):
    """This server has no sender for that kind of address (a phone with e-mail only)."""

    code = "channel_unavailable"
    status = 409


class RecipientInvalid(NotifyError):
    """The address is not a mobile number or an e-mail address we can send to."""

    code = "recipient_invalid"
    status = 400


class GatewayRefused(NotifyError):
    """The gateway answered with a refusal (credentials, template, number, quota)."""

    code = "gateway_refused"


class GatewayUnavailable(NotifyError):
    """The gateway could not be reached or failed; worth retrying later."""

    code = "gateway_unavailable"
    status = 503

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message, code=code, retryable=True)
