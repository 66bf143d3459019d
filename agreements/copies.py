"""Every party's copy of a sealed document (人民调解法 art. 29: each party keeps one).

A party downloads it from their own seat: with the seat's resume token during the
session, and for ``TIAOJIE_PARTY_COPY_DAYS`` after it ends (the resume link), or with a
copy link the mediator sent to the phone they confirmed. The mediator may also send the
PDF itself to the e-mail address they confirmed. Nothing here is open to anyone else:
another session's document, or one after the period, answers like a missing one or
with ``copy_expired``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from aiohttp import web
from pydantic import Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from signaling import cases
from signaling.api.auth import require_principal
from signaling.api.registry import read_body
from signaling.context import Services
from signaling.credentials import hash_token, new_token
from signaling.db.base import utcnow
from signaling.db.models import MediationSession, Participant
from signaling.errors import Conflict, Forbidden, NotFound, TiaojieError, Unauthorized
from signaling.keys import SERVICES
from signaling.notify import Attachment, compose, mask_recipient
from signaling.schemas import In, Out

from .confirmations import confirmations_of
from .models import PartyDetails
from .parties import agent_of
from .seats import SIGNING_PARTY_ROLES
from .tables import CeremonyRow, CopyLinkRow, DraftRow, SealedDocumentRow

SEAT_HEADER = "X-Seat-Token"
COPY_HEADER = "X-Copy-Token"
KIND_NAMES = {"agreement": "人民调解协议书", "record": "人民调解记录",
              "oral_register": "口头调解协议登记表"}


class SeatDocumentOut(Out):
    id: str
    kind: str
    case_number: str
    version_number: int
    pdf_sha256: str
    sealed_at: datetime
    available_until: datetime | None
    """None while the session is live; then the end of the copy period."""
    pdf_url: str
    short_id: str | None = None
    """Printed under the QR code (``ABCDE-FGHJK``); the party checks the copy with it."""
    verify_url: str | None = None
    """The public verify page of this document, ``/verify/{short_id}``."""


class SeatDocumentList(Out):
    items: list[SeatDocumentOut]


class SendCopyIn(In):
    """``POST /documents/{id}/send``: a party's copy to the phone (a link) or e-mail (the
    PDF) that party confirmed."""

    party_id: str = Field(min_length=1, max_length=64)
    channel: Literal["sms", "email"] = "sms"


class SendCopyOut(Out):
    channel: str
    sent_to: str
    """Masked: the last four digits, or the e-mail's first letter and domain."""


@dataclass
class _Holder:
    """Who asks for a copy: a seat, reached by its resume token or by a copy link."""

    participant: Participant
    link: CopyLinkRow | None = None


async def _holder(request: web.Request, db: AsyncSession) -> _Holder:
    seat = request.headers.get(SEAT_HEADER, "")[:200]
    link_token = request.headers.get(COPY_HEADER, "")[:200]
    if seat:
        p = (await db.execute(select(Participant).where(
            Participant.resume_token_hash == hash_token(seat)))).scalar_one_or_none()
        if p is not None:
            return _Holder(p)
    elif link_token:
        link = (await db.execute(select(CopyLinkRow).where(
            CopyLinkRow.token_hash == hash_token(link_token)))).scalar_one_or_none()
        if link is not None:
            p = await db.get(Participant, link.participant_id)
            if p is not None:
                return _Holder(p, link)
    raise Unauthorized("Open your copy from your own seat or the link you were sent.",
                       code="seat_invalid")


def _until(session: MediationSession, days: int) -> datetime | None:
    return session.ended_at + timedelta(days=days) if session.ended_at else None


async def _readable(db: AsyncSession, holder: _Holder, days: int
                    ) -> list[tuple[SealedDocumentRow, str, datetime | None]]:
    """The sealed documents this holder may download now, with the case number and the end
    of the copy period."""
    p = holder.participant
    if p.role not in SIGNING_PARTY_ROLES:
        raise Forbidden("Copies are for the parties and their agents.", code="not_a_party")
    session = await db.get(MediationSession, p.session_id)
    assert session is not None
    until = _until(session, days)
    now = utcnow()
    if until is not None and now > until:
        raise TiaojieError(f"Copies could be downloaded for {days} days after the session; "
                           "ask the mediation committee for one.", code="copy_expired",
                           status=410)
    query = select(SealedDocumentRow, DraftRow.caucus_id, DraftRow.case_number).join(
        DraftRow, DraftRow.id == SealedDocumentRow.draft_id).where(
        SealedDocumentRow.session_id == p.session_id).order_by(SealedDocumentRow.sealed_at)
    if holder.link is not None:
        if now > holder.link.expires_at:
            raise TiaojieError("This link has expired; ask the mediation committee for a copy.",
                               code="copy_expired", status=410)
        query = query.where(SealedDocumentRow.id == holder.link.document_id)
    out = []
    for doc, caucus_id, number in (await db.execute(query)).all():
        if caucus_id is not None:
            # A caucus document reaches only those who signed it from their seat.
            seats = await db.scalar(select(CeremonyRow.seats).where(
                CeremonyRow.id == doc.ceremony_id)) or {}
            if p.id not in seats.values():
                continue
        out.append((doc, number, until))
    return out


