"""Delivering one-time signing codes: the notifier interface and the embedded outbox.

An SMS or e-mail adapter implements ``CodeSender``; embedded mode writes each
message to an owner-only file. Nothing here logs a code.
"""

from __future__ import annotations

import json
import os
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Protocol

from .ceremony import Signer


class CodeSender(Protocol):
    """Delivers a one-time code to a signer (SMS, e-mail, or an outbox in embedded mode)."""

    def send(self, signer: Signer, code: str, expires_at: datetime) -> None:
        """Deliver ``code``; raise to report that it could not be delivered."""


class OutboxCodeSender:
    """Writes each code to a file in an outbox directory (owner-only), for embedded mode."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._count = 0
        self._lock = threading.Lock()

    def send(self, signer: Signer, code: str, expires_at: datetime) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        with self._lock:
            self._count += 1
            # The time first: names sort by age even when several processes (or a
            # restarted one, whose counter starts again) share the outbox.
            name = f"{time.time_ns():020d}-{self._count:06d}-{signer.signer_id}.json"
        message = {
            "to": signer.contact,
            "name": signer.name,
            "code": code,
            "expires_at": expires_at.isoformat(),
            "text": f"【调解】您的签署验证码为 {code}，请勿告知他人。",
        }
        fd = os.open(self.directory / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(message, handle, ensure_ascii=False)

    def last_code(self, signer_id: str) -> str | None:
        """The newest code sent to ``signer_id`` (for the demo and tests)."""
        files = sorted(self.directory.glob(f"*-{signer_id}.json"))
        if not files:
            return None
        return str(json.loads(files[-1].read_text(encoding="utf-8"))["code"])
