"""The documents' Socket.IO events: load, check the seat, call the library, tell the room.

Every handler receives the caller's seat (session, participant, role) and a validated
payload, and answers through the acknowledgement; refusals are ``TiaojieError``s
with stable codes (the library's codes pass through, see ``edge.py``).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from signaling import ratelimit
from signaling.context import Services
from signaling.db.models import Case, MediationSession
from signaling.errors import BadRequest, Conflict, Forbidden, NotFound
from signaling.grants import ensure_admin, ensure_chat
from signaling.rooms.room import Member, Room
from signaling.features import SocketEvent

from .ceremony import Ceremony, CollectedSignature
from .draft import Comment, Draft, DraftId, DraftVersion, utc_now
from .preview import render_preview
from .edge import refusals_as_edge_errors
from .errors import CodeInvalid, SignerLocked
from .models import DocumentData
from .runtime import Stores, runtime
from .schemas import (
    CeremonyRefIn,
    DraftCommentIn,
    DraftCreateIn,
    DraftEditIn,
    DraftPreviewIn,
    DraftRefIn,
    EmptyIn,
    SignIn,
    SigningOpenIn,
)
from .sealing import OFFICE_TEMPLATE_PREFIX, seal_in_background
from .confirmations import confirmation_view, linked_party_seats, party_seats
from .identity import check_agreement
from .limits import SIGNING_CODE
from .models import AgreementData
from .session_record import record_from_session
from .seats import audience, bind_signers, can_read, mask_phone, needs_identity, seat_of
from .signature import required_signers
from .store_sql import Place, draft_from_row, load_data
from .tables import (
    CeremonyRow,
    DraftRow,
    DraftVersionRow,
    OfficeTemplateRow,
    SealedDocumentRow,
)
from .views import ceremony_view, draft_view, views_by_reader

Seat = dict[str, Any]


# -- loading and checking ------------------------------------------------------------


async def _member(services: Services, seat: Seat) -> tuple[Room, Member]:
    room = await services.rooms.get(seat["session_id"])
    if room is None:
        raise NotFound("No such session.", code="session_not_found")
    m = room.member(seat["participant_id"])
    if m.state != "room":
        raise Forbidden("You are not in the room yet.", code="not_in_room")
    return room, m


async def _draft_row(services: Services, seat: Seat, room: Room, draft_id: str) -> DraftRow:
    """The draft if the caller may read it; otherwise exactly like a missing draft."""
    async with services.db.session() as db:
        row = await db.get(DraftRow, draft_id)
    if (row is None or row.session_id != seat["session_id"]
            or not can_read(room, seat["participant_id"], row.caucus_id)):
        raise NotFound("No such draft.", code="draft_not_found")
    return row


async def _ensure_not_sealed(services: Services, draft_id: str) -> None:
    async with services.db.session() as db:
        if await db.scalar(select(SealedDocumentRow.id).where(
                SealedDocumentRow.draft_id == draft_id)):
            raise Conflict("This document is already sealed; start a new draft.",
                           code="draft_sealed")


def _ensure_not_complete(st: Stores, draft_id: DraftId) -> None:
    # Once every signer has signed, the text is final: the seal is being applied (or
    # waits for draft_seal), and an edit must not void signatures under its feet.
    if any(c.status == "complete" for c in st.ceremony_store.for_draft(draft_id)):
        raise Conflict("Everyone has signed this version; it is being sealed.",
                       code="signing_complete")


async def _ceremony(services: Services, seat: Seat, room: Room,
                    ceremony_id: str) -> tuple[CeremonyRow, DraftRow, str]:
    """The ceremony, its draft and the signer id the caller signs as."""
    async with services.db.session() as db:
        c = await db.get(CeremonyRow, ceremony_id)
    if c is None:
        raise NotFound("No such signing round.", code="draft_not_found")
    row = await _draft_row(services, seat, room, c.draft_id)
    signer_id = seat_of(c.seats, seat["participant_id"])
    if signer_id is None:
        raise Forbidden("You do not sign this document.", code="not_a_signer")
    return c, row, signer_id


def _client_info(services: Services, m: Member) -> tuple[str, str]:
    """(IP, user agent) of the caller's connection, for the audit page.

    The handler is not told which connection called, so the participant's own
    connections are looked up; one held by another node yields nothing here."""
    if services.sio is None:
        return "", ""
    for sid in m.sids:
        environ = services.sio.get_environ(sid, namespace="/")
        if not environ:
            continue
        # engine.io's aiohttp driver writes a fixed REMOTE_ADDR; the request knows the peer.
        # X-Forwarded-For counts only as far as our own proxies vouch for it.
        request = environ.get("aiohttp.request")
        ip = ratelimit.client_ip(getattr(request, "remote", None),
                                 str(environ.get("HTTP_X_FORWARDED_FOR", "")),
                                 ratelimit.trusted_proxies(services.settings))
        return ip, str(environ.get("HTTP_USER_AGENT", ""))
    return "", ""


def _data(kind: str, raw: dict[str, Any], case_number: str) -> DocumentData:
    raw = dict(raw)
    given = raw.setdefault("case_number", case_number)
    if given != case_number:
        raise BadRequest("The document must carry the case's number.",
                         code="case_number_mismatch")
    with refusals_as_edge_errors():
        data = load_data(kind, raw)
    if isinstance(data, AgreementData):
        # The same checks the editor runs as people type, on the server too.
        problems = check_agreement(data)
        if problems:
            raise BadRequest("Some details need correcting: " + problems[0].en + ".",
                             code="invalid_details",
                             details={"problems": [x.to_dict() for x in problems]})
    return data


async def _broadcast_draft(services: Services, room: Room, row: DraftRow, actor_id: str,
                           draft: Draft, version: DraftVersion) -> None:
    assert services.hub is not None
    for recipients, body in views_by_reader(draft, row.caucus_id, version,
                                            audience(room, row.caucus_id, actor_id)):
        await services.hub.emit_to(recipients, "draft", body)


async def _emit_signature(services: Services, room: Room, row: DraftRow, actor_id: str,
                          body: dict[str, Any]) -> None:
    assert services.hub is not None
    readers = audience(room, row.caucus_id, actor_id)
    await services.hub.emit_to([m.participant_id for m in readers], "signature", body)


# -- drafting ------------------------------------------------------------------------


def ensure_drafter(m: Member) -> None:
    """The mediator drafts; so does a clerk in the room (书记员 write the documents of many
    offices). Opening signing and sealing stay the mediator's."""
    if m.role != "clerk":
        ensure_admin(m.grants)


