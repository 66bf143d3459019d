"""The template context: document data turned into plain values a template prints.

Templates only ever see dicts, lists, strings and numbers built here, never
model objects, so that a template cannot call methods on our classes and so
that the same context feeds the DOCX and the HTML preview.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from .models import (
    Agent,
    AgreementData,
    DocumentData,
    Language,
    OralRegisterData,
    PartyDetails,
    Person,
    RecordData,
    esign_applies,
)

# 人民调解法 art. 33: the parties may apply for judicial confirmation within 30 days.
JUDICIAL_CONFIRMATION_DAYS = 30

_LABELS: dict[str, dict[str, str]] = {
    "zh-CN": {
        "male": "男",
        "female": "女",
        "applicant": "申请人",
        "respondent": "被申请人",
        "third_party": "第三人",
        "mediator": "调解员",
        "recorder": "记录人",
        "currency_CNY": "人民币",
        "sep": "，",
        "born": "{d}出生",
        "id_resident_id": "身份证号码",
        "id_passport": "护照号码",
        "id_hk_macao_permit": "港澳居民来往内地通行证号码",
        "id_taiwan_permit": "台湾居民来往大陆通行证号码",
        "id_foreign_permanent_id": "外国人永久居留身份证号码",
        "id_other": "证件号码",
        "uscc": "统一社会信用代码",
        "address": "住址",
        "seat": "住所地",
        "phone": "联系方式",
        "agent": "委托代理人",
        "authority_general": "一般授权",
        "authority_special": "特别授权",
        "agent_lawyer": "律师",
        "agent_legal_worker": "基层法律服务工作者",
        "agent_relative": "近亲属",
        "agent_employee": "工作人员",
        "agent_community": "社区推荐",
        "agent_other": "",
        "method": "履行方式",
        "place": "履行地点",
        "deadline": "履行期限：{d}前",
        "term_sep": "；",
    },
    "en": {
        "male": "male",
        "female": "female",
        "applicant": "Applicant",
        "respondent": "Respondent",
        "third_party": "Third party",
        "mediator": "Mediator",
        "recorder": "Recorder",
        "currency_CNY": "CNY",
        "sep": ", ",
        "born": "born {d}",
        "id_resident_id": "resident ID",
        "id_passport": "passport",
        "id_hk_macao_permit": "Hong Kong/Macao permit",
        "id_taiwan_permit": "Taiwan permit",
        "id_foreign_permanent_id": "foreign permanent residence ID",
        "id_other": "ID document",
        "uscc": "unified social credit code",
        "address": "address",
        "seat": "registered address",
        "phone": "contact",
        "agent": "Authorised agent",
        "authority_general": "general authority",
        "authority_special": "special authority",
        "agent_lawyer": "lawyer",
        "agent_legal_worker": "legal service worker",
        "agent_relative": "close relative",
        "agent_employee": "employee",
        "agent_community": "recommended by the community",
        "agent_other": "",
        "method": "method",
        "place": "place",
        "deadline": "no later than {d}",
        "term_sep": "; ",
    },
}


def mask_id_number(value: str | None) -> str:
    """Hide the middle of an ID number, keeping the first 4 and last 4 characters.

    The first four identify a region and the last four let a party recognise
    their own number; the birth date in between is what must not leak.
    """
    if not value:
        return ""
    if len(value) <= 8:
        return value[:1] + "*" * (len(value) - 1)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def format_date(value: date, language: Language) -> str:
    """A date as the document's language writes it."""
    if language == "zh-CN":
        return f"{value.year}年{value.month}月{value.day}日"
    return value.strftime("%d %B %Y").lstrip("0")


def format_datetime(value: datetime, language: Language) -> str:
    """A date and time as the document's language writes it."""
    if language == "zh-CN":
        return f"{format_date(value.date(), language)} {value:%H:%M}"
    return f"{format_date(value.date(), language)}, {value:%H:%M}"


def format_offset(seconds: float) -> str:
    """Seconds since the session began as a clock, e.g. "00:01:05"."""
    whole = int(seconds)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def _turn_time(start: float | None, end: float | None) -> str:
    if start is None:
        return ""
    if end is None or int(end) <= int(start):
        return format_offset(start)
    return f"{format_offset(start)}–{format_offset(end)}"


def format_amount(amount: Decimal | None, currency: str, language: Language) -> str:
    """A sum with thousands separators and two decimals, e.g. "人民币 12,000.00 元"."""
    if amount is None:
        return ""
    figure = f"{amount:,.2f}"
    if language == "zh-CN":
        if currency == "CNY":
            return f"人民币{figure}元"
        return f"{figure} {currency}"
    return f"{currency} {figure}"


