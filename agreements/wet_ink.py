"""The wet-ink path: marriage, adoption and inheritance matters (电子签名法 art. 3 excludes
e-signatures for them) are printed (``GET /drafts/{id}/print-copy``), signed on paper,
scanned, and the scan is archived here with its SHA-256.

``POST /drafts/{id}/wet-ink`` takes the scan as the raw body (PDF, JPEG or PNG, up to
``MAX_SCAN_BYTES``) and refuses a document that is signed online (409 ``esign_applies``);
``GET /drafts/{id}/wet-ink`` downloads the newest archived scan. Both are for the office's
staff who may read the draft: a caucus draft for mediators and administrators only.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from aiohttp import web
from sqlalchemy import select

from signaling import cases
from signaling.api.auth import require_principal
from signaling.api.registry import json_response
from signaling.db.models import Case
from signaling.errors import BadRequest, Conflict, NotFound
from signaling.keys import SERVICES
from signaling.schemas import Out

from .draft import DraftId
from .edge import refusals_as_edge_errors
from .runtime import runtime
from .tables import DraftRow, WetInkCopyRow

MAX_SCAN_BYTES = 20 * 1024 * 1024
"""A scanned agreement of a few pages is well under this."""
_MAGIC = ((b"%PDF-", "application/pdf", "pdf"), (b"\xff\xd8\xff", "image/jpeg", "jpg"),
          (b"\x89PNG\r\n\x1a\n", "image/png", "png"))


class WetInkOut(Out):
    id: str
    draft_id: str
    version_number: int
    version_digest: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: datetime
    download_url: str


def _kind(raw: bytes) -> tuple[str, str]:
    for magic, content_type, ext in _MAGIC:
        if raw.startswith(magic):
            return content_type, ext
    raise BadRequest("Upload the scan as a PDF, JPEG or PNG file.", code="unsupported_scan")


async def readable_draft(request: web.Request) -> tuple[DraftRow, Case]:
    """The draft named in the path, if the caller may read it (else 404 draft_not_found)."""
    p = await require_principal(request)
    async with request.app[SERVICES].db.session() as db:
        row = await db.get(DraftRow, request.match_info["draft_id"])
        if row is None:
            raise NotFound("No such draft.", code="draft_not_found")
        try:
            case = await cases.get_case(db, p, row.case_id)
        except NotFound:
            raise NotFound("No such draft.", code="draft_not_found") from None
        if row.caucus_id is not None and p.role == "clerk":
            # Clerks keep the joint record only; a caucus draft stays with the mediator.
            raise NotFound("No such draft.", code="draft_not_found")
    return row, case


def _out(row: WetInkCopyRow) -> WetInkOut:
    return WetInkOut(id=row.id, draft_id=row.draft_id, version_number=row.version_number,
                     version_digest=row.version_digest, content_type=row.content_type,
                     size=len(row.content), sha256=row.sha256, uploaded_at=row.uploaded_at,
                     download_url=f"/api/v1/drafts/{row.draft_id}/wet-ink")


async def upload_scan(request: web.Request) -> web.Response:
    from .http import _read_raw

    p = await require_principal(request)
    row, _ = await readable_draft(request)
    services = request.app[SERVICES]
    with refusals_as_edge_errors():
        version = await runtime(services).run(
            lambda st: st.drafts.store.latest_version(DraftId(row.id)))
    if version.esign_applies:
        raise Conflict("This document is signed online; a scanned wet-ink copy is only for "
                       "marriage, adoption and inheritance matters.", code="esign_applies")
    raw = await _read_raw(request, MAX_SCAN_BYTES)
    content_type, _ = _kind(raw)
    copy = WetInkCopyRow(draft_id=row.id, version_number=version.number,
                         version_digest=version.digest, content_type=content_type,
                         content=raw, sha256=hashlib.sha256(raw).hexdigest(),
                         uploaded_by=p.user_id)
    async with services.db.session() as db:
        db.add(copy)
        await db.commit()
        out = _out(copy)
    if services.hub is not None:
        await services.hub.log_event(row.session_id, "document.wet_ink_archived",
                                     caucus_id=row.caucus_id, payload={
                                         "draft_id": row.id, "version": version.number,
                                         "sha256": out.sha256, "by": p.user_id})
    return json_response(out, status=201)


async def download_scan(request: web.Request) -> web.Response:
    from .http import _attachment

    row, case = await readable_draft(request)
    async with request.app[SERVICES].db.session() as db:
        copy = (await db.execute(select(WetInkCopyRow).where(
            WetInkCopyRow.draft_id == row.id).order_by(
            WetInkCopyRow.uploaded_at.desc()).limit(1))).scalar_one_or_none()
    if copy is None:
        raise Conflict("No signed copy has been uploaded for this document yet.",
                       code="no_wet_ink_copy")
    _, ext = _kind(copy.content)
    resp = _attachment(copy.content, copy.content_type,
                       f"{row.kind}-{case.number}-v{copy.version_number}-signed.{ext}",
                       f"{row.kind}-{row.id}-signed.{ext}")
    resp.headers["X-Content-SHA256"] = copy.sha256
    return resp
