"""The ``Notifier`` protocol every sender implements, the ``Dispatcher`` that picks a
sender by the recipient's channel, and ``build_notifier`` that makes them from settings.

A message is logged as its purpose, the masked recipient and its parameter names, never
its text, its parameters' values (a code) or the full address.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

from signaling.settings import Settings

from .aliyun import AliyunSms
from .errors import ChannelUnavailable, NotifyError, RecipientInvalid
from .message import Channel, Message, Receipt
from .outbox import OutboxNotifier
from .smtp import SmtpSender
from .tencent import TencentSms

log = logging.getLogger("tiaojie.notify")


class Notifier(Protocol):
    """Delivers a ``Message``; raises a ``NotifyError`` when it could not."""

    name: str
    channels: frozenset[Channel]
    """Which kinds of address this sender reaches."""

    async def send(self, message: Message) -> Receipt:
        """Deliver ``message`` or raise ``NotifyError`` (``retryable`` says whether to retry)."""

    async def close(self) -> None:
        """Release connections."""


class Dispatcher:
    """Sends each message through the first sender that reaches its channel."""

    name = "dispatcher"

    def __init__(self, senders: Sequence[Notifier]) -> None:
        self.senders = list(senders)
        self.channels: frozenset[Channel] = frozenset().union(*(s.channels for s in senders))

    def reaches(self, channel: Channel) -> bool:
        return channel in self.channels

    async def send(self, message: Message) -> Receipt:
        try:
            channel: Channel | None = message.channel
        except RecipientInvalid:
            # Only the development outbox takes an address no gateway could reach.
            if not any(s.name == "outbox" for s in self.senders):
                raise
            channel = None
        for sender in self.senders:
            if channel in sender.channels or (channel is None and sender.name == "outbox"):
                try:
                    receipt = await sender.send(message)
                except NotifyError as err:
                    log.warning("not delivered: %s via %s: %s", message.describe(), sender.name,
                                err.code)
                    raise
                log.info("delivered: %s via %s", message.describe(), sender.name)
                return receipt
        raise ChannelUnavailable(
            "This server cannot send to a phone number." if channel == "sms"
            else "This server cannot send e-mail.")

    async def close(self) -> None:
        for sender in self.senders:
            await sender.close()


def build_notifier(settings: Settings) -> Dispatcher:
    """The senders ``settings`` name: the SMS sender (or the outbox) first, then SMTP for
    e-mail when a mail server is configured."""
    senders: list[Notifier] = []
    kind = settings.notify_sender
    if kind == "aliyun":
        senders.append(AliyunSms(
            access_key_id=settings.aliyun_access_key_id,
            access_key_secret=settings.aliyun_access_key_secret,
            sign_name=settings.sms_sign_name, templates=settings.sms_templates,
            endpoint=settings.aliyun_sms_endpoint, region=settings.aliyun_sms_region))
    elif kind == "tencent":
        senders.append(TencentSms(
            secret_id=settings.tencent_secret_id, secret_key=settings.tencent_secret_key,
            sdk_app_id=settings.tencent_sms_app_id, sign_name=settings.sms_sign_name,
            templates=settings.sms_templates, endpoint=settings.tencent_sms_endpoint,
            region=settings.tencent_sms_region))
    if settings.smtp_host:
        senders.append(SmtpSender(
            host=settings.smtp_host, port=settings.smtp_port, sender=settings.smtp_from,
            security=settings.smtp_security, username=settings.smtp_username,
            password=settings.smtp_password))
    if kind == "outbox":
        # Development only: whatever no real sender reaches lands in files.
        senders.append(OutboxNotifier(settings.data_dir / "outbox"))
    return Dispatcher(senders)
