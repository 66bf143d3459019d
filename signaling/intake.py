"""Applications by link and QR (申请), and intake (受理 / 不予受理, assigning a mediator).

Each office has a public application page. A person proves their phone with a code sent
through the same senders as the signing codes, fills in their details, the other party's
as far as known, the dispute type, a description, optional attachments (PNG, JPEG, PDF:
typed by content, size-limited, encrypted at rest like evidence) and consents to the
processing of their data (PIPL notice). No CAPTCHA: limits per address and per phone
(``signaling.ratelimit``) and the phone code instead.

The application, its case (in 申请) and its attachments' rows are written in one
transaction; the attachment files are written sealed under temporary names first and
put in place only once that transaction commits, so a refused or failed application
leaves nothing behind. The applicant gets a reference number and a status link whose
token is stored only as its hash.

Intake accepts or refuses; a refusal's reason goes to the applicant by SMS and is shown
on their status page. The mediator is assigned by hand or by the office's areas: the
first area (in order) one of whose keywords the applicant's address contains.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from aiohttp import BodyPartReader, web
from pydantic import Field, StringConstraints, ValidationError
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from signaling import case_states, dispute_types, ratelimit
from signaling.accounts import SERVICE_ACCOUNT_PREFIX, Principal
from signaling.api.registry import ApiRouter, Route, json_response, read_body, read_limited
from signaling.cases import STAFF_WHO_MANAGE, apply_move, case_to_manage, ensure_staff, get_case
from signaling.context import Services
from signaling.credentials import hash_token, new_token
from signaling.crypto import derive_key, seal, unseal
from signaling.db.base import utcnow
from signaling.db.models import (
    Application,
    ApplicationAttachment,
    Case,
    CaseEvent,
    Invite,
    Office,
    OfficeArea,
    PhoneCode,
    User,
)
from signaling.errors import BadRequest, Conflict, Forbidden, NotFound, PayloadTooLarge
from signaling.evidence import TYPES
from signaling.keys import SERVICES
from signaling.notify import NotifyError, compose, mask_recipient, normalise_mobile
from signaling.schemas import In, Name, Out

log = logging.getLogger("tiaojie.intake")

NOTICE_VERSION = "2026-2"
"""Raised when the notice's text changes: consents keep the version they were given to."""
NOTICE = (
    "个人信息处理告知（依据《中华人民共和国个人信息保护法》）：本调解组织为受理和办理您的人民调解申请，"
    "处理您填写的姓名、手机号码、身份证号码、住址，对方当事人的信息，纠纷情况及附件。这些信息仅用于"
    "调解工作，加密保存，仅本调解组织经办人员可见，保存期限依调解档案管理规定。调解中如需专业支持，"
    "经调解员邀请的专家（物业、医疗、心理、法律、手语等，可能来自本市其他调解组织共享的专家库）会获知"
    "其协助事项所必需的信息，并负有保密义务。除此之外，未经您同意不向第三方提供，"
    "法律另有规定的除外。您可向本调解组织查阅、更正您的信息。提交申请即表示您已阅读并同意上述处理。"
)
"""The PIPL notice shown above the consent box (the version is stored with each consent)."""
CODE_MINUTES = 10
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_FILES = 5
MAX_BODY_BYTES = MAX_FILES * MAX_FILE_BYTES + 256 * 1024
STATUS_HEADER = "X-Application-Token"
_ID_NUMBER = r"^\d{17}[\dXx]$"


def _key(services: Services, purpose: str) -> bytes:
    return derive_key(services.settings.secret_key, purpose)


def _keyed_hash(services: Services, purpose: str, value: str) -> str:
    return hmac.new(_key(services, purpose), value.encode(), hashlib.sha256).hexdigest()


def _ip(request: web.Request) -> str:
    s = request.app[SERVICES].settings
    return ratelimit.client_ip(request.remote,
                               ",".join(request.headers.getall("X-Forwarded-For", [])),
                               ratelimit.trusted_proxies(s))


# -- shapes ------------------------------------------------------------------------------

Mobile = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]
Address = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]


class PhoneCodeIn(In):
    phone: Mobile


class ApplicantIn(In):
    name: Name
    phone: Mobile
    id_number: Annotated[str, StringConstraints(pattern=_ID_NUMBER)] | None = None
    address: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2,
                                              max_length=200)]


