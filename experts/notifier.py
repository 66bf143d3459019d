"""Out-of-band notification of experts who are available but not at their console.

The switchboard only knows the ``Notifier`` interface. Embedded mode logs (with the phone
number masked); production posts a signed JSON document to a webhook that an SMS or
WeChat gateway turns into a message. A notifier never raises: a gateway that is down
must not stop the call from ringing everyone else.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from dataclasses import asdict, dataclass
from typing import Protocol

import aiohttp

from experts.directory import mask_phone

log = logging.getLogger("tiaojie.experts.notifier")

WEBHOOK_ATTEMPTS = 3
WEBHOOK_TIMEOUT_S = 5.0
WEBHOOK_BACKOFF_MAX_S = 4.0


@dataclass(frozen=True)
class Notification:
    """What an expert is told when a call needs them and their console is closed."""

    call_id: str
    """The call to accept once the console is open."""
    expert_id: str
    expert_name: str
    phone: str
    """Full number: the gateway needs it. Never logged unmasked."""
    domain: str
    scope: str
    office_id: str
    console_url: str
    """Where the expert opens the console to answer."""
    answer_by: str
    """ISO time after which the call no longer waits for them."""


class Notifier(Protocol):
    """Delivers a notification somewhere outside Tiaojie."""

    async def notify(self, n: Notification) -> None: ...


class LogNotifier:
    """The embedded adapter: one log line per notification."""

    def __init__(self) -> None:
        self.sent: list[Notification] = []
        """Kept so that an operator (and the tests) can see what would have gone out."""

    async def notify(self, n: Notification) -> None:
        self.sent.append(n)
        log.info("expert %s (%s) notified of call %s (%s, %s), answer by %s", n.expert_id,
                 mask_phone(n.phone), n.call_id, n.domain, n.scope, n.answer_by)


class WebhookNotifier:
    """Posts ``Notification`` as JSON with an HMAC-SHA256 signature header; bounded retries."""

    def __init__(self, url: str, secret: str) -> None:
        self.url = url
        self._secret = secret.encode()

    async def notify(self, n: Notification) -> None:
        body = json.dumps({"type": "expert_call", **asdict(n)}, ensure_ascii=False).encode()
        sig = hmac.new(self._secret, body, hashlib.sha256).hexdigest()
        headers = {"Content-Type": "application/json", "X-Tiaojie-Signature": f"sha256={sig}"}
        delay = 0.5
        for attempt in range(1, WEBHOOK_ATTEMPTS + 1):
            try:
                timeout = aiohttp.ClientTimeout(total=WEBHOOK_TIMEOUT_S)
                async with aiohttp.ClientSession(timeout=timeout) as http, \
                        http.post(self.url, data=body, headers=headers) as r:
                    if r.status < 300:
                        return
                    # A 4xx will not improve with retries; a 5xx might.
                    if r.status < 500:
                        log.warning("webhook refused notification of call %s: HTTP %s",
                                    n.call_id, r.status)
                        return
            except (TimeoutError, aiohttp.ClientError) as exc:
                log.warning("webhook attempt %d for call %s failed: %s", attempt, n.call_id,
                            type(exc).__name__)
            if attempt < WEBHOOK_ATTEMPTS:
                await asyncio.sleep(delay)
                delay = min(delay * 2, WEBHOOK_BACKOFF_MAX_S)
        log.error("webhook gave up on notification of call %s to expert %s (%s)", n.call_id,
                  n.expert_id, mask_phone(n.phone))
