"""HTTP routes of the documents service for office staff: load, check, call, respond.

Declared by the feature (``agreements/feature.py``, ``add_routes``); its Socket.IO
events are declared there too. Every route is scoped
to the caller's office: another office's case, document or draft answers 404,
exactly like a missing one.
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import Literal
from urllib.parse import quote

from aiohttp import web
from sqlalchemy import select, update

from signaling import cases
from signaling.accounts import Principal
from signaling.api.auth import require_principal
from signaling.api.registry import ApiRouter, Route, json_response, read_limited
from signaling.db.base import utcnow
from signaling.db.models import Case
from signaling.errors import BadRequest, Conflict, NotFound
from signaling.keys import SERVICES

from . import copies, court_bundle, public, wet_ink
from .deadlines import china_today, days_left
from .draft import DraftId
from .edge import refusals_as_edge_errors
from .finalize import print_copy
from .runtime import MAX_VERIFY_BYTES, runtime
from .schemas import (
    DocumentList,
    DocumentOut,
    SignatureReportOut,
    TemplateList,
    TemplateOut,
    VerificationOut,
)
from .sealing import template_bytes
from .store_sql import draft_from_row
from .tables import OfficeTemplateRow, SealedDocumentRow
from .template import MAX_TEMPLATE_BYTES, validate_template
from .verify import verify_pdf

V1 = "/api/v1"
PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _document_out(d: SealedDocumentRow) -> DocumentOut:
    deadline = d.judicial_confirmation_deadline
    return DocumentOut(
        id=d.id, kind=d.kind, case_id=d.case_id, session_id=d.session_id, draft_id=d.draft_id,
        version_number=d.version_number, version_digest=d.version_digest,
        pdf_sha256=d.pdf_sha256, sealed_at=d.sealed_at,
        judicial_confirmation_deadline=deadline,
        judicial_confirmation_days_left=(
            days_left(deadline, china_today(utcnow())) if deadline is not None else None),
        pdf_url=f"{V1}/documents/{d.id}/pdf", docx_url=f"{V1}/documents/{d.id}/docx",
        short_id=d.short_id, verify_url=f"/verify/{d.short_id}" if d.short_id else None,
        court_bundle_url=(f"{V1}/sessions/{d.session_id}/court-bundle"
                          if d.kind == "agreement" else None))


def _attachment(body: bytes, content_type: str, filename: str, ascii_name: str) -> web.Response:
    resp = web.Response(body=body, content_type=content_type)
    # An attachment, never rendered inline: a PDF viewer in the page is not our origin's
    # business. filename* carries the Chinese case number; filename is the fallback.
    resp.headers["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}")
    resp.headers["Cache-Control"] = "no-store"
    return resp


async def _read_raw(request: web.Request, limit: int) -> bytes:
    raw = await read_limited(request, limit, f"The file is larger than {limit} bytes.")
    if not raw:
        raise BadRequest("Send the file as the request body.", code="empty_body")
    return raw


async def _document(request: web.Request, p: Principal) -> tuple[SealedDocumentRow, Case]:
    async with request.app[SERVICES].db.session() as db:
        d = await db.get(SealedDocumentRow, request.match_info["document_id"])
        if d is None:
            raise NotFound("No such document.", code="document_not_found")
        try:
            case = await cases.get_case(db, p, d.case_id)
        except NotFound:
            raise NotFound("No such document.", code="document_not_found") from None
    return d, case


# -- handlers --------------------------------------------------------------------------


async def list_documents(request: web.Request) -> web.Response:
    p = await require_principal(request)
    async with request.app[SERVICES].db.session() as db:
        case = await cases.get_case(db, p, request.match_info["case_id"])
        rows = (await db.execute(select(SealedDocumentRow).where(
            SealedDocumentRow.case_id == case.id).order_by(SealedDocumentRow.sealed_at))).scalars()
        items = [_document_out(d) for d in rows]
    return json_response(DocumentList(items=items))


async def download_pdf(request: web.Request) -> web.Response:
    p = await require_principal(request)
    d, case = await _document(request, p)
    return _attachment(d.pdf, PDF, f"{d.kind}-{case.number}-v{d.version_number}.pdf",
                       f"{d.kind}-{d.id}.pdf")


async def download_docx(request: web.Request) -> web.Response:
    p = await require_principal(request)
    d, case = await _document(request, p)
    return _attachment(d.docx, DOCX, f"{d.kind}-{case.number}-v{d.version_number}.docx",
                       f"{d.kind}-{d.id}.docx")


async def verify_document(request: web.Request) -> web.Response:
    p = await require_principal(request)
    cases.ensure_staff(p, cases.STAFF_WHO_READ)
    services = request.app[SERVICES]
    pdf = await _read_raw(request, MAX_VERIFY_BYTES)
    # Every office's seal on this server is trusted: a clerk may check a document
    # another committee sealed; only the link to a stored document stays per office.
    roots = await asyncio.to_thread(runtime(services).trust_roots)
    result = await asyncio.to_thread(verify_pdf, pdf, roots)
    async with services.db.session() as db:
        known = await db.scalar(select(SealedDocumentRow.id).join(
            Case, Case.id == SealedDocumentRow.case_id).where(
            SealedDocumentRow.pdf_sha256 == result.document_sha256,
            Case.office_id == p.office_id))
    return json_response(VerificationOut(
        authentic=result.authentic, document_sha256=result.document_sha256,
        signer=result.signer, reasons=list(result.reasons), known_document_id=known,
        signatures=[SignatureReportOut(**vars(s)) for s in result.signatures]))


async def list_templates(request: web.Request) -> web.Response:
    p = await require_principal(request)
    cases.ensure_staff(p, cases.STAFF_WHO_READ)
    async with request.app[SERVICES].db.session() as db:
        rows = (await db.execute(select(OfficeTemplateRow).where(
            OfficeTemplateRow.office_id == p.office_id).order_by(
            OfficeTemplateRow.created_at))).scalars()
        items = [TemplateOut.model_validate(t) for t in rows]
    return json_response(TemplateList(items=items))


async def upload_template(request: web.Request) -> web.Response:
    p = await require_principal(request)
    cases.ensure_staff(p, ("admin",))
    kind = request.query.get("kind", "")
    language = request.query.get("language", "zh-CN")
    name = request.query.get("name", "")[:200].strip()
    if kind not in ("agreement", "record", "oral_register") or language not in ("zh-CN", "en"):
        raise BadRequest("kind must be agreement, record or oral_register; "
                         "language zh-CN or en.",
                         code="invalid_payload")
    content = await _read_raw(request, MAX_TEMPLATE_BYTES)
    with refusals_as_edge_errors():
        await asyncio.to_thread(validate_template, content, kind,  # type: ignore[arg-type]
                                request.headers.get("Content-Type"))
    row = OfficeTemplateRow(office_id=p.office_id, kind=kind, language=language,
                            name=name or f"{kind} ({language})", content=content,
                            sha256=hashlib.sha256(content).hexdigest(), uploaded_by=p.user_id)
    async with request.app[SERVICES].db.session() as db:
        db.add(row)
        await db.commit()
    return json_response(TemplateOut.model_validate(row), status=201)


async def _office_template(request: web.Request) -> tuple[Principal, OfficeTemplateRow]:
    """The template named in the path, for an administrator of its office."""
    p = await require_principal(request)
    cases.ensure_staff(p, ("admin",))
    async with request.app[SERVICES].db.session() as db:
        row = await db.get(OfficeTemplateRow, request.match_info["template_id"])
    if row is None or row.office_id != p.office_id:
        raise NotFound("No such template.", code="template_not_found")
    return p, row


async def preview_template(request: web.Request) -> web.Response:
    """The template rendered with the fictitious demo case, as DOCX: what a document made
    from it will look like, before it is made the office's default."""
    from .demo import demo_agreement, demo_oral_register, demo_record
    from .models import DocumentData, Language
    from .render import render

    _, row = await _office_template(request)
    sample: DocumentData = (demo_agreement() if row.kind == "agreement" else
                            demo_record() if row.kind == "record" else demo_oral_register())
    language: Language = "en" if row.language == "en" else "zh-CN"
    with refusals_as_edge_errors():
        docx = await asyncio.to_thread(render, row.content, sample, language=language)
    return web.Response(body=docx, content_type=DOCX, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(row.name)}-preview.docx",
        "Cache-Control": "no-store"})


