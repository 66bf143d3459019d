"""The hash chain over a session's event log, made as each event is written.

Each event stores the SHA-256 of its own payload, the hash of the event before it in the
same session (``prev_hash``; ``GENESIS`` for the first) and its own hash over both and
every other column (``entry_hash``). Changing, removing or reordering a stored event
then breaks the chain from that event on, and ``verify_chain`` finds where.

The retention purge blanks old chat messages (``PURGED``); such an event keeps its
recorded payload digest and hash, so the chain still checks, and it is counted as
redacted rather than reported as altered.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from signaling.db.models import MediationSession, SessionEvent

GENESIS = "0" * 64
"""``prev_hash`` of a session's first event."""
PURGED = "[purged]"
"""The text the retention purge leaves in place of an expired chat message."""
PAGE = 500


def canonical_json(value: Any) -> str:
    """The one serialisation hashed: sorted keys, no spaces, UTF-8 text as is."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                      default=str)


def normalise_payload(payload: dict[str, Any] | None) -> dict[str, Any]:
    """The payload as the database gives it back (keys as strings, values as JSON
    types), so that the digest made on writing is the one recomputed on reading."""
    out = json.loads(canonical_json(payload or {}))
    assert isinstance(out, dict)
    return out


def payload_digest(payload: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


def entry_hash(*, prev_hash: str, session_id: str, seq: int, at: datetime, kind: str,
               actor_id: str | None, caucus_id: str | None, payload_sha256: str) -> str:
    """The hash an event stores, over the previous hash and all of its own columns."""
    entry = canonical_json({
        "prev": prev_hash, "session_id": session_id, "seq": seq,
        "at": at.astimezone(UTC).isoformat(timespec="microseconds"), "kind": kind,
        "actor_id": actor_id, "caucus_id": caucus_id, "payload_sha256": payload_sha256,
    })
    return hashlib.sha256(entry.encode("utf-8")).hexdigest()


def hash_of(event: SessionEvent, prev_hash: str, payload_sha256: str) -> str:
    return entry_hash(prev_hash=prev_hash, session_id=event.session_id, seq=event.seq,
                      at=event.at, kind=event.kind, actor_id=event.actor_id,
                      caucus_id=event.caucus_id, payload_sha256=payload_sha256)


def redacted(event: SessionEvent) -> bool:
    """A chat message the retention purge blanked (its recorded digest stays)."""
    return event.kind == "chat" and event.payload == {"text": PURGED}


@dataclass(frozen=True)
class ChainCheck:
    """What re-walking one session's chain found."""

    intact: bool
    """Every event's hashes recompute and link, and none is missing at the end."""
    events: int
    """Events walked."""
    head_seq: int
    """Sequence number of the last event (0: none)."""
    head_hash: str
    """``entry_hash`` of the last event (``GENESIS``: none)."""
    redacted: int = 0
    """Chat messages blanked by the retention purge (allowed; their digests stay)."""
    broken_at: int | None = None
    """Sequence number of the first event that does not check out."""
    reason: str | None = None
    """Why, in words."""

    @property
    def head(self) -> str:
        """``"<seq>:<hash>"``, as printed on a sealed document's audit page."""
        return f"{self.head_seq}:{self.head_hash}"

    def to_dict(self) -> dict[str, Any]:
        return {"intact": self.intact, "events": self.events, "head": self.head,
                "redacted": self.redacted, "broken_at": self.broken_at, "reason": self.reason}


async def verify_chain(db: AsyncSession, session_id: str) -> ChainCheck:
    """Re-walk the chain of ``session_id`` from its first event; stop at the first break."""
    prev = GENESIS
    last = 0
    count = 0
    blanked = 0

    def broken(seq: int, reason: str) -> ChainCheck:
        return ChainCheck(False, count, last, prev, blanked, seq, reason)

    while True:
        rows = list((await db.execute(
            select(SessionEvent).where(SessionEvent.session_id == session_id,
                                       SessionEvent.seq > last)
            .order_by(SessionEvent.seq).limit(PAGE))).scalars())
        for event in rows:
            if event.seq != last + 1:
                return broken(last + 1, f"events {last + 1}..{event.seq - 1} are missing")
            if not event.entry_hash or not event.payload_sha256:
                return broken(event.seq, "the event carries no hash")
            if event.prev_hash != prev:
                return broken(event.seq, "the link to the previous event does not match")
            if payload_digest(event.payload) != event.payload_sha256:
                if not redacted(event):
                    return broken(event.seq, "the payload was changed")
                blanked += 1
            if hash_of(event, prev, event.payload_sha256) != event.entry_hash:
                return broken(event.seq, "the event was changed")
            prev = event.entry_hash
            last = event.seq
            count += 1
        if len(rows) < PAGE:
            break
    counter = await db.scalar(select(MediationSession.event_seq).where(
        MediationSession.id == session_id))
    if counter is not None and counter > last:
        return broken(last + 1, f"events {last + 1}..{counter} are missing")
    return ChainCheck(True, count, last, prev, blanked)


async def head_matches(db: AsyncSession, session_id: str, head: str) -> bool:
    """Whether the event named by ``head`` ("<seq>:<hash>", recorded at sealing) still
    holds that hash: a chain rewritten from scratch after sealing does not."""
    seq_text, _, expected = head.partition(":")
    if not seq_text.isdigit():
        return False
    seq = int(seq_text)
    if seq == 0:
        return expected == GENESIS
    stored = await db.scalar(select(SessionEvent.entry_hash).where(
        SessionEvent.session_id == session_id, SessionEvent.seq == seq))
    return stored is not None and stored == expected
