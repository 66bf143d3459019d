"""Signaling errors: each carries a stable ``code``, a human ``message`` and an HTTP status."""

from __future__ import annotations

from typing import Any


class TiaojieError(Exception):
    """Base of every error that reaches a client as ``{"error": {"code", "message"}}``."""

    code = "error"
    status = 400
    retryable = False

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None,
                 details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            body["details"] = self.details
        return body


class BadRequest(TiaojieError):
    code = "bad_request"
    status = 400


class Unauthorized(TiaojieError):
    code = "unauthorized"
    status = 401


class Forbidden(TiaojieError):
    code = "forbidden"
    status = 403


class NotFound(TiaojieError):
    code = "not_found"
    status = 404


class Conflict(TiaojieError):
    code = "conflict"
    status = 409


class PayloadTooLarge(TiaojieError):
    code = "payload_too_large"
    status = 413


class RateLimited(TiaojieError):
    code = "rate_limited"
    status = 429
    retryable = True

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class InviteError(Forbidden):
    """A join link that cannot be used; ``code`` says why."""


def invite_invalid() -> InviteError:
    return InviteError("This join link is not valid.", code="invite_invalid", status=403)


def invite_expired() -> InviteError:
    return InviteError("This join link has expired; ask the mediator for a new one.",
                       code="invite_expired", status=403)


def invite_revoked() -> InviteError:
    return InviteError("This join link was withdrawn by the mediator.", code="invite_revoked",
                       status=403)


def invite_used_up() -> InviteError:
    return InviteError("This join link has already been used the allowed number of times.",
                       code="invite_used_up", status=403)
