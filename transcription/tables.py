"""The stored transcript: utterances and the history of every correction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from signaling.db.base import Base, UTCDateTime, utcnow


class UtteranceRow(Base):
    """One final caption of a session, attributed to the participant whose track carried it."""

    __tablename__ = "utterances"
    __table_args__ = (Index("ix_utterances_session_start", "session_id", "start"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    """The utterance id: stable, so that a redelivered segment is stored once."""
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"))
    caucus_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    """Set when spoken in a caucus: then only its members and the mediator may read it."""
    participant_id: Mapped[str] = mapped_column(String(32))
    speaker_name: Mapped[str] = mapped_column(String(120))
    speaker_role: Mapped[str] = mapped_column(String(16))
    voice: Mapped[str | None] = mapped_column(String(64), nullable=True)
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)
    text: Mapped[str] = mapped_column(Text)
    model: Mapped[str] = mapped_column(String(64))
    confidence: Mapped[float] = mapped_column(Float)
    language: Mapped[str] = mapped_column(String(8))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class UtteranceEdit(Base):
    """A clerk's or mediator's correction: the text before and after, who and when."""

    __tablename__ = "utterance_edits"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    utterance_id: Mapped[str] = mapped_column(ForeignKey("utterances.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    text_before: Mapped[str] = mapped_column(Text)
    text_after: Mapped[str] = mapped_column(Text)
    editor_id: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
