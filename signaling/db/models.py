"""The tables: offices, users, cases, sessions, participants, invites and the event log."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from signaling import case_states
from signaling.db.base import Base, UTCDateTime, new_id, utcnow

USER_ROLES = ("mediator", "clerk", "admin", "expert", "head")
"""``head``: an office's head (负责人), who reads its statistics and register."""
PARTICIPANT_ROLES = ("mediator", "party", "representative", "expert", "interpreter", "clerk",
                     "observer")
SIDES = ("A", "B")
"""The two sides every case has (申请人, 被申请人); a case may add more (``CaseSide``)."""
SIDE_KEYS = tuple("ABCDEFGHIJKL")
"""Every side key a case may use: one letter, so old payloads ("A", "B") mean what they did."""
INTERPRETATIONS = ("sign", "dialect", "foreign")
"""What an interpreter interprets: sign language (手语), a dialect (方言), a foreign language."""
CASE_STATUSES = ("applied", "accepted", "rejected", "scheduled", "in_mediation", "agreed",
                 "not_agreed", "terminated", "judicial_confirm", "return_visit", "archived")
"""A case's states; the moves between them are ``signaling.case_states.TRANSITIONS``."""
SESSION_STATUSES = ("scheduled", "live", "ended")


class Office(Base):
    """A people's mediation committee or judicial office (调委会 / 司法所)."""

    __tablename__ = "offices"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(60), default="", server_default=text("''"))
    """The city the office serves, as free text (杭州市) or a code; offices that write it the
    same way may share experts (``share_experts``, ``use_city_experts``). Empty: none."""
    address: Mapped[str] = mapped_column(String(200), default="", server_default=text("''"))
    phone: Mapped[str] = mapped_column(String(30), default="", server_default=text("''"))
    """The office's public phone number (a landline or a hotline), shown unmasked."""
    share_experts: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Lend this office's experts to the other offices of the same city that ask for them."""
    use_city_experts: Mapped[bool] = mapped_column(Boolean, default=False,
                                                   server_default=false())
    """Call experts of the other offices of the same city that lend theirs."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class User(Base):
    """A staff account: mediator, clerk, administrator or expert. Parties have none."""

    __tablename__ = "users"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    office_id: Mapped[str] = mapped_column(ForeignKey("offices.id"), index=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    phone: Mapped[str | None] = mapped_column(String(20), nullable=True)
    """The mobile number the service texts the account at (a due return visit); set by an
    administrator, shown masked."""
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LoginSession(Base):
    """A logged-in browser or script; the bearer token is stored only as its hash."""

    __tablename__ = "login_sessions"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class Case(Base):
    """A dispute (案件) handled by one office."""

    __tablename__ = "cases"
    __table_args__ = (
        UniqueConstraint("office_id", "number"),
        # The dashboard and the register select an office's (or a mediator's) cases by
        # application date (migration 0006_office).
        Index("ix_cases_office_created", "office_id", "created_at"),
        Index("ix_cases_mediator_created", "mediator_id", "created_at"),
    )
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    office_id: Mapped[str] = mapped_column(ForeignKey("offices.id"), index=True)
    number: Mapped[str] = mapped_column(String(64))
    dispute_type: Mapped[str] = mapped_column(String(64))
    summary: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="applied")
    mediator_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    """When the case first reached 达成协议, 未达成协议 or 终止 (``case_states.MILESTONES``):
    kept on the case so that the statistics read one table (the log stays the record)."""
    agreed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    """When the case first reached 达成协议."""
    judicial_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    """When 司法确认 was first recorded as applied for."""
    unperformed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """A return visit found the agreement not performed (flagged in every list)."""

    sessions: Mapped[list[MediationSession]] = relationship(back_populates="case")

    @property
    def allowed_moves(self) -> list[str]:
        """The states this case may move to now (``signaling.case_states.TRANSITIONS``)."""
        return case_states.allowed_moves(self.status)


class CaseSide(Base):
    """A named side of a case (申请人, 被申请人, 第三人, ...). Sides A and B exist for every case
    without a row (申请人 and 被申请人); a row renames them or adds C, D, ..."""

    __tablename__ = "case_sides"
    __table_args__ = (UniqueConstraint("case_id", "key"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    key: Mapped[str] = mapped_column(String(1))
    name: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CaseEvent(Base):
    """One entry of a case's log: a move from one state to another, by whom and when."""

    __tablename__ = "case_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    from_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    """None for the entry that opened the case."""
    to_status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")


class MediationSession(Base):
    """A room: one sitting of a case, scheduled, live or ended."""

    __tablename__ = "sessions"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    language: Mapped[str] = mapped_column(String(8), default="zh")
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    expected_minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """How long the mediator expects the sitting to last (scheduled sessions)."""
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    event_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """The last sequence number given to this session's event log (a per-session counter)."""
    recording: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    """The recording switch: consenting speakers' audio is archived while on. The
    mediator may turn it off only before any audio was archived."""

    case: Mapped[Case] = relationship(back_populates="sessions")


