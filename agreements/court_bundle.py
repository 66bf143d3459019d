"""The clerk's court bundle: what the parties take to the court to apply for 司法确认.

``GET /sessions/{id}/court-bundle`` answers a ZIP with the sealed agreement PDF, the
sealed record when there is one, the parties' identities as each confirmed them (JSON),
a prefilled 司法确认申请书 (DOCX) and a manifest with every file's SHA-256. Only the
session's mediator and the office's clerks and administrators get it; before the
agreement is sealed it answers 409 ``agreement_not_sealed``.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import zipfile
from datetime import datetime

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from signaling import cases
from signaling.api.auth import require_principal
from signaling.db.models import Case
from signaling.errors import Conflict, Forbidden
from signaling.keys import SERVICES

from .confirmations import confirmations_of
from .court_application import render_application
from .deadlines import CHINA
from .models import AgreementData, PartyDetails
from .tables import DraftRow, DraftVersionRow, SealedDocumentRow

ZIP = "application/zip"


async def _sealed(db: AsyncSession, session_id: str, kind: str) -> SealedDocumentRow | None:
    """The newest sealed document of ``kind`` from the session's joint space (a caucus
    document is never the parties' joint agreement)."""
    return (await db.execute(select(SealedDocumentRow).join(
        DraftRow, DraftRow.id == SealedDocumentRow.draft_id).where(
        SealedDocumentRow.session_id == session_id, SealedDocumentRow.kind == kind,
        DraftRow.caucus_id.is_(None)).order_by(SealedDocumentRow.sealed_at.desc()).limit(
        1))).scalar_one_or_none()


async def _identities(db: AsyncSession, doc: SealedDocumentRow, data: AgreementData
                      ) -> tuple[list[PartyDetails], list[dict[str, object]]]:
    """Each party as they confirmed themselves (the newest confirmation), else as the
    agreement prints them, and the JSON that says which."""
    newest: dict[str, tuple[datetime, PartyDetails, str]] = {}
    for c in await confirmations_of(db, doc.draft_id):
        if c.party_id not in newest or c.created_at >= newest[c.party_id][0]:
            newest[c.party_id] = (c.created_at, PartyDetails.model_validate(c.details),
                                  c.acting_as)
    parties, out = [], []
    for printed in data.parties:
        found = newest.get(printed.party_id)
        party = found[1] if found else printed
        parties.append(party)
        details = party.model_dump(mode="json", exclude={"invite_id"})
        for agent in details.get("agents", []):
            agent.pop("invite_id", None)
        out.append({"party_id": printed.party_id, "confirmed": found is not None,
                    "confirmed_at": found[0].isoformat() if found else None,
                    "confirmed_by": found[2] if found else None, "details": details})
    return parties, out


async def court_bundle(request: web.Request) -> web.Response:
    from .http import _attachment

    p = await require_principal(request)
    cases.ensure_staff(p, cases.STAFF_WHO_READ)
    async with request.app[SERVICES].db.session() as db:
        session = await cases.get_session(db, p, request.match_info["session_id"])
        case = await db.get(Case, session.case_id)
        assert case is not None
        if p.role == "mediator" and p.user_id not in (session.created_by, case.mediator_id):
            raise Forbidden("Only the session's mediator, or the office's clerks and "
                            "administrators, export its court bundle.", code="not_your_session")
        agreement = await _sealed(db, session.id, "agreement")
        if agreement is None:
            raise Conflict("The agreement of this session is not sealed yet: the court bundle "
                           "comes after every signature and the committee's seal.",
                           code="agreement_not_sealed")
        record = await _sealed(db, session.id, "record")
        version = await db.scalar(select(DraftVersionRow).where(
            DraftVersionRow.draft_id == agreement.draft_id,
            DraftVersionRow.number == agreement.version_number))
        assert version is not None
        data = AgreementData.model_validate(version.data)
        parties, identities = await _identities(db, agreement, data)
    number = data.case_number
    effective_on = agreement.sealed_at.astimezone(CHINA).date()
    application = await asyncio.to_thread(
        render_application, data, parties, effective_on,
        agreement.judicial_confirmation_deadline, record is not None)
    files: list[tuple[str, bytes]] = [
        (f"1-人民调解协议书-{number}.pdf", agreement.pdf)]
    if record is not None:
        files.append((f"2-人民调解记录-{number}.pdf", record.pdf))
    files += [
        ("当事人身份信息.json", json.dumps({
            "case_number": number, "committee": data.committee,
            "agreement_document_id": agreement.id, "parties": identities},
            ensure_ascii=False, indent=2).encode()),
        (f"司法确认申请书-{number}.docx", application),
    ]
    manifest = {
        "case_number": number, "committee": data.committee,
        "agreement": {"document_id": agreement.id, "sealed_at": agreement.sealed_at.isoformat(),
                      "effective_on": effective_on.isoformat(),
                      "judicial_confirmation_deadline": (
                          agreement.judicial_confirmation_deadline.isoformat()
                          if agreement.judicial_confirmation_deadline else None)},
        "files": {name: hashlib.sha256(body).hexdigest() for name, body in files},
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in files:
            z.writestr(name, body)
        z.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2))
    return _attachment(buffer.getvalue(), ZIP, f"司法确认材料-{number}.zip",
                       f"court-bundle-{session.id}.zip")
