"""Typed shapes of everything that comes in from outside or goes out over the API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from signaling import case_states

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Id = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{16,32}$")]
Role = Literal["mediator", "party", "representative", "expert", "interpreter", "clerk",
               "observer"]
Side = Annotated[str, StringConstraints(pattern=r"^[A-L]$")]
"""A side's key: A (申请人) and B (被申请人) in every case, C to L when added
(``signaling.sides``)."""
SideName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
Interpretation = Literal["sign", "dialect", "foreign"]
"""What an interpreter interprets: sign language (手语), a dialect (方言), a foreign language."""


class In(BaseModel):
    """Base of inbound payloads: unknown fields are refused, strings are trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ErrorBody(Out):
    code: str
    message: str


class ErrorOut(Out):
    error: ErrorBody


# -- auth --------------------------------------------------------------------
class LoginIn(In):
    username: Annotated[str, StringConstraints(min_length=1, max_length=80)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class UserOut(Out):
    id: str
    username: str
    display_name: str
    role: str
    office_id: str


class MeOut(UserOut):
    csrf_token: str
    """The login's CSRF token, so that a new tab of a logged-in browser can make changes."""
    office_time_zone: str = "Asia/Shanghai"
    """The time zone the office's schedules are entered and shown in."""


class LoginOut(Out):
    user: UserOut
    token: str
    csrf_token: str
    expires_at: datetime


class OkOut(Out):
    ok: bool = True


# -- cases and sessions ------------------------------------------------------
class CaseIn(In):
    number: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    dispute_type: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    summary: Annotated[str, StringConstraints(max_length=5000)] = ""


class CaseOut(Out):
    id: str
    office_id: str
    number: str
    dispute_type: str
    summary: str
    status: str
    mediator_id: str | None
    created_at: datetime
    unperformed: bool = False
    """A return visit found the agreement not performed."""
    allowed_moves: list[str]
    """The states this case may move to now (``signaling.case_states``)."""


class CaseList(Out):
    items: list[CaseOut]


class CaseMoveIn(In):
    to: case_states.CaseState
    reason: Annotated[str, StringConstraints(max_length=1000)] = ""
    """Why: required for 不予受理 (rejected) and 终止 (terminated)."""


class CaseEventOut(Out):
    at: datetime
    actor_id: str
    actor_name: str
    from_status: str | None
    to_status: str
    reason: str


class CaseEventList(Out):
    items: list[CaseEventOut]


class SideIn(In):
    name: SideName


class SideOut(Out):
    key: str
    name: str


class SideList(Out):
    items: list[SideOut]


class _InterpreterLink(In):
    """An interpreter's link says what they interpret; nobody else's does."""

    @model_validator(mode="after")
    def _interpretation_with_interpreter(self) -> _InterpreterLink:
        role = getattr(self, "role", None)
        kind = getattr(self, "interpretation", None)
        if role == "interpreter" and kind is None:
            raise ValueError("an interpreter's link needs interpretation: sign, dialect or "
                             "foreign")
        if role != "interpreter" and kind is not None:
            raise ValueError("interpretation is for an interpreter's link only")
        return self


class SessionIn(In):
    title: Annotated[str, StringConstraints(max_length=200)] = ""
    language: Literal["zh", "en"] = "zh"
    scheduled_at: datetime | None = None


class SessionOut(Out):
    id: str
    case_id: str
    title: str
    status: str
    language: str
    scheduled_at: datetime | None
    expected_minutes: int | None = None
    started_at: datetime | None
    ended_at: datetime | None
    created_at: datetime


class SessionList(Out):
    items: list[SessionOut]


class InviteeIn(_InterpreterLink):
    name: Name
    role: Literal["party", "representative", "expert", "interpreter", "observer"] = "party"
    side: Side | None = None
    interpretation: Interpretation | None = None
    contact: Annotated[str, StringConstraints(max_length=200)] = ""
    """A mainland mobile number or an e-mail address; empty: the link is handed over by
    hand (copy or QR on the case page) and no reminder is sent."""


class ScheduleIn(In):
    title: Annotated[str, StringConstraints(max_length=200)] = ""
    starts_at: datetime
    """When it starts; without a UTC offset, in the office's time zone."""
    expected_minutes: int = Field(default=60, ge=15, le=480)
    language: Literal["zh", "en"] = "zh"
    """The session's language: the room's captions and the pages' default."""
    invitees: list[InviteeIn] = Field(default_factory=list, max_length=20)


class ParticipantOut(Out):
    participant_id: str
    name: str
    role: str
    side: str | None
    caucus_id: str | None
    connected: bool
    hand_raised: bool
    muted_sources: list[str]
    state: str | None = None
    interprets_for: str | None = None
    interpretation: str | None = None


class CaucusOut(Out):
    id: str
    name: str
    members: list[str]
    elapsed_s: float | None = None
    limit_s: int | None = None


class SessionStateOut(Out):
    session: SessionOut
    layout_version: int
    joint: list[str]
    caucuses: list[CaucusOut]
    participants: list[ParticipantOut]
    lobby: list[ParticipantOut]
    sides: list[SideOut] = Field(default_factory=list)


# -- invites -----------------------------------------------------------------
class InviteIn(_InterpreterLink):
    role: Literal["party", "representative", "expert", "interpreter", "clerk",
                  "observer"] = "party"
    side: Side | None = None
    interpretation: Interpretation | None = None
    label: Annotated[str, StringConstraints(max_length=120)] = ""
    expires_in_hours: float = Field(default=72, gt=0, le=24 * 30)
    max_uses: int = Field(default=1, ge=1, le=50)


class InviteOut(Out):
    id: str
    session_id: str
    role: str
    side: str | None
    label: str
    interpretation: str | None = None
    expires_at: datetime
    max_uses: int
    uses: int
    revoked: bool
    created_at: datetime
    contact_masked: str | None = None
    """Where a scheduled session's invitation went, masked (last four digits)."""
    notified: str | None = None
    """sent, failed or unreachable; None for a link made by hand."""
    declined_at: datetime | None = None
    """When the invitee said they cannot come (``signaling.intake``)."""
    decline_reason: str | None = None


class InviteCreated(InviteOut):
    url: str
    token: str


class ScheduledOut(Out):
    session: SessionOut
    invites: list[InviteCreated]
    """Each invitee's link, shown once here; the case page lists them until revoked."""


class InviteList(Out):
    items: list[InviteOut]


# -- event log ---------------------------------------------------------------
class EventOut(Out):
    seq: int
    at: datetime
    kind: str
    actor_id: str | None
    caucus_id: str | None
    payload: dict[str, object]


class EventList(Out):
    items: list[EventOut]


class HealthOut(Out):
    status: str
    database: str
    redis: str
    node: str
    version: str


# -- Socket.IO payloads --------------------------------------------------------
class JoinAuth(In):
    """The ``auth`` object of a Socket.IO connection."""

    invite: str | None = Field(default=None, max_length=200)
    resume: str | None = Field(default=None, max_length=200)
    token: str | None = Field(default=None, max_length=200)
    session_id: Id | None = None
    name: Name | None = None
    consent: bool = False
    joined_from: Annotated[str, StringConstraints(max_length=200)] = ""
    shared_names: list[Annotated[str, StringConstraints(
        strip_whitespace=True, min_length=1, max_length=40)]] = Field(default=[], max_length=8)
    """A party's link only: the people who said at the device check that they share this
    device (the mediator sees them and decides, with ``shared_device``)."""


class TargetIn(In):
    participant_id: Id


class DenyIn(TargetIn):
    reason: Annotated[str, StringConstraints(max_length=300)] = ""


class MuteIn(TargetIn):
    source: Literal["audio", "video", "screen"] = "audio"
    muted: bool = True


class HandIn(In):
    raised: bool = True


class ChatIn(In):
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class LobbyMessageIn(In):
    """A line from the mediator to the people waiting in the lobby ("调解员将于5分钟后开始")."""

    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class CaucusCreateIn(In):
    name: Name
    members: list[Id] = Field(default_factory=list, max_length=50)
    limit_minutes: int | None = Field(default=None, ge=1, le=240)
    """After how long the mediator's timer warns; None: no warning."""


class CaucusExtendIn(In):
    caucus_id: Id
    minutes: int = Field(ge=1, le=240)


class InterpreterAttachIn(In):
    """Attach an interpreter to the participant they interpret for (None: detach)."""

    participant_id: Id
    interprets_for: Id | None = None


class CaucusMoveIn(In):
    participant_id: Id
    caucus_id: Id | None = None


class CaucusEndIn(In):
    caucus_id: Id


class SharedDeviceIn(TargetIn):
    people: int = Field(ge=1, le=8)


class VoiceEnrollIn(TargetIn):
    """The next sentence from a shared seat enrolls this person's voice under ``name``
    (None cancels a waiting enrollment)."""

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                           max_length=40)] | None