MATTER_LABELS: dict[str, dict[str, str]] = {
    "zh-CN": {"neighbourhood": "邻里纠纷", "property_management": "物业纠纷",
              "tort": "损害赔偿纠纷",
              "contract": "合同纠纷", "debt": "债务纠纷", "labour": "劳动争议",
              "medical": "医疗纠纷", "family": "家庭纠纷", "marriage": "婚姻纠纷",
              "adoption": "收养纠纷", "inheritance": "继承纠纷", "other": "其他纠纷"},
    "en": {"neighbourhood": "neighbourhood dispute", "property_management":
           "property management dispute", "tort": "damages", "contract": "contract dispute",
           "debt": "debt dispute", "labour": "labour dispute", "medical": "medical dispute",
           "family": "family dispute", "marriage": "marriage dispute",
           "adoption": "adoption dispute", "inheritance": "inheritance dispute",
           "other": "other dispute"},
}
"""The office's list of matters (dispute types), as printed."""


def _labelled(labels: dict[str, str], key: str, value: str) -> str:
    # zh writes "住址：…", en writes "address: …".
    return f"{labels[key]}：{value}" if labels["sep"] == "，" else f"{labels[key]}: {value}"


def _join(labels: dict[str, str], parts: list[str]) -> str:
    """Only the parts that say something: an empty value never leaves a bare label."""
    return labels["sep"].join(x for x in parts if x)


def agent_details(a: Agent, language: Language, *, full_id: bool = False,
                  with_kind: bool = True) -> str:
    """What is printed after an agent's name: the kind of agency and its authority (unless
    ``with_kind`` is false), the identity number (masked unless ``full_id``), the phone."""
    labels = _LABELS[language]
    what = _join(labels, [labels[f"agent_{a.kind}"], labels[f"authority_{a.authority}"]])
    number = (a.id_number or "") if full_id else mask_id_number(a.id_number)
    return _join(labels, [
        what if with_kind else "",
        _labelled(labels, f"id_{a.id_type}", number) if number else "",
        _labelled(labels, "phone", a.phone) if a.phone else "",
    ])


def _agent(a: Agent, language: Language) -> dict[str, Any]:
    labels = _LABELS[language]
    details = agent_details(a, language)
    return {"name": a.name, "details": details,
            "line": _labelled(labels, "agent", _join(labels, [a.name, details]))}


def party_details(p: PartyDetails, language: Language, *, full_id: bool = False) -> str:
    """Everything printed after a party's name, without any label whose value is empty; the
    identity number masked unless ``full_id`` (the court application prints it in full)."""
    labels = _LABELS[language]
    number = (p.id_number or "") if full_id else mask_id_number(p.id_number)
    if p.kind == "organisation":
        return _join(labels, [
            _labelled(labels, "seat", p.address) if p.address else "",
            _labelled(labels, "uscc", number) if number else "",
            _labelled(labels, "phone", p.phone) if p.phone else "",
        ])
    return _join(labels, [
        labels[p.sex] if p.sex else "",
        p.ethnicity or "",
        labels["born"].format(d=format_date(p.birth_date, language)) if p.birth_date else "",
        p.occupation or "",
        _labelled(labels, f"id_{p.id_type}", number) if number else "",
        _labelled(labels, "address", p.address) if p.address else "",
        _labelled(labels, "phone", p.phone) if p.phone else "",
    ])


def _party(p: PartyDetails, language: Language) -> dict[str, Any]:
    labels = _LABELS[language]
    agents = [_agent(a, language) for a in p.agents]
    if p.agent and not agents:
        agents = [{"name": p.agent, "details": "", "line": _labelled(labels, "agent", p.agent)}]
    representative = _join(labels, [p.legal_representative or "",
                                    p.legal_representative_title or ""])
    return {
        "party_id": p.party_id,
        "role": p.role,
        "role_label": labels[p.role],
        "is_organisation": p.kind == "organisation",
        "name": p.name,
        "sex": labels[p.sex] if p.sex else "",
        "ethnicity": p.ethnicity or "",
        "birth_date": format_date(p.birth_date, language) if p.birth_date else "",
        "occupation": p.occupation or "",
        # Masked by default: a template must ask for id_number_full explicitly.
        "id_number": mask_id_number(p.id_number),
        "id_number_full": p.id_number or "",
        "address": p.address,
        "phone": p.phone or "",
        "legal_representative": p.legal_representative or "",
        "legal_representative_title": p.legal_representative_title or "",
        "agent": "、".join(a["name"] for a in agents),
        "agents": agents,
        "details": party_details(p, language),
        "representative": representative,
        "id_label": labels["uscc" if p.kind == "organisation" else f"id_{p.id_type}"],
        "joined_from": "",
    }