async def _prefill(db: AsyncSession, session_id: str, m: Member, kind: str) -> dict[str, Any]:
    if kind != "record":
        raise BadRequest("Only a record is prefilled from the session.",
                         code="prefill_not_supported")
    if m.caucus_id is not None:
        # The record is the joint session's: drafted there, read by the parties there.
        raise Forbidden("Draft the record from the joint session.", code="outside_space")
    return await record_from_session(db, session_id, drafter_id=m.participant_id)


async def draft_create(services: Services, seat: Seat, p: DraftCreateIn) -> dict[str, Any]:
    room, m = await _member(services, seat)
    ensure_drafter(m)
    async with services.db.session() as db:
        case = (await db.execute(select(Case).join(
            MediationSession, MediationSession.case_id == Case.id).where(
            MediationSession.id == seat["session_id"]))).scalar_one()
        template_ref = None
        if p.template_id is not None:
            t = await db.get(OfficeTemplateRow, p.template_id)
            if t is None or t.office_id != case.office_id or t.kind != p.kind:
                raise NotFound("No such template for this kind of document.",
                               code="template_not_found")
            template_ref = OFFICE_TEMPLATE_PREFIX + t.id
        else:  # the office's default for the kind and language, if it chose one
            t = (await db.execute(select(OfficeTemplateRow).where(
                OfficeTemplateRow.office_id == case.office_id, OfficeTemplateRow.kind == p.kind,
                OfficeTemplateRow.language == p.language,
                OfficeTemplateRow.is_default.is_(True)).limit(1))).scalar_one_or_none()
            if t is not None:
                template_ref = OFFICE_TEMPLATE_PREFIX + t.id
        raw = p.data
        if p.prefill == "session":
            raw = {**await _prefill(db, seat["session_id"], m, p.kind), **p.data}
    data = _data(p.kind, raw, case.number)
    place = Place(case.id, seat["session_id"], m.caucus_id)

    def step(st: Stores) -> tuple[Draft, DraftVersion]:
        v = st.drafts.create(case_number=case.number, kind=p.kind, data=data,
                             author=m.participant_id, language=p.language,
                             template_ref=template_ref)
        return st.drafts.store.get_draft(v.draft_id), v

    with refusals_as_edge_errors():
        draft, version = await runtime(services).run(step, place)
    async with services.db.session() as db:
        row = await db.get(DraftRow, draft.draft_id)
    assert row is not None and services.hub is not None
    await services.hub.log_event(seat["session_id"], "document.draft_created",
                                 actor_id=m.participant_id, caucus_id=m.caucus_id,
                                 payload={"draft_id": draft.draft_id, "kind": p.kind,
                                          "version": 1, "digest": version.digest})
    await _broadcast_draft(services, room, row, m.participant_id, draft, version)
    return {"draft_id": draft.draft_id, "version": version.number, "digest": version.digest,
            "caucus_id": m.caucus_id}


