"""Evidence: an image or PDF a participant shows, stored encrypted, seen by whom the
mediator allows.

An upload is visible to its uploader and the mediators; the mediator shows it to the
space they are in (the joint session or a caucus), and from then on the members of
that space may open it. Files are typed by their content, stored under generated names,
encrypted, and served as attachments.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import JSON, ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column

from signaling.accounts import Principal
from signaling.api.registry import ApiRouter, Route, json_response, read_limited
from signaling.cases import session_office
from signaling.context import Services
from signaling.credentials import hash_token, new_token
from signaling.crypto import derive_key, seal, unseal
from signaling.db.base import Base, UTCDateTime, new_id, utcnow
from signaling.db.models import Participant
from signaling.errors import (
    BadRequest,
    Forbidden,
    NotFound,
    TiaojieError,
    Unauthorized,
)
from signaling.grants import ensure_admin
from signaling.keys import SERVICES
from signaling.rooms.room import Room
from signaling.schemas import In

MAX_BYTES = 10 * 1024 * 1024
SEAT_HEADER = "X-Seat-Token"
TYPES = (
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"%PDF-", "application/pdf", "pdf"),
)


class Evidence(Base):
    """One uploaded file's metadata; the bytes live encrypted under ``stored_name``."""

    __tablename__ = "evidence"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"), index=True)
    uploader_id: Mapped[str] = mapped_column(String(40))
    """A participant id, or ``u:<user id>`` for staff."""
    title: Mapped[str] = mapped_column(String(120))
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    stored_name: Mapped[str] = mapped_column(String(64))
    shown_to: Mapped[list[Any]] = mapped_column(JSON, default=list)
    """Spaces it was shown in: caucus ids, or "joint" for the joint session."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class EvidenceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    session_id: str
    uploader_id: str
    title: str
    content_type: str
    size: int
    sha256: str
    created_at: datetime


class EvidenceShowIn(In):
    evidence_id: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]


class ExhibitPageIn(EvidenceShowIn):
    page: int = Field(ge=1, le=10_000)


def sniff(data: bytes) -> tuple[str, str]:
    for magic, ctype, ext in TYPES:
        if data.startswith(magic):
            return ctype, ext
    raise BadRequest("Only PNG, JPEG and PDF files can be shown as evidence.",
                     code="unsupported_type")


def _dir(services: Services) -> Path:
    d = services.settings.data_dir / "evidence"
    d.mkdir(parents=True, exist_ok=True)
    return d


def _key(services: Services) -> bytes:
    return derive_key(services.settings.secret_key, "evidence")


class Caller:
    """Who is uploading or downloading: a seated participant or a staff member."""

    def __init__(self, participant: Participant | None, principal: Principal | None) -> None:
        self.participant = participant
        self.principal = principal


async def _caller(request: web.Request, session_id: str | None) -> Caller:
    services = request.app[SERVICES]
    seat = request.headers.get(SEAT_HEADER, "")
    async with services.db.session() as db:
        if seat:
            p = (await db.execute(select(Participant).where(
                Participant.resume_token_hash == hash_token(seat[:200])))).scalar_one_or_none()
            if p is None or (session_id is not None and p.session_id != session_id):
                raise Unauthorized("Your seat is not valid here.", code="seat_invalid")
            return Caller(p, None)
    from signaling.api.auth import require_principal

    return Caller(None, await require_principal(request))


def _ensure_live(room: Room | None) -> None:
    """A seat token acts only while its session runs: ending it ends the seat's access."""
    if room is None or room.ended:
        raise TiaojieError("This session has ended.", code="session_ended", status=410)