class Participant(Base):
    """A seat in a session: who, in which role and on which side."""

    __tablename__ = "participants"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"), index=True)
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    invite_id: Mapped[str | None] = mapped_column(ForeignKey("invites.id"), nullable=True)
    role: Mapped[str] = mapped_column(String(16))
    side: Mapped[str | None] = mapped_column(String(1), nullable=True)
    display_name: Mapped[str] = mapped_column(String(120))
    interpretation: Mapped[str | None] = mapped_column(String(16), nullable=True)
    """An interpreter's kind (``INTERPRETATIONS``); None for everyone else."""
    resume_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    consented_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    joined_from: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Invite(Base):
    """A join link. Only the SHA-256 of its random token is stored."""

    __tablename__ = "invites"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    side: Mapped[str | None] = mapped_column(String(1), nullable=True)
    label: Mapped[str] = mapped_column(String(120), default="")
    interpretation: Mapped[str | None] = mapped_column(String(16), nullable=True)
    """For an interpreter's link: sign, dialect or foreign (``INTERPRETATIONS``)."""
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    max_uses: Mapped[int] = mapped_column(Integer, default=1)
    uses: Mapped[int] = mapped_column(Integer, default=0)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    contact_masked: Mapped[str | None] = mapped_column(String(40), nullable=True)
    """Where a scheduled session's invitation was sent, as it may be shown (last digits)."""
    contact_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    """That phone or e-mail address, encrypted (``signaling.scheduling``): for reminders."""
    token_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    """The join token, encrypted, so that a reminder carries the link again."""
    notified: Mapped[str | None] = mapped_column(String(16), nullable=True)
    """The invitation's delivery: sent, failed or unreachable (no sender for the channel)."""
    declined_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    """When the invitee said they cannot come (``signaling.intake``)."""
    decline_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)


