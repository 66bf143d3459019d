"""The documents' tables: drafts, their versions and comments, signing ceremonies,
sealed documents and office templates.

Declared on signaling's ``Base`` so that one metadata (and one Alembic branch,
``agreements_0001``) covers them. Drafts hang off a session (and so a case and an
office); a draft made inside a caucus keeps that caucus id, which decides who may
ever read it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from signaling.db.base import Base, UTCDateTime, new_id, utcnow


class DraftRow(Base):
    """A document being drafted in a session (the library's ``Draft`` plus where it lives)."""

    __tablename__ = "agreement_drafts"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    """The library's draft id (random hex)."""
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"), index=True)
    caucus_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    """The caucus the mediator was in when drafting; None for the joint session."""
    case_number: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(8))
    template_ref: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(32))
    """Participant id of the mediator who opened it."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DraftVersionRow(Base):
    """One immutable version; the unique key makes appending a version atomic."""

    __tablename__ = "agreement_draft_versions"
    __table_args__ = (UniqueConstraint("draft_id", "number"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    draft_id: Mapped[str] = mapped_column(ForeignKey("agreement_drafts.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    author: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    """``data.model_dump(mode="json")``; reloaded by the draft's kind."""
    changes: Mapped[list[str]] = mapped_column(JSON)
    digest: Mapped[str] = mapped_column(String(64))


class DraftCommentRow(Base):
    """A participant's remark on one version (append-only)."""

    __tablename__ = "agreement_draft_comments"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    draft_id: Mapped[str] = mapped_column(ForeignKey("agreement_drafts.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    author: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    text: Mapped[str] = mapped_column(Text)


class CeremonyRow(Base):
    """A signing round. The library's ``Ceremony`` is kept as JSON in ``state``; ``revision``
    is a column so that a save can be a conditional UPDATE (optimistic concurrency)."""

    __tablename__ = "agreement_ceremonies"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    draft_id: Mapped[str] = mapped_column(ForeignKey("agreement_drafts.id"), index=True)
    version_number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    revision: Mapped[int] = mapped_column(Integer)
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    """Signers, code challenges (salt and HMAC only), counters and signatures."""
    seats: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    """signer_id -> participant_id: who in the room signs as whom."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SealedDocumentRow(Base):
    """A signed and sealed document of a case, as clerks download and archive it."""

    __tablename__ = "agreement_documents"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"))
    draft_id: Mapped[str] = mapped_column(ForeignKey("agreement_drafts.id"), unique=True)
    """One sealed document per draft: sealing twice is refused by the database."""
    ceremony_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))
    version_number: Mapped[int] = mapped_column(Integer)
    version_digest: Mapped[str] = mapped_column(String(64))
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    docx: Mapped[bytes] = mapped_column(LargeBinary)
    pdf_sha256: Mapped[str] = mapped_column(String(64))
    sealed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    judicial_confirmation_deadline: Mapped[date | None] = mapped_column(Date, nullable=True)
    """Last day to apply for 司法确认 (人民调解法 art. 33); None for a record."""
    short_id: Mapped[str | None] = mapped_column(String(16), unique=True, nullable=True)
    """The id printed (with a QR code) on the audit page for the public ``/verify`` page."""
    event_log_head: Mapped[str | None] = mapped_column(String(80), nullable=True)
    """"<seq>:<hash>" of the session's event chain when sealed (printed on the audit page);
    verification checks that event still holds that hash."""


class OfficeTemplateRow(Base):
    """An office's own DOCX template, stored only after ``validate_template`` passed."""

    __tablename__ = "agreement_templates"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    office_id: Mapped[str] = mapped_column(ForeignKey("offices.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(200))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    """The office's default for its kind and language: a draft opened without naming a
    template uses it (at most one per office, kind and language; the built-in otherwise)."""


class PartyConfirmationRow(Base):
    """A party (or their agent) saying, from their own seat, that what the draft prints about
    them is right, or what to correct (append-only; the newest per party counts)."""

    __tablename__ = "agreement_party_confirmations"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    draft_id: Mapped[str] = mapped_column(ForeignKey("agreement_drafts.id"), index=True)
    party_id: Mapped[str] = mapped_column(String(64))
    participant_id: Mapped[str] = mapped_column(String(32))
    """Who confirmed: the seat that joined through the party's or an agent's link."""
    acting_as: Mapped[str] = mapped_column(String(16))
    """"party" or "agent:<n>": whose link that seat came in through."""
    version_number: Mapped[int] = mapped_column(Integer)
    """The version the confirmer read."""
    status: Mapped[str] = mapped_column(String(16))
    """"confirmed" (as printed) or "corrected" (the mediator has to apply ``details``)."""
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    """The party's entry as the confirmer says it should read."""
    details_digest: Mapped[str] = mapped_column(String(64))
    """SHA-256 of that entry; a version whose entry has this digest is confirmed."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CopyLinkRow(Base):
    """A link the mediator sent to a party to download their copy of a sealed document; only
    the SHA-256 of its token is kept."""

    __tablename__ = "agreement_copy_links"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    document_id: Mapped[str] = mapped_column(ForeignKey("agreement_documents.id"), index=True)
    participant_id: Mapped[str] = mapped_column(String(32))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DeadlineReminderRow(Base):
    """A 司法确认 deadline reminder claimed for one recipient at one stage (7 or 1 days
    before). The unique key makes each reminder go out once, across restarts and nodes:
    whoever inserts the row sends it."""

    __tablename__ = "agreement_deadline_reminders"
    __table_args__ = (UniqueConstraint("document_id", "stage", "recipient"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    document_id: Mapped[str] = mapped_column(ForeignKey("agreement_documents.id"), index=True)
    stage: Mapped[int] = mapped_column(Integer)
    """Days before the deadline this reminder is for: 7 or 1."""
    recipient: Mapped[str] = mapped_column(String(80))
    """Who and how, without the address: "party:<party_id>:sms", "mediator:sms"."""
    sent_to: Mapped[str] = mapped_column(String(80))
    """The masked address (last four digits, or the e-mail's first letter and domain)."""
    status: Mapped[str] = mapped_column(String(16))
    """"sending" (claimed), "sent", or "failed" (a later run claims it again)."""
    error: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class WetInkCopyRow(Base):
    """The scanned copy of a document signed on paper (marriage, adoption and inheritance
    matters, where 电子签名法 art. 3 excludes e-signatures), archived with its SHA-256.
    Append-only: a new scan is a new row; the newest counts."""

    __tablename__ = "agreement_wet_ink_copies"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    draft_id: Mapped[str] = mapped_column(ForeignKey("agreement_drafts.id"), index=True)
    version_number: Mapped[int] = mapped_column(Integer)
    """The version that was printed for signing (the newest when the scan came)."""
    version_digest: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(40))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