class OtherPartyIn(In):
    name: Name
    phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=20)] = ""
    address: Address = ""


class ApplicationIn(In):
    applicant: ApplicantIn
    other_parties: list[OtherPartyIn] = Field(min_length=1, max_length=5)
    dispute_type: Annotated[str, StringConstraints(max_length=40)]
    description: Annotated[str, StringConstraints(strip_whitespace=True, min_length=10,
                                                  max_length=5000)]
    phone_code: Annotated[str, StringConstraints(pattern=r"^\d{6}$")]
    consent: Literal[True]
    notice_version: Annotated[str, StringConstraints(max_length=16)] = NOTICE_VERSION


class ApplyDisputeTypeOut(Out):
    key: str
    name: str


class ApplyPageOut(Out):
    office_id: str
    office_name: str
    dispute_types: list[ApplyDisputeTypeOut]
    notice: str
    notice_version: str
    max_files: int
    max_file_bytes: int


class CodeSentOut(Out):
    sent_to: str
    minutes: int


class ApplicationCreated(Out):
    reference: str
    status_token: str
    """Shown once; the status page's link carries it after ``#``."""
    status_url: str


class StatusSession(Out):
    scheduled_at: datetime | None
    time_text: str


class ApplicationStatusOut(Out):
    reference: str
    office_name: str
    status: str
    label: str
    submitted_at: datetime
    reason: str
    """Why it was refused (不予受理), when it was."""
    sessions: list[StatusSession]


class IntakeIn(In):
    decision: Literal["accept", "refuse"]
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] = ""
    assign: Literal["self", "manual", "area", "none"] = "self"
    """Who mediates: the caller (a mediator), ``mediator_id``, the area's mediator, nobody."""
    mediator_id: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")] | None = None


class AssignIn(In):
    assign: Literal["manual", "area"]
    mediator_id: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")] | None = None


class AttachmentOut(Out):
    id: str
    title: str
    content_type: str
    size: int
    sha256: str


class PartyDetailsOut(Out):
    name: str
    phone: str
    id_number: str
    address: str


class ApplicationOut(Out):
    reference: str
    case_id: str
    applicant: PartyDetailsOut
    other_parties: list[PartyDetailsOut]
    description: str
    dispute_type: str
    area: str
    consented_at: datetime
    notice_version: str
    decision_reason: str
    decision_notified: str | None
    attachments: list[AttachmentOut]


class AreaIn(In):
    name: Name
    keywords: list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                                    max_length=60)]] = Field(max_length=100)
    mediator_id: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")] | None = None


class AreasIn(In):
    items: list[AreaIn] = Field(max_length=200)


class AreaOut(Out):
    id: str
    name: str
    keywords: list[str]
    mediator_id: str | None
    position: int


class AreaList(Out):
    items: list[AreaOut]


class DeclineIn(In):
    token: Annotated[str, StringConstraints(min_length=10, max_length=200)]
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""


class DeclineOut(Out):
    declined: bool
    case_number: str
    scheduled_at: datetime | None


# -- the office's page -------------------------------------------------------------------

async def _office(db: AsyncSession, office_id: str) -> Office:
    office = await db.get(Office, office_id[:32])
    if office is None:
        raise NotFound("No such office.", code="not_found")
    return office


async def apply_page(request: web.Request) -> web.Response:
    async with request.app[SERVICES].db.session() as db:
        office = await _office(db, request.match_info["office_id"])
        types = await dispute_types.types_of(db, office.id, active_only=True)
    return json_response(ApplyPageOut(
        office_id=office.id, office_name=office.name,
        dispute_types=[ApplyDisputeTypeOut(key=t.key, name=t.name) for t in types],
        notice=NOTICE, notice_version=NOTICE_VERSION, max_files=MAX_FILES,
        max_file_bytes=MAX_FILE_BYTES))


def _mobile(value: str) -> str:
    phone = normalise_mobile(value)
    if phone is None:
        raise BadRequest("Please enter a mainland mobile number (11 digits).",
                         code="phone_invalid")
    return phone


