"""Sealing a fully signed draft in the background, then telling the room.

Runs after the last signature is acknowledged, so that no signer waits on
LibreOffice. The sealed PDF and DOCX are stored once per draft (a unique key), so a
second run, on this node or another, finds the document already there and stops.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from signaling import eventchain
from signaling.context import Services
from signaling.db.models import Case, Office, SessionEvent

from .audit import build_certificate
from .builtin import builtin_template
from .ceremony import Ceremony
from .draft import Draft, DraftId, DraftVersion
from .errors import DocumentError
from .finalize import SealedDocument, VerifyLink, seal_document
from .runtime import Stores, runtime
from .seats import audience
from .shortid import new_short_id
from .tables import CeremonyRow, DraftRow, OfficeTemplateRow, SealedDocumentRow
from .views import ceremony_view

log = logging.getLogger("tiaojie.agreements")

OFFICE_TEMPLATE_PREFIX = "office:"


@dataclass(frozen=True)
class _Job:
    draft: Draft
    row: DraftRow
    version: DraftVersion
    ceremony: Ceremony
    seats: dict[str, str]


async def template_bytes(db: AsyncSession, draft: Draft) -> bytes:
    """The DOCX template a draft renders with: an office template or the built-in one."""
    if draft.template_ref.startswith(OFFICE_TEMPLATE_PREFIX):
        row = await db.get(OfficeTemplateRow, draft.template_ref[len(OFFICE_TEMPLATE_PREFIX):])
        if row is None:
            raise DocumentError("the draft's office template is gone", code="template_missing")
        return row.content
    return builtin_template(draft.kind, draft.language)


async def event_log_head(db: AsyncSession, session_id: str) -> str:
    """"<last seq>:<entry_hash>" of the session's event chain, made as events were written
    (``signaling.eventchain``): printed on the audit page and stored with the document, it
    fixes the log as it stood at sealing."""
    last = (await db.execute(
        select(SessionEvent.seq, SessionEvent.entry_hash)
        .where(SessionEvent.session_id == session_id)
        .order_by(SessionEvent.seq.desc()).limit(1))).first()
    if last is None or last.entry_hash is None:
        return f"0:{eventchain.GENESIS}"
    return f"{last.seq}:{last.entry_hash}"


def verify_url(public_url: str, short_id: str) -> str:
    """The public verify page of one sealed document (the QR code on its audit page)."""
    return f"{public_url}/verify/{short_id}"


def _load(st: Stores, ceremony_id: str) -> _Job:
    ceremony = st.signing.ceremonies.get(ceremony_id)
    draft = st.drafts.store.get_draft(ceremony.draft_id)
    row = st.db.get(DraftRow, ceremony.draft_id)
    seats = st.db.scalar(select(CeremonyRow.seats).where(CeremonyRow.id == ceremony_id))
    assert row is not None
    return _Job(draft, row, st.drafts.store.get_version(DraftId(draft.draft_id),
                                                         ceremony.version_number),
                ceremony, dict(seats or {}))


async def seal_in_background(services: Services, ceremony_id: str) -> None:
    """Seal, store and announce; failures are logged and announced, never raised."""
    rt = runtime(services)
    job: _Job | None = None
    try:
        job = await rt.run(lambda st: _load(st, ceremony_id))
        async with services.db.session() as db:
            if await db.scalar(select(SealedDocumentRow.id).where(
                    SealedDocumentRow.draft_id == job.draft.draft_id)):
                return
            template = await template_bytes(db, job.draft)
            head = await event_log_head(db, job.row.session_id)
            certificate = await build_certificate(
                db, session_id=job.row.session_id, draft_id=job.draft.draft_id,
                doc_kind=job.draft.kind, ceremony=job.ceremony, language=job.draft.language)
            office = (await db.execute(select(Office).join(Case, Case.office_id == Office.id)
                                       .where(Case.id == job.row.case_id))).scalar_one()
        key = await rt.seal_key(office.id, office.name)
        short_id = new_short_id()
        link = VerifyLink(short_id, verify_url(services.settings.public_url, short_id))
        sealed: SealedDocument = await asyncio.to_thread(
            seal_document, draft=job.draft, version=job.version, ceremony=job.ceremony,
            template=template, key=key, converter=rt.converter, event_log_head=head,
            verify_link=link, certificate=certificate)
        document_id = await _store(services, job, sealed, short_id, head)
        if document_id is None:
            return
        await _announce(services, job, document_id, sealed, short_id)
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        log.exception("sealing ceremony %s failed", ceremony_id)
        if job is not None:
            await _announce_failure(services, job, exc)


async def _store(services: Services, job: _Job, sealed: SealedDocument, short_id: str,
                 head: str) -> str | None:
    row = SealedDocumentRow(
        case_id=job.row.case_id, session_id=job.row.session_id, draft_id=job.draft.draft_id,
        ceremony_id=job.ceremony.ceremony_id, kind=job.draft.kind,
        version_number=sealed.version_number, version_digest=sealed.version_digest,
        pdf=sealed.pdf, docx=sealed.docx, pdf_sha256=sealed.pdf_sha256,
        sealed_at=sealed.sealed_at,
        judicial_confirmation_deadline=sealed.judicial_confirmation_deadline,
        short_id=short_id, event_log_head=head)
    async with services.db.session() as db:
        db.add(row)
        try:
            await db.commit()
        except IntegrityError:  # another node sealed it first (or, once in 2**50, the id)
            await db.rollback()
            return None
        return row.id


async def _announce(services: Services, job: _Job, document_id: str,
                    sealed: SealedDocument, short_id: str) -> None:
    body = {
        "draft_id": job.draft.draft_id, "document_id": document_id, "kind": job.draft.kind,
        "version": sealed.version_number, "pdf_sha256": sealed.pdf_sha256,
        "short_id": short_id, "verify_url": f"/verify/{short_id}",
        "sealed_at": sealed.sealed_at.isoformat(),
        "judicial_confirmation_deadline": (
            sealed.judicial_confirmation_deadline.isoformat()
            if sealed.judicial_confirmation_deadline else None),
    }
    assert services.hub is not None
    await services.hub.log_event(job.row.session_id, "document.sealed",
                                 caucus_id=job.row.caucus_id, payload=body)
    await _emit(services, job, "sealed", body)


async def _announce_failure(services: Services, job: _Job, exc: Exception) -> None:
    error = (exc.to_dict() if isinstance(exc, DocumentError)
             else {"code": "seal_failed", "message": "Sealing failed; the signatures are kept.",
                   "retryable": True})
    try:
        await _emit(services, job, "signature",
                    ceremony_view(job.ceremony, job.seats, "seal_failed", error=error))
    except Exception:  # announcing must not raise out of a background task
        log.exception("could not announce a sealing failure")


async def _emit(services: Services, job: _Job, event: str, body: dict[str, object]) -> None:
    assert services.hub is not None
    room = await services.rooms.get(job.row.session_id)
    if room is None:
        return
    readers = audience(room, job.row.caucus_id, job.row.created_by)
    await services.hub.emit_to([m.participant_id for m in readers], event, body)
