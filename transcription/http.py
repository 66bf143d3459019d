"""Transcript routes: read and export a session's transcript, correct it with history."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, StringConstraints

from signaling.accounts import Principal
from signaling.api.auth import require_principal
from signaling.api.registry import ApiRouter, Route, json_response, read_body
from signaling.audio_archive import line_audio
from signaling.cases import get_session
from signaling.errors import BadRequest, Forbidden, NotFound
from signaling.keys import SERVICES
from signaling.transcripts import provide_joint_transcript
from transcription import export
from transcription.store import (
    caption_from_row,
    correct,
    edits_by_utterance,
    history,
    joint_lines,
    text_source,
    utterances,
)
from transcription.tables import UtteranceRow

FORMATS = {"txt": (export.to_text, "txt"), "srt": (export.to_srt, "srt"),
           "vtt": (export.to_webvtt, "vtt"), "json": (export.to_json, "json")}


class UtteranceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    session_id: str
    caucus_id: str | None
    participant_id: str
    speaker_name: str
    speaker_role: str
    voice: str | None
    start: float
    end: float
    text: str
    model: str
    confidence: float
    language: str
    version: int
    text_source: str = "live"
    """Who wrote ``text``: "live" (the caption), "record" (the second pass), "clerk"."""
    live_text: str | None = None
    """The live caption's text (version 1), when ``text`` is not it."""


class TranscriptOut(BaseModel):
    items: list[UtteranceOut]


class CorrectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]


class EditOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    version: int
    text_before: str
    text_after: str
    editor_id: str
    at: datetime


class HistoryOut(BaseModel):
    items: list[EditOut]


def _scope(role: str) -> set[str] | None:
    # Mediators read caucus utterances; clerks and administrators read the joint record only.
    return None if role == "mediator" else set()


async def _rows(request: web.Request) -> tuple[list[UtteranceRow], str]:
    p = await require_principal(request)
    services = request.app[SERVICES]
    async with services.db.session() as db:
        s = await get_session(db, p, request.match_info["session_id"])
        rows = await utterances(db, s.id, caucuses=_scope(p.role))
    return rows, s.id


async def get_transcript(request: web.Request) -> web.Response:
    rows, _ = await _rows(request)
    async with request.app[SERVICES].db.session() as db:
        edits = await edits_by_utterance(db, [r.id for r in rows])
    items = []
    for r in rows:
        item = UtteranceOut.model_validate(r)
        history_of = edits.get(r.id, [])
        item.text_source = text_source(history_of)
        if history_of:
            item.live_text = history_of[0].text_before
        items.append(item)
    return json_response(TranscriptOut(items=items))


async def export_transcript(request: web.Request) -> web.Response:
    fmt = request.query.get("format", "txt")
    if fmt not in FORMATS:
        raise BadRequest("format must be one of txt, srt, vtt, json.", code="bad_format")
    rows, session_id = await _rows(request)
    render, ext = FORMATS[fmt]
    body = render([caption_from_row(r) for r in rows])
    return web.Response(text=body, content_type="text/plain", charset="utf-8", headers={
        "Content-Disposition": f'attachment; filename="transcript-{session_id}.{ext}"'})


async def staff_utterance(request: web.Request, refusal: str) -> tuple[UtteranceRow, Principal]:
    """The utterance named in the path, for a mediator or clerk of its session's office.

    Another role is refused (403, ``refusal`` says what it may not do); a line of another
    office, or a caucus line asked for by a clerk, is not found (404). Used by the
    corrections here and by the line's audio (``utterance_audio``)."""
    p = await require_principal(request)
    if p.role not in ("mediator", "clerk"):
        raise Forbidden(refusal, code="role_not_allowed")
    async with request.app[SERVICES].db.session() as db:
        row = await db.get(UtteranceRow, request.match_info["utterance_id"][:64])
        if row is None:
            raise NotFound("No such utterance.", code="utterance_not_found")
        await get_session(db, p, row.session_id)  # office check: 404 otherwise
    if row.caucus_id is not None and _scope(p.role) is not None:
        raise NotFound("No such utterance.", code="utterance_not_found")
    return row, p


async def _editable(request: web.Request) -> tuple[UtteranceRow, Principal]:
    return await staff_utterance(request, "Only mediators and clerks correct transcripts.")


async def correct_utterance(request: web.Request) -> web.Response:
    row, editor = await _editable(request)
    body = await read_body(request, CorrectionIn, request.app[SERVICES].settings.max_message_bytes)
    async with request.app[SERVICES].db.session() as db:
        fresh = await db.get(UtteranceRow, row.id)
        assert fresh is not None
        fresh = await correct(db, fresh, body.text, editor.user_id)
        edits = await history(db, fresh.id)
    out = UtteranceOut.model_validate(fresh)
    out.text_source = text_source(edits)
    out.live_text = edits[0].text_before if edits else None
    return json_response(out)


async def utterance_history(request: web.Request) -> web.Response:
    row, _ = await _editable(request)
    async with request.app[SERVICES].db.session() as db:
        edits = await history(db, row.id)
    return json_response(HistoryOut(items=[EditOut.model_validate(e) for e in edits]))


async def utterance_audio(request: web.Request) -> web.StreamResponse:
    """One transcript line's audio, exactly its span, as Ogg Opus (Range requests): the
    archive (``signaling/audio_archive.py``) cuts it once this line's access is checked."""
    row, p = await staff_utterance(request, "Only mediators and clerks listen to the record.")
    return await line_audio(request, session_id=row.session_id,
                            participant_id=row.participant_id, caucus_id=row.caucus_id,
                            start=row.start, end=row.end, role=p.role)


Fmt = Literal["txt", "srt", "vtt", "json"]


def add_routes(api: ApiRouter) -> None:
    provide_joint_transcript(joint_lines)
    staff = "staff of the session's office; clerks see the joint record only"
    for r in (
        Route("GET", "/api/v1/sessions/{session_id}/transcript", get_transcript,
              "A session's transcript", staff, None, TranscriptOut, tag="transcript"),
        Route("GET", "/api/v1/sessions/{session_id}/transcript/export", export_transcript,
              "Export the transcript as plain text, SRT, WebVTT or JSON", staff, None, None,
              tag="transcript", query=(("format", "txt, srt, vtt or json"),),
              content_type="text/plain"),
        Route("PATCH", "/api/v1/utterances/{utterance_id}", correct_utterance,
              "Correct an utterance (history kept)", "mediators and clerks of the office",
              CorrectionIn, UtteranceOut, tag="transcript"),
        Route("GET", "/api/v1/utterances/{utterance_id}/history", utterance_history,
              "An utterance's corrections", "mediators and clerks of the office", None,
              HistoryOut, tag="transcript"),
        Route("GET", "/api/v1/utterances/{utterance_id}/audio", utterance_audio,
              "One transcript line's recorded audio, cut to its span (Ogg Opus; Range)",
              "mediators of the office (any space); clerks of the office (joint lines)",
              None, None, tag="transcript", content_type="audio/ogg"),
    ):
        api.add(r)