async def send_code(request: web.Request) -> web.Response:
    """Send a six-digit code to the applicant's phone (valid ``CODE_MINUTES``)."""
    services = request.app[SERVICES]
    body = await read_body(request, PhoneCodeIn, 4096)
    phone = _mobile(body.phone)
    async with services.db.session() as db:
        await _office(db, request.match_info["office_id"])
    limiter = ratelimit.limiter_for(services)
    await limiter.check(ratelimit.APPLY_CODE_PER_IP, _ip(request))
    await limiter.check(ratelimit.APPLY_CODE_PER_PHONE, phone)
    notifier = services.notifier
    if notifier is None or not notifier.reaches("sms"):
        raise Conflict("This office cannot send text messages now; please call the office.",
                       code="sms_unavailable")
    code = f"{secrets.randbelow(10**6):06d}"
    async with services.db.session() as db:
        db.add(PhoneCode(phone_hash=_keyed_hash(services, "apply-phone", phone),
                         code_hash=_keyed_hash(services, "apply-code", code),
                         expires_at=utcnow() + timedelta(minutes=CODE_MINUTES)))
        await db.commit()
    try:
        await notifier.send(compose("application_code", phone,
                                    {"code": code, "minutes": CODE_MINUTES}))
    except NotifyError as exc:
        log.warning("application code not sent to %s (%s)", mask_recipient(phone),
                    type(exc).__name__)
        raise Conflict("The code could not be sent; please try again later.",
                       code="sms_failed") from None
    return json_response(CodeSentOut(sent_to=mask_recipient(phone), minutes=CODE_MINUTES))


async def _use_code(db: AsyncSession, services: Services, phone: str, code: str) -> None:
    """Mark the phone's latest code used, in the caller's transaction; refuse a wrong,
    expired or already used one."""
    row = (await db.execute(
        select(PhoneCode).where(PhoneCode.phone_hash == _keyed_hash(services, "apply-phone",
                                                                    phone))
        .order_by(PhoneCode.created_at.desc()).limit(1))).scalar_one_or_none()
    if row is None or not hmac.compare_digest(
            row.code_hash, _keyed_hash(services, "apply-code", code)):
        await ratelimit.limiter_for(services).hit(ratelimit.APPLY_CODE_WRONG, phone)
        raise BadRequest("The phone code is wrong.", code="code_wrong")
    if row.used_at is not None:
        raise BadRequest("This phone code was already used; please ask for a new one.",
                         code="code_used")
    if row.expires_at <= utcnow():
        raise BadRequest("The phone code has expired; please ask for a new one.",
                         code="code_expired")
    used = await db.execute(update(PhoneCode).where(PhoneCode.id == row.id,
                                                    PhoneCode.used_at.is_(None))
                            .values(used_at=utcnow()))
    if used.rowcount != 1:  # type: ignore[attr-defined]
        raise BadRequest("This phone code was already used; please ask for a new one.",
                         code="code_used")


async def _read_application(request: web.Request) -> tuple[ApplicationIn,
                                                            list[tuple[str, bytes]]]:
    """The application and its files: multipart (a part ``application`` with the JSON and
    parts ``file``), or a JSON body without files."""
    files: list[tuple[str, bytes]] = []
    raw: bytes | None = None
    if request.content_type.startswith("multipart/"):
        if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
            raise PayloadTooLarge("The application is too large.", code="payload_too_large")
        reader = await request.multipart()
        while True:
            part = await reader.next()
            if part is None:
                break
            if not isinstance(part, BodyPartReader):
                raise BadRequest("Nested multipart is not accepted.", code="invalid_payload")
            if part.name == "application" and raw is None:
                raw = await _read_part(part, 256 * 1024, "The application text is too large.")
            elif part.name == "file":
                if len(files) >= MAX_FILES:
                    raise BadRequest(f"At most {MAX_FILES} attachments.", code="too_many_files")
                data = await _read_part(part, MAX_FILE_BYTES,
                                        "Each attachment may be at most 5 MB.")
                if data:
                    files.append((_title(part.filename or "附件"), data))
            else:
                raise BadRequest(f"Unexpected part {part.name!r}.", code="invalid_payload")
    else:
        raw = await read_limited(request, 256 * 1024)
    try:
        data = json.loads(raw or b"")
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("The application is not valid JSON.", code="invalid_json") from None
    if not isinstance(data, dict):
        raise BadRequest("The application must be a JSON object.", code="invalid_payload")
    try:
        body = ApplicationIn.model_validate(data)
    except ValidationError as exc:
        problems = [f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}"
                    for e in exc.errors()[:8]]
        raise BadRequest("Invalid application: " + "; ".join(problems),
                         code="invalid_payload") from None
    return body, files


