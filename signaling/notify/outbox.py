"""The development sender: each message becomes an owner-only JSON file in a directory.

Anyone who can read the data directory reads every code, so production refuses it
(``Settings.check_production``). Tests and the demo read codes back from here.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import threading
import time
from pathlib import Path
from typing import Any

from .message import Channel, Message, Receipt

_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


class OutboxNotifier:
    """Writes each message (and its attachments) to ``directory``; both channels."""

    name = "outbox"
    channels: frozenset[Channel] = frozenset({"sms", "email"})

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._count = 0
        self._lock = threading.Lock()

    async def send(self, message: Message) -> Receipt:
        name = await asyncio.to_thread(self.write, message)
        return Receipt(self.name, name)

    def write(self, message: Message) -> str:
        """Write ``message`` synchronously; returns the file's name."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with self._lock:
            self._count += 1
            # Time first: names sort by age even when several processes share the outbox.
            tag = _SAFE.sub("_", message.meta.get("signer_id", "") or message.purpose)[:64]
            stem = f"{time.time_ns():020d}-{self._count:06d}-{tag}"
        record: dict[str, Any] = {
            # Any address goes in the outbox (the demo's landlines too); only real senders
            # need a reachable one.
            "purpose": message.purpose, "to": message.to,
            "channel": "email" if "@" in message.to else "sms",
            "params": dict(message.params), "subject": message.subject, "text": message.text,
            "reference": message.reference, "meta": message.meta, "attachments": [],
        }
        if message.purpose == "signing_code":
            record["code"] = message.param("code")
        for number, a in enumerate(message.attachments, start=1):
            file = f"{stem}-att{number}-{_SAFE.sub('_', a.filename)[-80:]}"
            _write_private(self.directory / file, a.data)
            record["attachments"].append({"filename": a.filename, "content_type": a.content_type,
                                          "size": len(a.data), "file": file})
        _write_private(self.directory / f"{stem}.json",
                       json.dumps(record, ensure_ascii=False).encode("utf-8"))
        return f"{stem}.json"

    async def close(self) -> None:
        return None

    def messages(self) -> list[dict[str, Any]]:
        """Every message written so far, oldest first (for the demo and tests)."""
        return [json.loads(p.read_text(encoding="utf-8"))
                for p in sorted(self.directory.glob("*.json"))]


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
