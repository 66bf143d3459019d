"""Scheduling a session with notices: the mediator sets a date, a time, the expected length
and who is invited; each invitee gets a join link made ahead, sent by SMS or e-mail (with
an .ics file) through the same senders as the signing codes, and reminders the day before
and an hour before.

Reminders go out once across nodes and restarts (``signaling.periodic.claim_once``: a pass
claims each reminder under the unique key (invite, stage) before sending; a failed send is
claimed again by a later pass). A revoked or used-up link
gets no reminder. The invitee's address and the link's token are kept encrypted
(AES-GCM, bound to the invite's id) for the reminders; only a masked address is shown.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from signaling import case_states, crypto
from signaling.accounts import Principal
from signaling.cases import apply_move, case_to_manage
from signaling.context import Services
from signaling.credentials import hash_token, new_token
from signaling.db.base import utcnow
from signaling.db.engine import Database
from signaling.db.models import Case, Invite, MediationSession, SessionReminder
from signaling.errors import BadRequest, Conflict
from signaling.invites import join_url
from signaling.notify import (
    Attachment,
    Dispatcher,
    NotifyError,
    RecipientInvalid,
    channel_of,
    compose,
    mask_recipient,
)
from signaling.periodic import Clock, Periodic, claim_once, finish
from signaling.schemas import ScheduleIn
from signaling.settings import Settings
from signaling.sides import check_side

log = logging.getLogger("tiaojie.scheduling")

STAGES: tuple[tuple[str, timedelta], ...] = (("day", timedelta(hours=24)),
                                              ("hour", timedelta(hours=1)))
"""Each reminder and how long before the start its window opens; the window closes when
the next one opens (or at the start)."""
LINK_GRACE = timedelta(hours=12)
"""A scheduled session's links stay valid this long after its expected end."""
MAX_AHEAD = timedelta(days=366)
"""How far ahead a session may be scheduled."""


def _key(settings: Settings) -> bytes:
    return crypto.derive_key(settings.secret_key, "invites")


def _seal(settings: Settings, invite_id: str, what: str, value: str) -> bytes:
    return crypto.seal(_key(settings), value.encode(), f"{what}:{invite_id}".encode())


def _unseal(settings: Settings, invite_id: str, what: str, blob: bytes) -> str:
    return crypto.unseal(_key(settings), blob, f"{what}:{invite_id}".encode()).decode()


def office_zone(settings: Settings) -> ZoneInfo:
    return ZoneInfo(settings.office_time_zone)


def local_time_text(at: datetime, settings: Settings, language: str = "zh") -> str:
    """The start as the invitee reads it, in the office's time zone."""
    local = at.astimezone(office_zone(settings))
    if language.startswith("en"):
        return local.strftime("%Y-%m-%d %H:%M") + f" ({settings.office_time_zone})"
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def _ics_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,") \
        .replace("\n", "\\n")


def build_ics(uid: str, start: datetime, minutes: int, summary: str, url: str,
              stamp: datetime) -> bytes:
    """An iCalendar event (RFC 5545) for a mail client's calendar; times in UTC."""
    def utc(d: datetime) -> str:
        return d.astimezone(ZoneInfo("UTC")).strftime("%Y%m%dT%H%M%SZ")

    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Tiaojie//Scheduling//ZH",
             "METHOD:PUBLISH", "BEGIN:VEVENT", f"UID:{uid}@tiaojie", f"DTSTAMP:{utc(stamp)}",
             f"DTSTART:{utc(start)}", f"DTEND:{utc(start + timedelta(minutes=minutes))}",
             f"SUMMARY:{_ics_text(summary)}", f"DESCRIPTION:{_ics_text(url)}",
             f"URL:{url}", "END:VEVENT", "END:VCALENDAR"]
    return ("\r\n".join(lines) + "\r\n").encode()


@dataclass
class Scheduled:
    session: MediationSession
    invites: list[tuple[Invite, str]]
    """Each invite with its token (shown once, to the mediator who scheduled)."""


async def schedule_session(services: Services, p: Principal, case_id: str,
                           body: ScheduleIn) -> Scheduled:
    """Create the session and its links, move the case to 排期 where its life allows,
    then send each invitation."""
    settings = services.settings
    starts = body.starts_at if body.starts_at.tzinfo else \
        body.starts_at.replace(tzinfo=office_zone(settings))
    if starts <= utcnow():
        raise BadRequest("The session must start in the future.", code="starts_in_past")
    if starts > utcnow() + MAX_AHEAD:
        raise BadRequest("A session is scheduled at most a year ahead.", code="starts_too_far")
    contacts = []
    for who in body.invitees:
        if who.contact:
            try:
                channel_of(who.contact)
            except RecipientInvalid:
                raise BadRequest(f"{who.name}: not a mainland mobile number or an e-mail "
                                 "address.", code="contact_invalid") from None
        contacts.append(who.contact)
    async with services.db.session() as db:
        case = await case_to_manage(db, p, case_id)
        if case.status not in case_states.SCHEDULABLE:
            raise Conflict(f"A case in {case_states.LABELS.get(case.status, case.status)} is "
                           "closed: no session can be scheduled.", code="case_closed")
        for who in body.invitees:
            await check_side(db, case.id, who.side)
        s = MediationSession(case_id=case.id, title=body.title or case.number,
                             scheduled_at=starts, expected_minutes=body.expected_minutes,
                             language=body.language, created_by=p.user_id)
        db.add(s)
        await db.flush()
        expires = starts + timedelta(minutes=body.expected_minutes) + LINK_GRACE
        made: list[tuple[Invite, str]] = []
        for who in body.invitees:
            token = new_token()
            inv = Invite(session_id=s.id, token_hash=hash_token(token), role=who.role,
                         side=who.side, label=who.name, interpretation=who.interpretation,
                         expires_at=expires, max_uses=1,
                         created_by=p.user_id,
                         contact_masked=mask_recipient(who.contact) if who.contact else None)
            db.add(inv)
            await db.flush()
            if who.contact:
                inv.contact_sealed = _seal(settings, inv.id, "contact", who.contact)
                inv.token_sealed = _seal(settings, inv.id, "token", token)
            made.append((inv, token))
        if "scheduled" in case_states.allowed_moves(case.status):
            await apply_move(db, p, case, "scheduled", "")
        await db.commit()
        number = case.number
    for (inv, token), contact in zip(made, contacts, strict=True):
        if contact:
            inv.notified = await _send_invitation(services, s, inv, token, contact, number)
    async with services.db.session() as db:
        for inv, _ in made:
            if inv.notified:
                await db.execute(update(Invite).where(Invite.id == inv.id)
                                 .values(notified=inv.notified))
        await db.commit()
    return Scheduled(s, made)


