"""The personal-data lifecycle: purge what outlived its retention, export one person's data.

What a feature stores about people is purged and exported by the feature itself, through
its ``personal_data`` (``signaling.features.PersonalData``; transcription's utterances,
their edits and the sealed utterance audio it queues in Redis, see
``transcription/retention.py``): the core imports no feature, and finds them with
``load_features`` unless the caller passes the features.

Purging keeps the shape of the record: a chat event's text is replaced by a marker but
its sequence number, time and kind stay, so the log still reads in order and its count
still adds up; each purge is itself logged in the session (``data.purged``) with what was
removed. Sealed agreements are the office's archive and are never purged here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from signaling import audio_archive, eventlog
from signaling.db.base import utcnow
from signaling.db.models import (
    Application,
    ApplicationAttachment,
    Case,
    MediationSession,
    Participant,
    PhoneCode,
    SessionEvent,
)
from signaling.eventchain import PURGED
from signaling.evidence import Evidence
from signaling.features import Feature, PersonalData, load_features
from signaling.logs import mask
from signaling.settings import Settings


@dataclass
class PurgeReport:
    """What one purge run removed, per session."""

    sessions: dict[str, dict[str, int]] = field(default_factory=dict)
    queued_audio: int = 0
    """Transcription queue entries past their age (Redis; not tied to one session)."""
    application_files: int = 0
    """Attachments of online applications whose case closed long enough ago."""
    phone_codes: int = 0
    """Application phone codes a day past their expiry (a hashed phone number each)."""

    def add(self, session_id: str, what: str, n: int) -> None:
        if n:
            self.sessions.setdefault(session_id, {})[what] = n

    @property
    def total(self) -> int:
        return (sum(sum(v.values()) for v in self.sessions.values()) + self.queued_audio
                + self.application_files + self.phone_codes)


def _personal_data(features: Sequence[Feature] | None) -> list[PersonalData]:
    """Each feature's part of the lifecycle, in the order of ``FEATURE_PACKAGES``."""
    found = load_features() if features is None else features
    return [f.personal_data for f in found if f.personal_data is not None]


async def expired_sessions(db: AsyncSession, days: int) -> list[str]:
    """The ended sessions that ended (or were created) more than ``days`` ago."""
    cutoff = utcnow() - timedelta(days=days)
    stmt = select(MediationSession.id).where(
        func.coalesce(MediationSession.ended_at, MediationSession.created_at) < cutoff,
        MediationSession.status == "ended")
    return list((await db.execute(stmt)).scalars())


async def purge(db: AsyncSession, settings: Settings, *, dry_run: bool = False,
                features: Sequence[Feature] | None = None) -> PurgeReport:
    """Delete chat text, the features' data (transcripts), archived audio and evidence of
    sessions past their retention."""
    report = PurgeReport()
    for sid in await expired_sessions(db, settings.retention_days_chat):
        rows = list((await db.execute(select(SessionEvent).where(
            SessionEvent.session_id == sid, SessionEvent.kind == "chat"))).scalars())
        rows = [r for r in rows if r.payload.get("text") != PURGED]
        if not dry_run:
            for r in rows:
                r.payload = {"text": PURGED}
        report.add(sid, "chat_messages", len(rows))
    for part in _personal_data(features):
        for sid, counts in (await part.purge(db, settings, dry_run)).items():
            for what, n in counts.items():
                report.add(sid, what, n)
    for sid in await expired_sessions(db, settings.retention_days_audio):
        report.add(sid, "audio_segments",
                   await audio_archive.purge_session(db, settings, sid, dry_run=dry_run))
    for sid in await expired_sessions(db, settings.retention_days_evidence):
        evs = list((await db.execute(select(Evidence).where(Evidence.session_id == sid))).scalars())
        if not dry_run:
            for ev in evs:
                (settings.data_dir / "evidence" / ev.stored_name).unlink(missing_ok=True)
                await db.delete(ev)
        report.add(sid, "evidence_files", len(evs))
    await _purge_applications(db, settings, report, dry_run=dry_run)
    if dry_run:
        await db.rollback()
        return report
    await db.commit()
    for sid, counts in report.sessions.items():
        await eventlog.append(db, sid, "data.purged", payload={"removed": counts})
    return report