class SignalIn(In):
    """A WebRTC message for the media layer: offer/answer SDP, ICE candidate, or restart."""

    type: Literal["offer", "answer", "candidate", "restart"]
    sdp: Annotated[str, StringConstraints(max_length=64_000)] | None = None
    candidate: dict[str, object] | None = None
    sources: dict[Annotated[str, StringConstraints(max_length=64)],
                  Literal["audio", "video", "screen"]] | None = Field(default=None, max_length=8)
    """Which of the offer's m-line mids carries microphone, camera or screen."""


# -- the office: statistics, register, staff accounts ------------------------------------

class CountOut(Out):
    key: str
    count: int


class ChoiceOut(Out):
    id: str
    name: str


class StatisticsOut(Out):
    """The dashboard's figures for the filtered cases (signaling/statistics.py)."""

    office_id: str | None
    since: str | None
    until: str | None
    mediator_id: str | None
    cases: int
    by_state: list[CountOut]
    by_type: list[CountOut]
    by_month: list[CountOut]
    decided: int
    succeeded: int
    success_rate: float | None
    median_days_to_agreement: float | None
    sessions_online: int
    expert_minutes: list[CountOut]
    agreements_sealed: int
    judicial_confirmations: int
    offices: list[ChoiceOut]
    mediators: list[ChoiceOut]


