"""The 司法确认 deadline of a sealed agreement: days left, and the reminders at 7 days and
1 day before it (人民调解法 art. 33: the parties may apply within 30 days of the agreement
taking effect).

Each node runs ``ReminderLoop`` (a ``signaling.periodic.Periodic``), started and stopped
with the app. A pass finds the sealed agreements whose deadline is near and, for each
recipient (every party at the phone and e-mail address they confirmed, and the mediator at
the phone the agreement names), sends the reminder once across restarts and nodes
(``signaling.periodic.claim_once``: the row under the key (agreement, stage, recipient) is
claimed before sending).

The message says the case number, the date and the days left: never an ID number.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from signaling.context import Services, Slot
from signaling.db.base import utcnow
from signaling.db.engine import Database
from signaling.periodic import Clock, Periodic, claim_once, finish
from signaling.notify import (
    Dispatcher,
    NotifyError,
    compose,
    is_email,
    mask_recipient,
    normalise_mobile,
)

from .confirmations import confirmations_of
from .models import AgreementData, PartyDetails
from .parties import agent_of
from .tables import DeadlineReminderRow, DraftRow, DraftVersionRow, SealedDocumentRow

log = logging.getLogger("tiaojie.agreements.deadlines")

CHINA = timezone(timedelta(hours=8), "UTC+08:00")
"""Deadlines are calendar days in China."""
STAGES = (7, 1)
"""Reminders go out this many days before the deadline."""


def china_today(now: datetime) -> date:
    return now.astimezone(CHINA).date()


def days_left(deadline: date, today: date) -> int:
    """Days from ``today`` to the last day; 0 on the last day, negative once it passed."""
    return (deadline - today).days


def stage_due(left: int) -> int | None:
    """The reminder due with ``left`` days to go: the 7-day one from 7 to 2 days (a node
    that was down on the day still sends it), the 1-day one on the last two days."""
    if 2 <= left <= 7:
        return 7
    if 0 <= left <= 1:
        return 1
    return None


@dataclass(frozen=True)
class Recipient:
    key: str
    """Who and how, without the address: "party:P1:sms", "mediator:sms"."""
    to: str


@dataclass
class ReminderReport:
    """What one pass did."""

    sent: list[tuple[str, int, str]] = field(default_factory=list)
    """(document id, stage, recipient key) of each reminder sent."""
    failed: list[tuple[str, int, str]] = field(default_factory=list)


def _contacts(prefix: str, phone: str | None, email: str | None) -> list[Recipient]:
    out = []
    mobile = normalise_mobile(phone or "")
    if mobile:
        out.append(Recipient(f"{prefix}:sms", mobile))
    if email and is_email(email):
        out.append(Recipient(f"{prefix}:email", email))
    return out


async def recipients(db: AsyncSession, doc: SealedDocumentRow) -> list[Recipient]:
    """Each party at what they (or their agent) confirmed, and the mediator."""
    row = await db.scalar(select(DraftVersionRow).where(
        DraftVersionRow.draft_id == doc.draft_id,
        DraftVersionRow.number == doc.version_number))
    if row is None:
        return []
    data = AgreementData.model_validate(row.data)
    newest: dict[str, tuple[datetime, PartyDetails, str]] = {}
    for c in await confirmations_of(db, doc.draft_id):
        if c.party_id not in newest or c.created_at >= newest[c.party_id][0]:
            newest[c.party_id] = (c.created_at, PartyDetails.model_validate(c.details),
                                  c.acting_as)
    out: list[Recipient] = []
    for party in data.parties:
        if party.party_id not in newest:
            continue  # only a confirmed address is used
        _, confirmed, acting_as = newest[party.party_id]
        who = agent_of(confirmed, acting_as) or confirmed
        out += _contacts(f"party:{party.party_id}", who.phone, who.email)
    out += _contacts("mediator", data.mediator.phone, None)
    return out


async def send_due_reminders(database: Database, notifier: Dispatcher, now: datetime
                             ) -> ReminderReport:
    """One pass: send every reminder that is due at ``now`` and not sent yet."""
    today = china_today(now)
    report = ReminderReport()
    async with database.session() as db:
        docs = list((await db.execute(select(SealedDocumentRow, DraftRow.case_number,
                                             DraftRow.language).join(
            DraftRow, DraftRow.id == SealedDocumentRow.draft_id).where(
            SealedDocumentRow.kind == "agreement",
            SealedDocumentRow.judicial_confirmation_deadline.is_not(None),
            SealedDocumentRow.judicial_confirmation_deadline >= today,
            SealedDocumentRow.judicial_confirmation_deadline <= today + timedelta(
                days=max(STAGES))))).all())
        work = []
        for doc, case_number, language in docs:
            assert doc.judicial_confirmation_deadline is not None
            left = days_left(doc.judicial_confirmation_deadline, today)
            stage = stage_due(left)
            if stage is not None:
                work.append((doc.id, doc.judicial_confirmation_deadline, case_number, language,
                             left, stage, await recipients(db, doc)))
    for doc_id, deadline, case_number, language, left, stage, people in work:
        for r in people:
            if not notifier.reaches("sms" if r.key.endswith(":sms") else "email"):
                continue  # no sender for that channel here: nothing is claimed
            row_id = await claim_once(
                database, DeadlineReminderRow,
                {"document_id": doc_id, "stage": stage, "recipient": r.key},
                sent_to=mask_recipient(r.to))
            if row_id is None:
                continue
            message = compose("deadline_reminder", r.to, {
                "case_number": case_number, "date": deadline.isoformat(), "days": left},
                language=language, reference=doc_id)
            try:
                await notifier.send(message)
            except NotifyError as exc:
                log.warning("deadline reminder not sent: %s (%s)", message.describe(),
                            type(exc).__name__)
                await finish(database, DeadlineReminderRow, row_id, type(exc).__name__)
                report.failed.append((doc_id, stage, r.key))
                continue
            await finish(database, DeadlineReminderRow, row_id, "")
            report.sent.append((doc_id, stage, r.key))
    return report


def ReminderLoop(services: Services, interval_s: float, clock: Clock = utcnow) -> Periodic:
    """Runs ``send_due_reminders`` every ``interval_s`` on this node."""

    async def work(now: datetime) -> None:
        if services.notifier is not None:
            await send_due_reminders(services.db, services.notifier, now)

    return Periodic("deadline_reminders", work, interval_s, clock)


REMINDERS = Slot("agreements.reminders", Periodic)
"""The running reminder loop, in ``Services`` while the app runs with reminders on."""


@asynccontextmanager
async def reminders_running(services: Services) -> AsyncIterator[None]:
    """Run the reminders while the context is open (the feature's lifecycle enters it
    after the migrations and leaves it before the database closes)."""
    interval = services.settings.deadline_reminder_interval_s
    if interval <= 0:
        yield
        return
    loop = services.put(REMINDERS, ReminderLoop(services, interval))
    loop.start()
    try:
        yield
    finally:
        services.pop(REMINDERS)
        await loop.stop()
