"""Logging: plain or JSON lines, with secrets and personal numbers masked in every line."""

from __future__ import annotations

import json
import logging
import re
import time

# Chinese resident ID numbers (18 chars), mobile numbers, and bearer-like tokens
# (long URL-safe strings such as join links and login tokens).
_ID = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[\dXx])(?![0-9A-Za-z])")
_PHONE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")
_TOKEN = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{32}(?:[A-Za-z0-9_-]{0,64})(?![A-Za-z0-9_-])")
_KV = re.compile(r"(?i)((?:token|password|code|secret|invite|resume)[\"']?\s*[:=]\s*[\"']?)"
                 r"([^\s\"',}]+)")


def mask(text: str) -> str:
    """Mask ID numbers, phone numbers and anything that looks like a secret."""
    text = _KV.sub(lambda m: m.group(1) + "***", text)
    text = _ID.sub(lambda m: m.group(1) + "********" + m.group(2), text)
    text = _PHONE.sub(lambda m: m.group(1) + "****" + m.group(2), text)
    # 32 hex digits are our object ids, not secrets: leave those readable.
    return _TOKEN.sub(lambda m: m.group(0) if re.fullmatch(r"[0-9a-f]{32}", m.group(0))
                      else "[redacted]", text)


class RedactingFilter(logging.Filter):
    """Rewrites each record's message with ``mask`` before any handler sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            msg = record.getMessage()
        except Exception:
            return True
        record.msg = mask(msg)
        record.args = ()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {"ts": round(time.time(), 3), "level": record.levelname, "logger": record.name,
               "msg": record.getMessage()}
        for key in ("session_id", "participant_id", "node"):
            if hasattr(record, key):
                out[key] = getattr(record, key)
        if record.exc_info:
            out["exc"] = mask(self.formatException(record.exc_info))
        return json.dumps(out, ensure_ascii=False)


def configure(level: str = "INFO", as_json: bool = False) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(RedactingFilter())
    handler.setFormatter(JsonFormatter() if as_json else
                         logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("aiohttp.access", "engineio", "socketio", "aioice", "aiortc"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
