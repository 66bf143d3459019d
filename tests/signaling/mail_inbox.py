"""A local SMTP server's inbox (aiosmtpd): the e-mail sender's real counterpart in tests."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from typing import Any


class Inbox:
    """An aiosmtpd handler that keeps every message it accepts, parsed."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 OK"