async def _send_invitation(services: Services, s: MediationSession, inv: Invite, token: str,
                           contact: str, case_number: str) -> str:
    notifier = services.notifier
    channel = channel_of(contact)
    if notifier is None or not notifier.reaches(channel):
        return "unreachable"
    settings = services.settings
    assert s.scheduled_at is not None
    url = join_url(settings.public_url, token)
    attachments: tuple[Attachment, ...] = ()
    if channel == "email":
        attachments = (Attachment("invite.ics", "text/calendar", build_ics(
            inv.id, s.scheduled_at, s.expected_minutes or 60, f"调解 {case_number}", url,
            utcnow())),)
    message = compose("session_invite", contact, {
        "case_number": case_number, "time": local_time_text(s.scheduled_at, settings),
        "url": url}, attachments=attachments, reference=inv.id)
    try:
        await notifier.send(message)
    except NotifyError as exc:
        log.warning("invitation not sent: %s (%s)", message.describe(), type(exc).__name__)
        return "failed"
    return "sent"


# -- reminders ---------------------------------------------------------------------------

def stage_due(left: timedelta) -> str | None:
    """The reminder due with ``left`` to go before the start."""
    if timedelta(0) < left <= timedelta(hours=1):
        return "hour"
    if timedelta(hours=1) < left <= timedelta(hours=24):
        return "day"
    return None


def _window_opens(stage: str) -> timedelta:
    return dict(STAGES)[stage]


@dataclass
class ReminderReport:
    sent: list[tuple[str, str]] = field(default_factory=list)
    """(invite id, stage) of each reminder sent."""
    failed: list[tuple[str, str]] = field(default_factory=list)


async def send_due_reminders(database: Database, notifier: Dispatcher, settings: Settings,
                             now: datetime) -> ReminderReport:
    """One pass: every reminder due at ``now`` and not sent yet, to every invitee of a
    scheduled session whose link is still open and was sent before the reminder's window
    opened (a session scheduled three hours ahead gets the hour reminder only)."""
    report = ReminderReport()
    async with database.session() as db:
        rows = (await db.execute(
            select(Invite, MediationSession.scheduled_at, Case.number)
            .join(MediationSession, MediationSession.id == Invite.session_id)
            .join(Case, Case.id == MediationSession.case_id)
            .where(MediationSession.status == "scheduled",
                   MediationSession.scheduled_at > now,
                   MediationSession.scheduled_at <= now + timedelta(hours=24),
                   Invite.revoked.is_(False), Invite.uses < Invite.max_uses,
                   Invite.contact_sealed.is_not(None), Invite.token_sealed.is_not(None))
        )).all()
    for inv, starts, number in rows:
        assert starts is not None  # the query asked for scheduled_at > now
        stage = stage_due(starts - now)
        if stage is None or inv.created_at > starts - _window_opens(stage):
            continue
        assert inv.contact_sealed is not None and inv.token_sealed is not None
        contact = _unseal(settings, inv.id, "contact", inv.contact_sealed)
        if not notifier.reaches(channel_of(contact)):
            continue  # no sender for that channel here: nothing is claimed
        row_id = await claim_once(database, SessionReminder,
                                  {"invite_id": inv.id, "stage": stage},
                                  sent_to=mask_recipient(contact))
        if row_id is None:
            continue
        url = join_url(settings.public_url, _unseal(settings, inv.id, "token", inv.token_sealed))
        message = compose("session_reminder", contact, {
            "case_number": number, "time": local_time_text(starts, settings), "url": url},
            reference=inv.id)
        try:
            await notifier.send(message)
        except NotifyError as exc:
            log.warning("session reminder not sent: %s (%s)", message.describe(),
                        type(exc).__name__)
            await finish(database, SessionReminder, row_id, type(exc).__name__)
            report.failed.append((inv.id, stage))
            continue
        await finish(database, SessionReminder, row_id, "")
        report.sent.append((inv.id, stage))
    return report


def ReminderLoop(services: Services, interval_s: float, clock: Clock = utcnow) -> Periodic:
    """Runs ``send_due_reminders`` every ``interval_s`` on this node."""

    async def work(now: datetime) -> None:
        if services.notifier is not None:
            await send_due_reminders(services.db, services.notifier, services.settings, now)

    return Periodic("session_reminders", work, interval_s, clock)
