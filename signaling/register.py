"""The case register (人民调解案件登记台账) as offices report it: one row per case with its
parties, type, dates, state and outcome, as CSV (UTF-8 with a BOM, so that Excel opens the
Chinese headings) or XLSX.

The columns follow the Ministry of Justice's forms as PRODUCT.md lists them (the
acceptance register 受理登记表, the agreement 协议书, 司法确认 under art. 33, the return
visit 回访记录) and the case's life in ``signaling.case_states``. Parties are listed by the
names they joined under; a clerk, who keeps the register and the case file, sees them
whole, an office head or an administrator masked to the family name (张**): they read
the register for oversight, not to contact anyone. Phone and ID numbers never appear.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from signaling import case_states
from signaling.accounts import Principal
from signaling.db.models import Case, CaseEvent, MediationSession, Participant, User
from signaling.errors import Forbidden
from signaling.statistics import AGREEMENT_KINDS, Filters, case_filter, documents

READERS = ("clerk", "head", "admin")
FULL_NAMES = ("clerk",)
"""Roles that see parties' names whole; the others see them masked."""
MAX_ROWS = 100_000

COLUMNS = (
    "序号",
    "案件编号",
    "申请日期",
    "受理日期",
    "当事人",
    "纠纷类型",
    "调解员",
    "案件状态",
    "调解结果",
    "协议形式",
    "协议日期",
    "司法确认",
    "协议履行情况",
    "结案日期",
)
"""The register's headings, in order."""

OUTCOMES = {
    "agreed": "调解成功",
    "judicial_confirm": "调解成功",
    "return_visit": "调解成功",
    "not_agreed": "调解不成功",
    "terminated": "终止调解",
    "rejected": "不予受理",
}
FORMS = {"agreement": "书面协议", "oral_register": "口头协议"}


def scope_for(p: Principal, office_id: str | None) -> str | None:
    """A clerk or head reads their own office; an administrator any, or all (None)."""
    if p.role not in READERS:
        raise Forbidden("Your role may not export the case register.", code="role_not_allowed")
    if p.role != "admin":
        if office_id not in (None, "", p.office_id):
            raise Forbidden("You may export your own office's register only.", code="forbidden")
        return p.office_id
    return office_id or None


def mask_name(name: str) -> str:
    """张三丰 → 张**; an organisation keeps its first two characters."""
    name = name.strip()
    if not name:
        return ""
    keep = 2 if len(name) > 4 else 1
    return name[:keep] + "*" * max(len(name) - keep, 1)


async def rows(db: AsyncSession, p: Principal, f: Filters) -> list[tuple[str | int, ...]]:
    """The register's rows for the filtered cases, oldest application first."""
    tz = ZoneInfo(f.time_zone)

    def day(at: datetime | None) -> str:
        return at.astimezone(tz).date().isoformat() if at else ""

    ids = case_filter(select(Case.id), f).scalar_subquery()
    case_rows = (
        await db.execute(
            case_filter(
                select(Case, User.display_name).outerjoin(User, User.id == Case.mediator_id), f
            )
            .order_by(Case.created_at, Case.number)
            .limit(MAX_ROWS)
        )
    ).all()
    firsts: dict[tuple[str, str], datetime] = {}
    for case_id, to, at in (
        await db.execute(
            select(CaseEvent.case_id, CaseEvent.to_status, func.min(CaseEvent.at))
            .where(CaseEvent.case_id.in_(ids))
            .group_by(CaseEvent.case_id, CaseEvent.to_status)
        )
    ).all():
        firsts[(case_id, to)] = at
    parties: dict[str, list[str]] = defaultdict(list)
    for case_id, side, name in (
        await db.execute(
            select(MediationSession.case_id, Participant.side, Participant.display_name)
            .join(Participant, Participant.session_id == MediationSession.id)
            .where(MediationSession.case_id.in_(ids), Participant.role == "party")
            .distinct()
            .order_by(MediationSession.case_id, Participant.side, Participant.display_name)
        )
    ).all():
        shown = name if p.role in FULL_NAMES else mask_name(name)
        label = f"{'甲方' if side == 'A' else '乙方' if side == 'B' else ''}{shown}"
        if label not in parties[case_id]:
            parties[case_id].append(label)
    forms: dict[str, str] = {}
    for case_id, kind in (
        await db.execute(
            select(documents.c.case_id, documents.c.kind).where(
                documents.c.case_id.in_(ids), documents.c.kind.in_(AGREEMENT_KINDS)
            )
        )
    ).all():
        forms.setdefault(case_id, FORMS.get(kind, kind))
    out: list[tuple[str | int, ...]] = []
    for n, (case, mediator) in enumerate(case_rows, start=1):
        agreed_at = firsts.get((case.id, "agreed"))
        outcome = OUTCOMES.get(case.status, "")
        if case.status == "archived":
            outcome = (
                "调解成功"
                if agreed_at
                else ("终止调解" if (case.id, "terminated") in firsts else "调解不成功")
            )
        elif case.status in ("applied", "accepted", "scheduled", "in_mediation"):
            outcome = "调解中" if case.status == "in_mediation" else "未调解"
        performance = ""
        if agreed_at:
            performance = "已回访" if (case.id, "return_visit") in firsts else "待回访"
        out.append(
            (
                n,
                case.number,
                day(case.created_at),
                day(firsts.get((case.id, "accepted"))),
                "；".join(parties[case.id]),
                case.dispute_type,
                mediator or "",
                case_states.LABELS.get(case.status, case.status),
                outcome,
                forms.get(case.id, ""),
                day(agreed_at),
                "已申请" if (case.id, "judicial_confirm") in firsts else "",
                performance,
                day(firsts.get((case.id, "archived"))),
            )
        )
    return out


def to_csv(data: list[tuple[str | int, ...]]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(COLUMNS)
    for r in data:
        # A cell starting with = + - @ is a formula to a spreadsheet: quote it as text.
        w.writerow([f"'{v}" if isinstance(v, str) and v[:1] in "=+-@" else v for v in r])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def to_xlsx(data: list[tuple[str | int, ...]], title: str = "调解案件登记台账") -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook(write_only=False)
    ws = wb.active
    assert ws is not None
    ws.title = "台账"
    ws.append(list(COLUMNS))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for r in data:
        ws.append([f"'{v}" if isinstance(v, str) and v[:1] in "=+-@" else v for v in r])
    ws.freeze_panes = "A2"
    for col, width in zip(
        "ABCDEFGHIJKLMN", (6, 22, 12, 12, 30, 12, 10, 10, 12, 10, 12, 10, 12, 12), strict=True
    ):
        ws.column_dimensions[col].width = width
    wb.properties.title = title
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