async def draft_edit(services: Services, seat: Seat, p: DraftEditIn) -> dict[str, Any]:
    room, m = await _member(services, seat)
    ensure_drafter(m)
    row = await _draft_row(services, seat, room, p.draft_id)
    rt = runtime(services)
    async with rt.draft_lock(row.id):
        await _ensure_not_sealed(services, row.id)
        data = _data(row.kind, p.data, row.case_number)

        def step(st: Stores) -> tuple[Draft, DraftVersion, list[CollectedSignature],
                                      list[Ceremony], dict[str, dict[str, str]]]:
            draft_id = DraftId(row.id)
            _ensure_not_complete(st, draft_id)
            v = st.drafts.edit(draft_id, data, m.participant_id, p.base_version)
            live = [c for c in st.ceremony_store.for_draft(draft_id) if c.status != "void"]
            voided = st.signing.void_superseded(draft_id)
            after = [st.ceremony_store.get(c.ceremony_id) for c in live]
            seats = {c.ceremony_id: dict(st.db.scalar(select(CeremonyRow.seats).where(
                CeremonyRow.id == c.ceremony_id)) or {}) for c in after}
            return st.drafts.store.get_draft(draft_id), v, voided, after, seats

        with refusals_as_edge_errors():
            draft, version, voided, ceremonies, seats = await rt.run(step)
    assert services.hub is not None
    await services.hub.log_event(seat["session_id"], "document.draft_edited",
                                 actor_id=m.participant_id, caucus_id=row.caucus_id,
                                 payload={"draft_id": row.id, "version": version.number,
                                          "digest": version.digest,
                                          "voided_signatures": [s.signer_id for s in voided]})
    await _broadcast_draft(services, room, row, m.participant_id, draft, version)
    for c in ceremonies:
        await _emit_signature(services, room, row, m.participant_id, ceremony_view(
            c, seats[c.ceremony_id], "voided",
            voided_signers=[s.signer_id for s in voided if s.version_number == c.version_number]))
    return {"draft_id": row.id, "version": version.number, "digest": version.digest,
            "voided_signatures": [s.signer_id for s in voided]}