async def make_default_template(request: web.Request) -> web.Response:
    """Make the template its office's default for its kind and language (the previous
    default stops being one, in the same transaction)."""
    p, row = await _office_template(request)
    async with request.app[SERVICES].db.session() as db:
        await db.execute(update(OfficeTemplateRow).where(
            OfficeTemplateRow.office_id == p.office_id, OfficeTemplateRow.kind == row.kind,
            OfficeTemplateRow.language == row.language).values(is_default=False))
        await db.execute(update(OfficeTemplateRow).where(OfficeTemplateRow.id == row.id)
                         .values(is_default=True))
        await db.commit()
        fresh = await db.get(OfficeTemplateRow, row.id)
    return json_response(TemplateOut.model_validate(fresh))


async def print_draft(request: web.Request) -> web.Response:
    fmt: Literal["pdf", "docx"] = "docx" if request.query.get("format") == "docx" else "pdf"
    services = request.app[SERVICES]
    row, case = await wet_ink.readable_draft(request)
    async with services.db.session() as db:
        draft = draft_from_row(row)
        template = await template_bytes(db, draft)
    rt = runtime(services)
    with refusals_as_edge_errors():
        version = await rt.run(lambda st: st.drafts.store.latest_version(DraftId(row.id)))
    if version.esign_applies:
        raise Conflict("This document is signed online; a wet-ink copy is only for marriage, "
                       "adoption and inheritance matters.", code="esign_applies")
    with refusals_as_edge_errors():
        docx, pdf = await asyncio.to_thread(print_copy, draft=draft, version=version,
                                            template=template, converter=rt.converter)
    stem = f"{row.kind}-{case.number}-v{version.number}-print"
    if fmt == "docx":
        return _attachment(docx, DOCX, f"{stem}.docx", f"{row.kind}-{row.id}-print.docx")
    return _attachment(pdf, PDF, f"{stem}.pdf", f"{row.kind}-{row.id}-print.pdf")