CLOSED_CASE_STATES = ("rejected", "archived")
"""Case states with no way on (``case_states.TRANSITIONS``): an application's attachments
may go once its case reached one of them and the retention passed."""


async def _purge_applications(db: AsyncSession, settings: Settings, report: PurgeReport, *,
                              dry_run: bool) -> None:
    """Attachments of old applications whose case is closed (files and rows), and phone
    codes a day past their expiry."""
    now = utcnow()
    cutoff = now - timedelta(days=settings.retention_days_applications)
    files = list((await db.execute(
        select(ApplicationAttachment).join(
            Application, Application.id == ApplicationAttachment.application_id).join(
            Case, Case.id == Application.case_id).where(
            Application.created_at < cutoff, Case.status.in_(CLOSED_CASE_STATES)))).scalars())
    codes = list((await db.execute(select(PhoneCode.id).where(
        PhoneCode.expires_at < now - timedelta(days=1)))).scalars())
    report.application_files, report.phone_codes = len(files), len(codes)
    if dry_run:
        return
    for f in files:
        (settings.data_dir / "applications" / f.stored_name).unlink(missing_ok=True)
        await db.delete(f)
    if codes:
        await db.execute(delete(PhoneCode).where(PhoneCode.id.in_(codes)))


async def purge_queued_audio(redis: Any, settings: Settings, report: PurgeReport, *,
                             dry_run: bool = False,
                             features: Sequence[Feature] | None = None) -> None:
    """Remove what the features queued in Redis (utterance audio, its dead letters) older
    than its maximum age."""
    report.queued_audio = 0
    for part in _personal_data(features):
        if part.purge_queue is not None:
            report.queued_audio += await part.purge_queue(redis, settings, dry_run)


async def export_participant(db: AsyncSession, participant_id: str,
                             settings: Settings | None = None, *,
                             features: Sequence[Feature] | None = None) -> dict[str, Any]:
    """Everything stored about one participant (个人信息保护法: the right of access),
    with their own recorded audio when ``settings`` (keys, data dir) are given."""
    p = await db.get(Participant, participant_id)
    if p is None:
        raise LookupError("no such participant")
    events = list((await db.execute(select(SessionEvent).where(
        SessionEvent.actor_id == participant_id).order_by(SessionEvent.seq))).scalars())
    parts: dict[str, Any] = {}
    for part in _personal_data(features):
        parts.update(await part.export(db, participant_id))
    evidence = list((await db.execute(select(Evidence).where(
        Evidence.uploader_id == participant_id))).scalars())
    return {
        "participant": {"id": p.id, "session_id": p.session_id, "role": p.role, "side": p.side,
                        "display_name": p.display_name, "joined_from": p.joined_from,
                        "consented_at": p.consented_at.isoformat() if p.consented_at else None,
                        "created_at": p.created_at.isoformat(),
                        "left_at": p.left_at.isoformat() if p.left_at else None},
        "events": [{"seq": e.seq, "at": e.at.isoformat(), "kind": e.kind,
                    "caucus_id": e.caucus_id, "payload": e.payload} for e in events],
        **parts,
        "evidence": [{"id": e.id, "title": e.title, "content_type": e.content_type,
                      "sha256": e.sha256, "created_at": e.created_at.isoformat()}
                     for e in evidence],
        "audio": [] if settings is None else await audio_archive.export_own(
            db, settings, participant_id),
    }


def describe(report: PurgeReport) -> str:
    lines = [f"{sid}: " + ", ".join(f"{k}={v}" for k, v in sorted(c.items()))
             for sid, c in sorted(report.sessions.items())]
    if report.queued_audio:
        lines.append(f"transcription queue: queued_audio_entries={report.queued_audio}")
    if report.application_files or report.phone_codes:
        lines.append(f"applications: attachment_files={report.application_files}, "
                     f"phone_codes={report.phone_codes}")
    return mask("\n".join(lines) or "nothing to purge")
