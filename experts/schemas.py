"""Typed shapes of what the expert API and events take in and give out."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, StringConstraints, field_validator

Id = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{16,32}$")]
DomainCode = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,39}$")]
Language = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
Scope = Literal["consultation", "joint", "caucus"]
Status = Literal["online", "busy", "offline"]
HHMM = Annotated[str, StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$")]


class In(BaseModel):
    """Inbound payloads: unknown fields are refused, strings are trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Slot(In):
    """One weekly window in which the expert is willing to be called (China time, UTC+8)."""

    weekday: int = Field(ge=0, le=6, description="Monday is 0")
    start: HHMM = Field(description="HH:MM, inclusive")
    end: HHMM = Field(description="HH:MM, exclusive; after start")

    @field_validator("end")
    @classmethod
    def _after_start(cls, v: str, info: object) -> str:
        start = getattr(info, "data", {}).get("start")
        if start is not None and v <= start:
            raise ValueError("end must be after start")
        return v


class _ProfileFields(In):
    display_name: Annotated[str, StringConstraints(min_length=1, max_length=120)] | None = None
    languages: list[Language] | None = Field(default=None, max_length=20,
                                             description="Languages and dialects, e.g. zh, yue, "
                                                         "wuu, en, csl (Chinese sign language)")
    region: Annotated[str, StringConstraints(max_length=120)] | None = None
    organisation: Annotated[str, StringConstraints(max_length=200)] | None = None
    phone: Annotated[str, StringConstraints(pattern=r"^\+?[0-9 -]{5,30}$")] | None = Field(
        default=None, description="For out-of-band notification; shown masked to others")
    bio: Annotated[str, StringConstraints(max_length=2000)] | None = None
    availability: list[Slot] | None = Field(default=None, max_length=50)


class ExpertSelfPatch(_ProfileFields):
    """What experts may change on their own profile (domains and activity are vetted)."""


class ExpertPatch(_ProfileFields):
    """What an administrator may change on any profile of the office."""

    domains: list[DomainCode] | None = Field(default=None, min_length=1, max_length=12)
    active: bool | None = None


class ExpertIn(ExpertPatch):
    """A new directory entry for an existing user account whose role is "expert"."""

    user_id: Id
    domains: list[DomainCode] = Field(min_length=1, max_length=12)


class ExpertOut(Out):
    id: str
    user_id: str
    display_name: str
    domains: list[str]
    languages: list[str]
    region: str
    organisation: str
    phone: str
    """Masked (138****5678) except for administrators and the expert."""
    bio: str
    availability: list[dict[str, object]]
    active: bool
    rating: float | None
    """Mean of the mediators' ratings, 1 to 5; None before the first."""
    rating_count: int
    status: Status
    available_now: bool
    office_id: str = ""
    office_name: str = ""
    """The expert's own office, named so that a lent expert (``lent``) is labelled."""
    lent: bool = False
    """An expert of another office of the city, lent to the caller's office."""


class ExpertList(Out):
    items: list[ExpertOut]


class DomainOut(Out):
    code: str
    zh: str
    en: str


class DomainList(Out):
    items: list[DomainOut]


# -- calls ---------------------------------------------------------------------
class CallIn(In):
    """A mediator's request for an expert (Socket.IO ``expert_call``)."""

    domain: DomainCode
    language: Literal["zh", "en"] | None = Field(default=None,
                                                 description="The session's language")
    expert_id: Id | None = Field(default=None, description="Ring only this expert")
    scope: Scope = "consultation"
    caucus_id: Id | None = Field(default=None, description="Required for scope=caucus")


class CallRef(In):
    call_id: Id


class DeclineIn(CallRef):
    reason: Annotated[str, StringConstraints(max_length=200)] = ""


class RingOut(Out):
    expert_id: str
    state: str
    rung_at: datetime
    answered_at: datetime | None


class CallOut(Out):
    id: str
    session_id: str
    case_id: str
    domain: str
    language: str | None
    named_expert_id: str | None
    scope: str
    caucus_id: str | None
    strategy: str
    state: str
    tier: str
    deadline: datetime
    accepted_by: str | None
    participant_id: str | None
    created_at: datetime
    accepted_at: datetime | None
    joined_at: datetime | None
    ended_at: datetime | None
    end_reason: str
    rating: int | None
    rings: list[RingOut] = Field(default_factory=list)


class CallList(Out):
    items: list[CallOut]


class RatingIn(In):
    stars: int = Field(ge=1, le=5)
    comment: Annotated[str, StringConstraints(max_length=1000)] = ""


# -- ledger --------------------------------------------------------------------
class VisitOut(Out):
    id: str
    call_id: str
    expert_id: str
    office_id: str
    """The office the time was given to (the calling office)."""
    case_id: str
    session_id: str
    scope: str
    joined_at: datetime
    left_at: datetime | None
    minutes: int


class LedgerOut(Out):
    expert_id: str | None
    items: list[VisitOut]
    total_minutes: int


class CsvText(RootModel[str]):
    """A CSV document (UTF-8 with a BOM so that spreadsheet programs read Chinese)."""


class OkOut(Out):
    ok: bool = True