def _signers(data: DocumentData, language: Language) -> list[dict[str, Any]]:
    """Who signs: every party (or its agent) and the mediator; a record also its recorder
    when the office seats one in the room (``recorder_signs``).

    The agreement's recorder is printed but does not sign: art. 29 asks for the parties'
    and the mediator's signatures and the committee's seal only."""
    labels = _LABELS[language]
    rows: list[dict[str, Any]] = [
        {"signer_id": p.party_id, "label": labels[p.role], "name": p.name, "is_party": True}
        for p in data.parties
    ]
    staff: list[tuple[str, Person | None]] = [("mediator", data.mediator)]
    if isinstance(data, RecordData) and data.recorder_signs:
        staff.append(("recorder", data.recorder))
    for role, person in staff:
        if person is not None:
            rows.append(
                {"signer_id": role, "label": labels[role], "name": person.name, "is_party": False}
            )
    return rows


def build_context(
    data: DocumentData,
    language: Language,
    signature_marks: Mapping[str, object] | None = None,
    signed_at: Mapping[str, str] | None = None,
    signed_by: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The template context for ``data`` in ``language``.

    ``signature_marks`` maps a signer id (party_id, "mediator", "recorder") to
    what goes in that signer's block: an image object for the DOCX, or text.
    ``signed_at`` maps a signer id to the printed signing time, and ``signed_by`` a party's
    signer id to the agent who signed on its line.
    """
    marks = signature_marks or {}
    times = signed_at or {}
    agents = signed_by or {}
    labels = _LABELS[language]
    parties = [_party(p, language) for p in data.parties]
    signers = _signers(data, language)
    for row in signers:
        row["mark"] = marks.get(row["signer_id"], "")
        row["signed_at"] = times.get(row["signer_id"], "")
        agent = agents.get(row["signer_id"], "")
        row["agent"] = agent
        row["by"] = _labelled(labels, "agent", agent) if agent else ""
    common: dict[str, Any] = {
        "language": language,
        "case_number": data.case_number,
        "committee": data.committee,
        "matter": data.matter.value,
        "matter_label": MATTER_LABELS[language][data.matter.value],
        "esign_applies": esign_applies(data),
        "parties": parties,
        "mediator": {"name": data.mediator.name, "label": _LABELS[language]["mediator"]},
        "recorder": {"name": data.recorder.name if data.recorder else "",
                     "label": _LABELS[language]["recorder"],
                     "signs": any(row["signer_id"] == "recorder" for row in signers)},
        "signers": signers,
        "signed_on": format_date(data.signed_on, language),
    }
    if isinstance(data, AgreementData):
        names = {p.party_id: p.name for p in data.parties}
        common.update(
            {
                "facts": data.facts,
                "disputed_points": list(data.disputed_points),
                "responsibility": data.responsibility,
                "clauses": [
                    {
                        "number": n,
                        "obligor": names[c.obligor],
                        "obligee": names[c.obligee],
                        "obligation": c.obligation,
                        "amount": format_amount(c.amount, c.currency, language),
                        "method": c.method,
                        "place": c.place,
                        "deadline": format_date(c.deadline, language),
                        "terms": labels["term_sep"].join(x for x in (
                            _labelled(labels, "method", c.method) if c.method else "",
                            _labelled(labels, "place", c.place) if c.place else "",
                            labels["deadline"].format(d=format_date(c.deadline, language)),
                        ) if x),
                    }
                    for n, c in enumerate(data.clauses, start=1)
                ],
                "other_terms": list(data.other_terms),
                # Art. 29: each party keeps one copy and the committee keeps one.
                "copies": data.copies or len(data.parties) + 1,
                "confirmation_days": JUDICIAL_CONFIRMATION_DAYS,
            }
        )
    elif isinstance(data, OralRegisterData):
        common.update(
            {
                "dispute_summary": data.dispute_summary,
                "agreement_content": data.agreement_content,
                "performance": data.performance,
            }
        )
    else:
        assert isinstance(data, RecordData)
        for row in parties:
            row["joined_from"] = data.joined_from.get(row["party_id"], "")
        common.update(
            {
                "subject": data.subject,
                "started_at": format_datetime(data.started_at, language),
                "ended_at": format_datetime(data.ended_at, language) if data.ended_at else "",
                "room": data.room,
                "place": data.place,
                "participants": [
                    {"name": p.name, "role": p.role, "joined_from": p.joined_from}
                    for p in data.participants
                ],
                "rights_notified": data.rights_notified,
                "statements": [{"speaker": s.speaker, "text": s.text,
                                "time": _turn_time(s.start, s.end)} for s in data.statements],
                "evidence": [
                    {"submitted_by": e.submitted_by, "description": e.description}
                    for e in data.evidence
                ],
                "outcome_reached": data.outcome_reached,
                "outcome": data.outcome,
            }
        )
    return common
