"""The library's refusals at the server's edges: a ``DocumentError`` becomes a
``TiaojieError`` with the same stable code, so the Socket.IO ack and the HTTP body
both read ``{"code", "message", ...}`` and the HTTP status follows the kind of refusal.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from signaling.errors import TiaojieError

from .errors import DocumentError

_STATUS: dict[str, int] = {
    "draft_not_found": 404,
    "version_conflict": 409,
    "version_superseded": 409,
    "already_signed": 409,
    "ceremony_incomplete": 409,
    "esign_not_applicable": 409,
    "signer_locked": 423,
    "code_invalid": 403,
    "code_expired": 403,
    "code_not_sent": 409,
    "not_a_signer": 403,
    "digest_mismatch": 409,
    "template_rejected": 422,
    "template_unsafe": 422,
    "libreoffice_missing": 503,
    "conversion_failed": 503,
    "seal_key_unavailable": 503,
}


class DocumentRefused(TiaojieError):
    """A documents-library refusal as the edges send it; keeps ``retryable`` and any
    ``problems`` (a rejected template's list)."""

    def __init__(self, err: DocumentError) -> None:
        body = err.to_dict()
        extra = {k: v for k, v in body.items() if k not in ("code", "message")}
        super().__init__(err.message, code=err.code, status=_STATUS.get(err.code, 400))
        self.retryable = err.retryable
        self._extra = extra

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out.update(self._extra)
        return out


@contextmanager
def refusals_as_edge_errors() -> Iterator[None]:
    """Translate library errors raised inside the block (and ``ValueError`` /
    ``TypeError`` from bad input, which the library uses for bad arguments)."""
    try:
        yield
    except DocumentError as err:
        raise DocumentRefused(err) from err
    except (ValueError, TypeError) as err:
        raise TiaojieError(str(err)[:300], code="invalid_payload", status=400) from err