def add_routes(api: ApiRouter) -> None:
    """Declare the documents' routes."""
    staff = "logged-in staff of the case's office"
    for r in (
        Route("GET", f"{V1}/cases/{{case_id}}/documents", list_documents,
              "Sealed documents (agreement, record) of a case", staff, None, DocumentList,
              tag="documents"),
        Route("GET", f"{V1}/documents/{{document_id}}/pdf", download_pdf,
              "Download the sealed PDF (attachment)", staff, None, None, tag="documents",
              content_type=PDF),
        Route("GET", f"{V1}/documents/{{document_id}}/docx", download_docx,
              "Download the DOCX the sealed PDF was made from (attachment)", staff, None, None,
              tag="documents", content_type=DOCX),
        Route("POST", f"{V1}/documents/verify", verify_document,
              "Verify a PDF sent as the raw request body (application/pdf, up to 20 MB)",
              "any logged-in staff", None, VerificationOut, tag="documents"),
        Route("GET", f"{V1}/templates", list_templates, "The office's own templates",
              "logged-in staff of the office", None, TemplateList, tag="documents"),
        Route("POST", f"{V1}/templates", upload_template,
              "Upload a DOCX template as the raw body; refused with the list of problems",
              "the office's administrators", None, TemplateOut, 201, tag="documents",
              query=(("kind", "agreement or record"), ("language", "zh-CN (default) or en"),
                     ("name", "a name for the office's list"))),
        Route("GET", f"{V1}/templates/{{template_id}}/preview", preview_template,
              "The template rendered with the demo case's sample data (DOCX)",
              "the office's administrators", None, None, tag="documents", content_type=DOCX),
        Route("POST", f"{V1}/templates/{{template_id}}/default", make_default_template,
              "Make the template the office's default for its kind and language",
              "the office's administrators", None, TemplateOut, tag="documents"),
        Route("GET", f"{V1}/seat/documents", copies.list_copies,
              "A party's sealed documents, with the seat's resume token (X-Seat-Token) or a "
              "copy link's token (X-Copy-Token)",
              "a party or agent of the session; during it and for TIAOJIE_PARTY_COPY_DAYS after",
              None, copies.SeatDocumentList, tag="documents"),
        Route("GET", f"{V1}/seat/documents/{{document_id}}/pdf", copies.download_copy,
              "A party's copy of a sealed PDF (attachment), with X-Seat-Token or X-Copy-Token",
              "a party or agent of the document's session; during it and for "
              "TIAOJIE_PARTY_COPY_DAYS after", None, None, tag="documents", content_type=PDF),
        Route("POST", f"{V1}/documents/{{document_id}}/send", copies.send_copy,
              "Send a party their copy: a link to the phone, or the PDF to the e-mail address, "
              "that the party confirmed", "mediators and administrators of the case's office",
              copies.SendCopyIn, copies.SendCopyOut, 202, tag="documents"),
        Route("GET", f"{V1}/sessions/{{session_id}}/court-bundle", court_bundle.court_bundle,
              "The clerk's bundle for 司法确认 (ZIP): the sealed agreement, the sealed record, "
              "the parties' confirmed identities (JSON) and a prefilled application (DOCX); "
              "409 agreement_not_sealed before the seal",
              "the session's mediator, and clerks and administrators of its office", None, None,
              tag="documents", content_type=court_bundle.ZIP),
        Route("GET", f"{V1}/drafts/{{draft_id}}/print-copy", print_draft,
              "A wet-ink copy (marriage, adoption, inheritance: no e-signatures)", staff,
              None, None, tag="documents", content_type=PDF,
              query=(("format", "pdf (default) or docx"),)),
        Route("POST", f"{V1}/drafts/{{draft_id}}/wet-ink", wet_ink.upload_scan,
              "Archive the scan of a wet-ink signed copy (raw body: PDF, JPEG or PNG, up to "
              "20 MB) with its SHA-256; 409 esign_applies for a document signed online", staff,
              None, wet_ink.WetInkOut, 201, tag="documents"),
        Route("GET", f"{V1}/drafts/{{draft_id}}/wet-ink", wet_ink.download_scan,
              "The newest archived wet-ink scan (attachment; X-Content-SHA256)", staff, None,
              None, tag="documents", content_type="application/pdf"),
        *public.routes(),
    ):
        api.add(r)
