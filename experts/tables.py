"""The expert tables: profiles, calls, the rings of each call and the time ledger.

Declared on signaling's ``Base`` so that one metadata (and one Alembic branch,
``experts_0001``) covers them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from signaling.db.base import Base, UTCDateTime, new_id, utcnow


class ExpertProfile(Base):
    """An expert in the directory, linked one-to-one to a User whose role is "expert"."""

    __tablename__ = "expert_profiles"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), unique=True)
    office_id: Mapped[str] = mapped_column(ForeignKey("offices.id"), index=True)
    display_name: Mapped[str] = mapped_column(String(120))
    domains: Mapped[list[str]] = mapped_column(JSON, default=list)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    region: Mapped[str] = mapped_column(String(120), default="")
    organisation: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    bio: Mapped[str] = mapped_column(Text, default="")
    availability: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    """Weekly slots: ``{"weekday": 0-6 (Monday 0), "start": "HH:MM", "end": "HH:MM"}``, UTC+8."""
    active: Mapped[bool] = mapped_column(default=True)
    rating_sum: Mapped[float] = mapped_column(Float, default=0.0)
    rating_count: Mapped[int] = mapped_column(Integer, default=0)
    last_call_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    """When this expert was last rung; "in turns" rings the least recent first."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ExpertCall(Base):
    """A mediator's request for an expert in a live session; ``state`` is owned by call.py."""

    __tablename__ = "expert_calls"
    __table_args__ = (
        Index("ix_expert_calls_state", "state"),
        # An expert helps in one session at a time: two calls accepted at the same moment
        # by the same expert cannot both hold them (the second UPDATE fails).
        Index("uq_expert_calls_busy", "accepted_by", unique=True,
              postgresql_where=text("state IN ('accepted', 'joined')"),
              sqlite_where=text("state IN ('accepted', 'joined')")),
    )
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    office_id: Mapped[str] = mapped_column(ForeignKey("offices.id"), index=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"))
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"), index=True)
    mediator_participant_id: Mapped[str] = mapped_column(String(32))
    mediator_user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    domain: Mapped[str] = mapped_column(String(40))
    language: Mapped[str | None] = mapped_column(String(40), nullable=True)
    named_expert_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    scope: Mapped[str] = mapped_column(String(16))
    """consultation, joint or caucus."""
    caucus_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    """The caucus the expert is limited to (created at acceptance for a consultation)."""
    strategy: Mapped[str] = mapped_column(String(8), default="all")
    state: Mapped[str] = mapped_column(String(12), default="ringing")
    tier: Mapped[str] = mapped_column(String(12), default="online")
    """online (ringing consoles) or escalated (out-of-band notifications sent)."""
    deadline: Mapped[datetime] = mapped_column(UTCDateTime())
    """After this an accept is refused even if no node is left to expire the call."""
    accepted_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    participant_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    """The winner's seat in the session."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    end_reason: Mapped[str] = mapped_column(String(40), default="")
    rating: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rating_comment: Mapped[str] = mapped_column(Text, default="")


class ExpertRing(Base):
    """One expert offered one call: rung on the console or notified out of band."""

    __tablename__ = "expert_rings"
    __table_args__ = (UniqueConstraint("call_id", "expert_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("expert_calls.id"), index=True)
    expert_id: Mapped[str] = mapped_column(ForeignKey("expert_profiles.id"), index=True)
    state: Mapped[str] = mapped_column(String(12), default="ringing")
    """ringing, notified, accepted, declined, taken, cancelled or no_answer."""
    rung_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ExpertVisit(Base):
    """One line of the time ledger: an expert's presence in one session for one call."""

    __tablename__ = "expert_visits"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    call_id: Mapped[str] = mapped_column(ForeignKey("expert_calls.id"), unique=True)
    expert_id: Mapped[str] = mapped_column(ForeignKey("expert_profiles.id"), index=True)
    office_id: Mapped[str] = mapped_column(ForeignKey("offices.id"), index=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"))
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"))
    scope: Mapped[str] = mapped_column(String(16))
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime())
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    minutes: Mapped[int] = mapped_column(Integer, default=0)
    """Credited minutes, whole minutes rounded up, fixed when the visit closes."""
