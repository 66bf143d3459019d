"""The completion certificate speaks the document's language: the timeline and the
signers' verification in zh-CN for a Chinese document, in English for an English one."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from agreements.ceremony import Ceremony, CollectedSignature, Signer
from agreements.certificate import certificate_from_events
from agreements.draft import DraftId

AT = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Event:
    kind: str
    payload: dict[str, Any] = field(default_factory=dict)
    at: datetime = AT


def _ceremony() -> Ceremony:
    signers = (Signer("P1", "申请人", "张三", "13800000001", acting_name="王五"),
               Signer("mediator", "调解员", "赵调解", "13800000003"))
    c = Ceremony(ceremony_id="c1", draft_id=DraftId("d1"), version_number=2,
                 version_digest="ab" * 32, signers=signers, status="complete")
    methods: tuple[Literal["drawn", "typed"], ...] = ("drawn", "typed")
    for s, method in zip(signers, methods):
        c.signatures[s.signer_id] = CollectedSignature(
            signer_id=s.signer_id, name=s.name, role_label=s.role_label, method=method,
            image_png=None, typed_name=None, mark_sha256="00" * 32, signed_at=AT,
            ip="127.0.0.1", user_agent="Chromium", version_number=2,
            version_digest="ab" * 32)
    return c


EVENTS = [
    Event("document.draft_created", {"draft_id": "d1", "version": 1, "digest": "1" * 64}),
    Event("document.draft_edited", {"draft_id": "d1", "version": 2, "digest": "2" * 64,
                                    "voided_signatures": ["P1"]}),
    Event("document.party_confirmed", {"draft_id": "d1", "party_id": "P1", "version": 2,
                                       "status": "confirmed"}),
    Event("document.signing_opened", {"draft_id": "d1", "version": 2}),
    Event("document.code_sent", {"draft_id": "d1", "ceremony_id": "c1", "signer_id": "P1",
                                 "channel": "sms", "sent_to": "*******0001"}),
    Event("document.signed", {"draft_id": "d1", "signer_id": "P1", "method": "drawn"}),
    Event("document.signed", {"draft_id": "other", "signer_id": "P1", "method": "drawn"}),
]


def test_an_english_document_gets_an_english_certificate() -> None:
    cert = certificate_from_events(EVENTS, draft_id="d1", doc_kind="agreement",
                                   ceremony=_ceremony(), language="en")
    assert cert.language == "en"
    assert [s.text for s in cert.steps] == [
        f"Drafted the people's mediation agreement (version 1, digest {'1' * 16}…)",
        f"Edited to version 2 (digest {'2' * 16}…); 1 signature(s) void because the content "
        "changed",
        "张三 confirmed their own details (version 2)",
        "Signing opened (version 2)",
        "SMS code sent to 张三 at *******0001",
        "张三 signed (one-time code + drawn signature)",
    ]
    first, mediator = cert.signatures
    assert first.name == "张三 (signed by their agent 王五)" and first.role == "Applicant"
    assert first.verified_by == "SMS code (sent to *******0001) + drawn signature"
    assert mediator.role == "Mediator" and mediator.verified_by == "SMS code + typed name"
    text = str(cert.public()) + "".join(s.text for s in cert.steps)
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in text.replace("张三", "").replace(
        "王五", "").replace("赵调解", "")), text


def test_a_chinese_document_keeps_the_chinese_certificate() -> None:
    cert = certificate_from_events(EVENTS, draft_id="d1", doc_kind="record",
                                   ceremony=_ceremony())
    assert cert.language == "zh-CN"
    assert cert.steps[0].text.startswith("起草人民调解记录（第 1 版")
    assert cert.steps[4].text == "向张三发送短信验证码至 *******0001"
    assert cert.steps[4].public is False
    assert cert.signatures[0].role == "申请人"
    assert cert.signatures[0].verified_by == "短信验证码（发送至 *******0001） + 手写签名"
    assert cert.signatures[0].name == "张三（由委托代理人 王五 签署）"
