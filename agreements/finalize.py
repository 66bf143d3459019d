"""The finished document: signatures in their blocks, an audit page, the seal.

``seal_document`` runs once every signer has signed: it renders the signed
version with each drawn signature in its block, appends a page listing who
signed when and how together with the version digest, converts to PDF with
LibreOffice and seals the PDF with the committee's key. ``print_copy`` is the
path for matters where electronic signatures do not apply.

Both block on LibreOffice for about a second: call them from a worker thread.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

import segno
from docx import Document
from docx.shared import Cm, Pt

from .ceremony import Ceremony
from .certificate import Certificate, role_in
from .context import JUDICIAL_CONFIRMATION_DAYS
from .draft import Clock, Draft, DraftVersion, utc_now
from .errors import CeremonyIncomplete, VersionSuperseded
from .models import Language
from .pdf import LibreOfficeConverter, docx_to_pdf
from .render import render
from .seal import SealKey, seal_pdf
from .shortid import display_short_id

CHINA = timezone(timedelta(hours=8), "UTC+08:00")
"""Times on the audit page are printed in China Standard Time."""


@dataclass(frozen=True)
class SealedDocument:
    """A signed and sealed document, ready for clerks to download and archive."""

    pdf: bytes
    """The sealed PDF (PAdES)."""
    docx: bytes
    """The DOCX it was converted from, with signatures and audit page (unsigned)."""
    pdf_sha256: str
    """SHA-256 (hex) of ``pdf``, to store with the case and check downloads against."""
    version_number: int
    """The draft version signed."""
    version_digest: str
    """That version's digest."""
    sealed_at: datetime
    """When the seal was applied; the agreement takes effect then (art. 29)."""
    judicial_confirmation_deadline: date | None
    """Last day to apply for 司法确认 (art. 33); None for a record."""


def judicial_confirmation_deadline(effective_on: date) -> date:
    """The last day of the 30 days after the agreement takes effect (人民调解法 art. 33)."""
    return effective_on + timedelta(days=JUDICIAL_CONFIRMATION_DAYS)


def _when(moment: datetime) -> str:
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S %Z")


_AUDIT: dict[str, dict[str, Any]] = {
    "zh-CN": {
        "title": "签署记录",
        "doc": "文书",
        "version": "版本",
        "digest": "版本摘要（SHA-256）",
        "template": "模板",
        "log": "调解过程事件链头部哈希",
        "sealed": "加盖电子印章时间",
        "head": ("签署人", "身份", "方式", "签署时间", "IP 地址", "签名摘要"),
        "drawn": "验证码确认 + 手写签名",
        "typed": "验证码确认 + 输入姓名",
        "note": "本文书由人民调解委员会电子印章签署，任何改动都会使签章验证失败。",
        "short_id": "文书验证码",
        "verify": "扫码或访问以下网址，上传本文件或输入验证码，核验真伪",
    },
    "en": {
        "title": "Signing record",
        "doc": "Document",
        "version": "Version",
        "digest": "Version digest (SHA-256)",
        "template": "Template",
        "log": "Head of the session's event log",
        "sealed": "Sealed at",
        "head": ("Signer", "Role", "Method", "Signed at", "IP address", "Mark digest"),
        "drawn": "one-time code + drawn signature",
        "typed": "one-time code + typed name",
        "note": "This document is sealed by the committee; any change makes the seal fail "
        "verification.",
        "short_id": "Verification id",
        "verify": "Scan or visit the address below, then upload this file or enter the id",
    },
}


@dataclass(frozen=True)
class VerifyLink:
    """Where anyone can check the sealed document: its short id and the public page."""

    short_id: str
    """As stored (``agreements.shortid``); printed in two groups of five."""
    url: str
    """The verify page for this document, e.g. ``https://host/verify/ABCDE12345``."""


def qr_png(url: str) -> bytes:
    """A QR code of ``url`` as PNG (error correction M, black on white)."""
    out = io.BytesIO()
    segno.make(url, error="m", micro=False).save(out, kind="png", scale=6, border=2)
    return out.getvalue()