class SessionReminder(Base):
    """A reminder of a scheduled session to one invitee, claimed before it is sent: the
    unique key makes it go out once across nodes and restarts."""

    __tablename__ = "session_reminders"
    __table_args__ = (UniqueConstraint("invite_id", "stage"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    invite_id: Mapped[str] = mapped_column(ForeignKey("invites.id"))
    stage: Mapped[str] = mapped_column(String(8))
    """"day" (the day before) or "hour" (an hour before)."""
    status: Mapped[str] = mapped_column(String(16))
    """sending, sent or failed (a failed one is claimed again by a later pass)."""
    sent_to: Mapped[str] = mapped_column(String(40))
    error: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ReturnVisitReminder(Base):
    """The text to the mediator that a return visit is due, claimed before it is sent
    (``signaling.periodic.claim_once``): once per visit and due date across nodes."""

    __tablename__ = "return_visit_reminders"
    __table_args__ = (UniqueConstraint("return_visit_id", "due_on"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    return_visit_id: Mapped[str] = mapped_column(ForeignKey("return_visits.id"))
    due_on: Mapped[date] = mapped_column(Date)
    """The due date it reminded of: a visit moved to another day is reminded of again."""
    status: Mapped[str] = mapped_column(String(16))
    """sending, sent or failed (a failed one is claimed again by a later pass)."""
    sent_to: Mapped[str] = mapped_column(String(40))
    error: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class SessionEvent(Base):
    """One entry of a session's append-only log. ``caucus_id`` scopes who may read it."""

    __tablename__ = "session_events"
    __table_args__ = (
        UniqueConstraint("session_id", "seq"),
        Index("ix_session_events_session_caucus", "session_id", "caucus_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"))
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    kind: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    caucus_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    payload_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """SHA-256 of the payload as written (see ``signaling.eventchain``)."""
    prev_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """``entry_hash`` of the session's previous event (``GENESIS`` for the first)."""
    entry_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """SHA-256 over ``prev_hash`` and every column of this event: the chain's link."""


class OfficeArea(Base):
    """An area (片区 / 网格) of an office: the mediator who takes applications whose address
    names one of its keywords (a ward, a street, a housing estate)."""

    __tablename__ = "office_areas"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    office_id: Mapped[str] = mapped_column(ForeignKey("offices.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    keywords: Mapped[list[Any]] = mapped_column(JSON, default=list)
    mediator_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    """Order of matching: the first area whose keyword the address contains wins."""


class DisputeType(Base):
    """A dispute type an office offers (邻里纠纷, 婚姻家庭纠纷, ...). Rows without an office are
    the service-wide defaults; an office that has changed its list holds its own rows (a copy
    of the defaults, then its changes). A case stores the type's name as the register writes
    it, so a renamed or deactivated type stays readable on old cases."""

    __tablename__ = "dispute_types"
    __table_args__ = (UniqueConstraint("office_id", "key"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    office_id: Mapped[str | None] = mapped_column(ForeignKey("offices.id"), nullable=True,
                                                  index=True)
    key: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(40))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Application(Base):
    """A person's application for mediation (申请), made on the office's public page. The
    applicant's and the other party's details are kept encrypted (``details_sealed``);
    the status link's token only as its hash."""

    __tablename__ = "applications"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), unique=True)
    office_id: Mapped[str] = mapped_column(ForeignKey("offices.id"), index=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    status_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    applicant_masked: Mapped[str] = mapped_column(String(40))
    """The applicant's phone as it may be shown (last four digits)."""
    details_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    area_id: Mapped[str | None] = mapped_column(ForeignKey("office_areas.id"), nullable=True)
    consented_at: Mapped[datetime] = mapped_column(UTCDateTime())
    notice_version: Mapped[str] = mapped_column(String(16))
    """Which PIPL notice the applicant consented to."""
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    decision_notified: Mapped[str | None] = mapped_column(String(16), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ApplicationAttachment(Base):
    """A file sent with an application; the bytes live encrypted under ``stored_name``."""

    __tablename__ = "application_attachments"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    stored_name: Mapped[str] = mapped_column(String(64))


class PhoneCode(Base):
    """A code sent to a phone to prove it is the applicant's; only hashes are stored."""

    __tablename__ = "phone_codes"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    phone_hash: Mapped[str] = mapped_column(String(64), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ReturnVisit(Base):
    """A return visit (回访) after an agreement: due on a date the mediator sets, then
    recorded (回访记录): who visited, how, whether the agreement was performed."""

    __tablename__ = "return_visits"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    due_on: Mapped[date] = mapped_column(Date)
    set_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    recorded_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    visitor: Mapped[str] = mapped_column(String(120), default="")
    method: Mapped[str] = mapped_column(String(16), default="")
    """phone, visit or online."""
    performed: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    notes: Mapped[str] = mapped_column(Text, default="")