async def draft_comment(services: Services, seat: Seat, p: DraftCommentIn) -> dict[str, Any]:
    room, m = await _member(services, seat)
    # A comment is said to the room, like chat: hidden observers say nothing.
    ensure_chat(m.grants)
    row = await _draft_row(services, seat, room, p.draft_id)
    if not m.grants.room_admin and m.caucus_id != row.caucus_id:
        # It reaches the draft's space: a word typed in a caucus must not land in the
        # joint session (nor in another caucus) through a document.
        raise Forbidden("Comment on this draft from the space it is shown in.",
                        code="outside_space")
    with refusals_as_edge_errors():
        c = await runtime(services).run(lambda st: st.drafts.comment(
            DraftId(row.id), p.version, m.participant_id, p.text))
    body = {"draft_id": row.id, "comment_id": c.comment_id, "version": c.version,
            "text": c.text, "at": c.created_at.isoformat(),
            "author": {"participant_id": m.participant_id, "name": m.name, "role": m.role}}
    assert services.hub is not None
    await services.hub.log_event(seat["session_id"], "document.comment",
                                 actor_id=m.participant_id, caucus_id=row.caucus_id,
                                 payload={"draft_id": row.id, "version": c.version,
                                          "text": c.text})
    readers = audience(room, row.caucus_id, m.participant_id)
    await services.hub.emit_to([r.participant_id for r in readers], "draft_comment", body)
    return {"comment_id": c.comment_id}


async def draft_get(services: Services, seat: Seat, p: DraftRefIn) -> dict[str, Any]:
    room, m = await _member(services, seat)
    row = await _draft_row(services, seat, room, p.draft_id)

    def step(st: Stores) -> tuple[DraftVersion, list[Comment], list[Ceremony],
                                  dict[str, dict[str, str]]]:
        draft_id = DraftId(row.id)
        live = [c for c in st.ceremony_store.for_draft(draft_id) if c.status != "void"]
        seats = {c.ceremony_id: dict(st.db.scalar(select(CeremonyRow.seats).where(
            CeremonyRow.id == c.ceremony_id)) or {}) for c in live}
        return (st.drafts.store.latest_version(draft_id), st.drafts.store.list_comments(draft_id),
                live, seats)

    with refusals_as_edge_errors():
        version, comments, live, seats = await runtime(services).run(step)
    extra: dict[str, Any] = {}
    if needs_identity(m):
        extra["confirmations"] = await confirmation_view(services, row.id, version.data)
    return {
        **extra,
        "draft": draft_view(draft_from_row(row), row.caucus_id, version, m),
        "comments": [{"comment_id": c.comment_id, "version": c.version, "text": c.text,
                      "author": c.author, "at": c.created_at.isoformat()} for c in comments],
        "signing": [ceremony_view(c, seats[c.ceremony_id], "state") for c in live],
    }


async def draft_list(services: Services, seat: Seat, p: EmptyIn) -> dict[str, Any]:
    """The session's drafts the caller may read, for a client that joins or comes back."""
    room, m = await _member(services, seat)
    async with services.db.session() as db:
        rows = (await db.execute(select(DraftRow).where(
            DraftRow.session_id == seat["session_id"]).order_by(DraftRow.created_at))).scalars()
        readable = [r for r in rows if can_read(room, m.participant_id, r.caucus_id)]
        ids = [r.id for r in readable]
        latest: dict[str, int] = {}
        for draft_id, number in await db.execute(
                select(DraftVersionRow.draft_id, func.max(DraftVersionRow.number))
                .where(DraftVersionRow.draft_id.in_(ids)).group_by(DraftVersionRow.draft_id)):
            latest[draft_id] = number
        sealed: dict[str, tuple[str, str | None]] = {}
        for draft_id, document_id, short_id in await db.execute(
                select(SealedDocumentRow.draft_id, SealedDocumentRow.id,
                       SealedDocumentRow.short_id)
                .where(SealedDocumentRow.draft_id.in_(ids))):
            sealed[draft_id] = (document_id, short_id)
    return {"drafts": [{"draft_id": r.id, "kind": r.kind, "caucus_id": r.caucus_id,
                        "version": latest.get(r.id),
                        "document_id": sealed.get(r.id, (None, None))[0],
                        # What the sealed document prints for /verify (also in "sealed").
                        "short_id": sealed.get(r.id, (None, None))[1]}
                       for r in readable],
            # How long a party may still download their copy once the session ends.
            "copy_days": services.settings.party_copy_days}