def append_audit_page(
    docx: bytes,
    *,
    draft: Draft,
    ceremony: Ceremony,
    sealed_at: datetime,
    event_log_head: str | None,
    verify_link: VerifyLink | None = None,
    certificate: Certificate | None = None,
) -> bytes:
    """Add the signing record page (and, given one, the completion certificate) to a
    rendered DOCX."""
    t = _AUDIT[draft.language]
    document = Document(io.BytesIO(docx))
    document.add_page_break()  # type: ignore[no-untyped-call]
    title = document.add_paragraph().add_run(t["title"])
    title.bold = True
    title.font.size = Pt(16)
    facts = [
        (t["doc"], f"{draft.case_number} · {draft.kind}"),
        (t["version"], str(ceremony.version_number)),
        (t["digest"], ceremony.version_digest),
        (t["template"], draft.template_ref),
        (t["log"], event_log_head or "—"),
        (t["sealed"], _when(sealed_at)),
    ]
    for label, value in facts:
        document.add_paragraph(f"{label}: {value}")
    table = document.add_table(rows=1, cols=len(t["head"]))
    try:
        table.style = "Table Grid"
    except (KeyError, ValueError):  # an office template may lack the style
        pass
    for cell, text in zip(table.rows[0].cells, t["head"]):
        cell.text = text
    for signer in ceremony.signers:
        sig = ceremony.signatures[signer.signer_id]
        values = (
            sig.name,
            role_in(draft.language, sig.role_label),
            t[sig.method],
            _when(sig.signed_at),
            sig.ip or "—",
            sig.mark_sha256[:16],
        )
        for cell, text in zip(table.add_row().cells, values):
            cell.text = text
    document.add_paragraph(t["note"])
    if verify_link is not None:
        document.add_paragraph(f"{t['short_id']}: {display_short_id(verify_link.short_id)}")
        document.add_paragraph(f"{t['verify']}: {verify_link.url}")
        document.add_picture(io.BytesIO(qr_png(verify_link.url)), width=Cm(3))
    if certificate is not None:
        _certificate_page(document, certificate)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _table(document: Any, head: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    table = document.add_table(rows=1, cols=len(head))
    try:
        table.style = "Table Grid"
    except (KeyError, ValueError):  # an office template may lack the style
        pass
    for cell, text in zip(table.rows[0].cells, head):
        cell.text = text
    for values in rows:
        for cell, text in zip(table.add_row().cells, values):
            cell.text = text


_CERTIFICATE: dict[str, dict[str, Any]] = {
    "zh-CN": {
        "title": "完成证明",
        "timeline": "签署过程（取自调解过程事件链，时间为北京时间）",
        "timeline_head": ("时间", "经过"),
        "signers": "签署人身份核验",
        "signers_head": ("签署人", "身份", "核验方式", "签署时间", "IP 地址", "浏览器",
                         "所签版本摘要（SHA-256）"),
        "version": "第 {n} 版 {digest}",
        "note": "本证明随文书一并加盖电子印章；最终文件的 SHA-256 可在核验页面查看。",
    },
    "en": {
        "title": "Completion certificate",
        "timeline": "How it was signed (from the session's hash-chained event log; "
                    "Beijing time)",
        "timeline_head": ("Time", "Event"),
        "signers": "How each signer was verified",
        "signers_head": ("Signer", "Role", "Verified by", "Signed at", "IP address",
                         "Browser", "Version signed (SHA-256)"),
        "version": "version {n} {digest}",
        "note": "This certificate is sealed with the document; the final file's SHA-256 is "
                "shown on the verify page.",
    },
}


def _certificate_page(document: Any, certificate: Certificate) -> None:
    """完成证明 (in the certificate's language, the document's): the timeline from the
    session's log, then each signature and how its signer was verified, from where, over
    which version."""
    t = _CERTIFICATE[certificate.language]
    document.add_page_break()
    title = document.add_paragraph().add_run(t["title"])
    title.bold = True
    title.font.size = Pt(16)
    document.add_paragraph(t["timeline"])
    _table(document, t["timeline_head"], [(_when(s.at), s.text) for s in certificate.steps])
    document.add_paragraph(t["signers"])
    _table(document, t["signers_head"],
           [(g.name, g.role, g.verified_by, _when(g.signed_at), g.ip, g.user_agent,
             t["version"].format(n=g.version_number, digest=g.version_digest))
            for g in certificate.signatures])
    document.add_paragraph(t["note"])


def _check(version: DraftVersion, ceremony: Ceremony) -> None:
    if ceremony.status == "void" or ceremony.version_number != version.number:
        raise VersionSuperseded("the signatures are for another version of the document")
    if ceremony.version_digest != version.digest:
        raise VersionSuperseded("the signed digest does not match the version")
    if ceremony.status != "complete" or ceremony.missing:
        raise CeremonyIncomplete(f"still waiting for: {', '.join(ceremony.missing)}")


def seal_document(
    *,
    draft: Draft,
    version: DraftVersion,
    ceremony: Ceremony,
    template: bytes,
    key: SealKey,
    converter: LibreOfficeConverter | None = None,
    event_log_head: str | None = None,
    verify_link: VerifyLink | None = None,
    certificate: Certificate | None = None,
    clock: Clock = utc_now,
) -> SealedDocument:
    """Render, convert and seal the fully signed ``version`` (see the module docstring)."""
    _check(version, ceremony)
    sealed_at = clock()
    language: Language = draft.language
    signatures = ceremony.signatures.values()
    docx = render(
        template,
        version.data,
        language=language,
        signature_images={s.signer_id: s.image_png for s in signatures if s.image_png},
        signature_text={s.signer_id: s.typed_name for s in signatures if s.typed_name},
        signed_at={s.signer_id: _when(s.signed_at) for s in signatures},
        signed_by={s.signer_id: s.acting_name for s in ceremony.signers if s.acting_name},
    )
    docx = append_audit_page(
        docx, draft=draft, ceremony=ceremony, sealed_at=sealed_at, event_log_head=event_log_head,
        verify_link=verify_link, certificate=certificate,
    )
    pdf = converter.convert(docx) if converter else docx_to_pdf(docx)
    sealed = seal_pdf(
        pdf,
        key,
        reason=f"{draft.case_number} v{version.number} sha256:{version.digest}",
        location=version.data.committee,
    )
    effective_on = sealed_at.astimezone(CHINA).date()
    return SealedDocument(
        pdf=sealed,
        docx=docx,
        pdf_sha256=hashlib.sha256(sealed).hexdigest(),
        version_number=version.number,
        version_digest=version.digest,
        sealed_at=sealed_at,
        judicial_confirmation_deadline=(
            judicial_confirmation_deadline(effective_on) if draft.kind == "agreement" else None
        ),
    )


def print_copy(
    *,
    draft: Draft,
    version: DraftVersion,
    template: bytes,
    converter: LibreOfficeConverter | None = None,
) -> tuple[bytes, bytes]:
    """(DOCX, PDF) with empty signature blocks, for handwritten signing on paper."""
    docx = render(template, version.data, language=draft.language)
    pdf = converter.convert(docx) if converter else docx_to_pdf(docx)
    return docx, pdf
