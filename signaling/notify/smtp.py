"""E-mail over SMTP: the standard library's client, run in a thread.

``security`` is ``ssl`` (implicit TLS, port 465), ``starttls`` (upgrade on 587) or
``none`` (a relay on a private network, and the tests' local server). Attachments (an
.ics invitation, a sealed PDF) travel as MIME parts with their own type.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Literal

from .errors import ChannelUnavailable, GatewayRefused, GatewayUnavailable
from .message import Channel, Message, Receipt, is_email

TIMEOUT_S = 20.0
Security = Literal["ssl", "starttls", "none"]


def build_email(message: Message, sender: str) -> EmailMessage:
    """The MIME message for ``message``: the plain text and every attachment."""
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = message.to
    mail["Subject"] = message.subject or message.purpose
    domain = sender.rpartition("@")[2].strip(">") or "tiaojie.local"
    mail["Message-ID"] = make_msgid(domain=domain)
    mail.set_content(message.text)
    for a in message.attachments:
        maintype, _, rest = a.content_type.partition("/")
        subtype, _, param_text = rest.partition(";")
        params = dict(p.strip().split("=", 1) for p in param_text.split(";") if "=" in p)
        mail.add_attachment(a.data, maintype=maintype or "application",
                            subtype=subtype.strip() or "octet-stream", filename=a.filename,
                            params=params)
    return mail


class SmtpSender:
    """Delivers e-mail through one SMTP server."""

    name = "smtp"
    channels: frozenset[Channel] = frozenset({"email"})

    def __init__(self, *, host: str, port: int, sender: str, security: Security = "starttls",
                 username: str = "", password: str = "") -> None:
        self._host = host
        self._port = port
        self._sender = sender
        self._security = security
        self._username = username
        self._password = password

    async def send(self, message: Message) -> Receipt:
        if not is_email(message.to):
            raise ChannelUnavailable("This server sends e-mail only; give an e-mail address.")
        mail = build_email(message, self._sender)
        await asyncio.to_thread(self._deliver, mail)
        return Receipt(self.name, str(mail["Message-ID"]))

    def _deliver(self, mail: EmailMessage) -> None:
        context = ssl.create_default_context()
        try:
            client: smtplib.SMTP
            if self._security == "ssl":
                client = smtplib.SMTP_SSL(self._host, self._port, timeout=TIMEOUT_S,
                                          context=context)
            else:
                client = smtplib.SMTP(self._host, self._port, timeout=TIMEOUT_S)
            with client:
                if self._security == "starttls":
                    client.starttls(context=context)
                if self._username:
                    client.login(self._username, self._password)
                client.send_message(mail)
        except smtplib.SMTPRecipientsRefused:
            raise GatewayRefused("The mail server refused the recipient's address.") from None
        except smtplib.SMTPAuthenticationError:
            raise GatewayRefused("The mail server refused our login (TIAOJIE_SMTP_USERNAME / "
                                 "TIAOJIE_SMTP_PASSWORD).") from None
        except smtplib.SMTPResponseException as err:
            if 400 <= err.smtp_code < 500:
                raise GatewayUnavailable(f"The mail server deferred the message "
                                         f"({err.smtp_code}); try again.") from None
            raise GatewayRefused(f"The mail server refused the message ({err.smtp_code}).") \
                from None
        except (smtplib.SMTPException, OSError) as err:
            raise GatewayUnavailable(f"The mail server could not be reached "
                                     f"({type(err).__name__}); try again.") from None

    async def close(self) -> None:
        return None