async def upload(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    session_id = request.match_info["session_id"]
    caller = await _caller(request, session_id)
    async with services.db.session() as db:
        office = await session_office(db, session_id)
    if office is None:
        raise NotFound("No such session.", code="session_not_found")
    if caller.principal is not None:
        if caller.principal.office_id != office:
            raise NotFound("No such session.", code="session_not_found")
        if caller.principal.role not in ("mediator", "admin", "clerk"):
            raise Forbidden("Your role may not add evidence.", code="role_not_allowed")
        uploader = f"u:{caller.principal.user_id}"
        space: str | None = None
    else:
        assert caller.participant is not None
        room = await services.rooms.get(session_id)
        _ensure_live(room)
        assert room is not None
        m = room.members.get(caller.participant.id)
        if m is None or m.state != "room":
            raise Forbidden("You are not in the room.", code="not_in_room")
        uploader = caller.participant.id
        space = m.caucus_id
    from signaling import ratelimit

    await ratelimit.limiter_for(services).check(ratelimit.UPLOAD, uploader)
    data = await read_limited(request, MAX_BYTES, "Evidence files may be at most 10 MB.")
    ctype, _ext = sniff(data)
    title = re.sub(r"[\x00-\x1f/\\<>:\"|?*]", "_", request.query.get("title", "证据"))[:120]
    ev = Evidence(session_id=session_id, uploader_id=uploader, title=title or "证据",
                  content_type=ctype, size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                  stored_name=new_token(), shown_to=[])
    (_dir(services) / ev.stored_name).write_bytes(
        seal(_key(services), data, f"evidence:{ev.stored_name}".encode()))
    async with services.db.session() as db:
        db.add(ev)
        await db.commit()
    if services.hub is not None:
        # Logged in the uploader's space: a title typed in a caucus ("our bottom line")
        # stays out of the joint record clerks read.
        await services.hub.log_event(
            session_id, "evidence.uploaded",
            actor_id=None if uploader.startswith("u:") else uploader, caucus_id=space,
            payload={"evidence_id": ev.id, "title": ev.title, "sha256": ev.sha256,
                     "uploader": uploader, "content_type": ev.content_type})
        # The mediators in the room hear of it at once (they may open every upload).
        room = await services.rooms.get(session_id)
        if room is not None:
            await services.hub.emit_to(room.admins(), "evidence_uploaded", {
                "id": ev.id, "title": ev.title, "content_type": ev.content_type,
                "size": ev.size, "uploader": uploader, "caucus_id": space})
    return json_response(EvidenceOut.model_validate(ev), status=201)


async def download(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    async with services.db.session() as db:
        ev = await db.get(Evidence, request.match_info["evidence_id"][:32])
    if ev is None:
        raise NotFound("No such evidence.", code="evidence_not_found")
    caller = await _caller(request, ev.session_id)
    async with services.db.session() as db:
        office = await session_office(db, ev.session_id)
    if caller.principal is not None:
        allowed = caller.principal.office_id == office and (
            caller.principal.role in ("mediator", "admin")
            # Clerks keep the joint record: what was not shown there is not theirs.
            or caller.principal.role == "clerk" and "joint" in ev.shown_to)
    else:
        assert caller.participant is not None
        room = await services.rooms.get(ev.session_id)
        _ensure_live(room)
        m = room.members.get(caller.participant.id) if room else None
        space = "joint" if m is None or m.caucus_id is None else m.caucus_id
        allowed = m is not None and m.state == "room" and (
            ev.uploader_id == m.participant_id or m.grants.room_admin or space in ev.shown_to)
    if not allowed:
        raise NotFound("No such evidence.", code="evidence_not_found")
    blob = (_dir(services) / ev.stored_name).read_bytes()
    data = unseal(_key(services), blob, f"evidence:{ev.stored_name}".encode())
    ext = {"image/png": "png", "image/jpeg": "jpg", "application/pdf": "pdf"}[ev.content_type]
    # Always an opaque download: a file is never rendered in our origin.
    return web.Response(body=data, content_type="application/octet-stream", headers={
        "Content-Disposition": f'attachment; filename="evidence-{ev.id}.{ext}"',
        "X-Content-Type-Options": "nosniff"})


async def show(services: Services, seat: dict[str, Any], payload: EvidenceShowIn
               ) -> dict[str, Any]:
    """The mediator shows a piece of evidence to the space they are in."""
    room = await services.rooms.get(seat["session_id"])
    if room is None:
        raise NotFound("No such session.", code="session_not_found")
    me = room.member(seat["participant_id"])
    ensure_admin(me.grants)
    async with services.db.session() as db:
        ev = await db.get(Evidence, payload.evidence_id)
        if ev is None or ev.session_id != room.session_id:
            raise NotFound("No such evidence.", code="evidence_not_found")
        space = "joint" if me.caucus_id is None else me.caucus_id
        if space not in ev.shown_to:
            ev.shown_to = [*ev.shown_to, space]
        await db.commit()
        out = EvidenceOut.model_validate(ev).model_dump(mode="json")
    assert services.hub is not None
    await services.hub.log_event(room.session_id, "evidence.shown", actor_id=me.participant_id,
                                 caucus_id=me.caucus_id, payload={"evidence_id": ev.id})
    shown = {**out, "download": f"/api/v1/evidence/{ev.id}"}
    async with services.rooms.edit(room.session_id) as live:  # for whoever joins later
        live.exhibits[space] = {"evidence": shown, "page": 1}
    await services.hub.emit_to(room.audience(me.caucus_id), "evidence", shown)
    return {"evidence_id": ev.id}


async def exhibit_page(services: Services, seat: dict[str, Any], payload: ExhibitPageIn
                       ) -> dict[str, Any]:
    """The presenting mediator turns the page of an exhibit shown to their space; the
    viewers of that space (and nobody else) follow."""
    room = await services.rooms.get(seat["session_id"])
    if room is None:
        raise NotFound("No such session.", code="session_not_found")
    me = room.member(seat["participant_id"])
    ensure_admin(me.grants)
    space = "joint" if me.caucus_id is None else me.caucus_id
    async with services.db.session() as db:
        ev = await db.get(Evidence, payload.evidence_id)
    # Not shown where the presenter stands: as good as not there for this space.
    if ev is None or ev.session_id != room.session_id or space not in ev.shown_to:
        raise NotFound("No such evidence.", code="evidence_not_found")
    assert services.hub is not None
    async with services.rooms.edit(room.session_id) as live:  # a late joiner opens this page
        current = live.exhibits.get(space)
        if current is not None and current["evidence"]["id"] == ev.id:
            current["page"] = payload.page
        else:
            live.exhibits[space] = {"evidence": {
                **EvidenceOut.model_validate(ev).model_dump(mode="json"),
                "download": f"/api/v1/evidence/{ev.id}"}, "page": payload.page}
    await services.hub.emit_to(room.audience(me.caucus_id), "exhibit_page",
                               {"evidence_id": ev.id, "page": payload.page,
                                "by": me.participant_id})
    return {"page": payload.page}


def add_routes(api: ApiRouter) -> None:
    from signaling.sockets.namespace import register_event

    api.add(Route("POST", "/api/v1/sessions/{session_id}/evidence", upload,
                  "Upload a piece of evidence (PNG, JPEG or PDF; raw body; ?title=)",
                  "participants in the room (X-Seat-Token) and the office's staff", None,
                  EvidenceOut, 201, tag="evidence", query=(("title", "a short title"),)))
    api.add(Route("GET", "/api/v1/evidence/{evidence_id}", download,
                  "Download a piece of evidence (attachment)",
                  "the uploader, the mediators, members of a space it was shown in, office staff",
                  None, None, tag="evidence", content_type="application/octet-stream"))
    register_event("evidence_show", EvidenceShowIn, show)
    register_event("exhibit_page", ExhibitPageIn, exhibit_page)
