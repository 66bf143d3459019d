"""The transcript in the database: store final captions once, correct them with history."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from media.tap import Speaker
from signaling.transcripts import SpokenLine
from transcription.tables import UtteranceEdit, UtteranceRow
from transcription.utterance import Caption


def row_from_caption(c: Caption) -> UtteranceRow:
    return UtteranceRow(
        id=c.utterance_id, session_id=c.session_id, caucus_id=c.caucus_id,
        participant_id=c.speaker.participant_id, speaker_name=c.speaker.name,
        speaker_role=c.speaker.role, voice=c.voice, start=c.start, end=c.end, text=c.text,
        model=c.model, confidence=c.confidence, language=c.language, version=1)


def caption_from_row(r: UtteranceRow) -> Caption:
    return Caption(utterance_id=r.id, session_id=r.session_id,
                   speaker=Speaker(r.participant_id, r.speaker_name, r.speaker_role),
                   caucus_id=r.caucus_id, start=r.start, end=r.end, text=r.text, final=True,
                   model=r.model, confidence=r.confidence, language=r.language, voice=r.voice)


async def store_utterance(db: AsyncSession, caption: Caption) -> bool:
    """Insert a final caption; a second delivery of the same id changes nothing.

    Returns True when it was new."""
    if await db.get(UtteranceRow, caption.utterance_id) is not None:
        return False
    db.add(row_from_caption(caption))
    try:
        await db.commit()
    except IntegrityError:  # another worker stored it first
        await db.rollback()
        return False
    return True


RECORD_EDITOR = "asr:second-pass"
"""``editor_id`` of the version the second pass writes (people's ids are never this)."""


async def store_record_text(db: AsyncSession, caption: Caption) -> bool:
    """Store the second pass of an utterance as its next version, the record's text.

    The live text stays as version 1 (in the edit's ``text_before``). A clerk's
    correction is never overwritten: once a person has edited the line, the second pass
    is dropped. Returns True when stored."""
    row = await db.get(UtteranceRow, caption.utterance_id)
    if row is None or row.version != 1:
        return False  # no live final stored (nothing to revise), or already revised
    db.add(UtteranceEdit(utterance_id=row.id, version=2, text_before=row.text,
                         text_after=caption.text, editor_id=RECORD_EDITOR))
    row.text = caption.text
    row.version = 2
    row.model = caption.model
    row.confidence = caption.confidence
    try:
        await db.commit()
    except IntegrityError:
        await db.rollback()
        return False
    return True


def text_source(edits: list[UtteranceEdit]) -> str:
    """Who wrote an utterance's current text: "live" (the caption people saw),
    "record" (the second pass) or "clerk" (a person's correction)."""
    if not edits:
        return "live"
    return "record" if edits[-1].editor_id == RECORD_EDITOR else "clerk"


async def edits_by_utterance(db: AsyncSession, ids: list[str]) -> dict[str, list[UtteranceEdit]]:
    """Every edit of these utterances, in version order, by utterance id."""
    out: dict[str, list[UtteranceEdit]] = {i: [] for i in ids}
    if not ids:
        return out
    stmt = select(UtteranceEdit).where(UtteranceEdit.utterance_id.in_(ids)) \
        .order_by(UtteranceEdit.utterance_id, UtteranceEdit.version)
    for edit in (await db.execute(stmt)).scalars():
        out[edit.utterance_id].append(edit)
    return out


async def utterances(db: AsyncSession, session_id: str, *,
                     caucuses: set[str] | None) -> list[UtteranceRow]:
    """A session's utterances in order. ``caucuses=None``: all; otherwise the joint
    session plus the listed caucuses."""
    stmt = select(UtteranceRow).where(UtteranceRow.session_id == session_id)
    if caucuses is not None:
        stmt = stmt.where(UtteranceRow.caucus_id.is_(None)
                          | UtteranceRow.caucus_id.in_(sorted(caucuses)))
    return list((await db.execute(stmt.order_by(UtteranceRow.start))).scalars())


async def joint_lines(db: AsyncSession, session_id: str) -> list[SpokenLine]:
    """The joint session's utterances only (``caucuses=set()``, what a clerk reads): the
    reader other packages get through ``signaling.transcripts``."""
    return [SpokenLine(participant_id=r.participant_id, speaker_name=r.speaker_name,
                       speaker_role=r.speaker_role, voice=r.voice, start=r.start, end=r.end,
                       text=r.text, language=r.language)
            for r in await utterances(db, session_id, caucuses=set())]


async def correct(db: AsyncSession, row: UtteranceRow, text: str, editor_id: str) -> UtteranceRow:
    """Replace an utterance's text, keeping the old one in its history."""
    db.add(UtteranceEdit(utterance_id=row.id, version=row.version + 1, text_before=row.text,
                         text_after=text, editor_id=editor_id))
    row.text = text
    row.version += 1
    await db.commit()
    return row


async def history(db: AsyncSession, utterance_id: str) -> list[UtteranceEdit]:
    stmt = select(UtteranceEdit).where(UtteranceEdit.utterance_id == utterance_id) \
        .order_by(UtteranceEdit.version)
    return list((await db.execute(stmt)).scalars())
