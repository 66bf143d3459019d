"""Transcription's part of the personal-data lifecycle (``signaling/retention.py`` runs it
for ``tiaojie data purge`` and ``export``, through ``FEATURE.personal_data``): utterances
and their corrections after ``retention_days_transcripts``, sealed utterance audio queued
in Redis after ``transcription_queue_max_age_s``, and one participant's utterances."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from signaling.features import PersonalData
from signaling.retention import expired_sessions
from signaling.settings import Settings

from .captions import queue_stream
from .queue import count_older, trim
from .tables import UtteranceEdit, UtteranceRow


async def purge(db: AsyncSession, settings: Settings, dry_run: bool) -> dict[str, dict[str, int]]:
    """Delete the utterances (and their edits) of sessions past their transcript
    retention; on a dry run only count them."""
    removed: dict[str, dict[str, int]] = {}
    for sid in await expired_sessions(db, settings.retention_days_transcripts):
        ids = list((await db.execute(select(UtteranceRow.id).where(
            UtteranceRow.session_id == sid))).scalars())
        if ids and not dry_run:
            await db.execute(delete(UtteranceEdit).where(UtteranceEdit.utterance_id.in_(ids)))
            await db.execute(delete(UtteranceRow).where(UtteranceRow.id.in_(ids)))
        removed[sid] = {"utterances": len(ids)}
    return removed


async def purge_queue(redis: Any, settings: Settings, dry_run: bool) -> int:
    """Remove queued utterance audio (and dead letters) older than its maximum age."""
    stream = queue_stream(settings.redis_prefix)
    age = settings.transcription_queue_max_age_s
    return await (count_older(redis, stream, age) if dry_run else trim(redis, stream, age))


async def export(db: AsyncSession, participant_id: str) -> dict[str, Any]:
    """The participant's utterances, in spoken order."""
    utts = list((await db.execute(select(UtteranceRow).where(
        UtteranceRow.participant_id == participant_id).order_by(UtteranceRow.start))).scalars())
    return {"utterances": [{"id": u.id, "start": u.start, "end": u.end, "text": u.text,
                            "caucus_id": u.caucus_id, "version": u.version} for u in utts]}


PERSONAL_DATA = PersonalData(purge=purge, export=export, purge_queue=purge_queue)
