"""Notifications: messages to a phone (SMS) or an e-mail address, through the sender the
settings choose (Aliyun SMS, Tencent Cloud SMS, SMTP, or the development outbox).

Used for signing codes, copies of sealed documents, session invitations and reminders.
"""

from .errors import (
    ChannelUnavailable,
    GatewayRefused,
    GatewayUnavailable,
    NotifyError,
    RecipientInvalid,
)
from .message import (
    PURPOSES,
    Attachment,
    Channel,
    Message,
    Purpose,
    Receipt,
    channel_of,
    is_email,
    mask_recipient,
    normalise_mobile,
)
from .notifier import Dispatcher, Notifier, build_notifier
from .outbox import OutboxNotifier
from .texts import PARAMS, compose

__all__ = [
    "PARAMS",
    "PURPOSES",
    "Attachment",
    "Channel",
    "ChannelUnavailable",
    "Dispatcher",
    "GatewayRefused",
    "GatewayUnavailable",
    "Message",
    "Notifier",
    "NotifyError",
    "OutboxNotifier",
    "Purpose",
    "Receipt",
    "RecipientInvalid",
    "build_notifier",
    "channel_of",
    "compose",
    "is_email",
    "mask_recipient",
    "normalise_mobile",
]