async def _read_part(part: BodyPartReader, limit: int, message: str) -> bytes:
    out = bytearray()
    while True:
        chunk = await part.read_chunk(64 * 1024)
        if not chunk:
            return bytes(out)
        out += chunk
        if len(out) > limit:
            raise PayloadTooLarge(message, code="payload_too_large")


def _title(name: str) -> str:
    return re.sub(r"[\x00-\x1f/\\<>:\"|?*]", "_", name)[:120] or "附件"


def sniff(data: bytes) -> str:
    for magic, ctype, _ext in TYPES:
        if data.startswith(magic):
            return ctype
    raise BadRequest("Attachments must be PNG or JPEG images or PDF files.",
                     code="unsupported_type")


def _dir(services: Services) -> Path:
    d = services.settings.data_dir / "applications"
    d.mkdir(parents=True, exist_ok=True)
    return d


def _file_aad(stored_name: str) -> bytes:
    return f"application-file:{stored_name}".encode()


async def applicant_account(db: AsyncSession, office_id: str) -> str:
    """The office's disabled stand-in account that cases opened by an application are
    recorded as created (申请) by: a person applying has no account."""
    username = f"{SERVICE_ACCOUNT_PREFIX}{office_id}"
    uid = (await db.execute(select(User.id).where(User.username == username))).scalar()
    if uid is not None:
        return str(uid)
    user = User(office_id=office_id, username=username, display_name="在线申请",
                role="clerk", password_hash="!", active=False)
    db.add(user)
    await db.flush()
    return user.id


def _reference(at: datetime) -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return f"SQ{at:%Y%m%d}-" + "".join(secrets.choice(alphabet) for _ in range(6))


def match_area(areas: Sequence[OfficeArea], address: str) -> OfficeArea | None:
    """The first area (by position) one of whose keywords the address contains."""
    text = re.sub(r"\s+", "", address)
    for area in sorted(areas, key=lambda a: a.position):
        if any(k and re.sub(r"\s+", "", k) in text for k in area.keywords):
            return area
    return None


