"""A signing ceremony's state: who must sign, pending codes, signatures collected.

Plain data plus the ``CeremonyStore`` protocol the server implements on its
database; the rules that change this state live in ``signature.py``.
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

from .draft import DraftId
from .errors import DraftNotFound, SigningRefused, VersionConflict


@dataclass(frozen=True)
class Signer:
    """Someone whose signature the document needs."""

    signer_id: str
    """party_id for a party, "mediator", or "recorder" (a record only)."""
    role_label: str
    """Role as the document prints it (申请人, 调解员, ...)."""
    name: str
    """Name as the document prints it."""
    contact: str | None
    """Phone number (or e-mail) the one-time code goes to: the one its signer confirmed."""
    acting_name: str = ""
    """The agent (委托代理人) who signs on a party's line, when the party does not."""


@dataclass
class CodeChallenge:
    """The pending one-time code of one signer: only its salted HMAC is kept."""

    salt: bytes
    """Random key of the HMAC."""
    code_mac: bytes
    """HMAC-SHA256(salt, code)."""
    expires_at: datetime
    """After this the code is refused."""


@dataclass(frozen=True)
class CollectedSignature:
    """One signer's signature on one exact version."""

    signer_id: str
    """Who signed."""
    name: str
    """Their printed name."""
    role_label: str
    """Their printed role."""
    method: Literal["drawn", "typed"]
    """A drawn image (PNG from the browser) or a typed name."""
    image_png: bytes | None
    """The drawn signature, for ``method == "drawn"``."""
    typed_name: str | None
    """The typed name, for ``method == "typed"``."""
    mark_sha256: str
    """SHA-256 (hex) of the image or of the typed name's UTF-8."""
    signed_at: datetime
    """When the signature was accepted."""
    ip: str
    """Client address as the edge saw it."""
    user_agent: str
    """Client user agent as sent."""
    version_number: int
    """The draft version signed."""
    version_digest: str
    """The digest of that version, which the signer's client confirmed."""


@dataclass
class Ceremony:
    """The collection of every required signature on one draft version."""

    ceremony_id: str
    """Random id."""
    draft_id: DraftId
    """The draft being signed."""
    version_number: int
    """The version being signed."""
    version_digest: str
    """Its digest; every signature must name it."""
    signers: tuple[Signer, ...]
    """Everyone who must sign."""
    status: Literal["open", "complete", "void"] = "open"
    """Void once the draft changed; complete once everyone signed."""
    void_reason: str = ""
    """Why the ceremony was voided."""
    challenges: dict[str, CodeChallenge] = field(default_factory=dict)
    """Pending codes by signer id."""
    codes_sent: dict[str, int] = field(default_factory=dict)
    """Codes sent so far, by signer id."""
    wrong_codes: dict[str, int] = field(default_factory=dict)
    """Wrong codes entered so far, by signer id."""
    signatures: dict[str, CollectedSignature] = field(default_factory=dict)
    """Signatures collected, by signer id."""
    revision: int = 0
    """Bumped on every save, for optimistic concurrency in the store."""

    def signer(self, signer_id: str) -> Signer:
        """The signer with that id, or ``SigningRefused(not_a_signer)``."""
        for s in self.signers:
            if s.signer_id == signer_id:
                return s
        raise SigningRefused(f"{signer_id!r} does not sign this document", code="not_a_signer")

    @property
    def missing(self) -> list[str]:
        """Ids of signers who have not signed yet."""
        return [s.signer_id for s in self.signers if s.signer_id not in self.signatures]


class CeremonyStore(Protocol):
    """Where ceremonies live; the server implements it on its database."""

    def add(self, ceremony: Ceremony) -> None:
        """Store a new ceremony."""

    def get(self, ceremony_id: str) -> Ceremony:
        """A copy of the stored ceremony, or ``DraftNotFound``."""

    def save(self, ceremony: Ceremony) -> None:
        """Replace the stored ceremony if its revision is the stored one plus one,
        else ``VersionConflict``."""

    def for_draft(self, draft_id: DraftId) -> list[Ceremony]:
        """Every ceremony of a draft, oldest first."""


class InMemoryCeremonyStore:
    """A ``CeremonyStore`` in a dict; returns copies so callers cannot mutate it unsaved."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, Ceremony] = {}

    def add(self, ceremony: Ceremony) -> None:
        with self._lock:
            self._items[ceremony.ceremony_id] = copy.deepcopy(ceremony)

    def get(self, ceremony_id: str) -> Ceremony:
        with self._lock:
            if ceremony_id not in self._items:
                raise DraftNotFound(f"no signing ceremony {ceremony_id!r}")
            return copy.deepcopy(self._items[ceremony_id])

    def save(self, ceremony: Ceremony) -> None:
        with self._lock:
            stored = self._items.get(ceremony.ceremony_id)
            if stored is None or stored.revision + 1 != ceremony.revision:
                raise VersionConflict("the ceremony changed meanwhile; reload it")
            self._items[ceremony.ceremony_id] = copy.deepcopy(ceremony)

    def for_draft(self, draft_id: DraftId) -> list[Ceremony]:
        with self._lock:
            return [copy.deepcopy(c) for c in self._items.values() if c.draft_id == draft_id]
