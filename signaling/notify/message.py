"""What is sent: a ``Message`` for one recipient, with the gateway template's parameters,
a plain-text rendering, and optional attachments (an .ics invitation, a sealed PDF).

Real SMS gateways in China only send pre-approved templates: a message names its
``purpose`` (the template key), and the parameters fill the template the operator
registered for it. The plain text is what e-mail and the development outbox carry, and
what the template should say.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from .errors import RecipientInvalid

Purpose = Literal["signing_code", "document_copy", "session_invite", "session_reminder",
                  "deadline_reminder", "application_code", "application_decision",
                 "return_visit_due"]
"""The kinds of message the service sends; each maps to one gateway template."""
PURPOSES: tuple[Purpose, ...] = ("signing_code", "document_copy", "session_invite",
                                 "session_reminder", "deadline_reminder", "application_code",
                                 "application_decision", "return_visit_due")

Channel = Literal["sms", "email"]

# Mainland mobile numbers, optionally written with +86 / 0086 and spaces or dashes.
_MOBILE = re.compile(r"^(?:\+?86|0086)?(1[3-9]\d{9})$")
# Deliberately plain: one @, no spaces, a dot in the domain. The server that receives it
# is the real judge; this only keeps obvious mistakes from reaching a gateway.
_EMAIL = re.compile(r"^[^@\s<>\"]{1,64}@[A-Za-z0-9.-]{1,190}\.[A-Za-z]{2,24}$")
SECRET_PARAMS = frozenset({"code"})
"""Parameters that must never be written anywhere but to the recipient."""


def normalise_mobile(value: str) -> str | None:
    """The 11-digit mainland mobile number in ``value``, or None."""
    m = _MOBILE.match(re.sub(r"[\s-]", "", value or ""))
    return m.group(1) if m else None


def is_email(value: str) -> bool:
    return bool(_EMAIL.match(value or ""))


def channel_of(recipient: str) -> Channel:
    """Which channel reaches ``recipient``; ``RecipientInvalid`` when neither does."""
    if normalise_mobile(recipient):
        return "sms"
    if is_email(recipient):
        return "email"
    raise RecipientInvalid("The recipient is neither a mainland mobile number nor an e-mail "
                           "address.")


def mask_recipient(recipient: str) -> str:
    """What may be shown or logged of an address: a phone's last four digits, an e-mail's
    first character and domain."""
    mobile = normalise_mobile(recipient)
    if mobile:
        return "*" * 7 + mobile[-4:]
    if "@" in recipient:
        local, _, domain = recipient.partition("@")
        return (local[:1] or "*") + "***@" + domain
    return "***"


@dataclass(frozen=True)
class Attachment:
    """A file sent with an e-mail (SMS gateways carry none; they get a link instead)."""

    filename: str
    """The name the recipient sees, e.g. "invite.ics" or "调解协议书.pdf"."""
    content_type: str
    """MIME type, e.g. "text/calendar" or "application/pdf"."""
    data: bytes
    """The file's bytes."""


@dataclass(frozen=True)
class Message:
    """One message to one recipient."""

    purpose: Purpose
    """The template key; settings map it to the gateway's template id."""
    to: str
    """A mainland mobile number or an e-mail address."""
    params: tuple[tuple[str, str], ...]
    """Template parameters in the template's order (Tencent numbers them, Aliyun names them)."""
    text: str
    """The message as plain text, in the recipient's language."""
    subject: str = ""
    """The e-mail subject (unused by SMS)."""
    attachments: tuple[Attachment, ...] = ()
    """Files for e-mail."""
    reference: str = ""
    """Our own id for this message (ceremony id, document id): gateways echo it back."""
    meta: dict[str, str] = field(default_factory=dict, compare=False)
    """Routing hints a sender may use (e.g. a signer id for the outbox file name)."""

    @property
    def channel(self) -> Channel:
        return channel_of(self.to)

    def param(self, name: str) -> str:
        for key, value in self.params:
            if key == name:
                return value
        raise KeyError(name)

    def describe(self) -> str:
        """A line safe for logs: purpose, masked recipient, parameter names only."""
        names = ",".join(k for k, _ in self.params)
        return f"{self.purpose} to {mask_recipient(self.to)} params=[{names}]"


@dataclass(frozen=True)
class Receipt:
    """What a gateway said when it accepted a message."""

    sender: str
    """Which sender delivered it: outbox, aliyun, tencent or smtp."""
    gateway_id: str = ""
    """The gateway's own id for the message (BizId, SerialNo, Message-ID), for support."""
