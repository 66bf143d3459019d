"""The completion certificate: how a sealed document came to be, from the session's log.

Built from the hash-chained event log (``signaling.eventchain``) and the signing
ceremony: when it was drafted, each version, each party's confirmation of their own
details, each one-time code sent (to a masked number), each signature with how the
signer was verified, from which address and browser, over which version digest. Sealing
appends it to the PDF as its last page (``finalize.append_certificate_page``). The public
verify page shows the timeline and the signatures without addresses, browsers or
numbers (``Certificate.public``).

The certificate speaks the document's language: an English document gets an English
certificate page (``language``); the public verify page asks for zh-CN, its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from .ceremony import Ceremony
from .context import _LABELS
from .models import Language

USER_AGENT_CHARS = 160
"""A browser's user agent is printed up to this length."""


@dataclass(frozen=True)
class Step:
    """One line of the timeline."""

    at: datetime
    text: str
    """In the certificate's language, as printed."""
    public: bool = True
    """Shown on the public verify page too (False: it names a masked number)."""


@dataclass(frozen=True)
class SignatureLine:
    """One signature and how its signer was verified."""

    name: str
    role: str
    signed_at: datetime
    channel: str
    """How the one-time code reached the signer: "sms" or "email"."""
    sent_to: str
    """Where, masked (the last four characters), or "" when the log does not say."""
    method: str
    """"drawn" or "typed"."""
    ip: str
    user_agent: str
    version_number: int
    version_digest: str
    """SHA-256 of the version the signer's client confirmed before signing."""
    language: Language = "zh-CN"

    @property
    def verified_by(self) -> str:
        """E.g. "短信验证码（发送至 *******0001）+ 手写签名"."""
        w = WORDS[self.language]
        where = w["sent_to"].format(to=self.sent_to) if self.sent_to else ""
        return f"{w['channel'].get(self.channel, w['code'])}{where} + " \
               f"{w['method'].get(self.method, '')}"

    @property
    def verified_by_public(self) -> str:
        w = WORDS[self.language]
        return f"{w['channel'].get(self.channel, w['code'])} + {w['method'].get(self.method, '')}"


@dataclass(frozen=True)
class Certificate:
    """The timeline and the signatures of one sealed document."""

    steps: tuple[Step, ...]
    signatures: tuple[SignatureLine, ...]
    language: Language = "zh-CN"

    def public(self) -> dict[str, Any]:
        """What anyone holding the document may see: times, what happened, names and
        roles, methods and digests; no addresses, browsers or phone numbers."""
        return {
            "timeline": [{"at": s.at.isoformat(), "what": s.text}
                         for s in self.steps if s.public],
            "signatures": [{"name": g.name, "role": g.role, "signed_at": g.signed_at.isoformat(),
                            "verified_by": g.verified_by_public,
                            "version": g.version_number, "version_digest": g.version_digest}
                           for g in self.signatures],
        }


WORDS: dict[str, dict[str, Any]] = {
    "zh-CN": {
        "method": {"drawn": "手写签名", "typed": "输入姓名"},
        "kind": {"agreement": "人民调解协议书", "record": "人民调解记录",
                 "oral_register": "口头调解协议登记表"},
        "channel": {"sms": "短信验证码", "email": "电子邮件验证码"},
        "code": "验证码",
        "sent_to": "（发送至 {to}）",
        "created": "起草{kind}（第 {version} 版，摘要 {digest}…）",
        "edited": "修改为第 {version} 版（摘要 {digest}…）",
        "voided": "；{n} 个签名因内容改变作废",
        "confirmed": "{who}确认本人信息（第 {version} 版）",
        "corrected": "{who}更正本人信息（第 {version} 版）",
        "a_party": "当事人",
        "opened": "发起签署（第 {version} 版）",
        "code_sent": "向{who}发送{channel}至 {to}",
        "signed": "{who}签署（验证码 + {method}）",
        "a_signer": "签署人",
        "acting": "（由委托代理人 {agent} 签署）",
    },
    "en": {
        "method": {"drawn": "drawn signature", "typed": "typed name"},
        "kind": {"agreement": "people's mediation agreement", "record": "mediation record",
                 "oral_register": "oral agreement register"},
        "channel": {"sms": "SMS code", "email": "e-mail code"},
        "code": "one-time code",
        "sent_to": " (sent to {to})",
        "created": "Drafted the {kind} (version {version}, digest {digest}…)",
        "edited": "Edited to version {version} (digest {digest}…)",
        "voided": "; {n} signature(s) void because the content changed",
        "confirmed": "{who} confirmed their own details (version {version})",
        "corrected": "{who} corrected their own details (version {version})",
        "a_party": "A party",
        "opened": "Signing opened (version {version})",
        "code_sent": "{channel} sent to {who} at {to}",
        "signed": "{who} signed (one-time code + {method})",
        "a_signer": "the signer",
        "acting": " (signed by their agent {agent})",
    },
}
"""What the certificate says, in the document's language."""
_ROLES_EN = {_LABELS["zh-CN"][k]: _LABELS["en"][k]
             for k in ("applicant", "respondent", "third_party", "mediator", "recorder")}
