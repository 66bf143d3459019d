"""Errors of the expert service: each has a stable ``code``, a human message and a status.

They derive from signaling's ``TiaojieError`` so that the HTTP middleware and the Socket.IO
acknowledgements render them like every other refusal.
"""

from __future__ import annotations

from signaling.errors import TiaojieError


class ExpertError(TiaojieError):
    """Base of every experts/ error."""

    code = "expert_error"
    status = 400


class AlreadyTaken(ExpertError):
    """Another expert won this call first; not worth retrying."""

    code = "already_taken"
    status = 409

    def __init__(self) -> None:
        super().__init__("Another expert has already taken this call.")


class CallClosed(ExpertError):
    """The call is no longer in a state that allows this (expired, cancelled, ended)."""

    code = "call_closed"
    status = 409


class CallNotFound(ExpertError):
    code = "call_not_found"
    status = 404

    def __init__(self) -> None:
        super().__init__("No such expert call.")


class ExpertNotFound(ExpertError):
    code = "expert_not_found"
    status = 404

    def __init__(self) -> None:
        super().__init__("No such expert.")


class NotRung(ExpertError):
    """The expert was never rung for this call, so cannot answer it."""

    code = "not_rung"
    status = 403

    def __init__(self) -> None:
        super().__init__("This call was not offered to you.")


class ExpertBusy(ExpertError):
    code = "expert_busy"
    status = 409
    retryable = True

    def __init__(self) -> None:
        super().__init__("You are already helping in another session.")


class NotExpert(ExpertError):
    code = "not_expert"
    status = 403

    def __init__(self) -> None:
        super().__init__("Only an expert with a profile may do this.")


class ScopeInvalid(ExpertError):
    code = "scope_invalid"
    status = 400
