"""The 人民调解记录 prefilled from the session it records.

Time (the session's start and end), place (online), who took part in which role, and the
joint session's transcript in speaker turns: consecutive utterances of one speaker become
one statement with its times. Only the joint transcript is read (``signaling.transcripts``
answers what a clerk may read): nothing said in a caucus reaches the record. The clerk or
mediator then edits the draft like any other; nothing here is final.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from signaling.db.models import Case, MediationSession, Office, Participant
from signaling.errors import Conflict
from signaling.transcripts import SpokenLine, joint_transcript

from .context import MATTER_LABELS
from .models import AgreementData, Matter, PartyDetails, Statement
from .tables import DraftRow, DraftVersionRow

PLACE_ONLINE = "线上（远程视频调解）"
"""Where an online session takes place, as the record prints it."""
CHINA = timezone(timedelta(hours=8))
_PARTY_ROLES = {"A": "applicant", "B": "respondent"}
_SIDE_NAMES = {"A": "申请人", "B": "被申请人"}
_ROLE_NAMES = {"representative": "委托代理人", "expert": "专家", "interpreter": "翻译",
               "mediator": "调解员",
               "clerk": "书记员", "party": "当事人"}


def speaker_turns(lines: Iterable[SpokenLine]) -> tuple[Statement, ...]:
    """Statements from utterances in spoken order: a speaker's consecutive utterances (one
    participant, one diarized voice) merge into one turn from its first start to its last
    end. Chinese joins without spaces, other languages with one."""
    turns: list[tuple[tuple[str, str | None], str, list[str], float, float, str]] = []
    for line in lines:
        text = line.text.strip()
        if not text:
            continue
        key = (line.participant_id, line.voice)
        if turns and turns[-1][0] == key:
            k, name, texts, start, _, lang = turns[-1]
            texts.append(text)
            turns[-1] = (k, name, texts, start, max(line.end, turns[-1][4]), lang)
        else:
            turns.append((key, line.speaker_name, [text], line.start, line.end, line.language))
    return tuple(
        Statement(speaker=name, text=("" if lang.startswith("zh") else " ").join(texts),
                  start=max(start, 0.0), end=max(end, 0.0))
        for _, name, texts, start, end, lang in turns)


async def _agreement(db: AsyncSession, session_id: str) -> AgreementData | None:
    """The session's latest joint agreement draft (the parties' details as they confirmed
    them, the mediator's signing phone), or None."""
    row = (await db.execute(select(DraftVersionRow.data).join(
        DraftRow, DraftRow.id == DraftVersionRow.draft_id).where(
        DraftRow.session_id == session_id, DraftRow.kind == "agreement",
        DraftRow.caucus_id.is_(None)).order_by(
        DraftRow.created_at.desc(), DraftVersionRow.number.desc()).limit(1))).first()
    if row is None:
        return None
    return AgreementData.model_validate(row[0])


async def record_from_session(db: AsyncSession, session_id: str, *,
                              drafter_id: str) -> dict[str, Any]:
    """RecordData as JSON, prefilled from the session; ``drafter_id`` is the clerk or
    mediator asking (a clerk asking is the recorder)."""
    session = await db.get(MediationSession, session_id)
    assert session is not None
    case = await db.get(Case, session.case_id)
    assert case is not None
    office = await db.get(Office, case.office_id)
    assert office is not None
    people = list((await db.execute(select(Participant).where(
        Participant.session_id == session_id).order_by(Participant.created_at))).scalars())
    by_role: dict[str, list[Participant]] = {}
    for p in people:
        by_role.setdefault(p.role, []).append(p)

    mediators = by_role.get("mediator", [])
    mediator = next((p for p in mediators if p.user_id and p.user_id == case.mediator_id),
                    next((p for p in mediators if p.id == drafter_id),
                         mediators[0] if mediators else None))
    if mediator is None:
        raise Conflict("No mediator has joined this session yet.", code="no_mediator")
    clerks = [p for p in by_role.get("clerk", []) if p.left_at is None]
    clerk = next((p for p in clerks if p.id == drafter_id), clerks[0] if clerks else None)
    # A clerk in the room records and signs. Without one the mediator's name fills the
    # 记录人 line (the office may name another staff member in the editor) and the
    # ceremony is the parties' and the mediator's: no empty seat blocks it.
    recorder = clerk or mediator

    in_room = by_role.get("party", [])
    agreement = await _agreement(db, session_id)
    parties = agreement.parties if agreement else ()
    if not parties:
        parties = tuple(PartyDetails.model_validate(
            # Sides past A and B (第三人 and any other the case added) are third parties.
            {"party_id": p.id, "role": _PARTY_ROLES.get(p.side or "",
                                                      "third_party" if p.side else "applicant"),
             "name": p.display_name}) for p in in_room)
    if not parties:
        raise Conflict("No party has joined this session yet.", code="no_parties")
    joined_from = {p.id: p.joined_from for p in in_room if p.joined_from}

    others: list[dict[str, str]] = []
    for p in people:
        if p.role in ("party", "observer") or p.id in (mediator.id, recorder.id):
            continue
        role = _ROLE_NAMES.get(p.role, p.role)
        if p.role == "representative" and p.side in _SIDE_NAMES:
            role = _SIDE_NAMES[p.side] + role
        others.append({"name": p.display_name, "role": role, "joined_from": p.joined_from})

    matter = case.dispute_type if case.dispute_type in Matter.__members__ else Matter.other.value
    subject = (case.summary.strip().splitlines() or [""])[0][:200] \
        or session.title.strip() or MATTER_LABELS["zh-CN"][matter]
    started = session.started_at or session.created_at
    ended = session.ended_at
    lines = await joint_transcript(db, session_id)
    return {
        "case_number": case.number,
        "committee": office.name,
        "matter": matter,
        "subject": subject,
        "started_at": _local(started).isoformat(),
        "ended_at": _local(ended).isoformat() if ended else None,
        "room": session.title or session.id[:8].upper(),
        "place": PLACE_ONLINE,
        "parties": [p.model_dump(mode="json") for p in parties],
        "joined_from": joined_from,
        "participants": others,
        # Consent to recording is not the notice of rights: the clerk says it was read.
        "rights_notified": False,
        "statements": [s.model_dump(mode="json") for s in speaker_turns(lines)],
        "outcome_reached": False,
        "outcome": "",
        # The mediator's signing phone as the agreement gives it: the code goes there too.
        "mediator": {"name": mediator.display_name,
                     "phone": agreement.mediator.phone
                     if agreement and agreement.mediator.name == mediator.display_name else None},
        "recorder": {"name": recorder.display_name},
        "recorder_signs": clerk is not None,
        "signed_on": _local(ended or datetime.now(UTC)).date().isoformat(),
    }


def _local(value: datetime) -> datetime:
    """A stored UTC time in China's time, as the record prints it."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(CHINA)