async def draft_preview(services: Services, seat: Seat, p: DraftPreviewIn) -> dict[str, Any]:
    """The editor's live preview: rendered by the same code as a saved version, so it shows
    exactly what will be printed; nothing is stored or told to anyone else."""
    room, m = await _member(services, seat)
    ensure_drafter(m)
    async with services.db.session() as db:
        number = (await db.execute(select(Case.number).join(
            MediationSession, MediationSession.case_id == Case.id).where(
            MediationSession.id == seat["session_id"]))).scalar_one()
    raw = dict(p.data)
    raw["case_number"] = number
    with refusals_as_edge_errors():
        data = load_data(p.kind, raw)
    problems = check_agreement(data) if isinstance(data, AgreementData) else []
    draft = Draft(draft_id=DraftId("preview"), case_number=number, kind=p.kind,
                  language=p.language, template_ref="preview", created_by=m.participant_id,
                  created_at=utc_now())
    return {"html": render_preview(draft, 0, data),
            "problems": [x.to_dict() for x in problems]}


# -- signing -------------------------------------------------------------------------


async def signing_open(services: Services, seat: Seat, p: SigningOpenIn) -> dict[str, Any]:
    room, m = await _member(services, seat)
    ensure_admin(m.grants)
    row = await _draft_row(services, seat, room, p.draft_id)
    rt = runtime(services)
    async with rt.draft_lock(row.id):
        await _ensure_not_sealed(services, row.id)
        with refusals_as_edge_errors():
            latest = await rt.run(lambda st: st.drafts.store.latest_version(DraftId(row.id)))
        requested = dict(p.seats)
        acting: dict[str, tuple[str, str | None]] = {}
        if isinstance(latest.data, AgreementData) and latest.esign_applies:
            # Each party confirmed their details, and signs from the seat that came in
            # through their own link (or their agent's); the code goes to the phone the
            # signer confirmed.
            party_seated, acting = await party_seats(services, room, seat["session_id"],
                                                     latest.data, row.id, requested)
            requested.update(party_seated)
        elif latest.esign_applies:
            # A record prefilled from the agreement names the parties by their links.
            party_seated, acting = await linked_party_seats(
                services, room, seat["session_id"], latest.data, requested)
            requested.update(party_seated)
        seats = bind_signers(room, required_signers(latest.data), requested,
                             opener_id=m.participant_id, caucus_id=row.caucus_id)

        def step(st: Stores) -> Ceremony:
            _ensure_not_complete(st, DraftId(row.id))
            c = st.signing.open(DraftId(row.id), acting=acting)
            if c.version_number != latest.number:
                raise Conflict("The draft changed while signing was opened.",
                               code="version_conflict")
            stored = st.db.get(CeremonyRow, c.ceremony_id)
            assert stored is not None
            stored.seats = seats
            st.db.flush()
            return c

        with refusals_as_edge_errors():
            ceremony = await rt.run(step)
    assert services.hub is not None
    await services.hub.log_event(seat["session_id"], "document.signing_opened",
                                 actor_id=m.participant_id, caucus_id=row.caucus_id,
                                 payload={"draft_id": row.id, "ceremony_id": ceremony.ceremony_id,
                                          "version": ceremony.version_number, "seats": seats})
    body = ceremony_view(ceremony, seats, "opened")
    await _emit_signature(services, room, row, m.participant_id, body)
    return {"ceremony_id": ceremony.ceremony_id, "version": ceremony.version_number,
            "digest": ceremony.version_digest, "seats": seats}


async def signing_send_code(services: Services, seat: Seat, p: CeremonyRefIn
                            ) -> dict[str, Any]:
    room, m = await _member(services, seat)
    c, row, signer_id = await _ceremony(services, seat, room, p.ceremony_id)
    # Each code is an SMS in production: a signer may ask for a few, not a flood.
    await ratelimit.limiter_for(services).check(SIGNING_CODE,
                                                f"{c.id}:{signer_id}")
    rt = runtime(services)
    async with rt.draft_lock(row.id):
        with refusals_as_edge_errors():
            expires_at, contact = await rt.run(lambda st: (
                st.signing.send_code(c.id, signer_id),
                st.signing.ceremonies.get(c.id).signer(signer_id).contact))
    # Never the code, nor the whole number: the completion certificate shows this entry.
    assert services.hub is not None
    await services.hub.log_event(seat["session_id"], "document.code_sent",
                                 actor_id=m.participant_id, caucus_id=row.caucus_id,
                                 payload={"draft_id": row.id, "ceremony_id": c.id,
                                          "signer_id": signer_id,
                                          "channel": "email" if contact and "@" in contact
                                          else "sms", "sent_to": mask_phone(contact)})
    # Never the code: it went to the signer's phone through the CodeSender.
    return {"signer_id": signer_id, "expires_at": expires_at.isoformat(),
            "sent_to": mask_phone(contact)}


