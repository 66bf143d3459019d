"""Checking a sealed document against what the service stored, and its session's audit log.

``verify.verify_pdf`` answers for the file alone (signatures intact, trusted, covering the
whole file). A document is authentic here only when, in addition, the file is byte for
byte the one the service sealed (its SHA-256 is a stored document's, or the one stored
under the id asked about). The session's event chain (``signaling.eventchain``) is
re-walked and the head recorded at sealing is looked up; that verdict is reported beside
authenticity. ``tiaojie documents verify --document`` and the public verify routes both
call ``check_document``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from signaling.db.models import SessionEvent
from signaling.eventchain import ChainCheck, head_matches, verify_chain

from .ceremony import Ceremony
from .certificate import Certificate, certificate_from_events
from .models import Language
from .shortid import normalise_short_id
from .store_sql import ceremony_from_row
from .tables import CeremonyRow, SealedDocumentRow
from .verify import VerificationResult, verify_pdf


async def build_certificate(db: AsyncSession, *, session_id: str, draft_id: str,
                            doc_kind: str, ceremony: Ceremony,
                            language: Language = "zh-CN") -> Certificate:
    """The completion certificate of ``draft_id`` signed in ``ceremony``, from the
    session's ``document.*`` events (read in pages, in log order)."""
    events: list[SessionEvent] = []
    after = 0
    while True:
        rows = list((await db.execute(
            select(SessionEvent).where(SessionEvent.session_id == session_id,
                                       SessionEvent.seq > after,
                                       SessionEvent.kind.like("document.%"))
            .order_by(SessionEvent.seq).limit(500))).scalars())
        events.extend(rows)
        if len(rows) < 500:
            break
        after = rows[-1].seq
    return certificate_from_events(events, draft_id=draft_id, doc_kind=doc_kind,
                                   ceremony=ceremony, language=language)


@dataclass(frozen=True)
class AuditCheck:
    """The session's event chain re-walked, and the head the document recorded."""

    chain: ChainCheck
    recorded_head: str | None
    """"<seq>:<hash>" stored at sealing; None for a document sealed before heads were kept."""
    head_holds: bool | None
    """The event the recorded head names still holds that hash (None: nothing recorded)."""

    @property
    def intact(self) -> bool:
        return self.chain.intact and self.head_holds is not False

    def to_dict(self) -> dict[str, Any]:
        return {**self.chain.to_dict(), "intact": self.intact,
                "recorded_head": self.recorded_head, "recorded_head_holds": self.head_holds}


async def check_audit_log(db: AsyncSession, session_id: str,
                          recorded_head: str | None = None) -> AuditCheck:
    chain = await verify_chain(db, session_id)
    holds = None if recorded_head is None else await head_matches(db, session_id,
                                                                  recorded_head)
    return AuditCheck(chain, recorded_head, holds)


@dataclass(frozen=True)
class SignedBy:
    """One signature as the public may see it: a name, a role, a time, a method."""

    name: str
    role: str
    signed_at: datetime
    method: str
    acting_name: str = ""
    """The agent who signed on a party's line, if not the party."""


@dataclass(frozen=True)
class DocumentCheck:
    """The verdict on a file (or on a stored document by its id)."""

    authentic: bool
    pdf: VerificationResult
    document: SealedDocumentRow | None
    reasons: tuple[str, ...]
    signed_by: tuple[SignedBy, ...] = ()
    audit: AuditCheck | None = None
    certificate: Certificate | None = None

    def to_dict(self) -> dict[str, Any]:
        """The public answer: no phone or ID numbers, no addresses, no IPs; the signers'
        printed names and roles and the times, as the document itself prints them."""
        d = self.document
        seal = self.pdf.signatures[-1] if self.pdf.signatures else None
        return {
            "authentic": self.authentic,
            "reasons": list(self.reasons),
            "sha256": self.pdf.document_sha256,
            "document": None if d is None else {
                "short_id": d.short_id, "kind": d.kind, "version": d.version_number,
                "sealed_at": d.sealed_at.isoformat(), "pdf_sha256": d.pdf_sha256,
                "version_digest": d.version_digest,
            },
            "seal": None if seal is None else {
                "signer": seal.signer,
                "signed_at": seal.signing_time.isoformat() if seal.signing_time else None,
                "intact": seal.intact, "trusted": seal.trusted,
                "covers_whole_file": seal.covers_whole_file,
            },
            "signed_by": [{"name": s.name, "role": s.role, "signed_at": s.signed_at.isoformat(),
                           "method": s.method, "acting_name": s.acting_name or None}
                          for s in self.signed_by],
            "audit_chain": None if self.audit is None else self.audit.to_dict(),
            "certificate": None if self.certificate is None else self.certificate.public(),
        }


async def find_document(db: AsyncSession, ref: str) -> SealedDocumentRow | None:
    """A sealed document by its id or its short id (as typed)."""
    short = normalise_short_id(ref)
    conditions = [SealedDocumentRow.id == ref.strip()]
    if short is not None:
        conditions.append(SealedDocumentRow.short_id == short)
    return (await db.execute(select(SealedDocumentRow).where(or_(*conditions)))).scalars().first()


async def _signed_by(db: AsyncSession, document: SealedDocumentRow
                     ) -> tuple[tuple[SignedBy, ...], Certificate | None]:
    row = await db.get(CeremonyRow, document.ceremony_id)
    if row is None:
        return (), None
    ceremony = ceremony_from_row(row)
    certificate = await build_certificate(db, session_id=document.session_id,
                                          draft_id=document.draft_id, doc_kind=document.kind,
                                          ceremony=ceremony)
    out = []
    for signer in ceremony.signers:
        sig = ceremony.signatures.get(signer.signer_id)
        if sig is not None:
            out.append(SignedBy(sig.name, sig.role_label, sig.signed_at, sig.method,
                                signer.acting_name))
    return tuple(out), certificate


async def check_document(db: AsyncSession, pdf: bytes, trust_roots: Sequence[bytes], *,
                         expected: SealedDocumentRow | None = None) -> DocumentCheck:
    """Verify ``pdf``; with ``expected``, it must be that stored document, else any one
    the service sealed with the same bytes."""
    result = await asyncio.to_thread(verify_pdf, pdf, list(trust_roots))
    reasons = list(result.reasons)
    document = expected
    if document is None:
        document = (await db.execute(select(SealedDocumentRow).where(
            SealedDocumentRow.pdf_sha256 == result.document_sha256))).scalars().first()
        if document is None:
            reasons.append("no document sealed by this service has exactly this content")
    elif document.pdf_sha256 != result.document_sha256:
        reasons.append("the file is not the document sealed under this id")
    if document is not None and document.pdf_sha256 != result.document_sha256:
        # A different file: say nothing more about the stored document's signers.
        return DocumentCheck(False, result, document, tuple(reasons))
    if document is None:
        return DocumentCheck(False, result, None, tuple(reasons))
    signed_by, certificate = await _signed_by(db, document)
    audit = await check_audit_log(db, document.session_id, document.event_log_head)
    return DocumentCheck(not reasons, result, document, tuple(reasons), signed_by, audit,
                         certificate)
