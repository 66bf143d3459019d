"""Payloads of the documents' Socket.IO events and HTTP routes.

Inbound models refuse unknown fields (signaling's ``In``); the document content
itself (``data``) is validated against ``AgreementData`` / ``RecordData`` by the
handler, once the draft's kind is known.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from signaling.schemas import In, Out

HexId = Field(pattern=r"^[0-9a-f]{16,32}$")


class DraftCreateIn(In):
    """``draft_create``: open a draft in the space the mediator is in."""

    kind: Literal["agreement", "record", "oral_register"]
    data: dict[str, Any] = Field(default_factory=dict)
    """AgreementData, RecordData or OralRegisterData as JSON; ``case_number`` defaults to the
    case's."""
    prefill: Literal["session"] | None = None
    """"session": a record filled from the session (time, place, participants, the joint
    transcript by speaker turns); ``data`` then overrides what it gives. Records only."""
    language: Literal["zh-CN", "en"] = "zh-CN"
    template_id: str | None = Field(default=None, pattern=r"^[0-9a-f]{32}$")
    """An office template of the same kind; the built-in one otherwise."""


class DraftEditIn(In):
    """``draft_edit``: save a new version made from ``base_version``."""

    draft_id: str = HexId
    data: dict[str, Any]
    base_version: int = Field(ge=1)


class DraftCommentIn(In):
    """``draft_comment``: a remark on one version."""

    draft_id: str = HexId
    version: int = Field(ge=1)
    text: str = Field(min_length=1, max_length=2000)


class EmptyIn(In):
    """An event without arguments (``draft_list``)."""


class DraftRefIn(In):
    """``draft_get``: the current version of a draft."""

    draft_id: str = HexId


class SigningOpenIn(In):
    """``signing_open``: start collecting signatures on the latest version.

    ``seats`` binds signer ids (party_id, "mediator", "recorder") to participants in
    the room; unbound signers are found by rule (see ``seats.py``)."""

    draft_id: str = HexId
    seats: dict[str, str] = Field(default_factory=dict, max_length=32)


class CeremonyRefIn(In):
    """``signing_send_code``: send the caller their one-time code."""

    ceremony_id: str = HexId


class SignIn(In):
    """``sign``: the caller's signature, with their code and the digest they read."""

    ceremony_id: str = HexId
    code: str = Field(min_length=4, max_length=12)
    version_digest: str = Field(pattern=r"^[0-9a-f]{64}$")
    image_png_b64: str | None = Field(default=None, max_length=1_000_000)
    typed_name: str | None = Field(default=None, min_length=1, max_length=200)

    @model_validator(mode="after")
    def _one_mark(self) -> SignIn:
        if (self.image_png_b64 is None) == (self.typed_name is None):
            raise ValueError("give exactly one of image_png_b64 and typed_name")
        return self


# -- HTTP ------------------------------------------------------------------------------


class DocumentOut(Out):
    """A sealed document of a case."""

    id: str
    kind: str
    case_id: str
    session_id: str
    draft_id: str
    version_number: int
    version_digest: str
    pdf_sha256: str
    sealed_at: datetime
    judicial_confirmation_deadline: date | None
    """Last day to apply for 司法确认 (人民调解法 art. 33); None for a record."""
    judicial_confirmation_days_left: int | None = None
    """Days from today (China) to that last day: 0 on the day, negative once it passed."""
    pdf_url: str
    docx_url: str
    short_id: str | None = None
    """Printed under the QR code on the audit page; ``/verify/{short_id}`` checks it."""
    verify_url: str | None = None
    court_bundle_url: str | None = None
    """The clerk's bundle for the court (agreements only)."""


class DocumentList(BaseModel):
    items: list[DocumentOut]


class SignatureReportOut(BaseModel):
    field_name: str
    signer: str
    certificate_sha256: str
    signing_time: datetime | None
    intact: bool
    valid: bool
    trusted: bool
    covers_whole_file: bool


class VerificationOut(BaseModel):
    """The verdict on an uploaded PDF."""

    authentic: bool
    document_sha256: str
    signer: str | None
    signatures: list[SignatureReportOut]
    reasons: list[str]
    known_document_id: str | None
    """The sealed document of this office with exactly these bytes, if any."""


class TemplateOut(Out):
    """An office template that passed validation."""

    id: str
    kind: str
    language: str
    name: str
    sha256: str
    created_at: datetime
    is_default: bool = False


class TemplateList(BaseModel):
    items: list[TemplateOut]


class PartyConfirmIn(In):
    """``party_confirm``: a party (or their agent) confirms or corrects their own entry."""

    draft_id: str = HexId
    version: int = Field(ge=1)
    """The version they read; a newer one must be read first."""
    party_id: str = Field(min_length=1, max_length=64)
    details: dict[str, Any] | None = Field(default=None, max_length=16)
    """Corrections to the party's own fields; None or equal values: confirmed as printed."""
    agent: dict[str, Any] | None = Field(default=None, max_length=8)
    """An agent's corrections to their own fields."""


class DraftPreviewIn(In):
    """``draft_preview``: the document as it would print, before it is saved."""

    kind: Literal["agreement", "record", "oral_register"] = "agreement"
    data: dict[str, Any]
    language: Literal["zh-CN", "en"] = "zh-CN"