class StaffOut(Out):
    id: str
    username: str
    display_name: str
    role: str
    active: bool
    office_id: str
    created_at: datetime
    phone: str = ""
    """The account's mobile number, masked (last four digits); empty when none is set."""

    @field_validator("phone", mode="before")
    @classmethod
    def _masked(cls, value: object) -> str:
        from signaling.notify import mask_recipient

        return mask_recipient(str(value)) if value else ""


class StaffList(Out):
    items: list[StaffOut]


StaffPhone = Annotated[str, StringConstraints(strip_whitespace=True, max_length=20)]
"""Checked as a mainland mobile number by ``signaling.staff`` (code ``phone_invalid``)."""


class StaffIn(In):
    username: Annotated[str, StringConstraints(min_length=2, max_length=80,
                                               pattern=r"^[A-Za-z0-9_.@-]+$")]
    display_name: Annotated[str, StringConstraints(min_length=1, max_length=120)]
    role: Literal["mediator", "clerk", "admin", "expert", "head"]
    password: Annotated[str, StringConstraints(min_length=8, max_length=200)]
    phone: StaffPhone = ""
    """A mainland mobile number for the service's texts to the account (a due return visit)."""


class StaffPatch(In):
    display_name: Annotated[str, StringConstraints(min_length=1, max_length=120)] | None = None
    role: Literal["mediator", "clerk", "admin", "expert", "head"] | None = None
    active: bool | None = None
    phone: StaffPhone | None = None
    """A new mobile number; an empty one removes it."""


class PasswordIn(In):
    password: Annotated[str, StringConstraints(min_length=8, max_length=200)]


class RetentionOut(Out):
    """The retention periods in force (read-only: they are settings, TIAOJIE_*)."""

    chat_days: int
    transcripts_days: int
    evidence_days: int
    audio_days: int
    applications_days: int
    party_copy_days: int


# -- offices (signaling/offices.py) ------------------------------------------
OfficeName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2,
                                              max_length=200)]
OfficeCity = Annotated[str, StringConstraints(strip_whitespace=True, max_length=60)]
"""Free text (杭州市) or a code (330100); offices that write it alike are one city."""
OfficeAddress = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
OfficePhone = Annotated[str, StringConstraints(strip_whitespace=True, max_length=30)]
"""Checked by ``signaling.offices`` (code ``office_phone_invalid``)."""


class OfficeOut(Out):
    id: str
    name: str
    city: str
    address: str
    phone: str
    """The office's public number, shown as written (it is no person's number)."""
    share_experts: bool
    use_city_experts: bool
    time_zone: str = ""
    """The time zone the office's times are shown in: the setting TIAOJIE_OFFICE_TIME_ZONE,
    one for the whole deployment (read-only here)."""
    created_at: datetime


class OfficeList(Out):
    items: list[OfficeOut]


class OfficeIn(In):
    name: OfficeName
    city: OfficeCity = ""
    address: OfficeAddress = ""
    phone: OfficePhone = ""
    share_experts: bool = False
    use_city_experts: bool = False


class OfficePatch(In):
    """An administrator may change every field; an office head the address and phone of
    their own office only."""

    name: OfficeName | None = None
    city: OfficeCity | None = None
    address: OfficeAddress | None = None
    phone: OfficePhone | None = None
    share_experts: bool | None = None
    use_city_experts: bool | None = None