async def list_copies(request: web.Request) -> web.Response:
    from signaling.api.registry import json_response

    services = request.app[SERVICES]
    async with services.db.session() as db:
        holder = await _holder(request, db)
        docs = await _readable(db, holder, services.settings.party_copy_days)
    return json_response(SeatDocumentList(items=[SeatDocumentOut(
        id=d.id, kind=d.kind, case_number=number, version_number=d.version_number,
        pdf_sha256=d.pdf_sha256, sealed_at=d.sealed_at, available_until=until,
        pdf_url=f"/api/v1/seat/documents/{d.id}/pdf", short_id=d.short_id,
        verify_url=f"/verify/{d.short_id}" if d.short_id else None)
        for d, number, until in docs]))


async def download_copy(request: web.Request) -> web.Response:
    from .http import PDF, _attachment

    services = request.app[SERVICES]
    async with services.db.session() as db:
        holder = await _holder(request, db)
        docs = await _readable(db, holder, services.settings.party_copy_days)
    found = [(d, n) for d, n, _ in docs if d.id == request.match_info["document_id"]]
    if not found:
        raise NotFound("No such document.", code="document_not_found")
    doc, number = found[0]
    return _attachment(doc.pdf, PDF, f"{KIND_NAMES.get(doc.kind, doc.kind)}-{number}.pdf",
                       f"{doc.kind}-{doc.id}.pdf")


async def send_copy(request: web.Request) -> web.Response:
    from signaling.api.registry import json_response

    p = await require_principal(request)
    cases.ensure_staff(p, cases.STAFF_WHO_MANAGE)
    services: Services = request.app[SERVICES]
    body = await read_body(request, SendCopyIn, services.settings.max_message_bytes)
    async with services.db.session() as db:
        doc = await db.get(SealedDocumentRow, request.match_info["document_id"])
        if doc is None:
            raise NotFound("No such document.", code="document_not_found")
        try:
            case = await cases.get_case(db, p, doc.case_id)
        except NotFound:
            raise NotFound("No such document.", code="document_not_found") from None
        session = await db.get(MediationSession, doc.session_id)
        assert session is not None
        newest = [c for c in sorted(await confirmations_of(db, doc.draft_id),
                                    key=lambda c: c.created_at) if c.party_id == body.party_id]
        if not newest:
            raise Conflict("That party has not confirmed a phone or e-mail.",
                           code="no_confirmed_contact")
        confirmation = newest[-1]
        party = PartyDetails.model_validate(confirmation.details)
        agent = agent_of(party, confirmation.acting_as)
        who = agent or party
        to = who.email if body.channel == "email" else who.phone
        if not to:
            raise Conflict("That party confirmed no " + ("e-mail address." if body.channel ==
                                                           "email" else "phone number."),
                           code="no_confirmed_contact")
        days = services.settings.party_copy_days
        ends = (session.ended_at or datetime.now(UTC)) + timedelta(days=days)
        token = new_token()
        db.add(CopyLinkRow(document_id=doc.id, participant_id=confirmation.participant_id,
                           token_hash=hash_token(token), expires_at=ends, created_by=p.user_id))
        await db.commit()
    url = f"{services.settings.public_url}/copy#t={token}"
    name = KIND_NAMES.get(doc.kind, doc.kind)
    attachments = (Attachment(f"{name}-{case.number}.pdf", "application/pdf", doc.pdf),) \
        if body.channel == "email" else ()
    message = compose("document_copy", to, {"case_number": case.number, "document": name,
                                            "days": days, "url": url},
                      attachments=attachments, reference=doc.id)
    assert services.notifier is not None
    await services.notifier.send(message)
    assert services.hub is not None
    await services.hub.log_event(doc.session_id, "document.copy_sent", actor_id=None,
                                 payload={"document_id": doc.id, "party_id": body.party_id,
                                          "channel": body.channel,
                                          "to": mask_recipient(to), "by": p.user_id})
    return json_response(SendCopyOut(channel=body.channel, sent_to=mask_recipient(to)),
                         status=202)