"""A ceremony keeps its signers' roles as zh-CN prints them; an English certificate
names them in English."""


def role_in(language: Language, role_label: str) -> str:
    """A signer's printed role in the certificate's language."""
    return _ROLES_EN.get(role_label, role_label) if language == "en" else role_label


def _step(kind: str, payload: dict[str, Any], names: dict[str, str], doc_kind: str,
          language: Language = "zh-CN") -> tuple[str, bool] | None:
    made = _step_text(kind, payload, names, doc_kind, WORDS[language])
    if made is None or language != "en":
        return made
    return made[0][:1].upper() + made[0][1:], made[1]


def _step_text(kind: str, payload: dict[str, Any], names: dict[str, str], doc_kind: str,
               w: dict[str, Any]) -> tuple[str, bool] | None:
    who = names.get(str(payload.get("signer_id") or payload.get("party_id") or ""), "")
    digest = str(payload.get("digest") or "")[:16]
    version = payload.get("version")
    if kind == "document.draft_created":
        return w["created"].format(kind=w["kind"].get(doc_kind, doc_kind), version=version,
                                   digest=digest), True
    if kind == "document.draft_edited":
        voided = payload.get("voided_signatures") or []
        tail = w["voided"].format(n=len(voided)) if voided else ""
        return w["edited"].format(version=version, digest=digest) + tail, True
    if kind == "document.party_confirmed":
        verb = "confirmed" if payload.get("status") == "confirmed" else "corrected"
        return w[verb].format(who=who or w["a_party"], version=version), True
    if kind == "document.signing_opened":
        return w["opened"].format(version=version), True
    if kind == "document.code_sent":
        channel = w["channel"].get(str(payload.get("channel")), w["code"])
        return w["code_sent"].format(who=who or w["a_signer"], channel=channel,
                                     to=payload.get("sent_to") or "—"), False
    if kind == "document.signed":
        return w["signed"].format(who=who or w["a_signer"],
                                  method=w["method"].get(str(payload.get("method")), "")), True
    return None


class LoggedEvent(Protocol):
    """One ``document.*`` event of the session's log, as the server stores it."""

    @property
    def at(self) -> datetime: ...
    @property
    def kind(self) -> str: ...
    @property
    def payload(self) -> Mapping[str, Any]: ...


def certificate_from_events(events: Iterable[LoggedEvent], *, draft_id: str, doc_kind: str,
                            ceremony: Ceremony, language: Language = "zh-CN") -> Certificate:
    """The certificate of ``draft_id`` signed in ``ceremony``, from the session's
    ``document.*`` events in log order (the server reads them: ``audit.build_certificate``),
    worded in ``language``."""
    names = {s.signer_id: s.name for s in ceremony.signers}
    sent_to: dict[str, tuple[str, str]] = {}
    steps = []
    for e in events:
        if e.payload.get("draft_id") != draft_id:
            continue
        if e.kind == "document.code_sent" and \
                e.payload.get("ceremony_id") == ceremony.ceremony_id:
            sent_to[str(e.payload.get("signer_id"))] = (
                str(e.payload.get("channel") or "sms"), str(e.payload.get("sent_to") or ""))
        made = _step(e.kind, dict(e.payload), names, doc_kind, language)
        if made is not None:
            steps.append(Step(e.at, made[0], made[1]))
    lines = []
    for signer in ceremony.signers:
        sig = ceremony.signatures.get(signer.signer_id)
        if sig is None:
            continue
        channel, masked = sent_to.get(signer.signer_id, ("sms", ""))
        acting = WORDS[language]["acting"].format(agent=signer.acting_name) \
            if signer.acting_name else ""
        lines.append(SignatureLine(
            name=sig.name + acting, role=role_in(language, sig.role_label),
            signed_at=sig.signed_at,
            channel=channel, sent_to=masked, method=sig.method, ip=sig.ip or "—",
            user_agent=(sig.user_agent or "—")[:USER_AGENT_CHARS],
            version_number=sig.version_number, version_digest=sig.version_digest,
            language=language))
    return Certificate(tuple(steps), tuple(lines), language)
