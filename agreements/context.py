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

from .models import AgreementData, DocumentData, Language, PartyDetails, RecordData, esign_applies

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


def _party(p: PartyDetails, language: Language) -> dict[str, Any]:
    labels = _LABELS[language]
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
        "agent": p.agent or "",
        "joined_from": "",
    }


def _signers(data: DocumentData, language: Language) -> list[dict[str, Any]]:
    labels = _LABELS[language]
    rows: list[dict[str, Any]] = [
        {"signer_id": p.party_id, "label": labels[p.role], "name": p.name, "is_party": True}
        for p in data.parties
    ]
    for role in ("mediator", "recorder"):
        person = data.mediator if role == "mediator" else data.recorder
        rows.append(
            {"signer_id": role, "label": labels[role], "name": person.name, "is_party": False}
        )
    return rows


def build_context(
    data: DocumentData,
    language: Language,
    signature_marks: Mapping[str, object] | None = None,
    signed_at: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The template context for ``data`` in ``language``.

    ``signature_marks`` maps a signer id (party_id, "mediator", "recorder") to
    what goes in that signer's block: an image object for the DOCX, or text.
    ``signed_at`` maps a signer id to the printed signing time.
    """
    marks = signature_marks or {}
    times = signed_at or {}
    parties = [_party(p, language) for p in data.parties]
    signers = _signers(data, language)
    for row in signers:
        row["mark"] = marks.get(row["signer_id"], "")
        row["signed_at"] = times.get(row["signer_id"], "")
    common: dict[str, Any] = {
        "language": language,
        "case_number": data.case_number,
        "committee": data.committee,
        "matter": data.matter.value,
        "esign_applies": esign_applies(data),
        "parties": parties,
        "mediator": {"name": data.mediator.name, "label": _LABELS[language]["mediator"]},
        "recorder": {"name": data.recorder.name, "label": _LABELS[language]["recorder"]},
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
                    }
                    for n, c in enumerate(data.clauses, start=1)
                ],
                "other_terms": list(data.other_terms),
                # Art. 29: each party keeps one copy and the committee keeps one.
                "copies": len(data.parties) + 1,
                "confirmation_days": JUDICIAL_CONFIRMATION_DAYS,
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
                "participants": [
                    {"name": p.name, "role": p.role, "joined_from": p.joined_from}
                    for p in data.participants
                ],
                "rights_notified": data.rights_notified,
                "statements": [{"speaker": s.speaker, "text": s.text} for s in data.statements],
                "evidence": [
                    {"submitted_by": e.submitted_by, "description": e.description}
                    for e in data.evidence
                ],
                "outcome_reached": data.outcome_reached,
                "outcome": data.outcome,
            }
        )
    return common