def status_url(public_url: str, reference: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/application#r={reference}&t={token}"


async def submit(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    limiter = ratelimit.limiter_for(services)
    await limiter.check(ratelimit.APPLY_PER_IP, _ip(request))
    body, files = await _read_application(request)
    phone = _mobile(body.applicant.phone)
    async with services.db.session() as db:
        office = await _office(db, request.match_info["office_id"])
        type_name = await dispute_types.name_for(db, office.id, body.dispute_type)
    if type_name is None:  # not offered by this office (now): chosen from a stale page
        raise BadRequest("Please choose a dispute type from the list.",
                         code="dispute_type_invalid")
    if body.notice_version != NOTICE_VERSION:
        raise BadRequest("The privacy notice has changed; please reload the page.",
                         code="notice_outdated")
    others = []
    for o in body.other_parties:
        other_phone = ""
        if o.phone:
            other_phone = normalise_mobile(o.phone) or ""
            if not other_phone:
                raise BadRequest(f"{o.name}: not a mainland mobile number.",
                                 code="phone_invalid")
        others.append({"name": o.name, "phone": other_phone, "address": o.address})
    typed = [(title, data, sniff(data)) for title, data in files]
    await limiter.ensure_not_blocked(ratelimit.APPLY_CODE_WRONG, phone)
    await limiter.check(ratelimit.APPLY_PER_PHONE, phone)
    token = new_token()
    now = utcnow()
    details = {"applicant": {"name": body.applicant.name, "phone": phone,
                             "id_number": body.applicant.id_number or "",
                             "address": body.applicant.address},
               "other_parties": others, "description": body.description}
    placed: list[tuple[Path, Path]] = []
    committed = False
    try:
        async with services.db.session() as db:
            office = await _office(db, request.match_info["office_id"])
            await _use_code(db, services, phone, body.phone_code)
            areas = list((await db.execute(select(OfficeArea).where(
                OfficeArea.office_id == office.id))).scalars())
            area = match_area(areas, body.applicant.address)
            creator = await applicant_account(db, office.id)
            reference = _reference(now)
            summary = body.description[:200]
            # The case carries the type as the register writes it (邻里纠纷), as cases a
            # mediator opens do: lists, statistics and the register read one vocabulary.
            case = Case(office_id=office.id, number=reference,
                        dispute_type=type_name,
                        summary=summary, created_by=creator, status=case_states.INITIAL)
            db.add(case)
            await db.flush()
            db.add(CaseEvent(case_id=case.id, actor_id=creator, from_status=None,
                             to_status=case.status, reason="在线申请"))
            app_row = Application(case_id=case.id, office_id=office.id, reference=reference,
                                  status_token_hash=hash_token(token),
                                  applicant_masked=mask_recipient(phone),
                                  details_sealed=b"", area_id=area.id if area else None,
                                  consented_at=now, notice_version=body.notice_version)
            db.add(app_row)
            await db.flush()
            app_row.details_sealed = seal(_key(services, "applications"),
                                          json.dumps(details, ensure_ascii=False).encode(),
                                          f"application:{app_row.id}".encode())
            for title, data, ctype in typed:
                stored = new_token()
                part = _dir(services) / f"{stored}.part"
                part.write_bytes(seal(_key(services, "evidence"), data, _file_aad(stored)))
                placed.append((part, _dir(services) / stored))
                db.add(ApplicationAttachment(application_id=app_row.id, title=title,
                                             content_type=ctype, size=len(data),
                                             sha256=hashlib.sha256(data).hexdigest(),
                                             stored_name=stored))
            await db.commit()
            committed = True
    except IntegrityError:
        raise Conflict("Please submit again.", code="retry") from None
    finally:
        if not committed:  # refused or failed: no file of it stays behind
            for part, _ in placed:
                part.unlink(missing_ok=True)
    for part, final in placed:
        part.replace(final)
    return json_response(ApplicationCreated(
        reference=reference, status_token=token,
        status_url=status_url(services.settings.public_url, reference, token)), status=201)


async def application_status(request: web.Request) -> web.Response:
    """The applicant's view: only with the status link's token; a wrong one is counted."""
    services = request.app[SERVICES]
    ip = _ip(request)
    limiter = ratelimit.limiter_for(services)
    await limiter.ensure_not_blocked(ratelimit.APPLY_STATUS_PER_IP, ip)
    token = request.headers.get(STATUS_HEADER, "")[:200]
    reference = request.match_info["reference"][:32]
    async with services.db.session() as db:
        row = (await db.execute(select(Application, Case, Office)
                                .join(Case, Case.id == Application.case_id)
                                .join(Office, Office.id == Application.office_id)
                                .where(Application.reference == reference))).first()
        ok = row is not None and bool(token) and hmac.compare_digest(
            row[0].status_token_hash, hash_token(token))
        if not ok or row is None:
            await limiter.hit(ratelimit.APPLY_STATUS_PER_IP, ip)
            raise NotFound("No such application, or the link is not valid.", code="not_found")
        app_row, case, office = row
        from signaling.db.models import MediationSession
        from signaling.scheduling import local_time_text

        sessions = list((await db.execute(
            select(MediationSession).where(MediationSession.case_id == case.id,
                                           MediationSession.status == "scheduled",
                                           MediationSession.scheduled_at > utcnow())
            .order_by(MediationSession.scheduled_at))).scalars())
    return json_response(ApplicationStatusOut(
        reference=app_row.reference, office_name=office.name, status=case.status,
        label=case_states.LABELS.get(case.status, case.status),
        submitted_at=app_row.created_at,
        reason=app_row.decision_reason if case.status == "rejected" else "",
        sessions=[StatusSession(scheduled_at=s.scheduled_at,
                                time_text=local_time_text(s.scheduled_at, services.settings)
                                if s.scheduled_at else "") for s in sessions]))


# -- intake ------------------------------------------------------------------------------

async def _details(services: Services, app_row: Application) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(unseal(_key(services, "applications"),
                                             app_row.details_sealed,
                                             f"application:{app_row.id}".encode()))
    return data


async def _application_of(db: AsyncSession, case_id: str) -> Application | None:
    return (await db.execute(select(Application).where(Application.case_id == case_id))
            ).scalar_one_or_none()


async def _mediator_of_office(db: AsyncSession, office_id: str, user_id: str) -> str:
    user = await db.get(User, user_id)
    if user is None or user.office_id != office_id or user.role != "mediator" or \
            not user.active:
        raise BadRequest("Choose an active mediator of this office.", code="mediator_invalid")
    return user.id


async def _assignee(db: AsyncSession, services: Services, case: Case, assign: str,
                    mediator_id: str | None) -> str | None:
    if assign == "manual":
        if mediator_id is None:
            raise BadRequest("Choose the mediator.", code="mediator_invalid")
        return await _mediator_of_office(db, case.office_id, mediator_id)
    if assign == "area":
        app_row = await _application_of(db, case.id)
        if app_row is None:
            raise Conflict("This case has no application to take an address from.",
                           code="no_application")
        areas = list((await db.execute(select(OfficeArea).where(
            OfficeArea.office_id == case.office_id))).scalars())
        area = match_area(areas, (await _details(services, app_row))["applicant"]["address"])
        if area is None or area.mediator_id is None:
            raise Conflict("The applicant's address falls in no area with a mediator; assign "
                           "one by hand.", code="no_area")
        app_row.area_id = area.id
        return await _mediator_of_office(db, case.office_id, area.mediator_id)
    return None


async def decide(services: Services, p: Principal, case_id: str, body: IntakeIn) -> Case:
    """Accept (受理) or refuse (不予受理, with a reason) an application, and assign."""
    to = "accepted" if body.decision == "accept" else "rejected"
    async with services.db.session() as db:
        case = await case_to_manage(db, p, case_id)
        case_states.check_move(case.status, to, body.reason)
        assignee = None
        if to == "accepted":
            assignee = await _assignee(db, services, case, body.assign, body.mediator_id)
        await apply_move(db, p, case, to, body.reason)
        if to == "accepted" and body.assign != "self":
            await db.execute(update(Case).where(Case.id == case.id)
                             .values(mediator_id=assignee))
        app_row = await _application_of(db, case.id)
        if app_row is not None:
            app_row.decision_reason = body.reason
        await db.commit()
        await db.refresh(case)
    await notify_decision(services, case, to, body.reason)
    return case


async def notify_decision(services: Services, case: Case, to: str, reason: str) -> None:
    """Tell the applicant (by SMS) that their application was accepted or refused."""
    if to not in ("accepted", "rejected"):
        return
    async with services.db.session() as db:
        app_row = await _application_of(db, case.id)
        if app_row is None:
            return
        if to == "rejected":
            app_row.decision_reason = reason
        phone = (await _details(services, app_row))["applicant"]["phone"]
        notifier = services.notifier
        state = "unreachable"
        if notifier is not None and notifier.reaches("sms"):
            decision = "已受理" if to == "accepted" else "不予受理"
            text = f"理由：{reason}" if to == "rejected" else "调解员将与您联系。"
            try:
                await notifier.send(compose("application_decision", phone, {
                    "reference": app_row.reference, "decision": decision, "reason": text},
                    reference=app_row.id))
                state = "sent"
            except NotifyError as exc:
                log.warning("application decision not sent to %s (%s)", mask_recipient(phone),
                            type(exc).__name__)
                state = "failed"
        app_row.decision_notified = state
        await db.commit()


async def assign(services: Services, p: Principal, case_id: str, body: AssignIn) -> Case:
    async with services.db.session() as db:
        case = await case_to_manage(db, p, case_id)
        if case.status in ("rejected", "archived"):
            raise Conflict("A closed case gets no mediator.", code="case_closed")
        mediator = await _assignee(db, services, case, body.assign, body.mediator_id)
        case.mediator_id = mediator
        await db.commit()
        await db.refresh(case)
    return case


async def read_application(services: Services, p: Principal, case_id: str) -> ApplicationOut:
    """The application behind a case, for the office's staff; a clerk sees phone and ID
    numbers masked (they keep the record, they do not call the parties)."""
    async with services.db.session() as db:
        case = await get_case(db, p, case_id)
        app_row = await _application_of(db, case.id)
        if app_row is None:
            raise NotFound("This case was not opened by an application.",
                           code="no_application")
        files = list((await db.execute(select(ApplicationAttachment).where(
            ApplicationAttachment.application_id == app_row.id))).scalars())
        area = await db.get(OfficeArea, app_row.area_id) if app_row.area_id else None
        type_name = (await dispute_types.name_of_key(db, case.office_id, case.dispute_type)
                     or case.dispute_type)
    d = await _details(services, app_row)
    full = p.role in STAFF_WHO_MANAGE

    def party(x: dict[str, Any]) -> PartyDetailsOut:
        phone = x.get("phone", "")
        idn = x.get("id_number", "")
        return PartyDetailsOut(
            name=x["name"], address=x.get("address", ""),
            phone=phone if full or not phone else mask_recipient(phone),
            id_number=idn if full or not idn else idn[:3] + "*" * 11 + idn[-4:])

    return ApplicationOut(
        reference=app_row.reference, case_id=case.id, applicant=party(d["applicant"]),
        other_parties=[party(o) for o in d["other_parties"]], description=d["description"],
        dispute_type=type_name,
        area=area.name if area else "", consented_at=app_row.consented_at,
        notice_version=app_row.notice_version, decision_reason=app_row.decision_reason,
        decision_notified=app_row.decision_notified,
        attachments=[AttachmentOut.model_validate(f) for f in files])


async def attachment(request: web.Request) -> web.Response:
    from signaling.api.auth import require_principal

    p = await require_principal(request)
    ensure_staff(p, STAFF_WHO_MANAGE)
    services = request.app[SERVICES]
    async with services.db.session() as db:
        f = await db.get(ApplicationAttachment, request.match_info["attachment_id"][:32])
        app_row = await db.get(Application, f.application_id) if f else None
    if f is None or app_row is None or app_row.office_id != p.office_id:
        raise NotFound("No such attachment.", code="not_found")
    data = unseal(_key(services, "evidence"), (_dir(services) / f.stored_name).read_bytes(),
                  _file_aad(f.stored_name))
    ext = {"image/png": "png", "image/jpeg": "jpg", "application/pdf": "pdf"}[f.content_type]
    return web.Response(body=data, content_type="application/octet-stream", headers={
        "Content-Disposition": f'attachment; filename="attachment-{f.id}.{ext}"',
        "X-Content-Type-Options": "nosniff"})


# -- areas -------------------------------------------------------------------------------

async def list_areas(db: AsyncSession, p: Principal) -> list[OfficeArea]:
    ensure_staff(p, ("mediator", "admin", "clerk"))
    return list((await db.execute(select(OfficeArea).where(
        OfficeArea.office_id == p.office_id).order_by(OfficeArea.position))).scalars())


async def replace_areas(db: AsyncSession, p: Principal, body: AreasIn) -> list[OfficeArea]:
    """The office's areas, replaced as a whole (an administrator of the office)."""
    if p.role != "admin":
        raise Forbidden("Only an administrator sets the office's areas.",
                        code="role_not_allowed")
    for a in body.items:
        if a.mediator_id is not None:
            await _mediator_of_office(db, p.office_id, a.mediator_id)
    await db.execute(update(Application).where(Application.office_id == p.office_id)
                     .values(area_id=None))
    await db.execute(delete(OfficeArea).where(OfficeArea.office_id == p.office_id))
    for i, a in enumerate(body.items):
        db.add(OfficeArea(office_id=p.office_id, name=a.name, keywords=list(a.keywords),
                          mediator_id=a.mediator_id, position=i))
    await db.commit()
    return await list_areas(db, p)


# -- a party cannot come -----------------------------------------------------------------

async def decline(request: web.Request) -> web.Response:
    """An invitee says they cannot come (the link of their invitation proves who)."""
    services = request.app[SERVICES]
    body = await read_body(request, DeclineIn, 4096)
    ip = _ip(request)
    limiter = ratelimit.limiter_for(services)
    await limiter.ensure_not_blocked(ratelimit.INVITE_PER_IP, ip)
    from signaling.db.models import MediationSession

    async with services.db.session() as db:
        inv = (await db.execute(select(Invite).where(
            Invite.token_hash == hash_token(body.token)))).scalar_one_or_none()
        s = await db.get(MediationSession, inv.session_id) if inv else None
        if inv is None or s is None or inv.revoked or inv.expires_at <= utcnow():
            await limiter.hit(ratelimit.INVITE_PER_IP, ip)
            raise NotFound("This link is not valid.", code="invite_not_found")
        if s.status != "scheduled":
            raise Conflict("This session is no longer scheduled.", code="session_not_scheduled")
        case = await db.get(Case, s.case_id)
        inv.declined_at = utcnow()
        inv.decline_reason = body.reason
        await db.commit()
        number = case.number if case else ""
    return json_response(DeclineOut(declined=True, case_number=number,
                                    scheduled_at=s.scheduled_at))


# -- routes ------------------------------------------------------------------------------

def add_routes(api: ApiRouter) -> None:
    from signaling.api.auth import require_principal
    from signaling.schemas import CaseOut

    async def intake_route(request: web.Request) -> web.Response:
        p = await require_principal(request)
        body = await read_body(request, IntakeIn, 8192)
        case = await decide(request.app[SERVICES], p, request.match_info["case_id"], body)
        return json_response(CaseOut.model_validate(case))

    async def assign_route(request: web.Request) -> web.Response:
        p = await require_principal(request)
        body = await read_body(request, AssignIn, 4096)
        case = await assign(request.app[SERVICES], p, request.match_info["case_id"], body)
        return json_response(CaseOut.model_validate(case))

    async def application_route(request: web.Request) -> web.Response:
        p = await require_principal(request)
        return json_response(await read_application(request.app[SERVICES], p,
                                                    request.match_info["case_id"]))

    async def get_areas(request: web.Request) -> web.Response:
        p = await require_principal(request)
        async with request.app[SERVICES].db.session() as db:
            items = await list_areas(db, p)
        return json_response(AreaList(items=[AreaOut.model_validate(a) for a in items]))

    async def put_areas(request: web.Request) -> web.Response:
        p = await require_principal(request)
        body = await read_body(request, AreasIn, 256 * 1024)
        async with request.app[SERVICES].db.session() as db:
            items = await replace_areas(db, p, body)
        return json_response(AreaList(items=[AreaOut.model_validate(a) for a in items]))

    pub = "/api/v1/public"
    managers = "the case's mediator (or any mediator while it has none) or an administrator"
    for r in (
        Route("GET", f"{pub}/offices/{{office_id}}/apply", apply_page,
              "The office's application page: its name, dispute types and privacy notice",
              "anyone", None, ApplyPageOut, tag="applications"),
        Route("POST", f"{pub}/offices/{{office_id}}/phone-code", send_code,
              "Send a code to the applicant's phone (limited per address and per phone)",
              "anyone", PhoneCodeIn, CodeSentOut, tag="applications"),
        Route("POST", f"{pub}/offices/{{office_id}}/applications", submit,
              "Apply for mediation (multipart: part 'application' with the JSON, parts "
              "'file' with PNG, JPEG or PDF attachments; or a JSON body)",
              "anyone with a valid phone code (limited per address and per phone)",
              ApplicationIn, ApplicationCreated, 201, tag="applications"),
        Route("GET", f"{pub}/applications/{{reference}}", application_status,
              "The applicant's view of their application (header X-Application-Token)",
              "the holder of the status link's token", None, ApplicationStatusOut,
              tag="applications"),
        Route("POST", f"{pub}/invites/decline", decline,
              "An invitee says they cannot come to the scheduled session",
              "the holder of the invitation's link", DeclineIn, DeclineOut, tag="invites"),
        Route("POST", "/api/v1/cases/{case_id}/intake", intake_route,
              "Intake: accept (受理) or refuse (不予受理, with a reason sent to the applicant) "
              "and assign a mediator (self, by hand, or by the office's areas)", managers,
              IntakeIn, CaseOut, tag="cases"),
        Route("POST", "/api/v1/cases/{case_id}/assign", assign_route,
              "Assign the case's mediator by hand or by the office's areas", managers,
              AssignIn, CaseOut, tag="cases"),
        Route("GET", "/api/v1/cases/{case_id}/application", application_route,
              "The application behind a case (clerks see phone and ID numbers masked)",
              "staff of the case's office", None, ApplicationOut, tag="cases"),
        Route("GET", "/api/v1/application-attachments/{attachment_id}", attachment,
              "Download an application's attachment", "the office's mediators and "
              "administrators", None, None, tag="cases",
              content_type="application/octet-stream"),
        Route("GET", "/api/v1/office/areas", get_areas, "The office's areas (片区/网格)",
              "staff of the office", None, AreaList, tag="office"),
        Route("PUT", "/api/v1/office/areas", put_areas,
              "Replace the office's areas (matching keywords and mediator)",
              "an administrator of the office", AreasIn, AreaList, tag="office"),
    ):
        api.add(r)