async def sign(services: Services, seat: Seat, p: SignIn) -> dict[str, Any]:
    room, m = await _member(services, seat)
    c, row, signer_id = await _ceremony(services, seat, room, p.ceremony_id)
    image = None
    if p.image_png_b64 is not None:
        try:
            image = base64.b64decode(p.image_png_b64, validate=True)
        except (binascii.Error, ValueError):
            raise BadRequest("The signature image is not base64.",
                             code="signature_image_invalid") from None
    ip, user_agent = _client_info(services, m)
    rt = runtime(services)
    async with rt.draft_lock(row.id):

        def step(st: Stores) -> Ceremony:
            st.signing.sign(c.id, signer_id, code=p.code, version_digest=p.version_digest,
                            image_png=image, typed_name=p.typed_name, ip=ip,
                            user_agent=user_agent)
            return st.signing.ceremonies.get(c.id)

        with refusals_as_edge_errors():
            # A wrong code is counted before it is refused: that count must be kept, or
            # guessing would never lock the signer.
            ceremony = await rt.run(step, commit_on=(CodeInvalid, SignerLocked))
    signature = ceremony.signatures[signer_id]
    assert services.hub is not None
    await services.hub.log_event(seat["session_id"], "document.signed",
                                 actor_id=m.participant_id, caucus_id=row.caucus_id,
                                 payload={"draft_id": row.id, "ceremony_id": c.id,
                                          "signer_id": signer_id, "method": signature.method,
                                          "mark_sha256": signature.mark_sha256})
    await _emit_signature(services, room, row, m.participant_id,
                          ceremony_view(ceremony, c.seats, "signed", signer_id=signer_id))
    if ceremony.status == "complete":
        rt.seal(seal_in_background(services, c.id), c.id)
    return {"signer_id": signer_id, "status": ceremony.status, "missing": ceremony.missing}


async def draft_seal(services: Services, seat: Seat, p: DraftRefIn) -> dict[str, Any]:
    """Seal again after a failure (LibreOffice down, a restart mid-seal): the signatures
    are kept, so a complete ceremony only needs its seal."""
    room, m = await _member(services, seat)
    ensure_admin(m.grants)
    row = await _draft_row(services, seat, room, p.draft_id)
    await _ensure_not_sealed(services, row.id)
    complete = await runtime(services).run(lambda st: [
        c for c in st.ceremony_store.for_draft(DraftId(row.id)) if c.status == "complete"])
    if not complete:
        raise Conflict("Not every signer has signed yet.", code="ceremony_incomplete")
    runtime(services).seal(seal_in_background(services, complete[-1].ceremony_id),
                           complete[-1].ceremony_id)
    return {"ceremony_id": complete[-1].ceremony_id}


SOCKET_EVENTS = (
    SocketEvent("draft_create", DraftCreateIn, draft_create),
    SocketEvent("draft_edit", DraftEditIn, draft_edit),
    SocketEvent("draft_comment", DraftCommentIn, draft_comment),
    SocketEvent("draft_get", DraftRefIn, draft_get),
    SocketEvent("draft_list", EmptyIn, draft_list),
    SocketEvent("signing_open", SigningOpenIn, signing_open),
    SocketEvent("signing_send_code", CeremonyRefIn, signing_send_code),
    SocketEvent("sign", SignIn, sign, max_bytes=600_000),  # a drawn signature PNG
    SocketEvent("draft_seal", DraftRefIn, draft_seal),
    SocketEvent("draft_preview", DraftPreviewIn, draft_preview),
)
"""The documents' events on the room namespace (declared by ``agreements/feature.py``)."""
