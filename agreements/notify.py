"""Delivering one-time signing codes through ``signaling.notify``.

The signing library asks a ``CodeSender`` to deliver each code while it holds the
ceremony's transaction. The server's sender, ``PendingCodes``, only builds the message
there; ``Runtime.run`` hands it to the configured notifier (Aliyun or Tencent SMS, SMTP,
or the development outbox) once the transaction has committed, so a code is never sent
for a state that was rolled back and no network wait holds a database transaction.
``OutboxCodeSender`` writes straight to the outbox, for the library's demo and tests.
Nothing here logs a code.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from signaling.notify import Message, OutboxNotifier, compose, normalise_mobile

from .ceremony import Signer
from .errors import SigningRefused


class CodeSender(Protocol):
    """Delivers a one-time code to a signer (SMS, e-mail, or an outbox in embedded mode)."""

    def send(self, signer: Signer, code: str, expires_at: datetime) -> None:
        """Deliver ``code``; raise to report that it could not be delivered."""


def code_message(signer: Signer, code: str, expires_at: datetime, *,
                 now: datetime | None = None, reference: str = "",
                 require_contact: bool = True) -> Message:
    """The ``signing_code`` message to the signer's confirmed contact."""
    if not signer.contact and require_contact:
        raise SigningRefused(
            f"{signer.name} has no confirmed phone number or e-mail to send a code to",
            code="no_contact")
    contact = normalise_mobile(signer.contact or "") or signer.contact or ""
    minutes = max(1, math.ceil(((expires_at - (now or datetime.now(UTC))).total_seconds()) / 60))
    return compose("signing_code", contact, {"code": code, "minutes": minutes},
                   reference=reference, meta={"signer_id": signer.signer_id})


class PendingCodes:
    """A ``CodeSender`` that keeps the messages for delivery after the commit."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    def send(self, signer: Signer, code: str, expires_at: datetime) -> None:
        self.messages.append(code_message(signer, code, expires_at))


class OutboxCodeSender:
    """Writes each code to the outbox directory at once (owner-only files): the library's
    demo and tests, where no notifier runs."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._outbox = OutboxNotifier(directory)

    def send(self, signer: Signer, code: str, expires_at: datetime) -> None:
        # The demo's record names no phone for its staff: the outbox keeps the code anyway.
        self._outbox.write(code_message(signer, code, expires_at, require_contact=False))

    def last_code(self, signer_id: str) -> str | None:
        """The newest code sent to ``signer_id`` (for the demo and tests)."""
        for message in reversed(self._outbox.messages()):
            if message.get("meta", {}).get("signer_id") == signer_id and "code" in message:
                return str(message["code"])
        return None
