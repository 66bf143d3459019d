"""The completion certificate: how a sealed document came to be, from the session's log.

Built from the hash-chained event log (``signaling.eventchain``) and the signing
ceremony: when it was drafted, each version, each party's confirmation of their own
details, each one-time code sent (to a masked number), each signature with how the
signer was verified, from which address and browser, over which version digest. Sealing
appends it to the PDF as its last page (``finalize.append_certificate_page``). The public
verify page shows the timeline and the signatures without addresses, browsers or
numbers (``Certificate.public``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from .ceremony import Ceremony

USER_AGENT_CHARS = 160
"""A browser's user agent is printed up to this length."""


@dataclass(frozen=True)
class Step:
    """One line of the timeline."""

    at: datetime
    text: str
    """zh-CN, as printed."""
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

    @property
    def verified_by(self) -> str:
        """E.g. "短信验证码（发送至 *******0001）+ 手写签名"."""
        where = f"（发送至 {self.sent_to}）" if self.sent_to else ""
        return f"{CHANNEL.get(self.channel, '验证码')}{where} + {METHOD.get(self.method, '')}"

    @property
    def verified_by_public(self) -> str:
        return f"{CHANNEL.get(self.channel, '验证码')} + {METHOD.get(self.method, '')}"


@dataclass(frozen=True)
class Certificate:
    """The timeline and the signatures of one sealed document."""

    steps: tuple[Step, ...]
    signatures: tuple[SignatureLine, ...]

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


METHOD = {"drawn": "手写签名", "typed": "输入姓名"}
KIND = {"agreement": "人民调解协议书", "record": "人民调解记录"}
CHANNEL = {"sms": "短信验证码", "email": "电子邮件验证码"}


def _step(kind: str, payload: dict[str, Any], names: dict[str, str], doc_kind: str
          ) -> tuple[str, bool] | None:
    who = names.get(str(payload.get("signer_id") or payload.get("party_id") or ""), "")
    digest = str(payload.get("digest") or "")[:16]
    version = payload.get("version")
    if kind == "document.draft_created":
        return f"起草{KIND.get(doc_kind, doc_kind)}（第 {version} 版，摘要 {digest}…）", True
    if kind == "document.draft_edited":
        voided = payload.get("voided_signatures") or []
        tail = f"；{len(voided)} 个签名因内容改变作废" if voided else ""
        return f"修改为第 {version} 版（摘要 {digest}…）{tail}", True
    if kind == "document.party_confirmed":
        verb = "确认" if payload.get("status") == "confirmed" else "更正"
        return f"{who or '当事人'}{verb}本人信息（第 {version} 版）", True
    if kind == "document.signing_opened":
        return f"发起签署（第 {version} 版）", True
    if kind == "document.code_sent":
        channel = CHANNEL.get(str(payload.get("channel")), "验证码")
        return f"向{who or '签署人'}发送{channel}至 {payload.get('sent_to') or '—'}", False
    if kind == "document.signed":
        return f"{who or '签署人'}签署（验证码 + {METHOD.get(str(payload.get('method')), '')}）", True
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
                            ceremony: Ceremony) -> Certificate:
    """The certificate of ``draft_id`` signed in ``ceremony``, from the session's
    ``document.*`` events in log order (the server reads them: ``audit.build_certificate``)."""
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
        made = _step(e.kind, dict(e.payload), names, doc_kind)
        if made is not None:
            steps.append(Step(e.at, made[0], made[1]))
    lines = []
    for signer in ceremony.signers:
        sig = ceremony.signatures.get(signer.signer_id)
        if sig is None:
            continue
        channel, masked = sent_to.get(signer.signer_id, ("sms", ""))
        acting = f"（由委托代理人 {signer.acting_name} 签署）" if signer.acting_name else ""
        lines.append(SignatureLine(
            name=sig.name + acting, role=sig.role_label, signed_at=sig.signed_at,
            channel=channel, sent_to=masked, method=sig.method, ip=sig.ip or "—",
            user_agent=(sig.user_agent or "—")[:USER_AGENT_CHARS],
            version_number=sig.version_number, version_digest=sig.version_digest))
    return Certificate(tuple(steps), tuple(lines))
