"""The finished agreement: LibreOffice, PAdES with pyHanko, checked by pyHanko and pdfsig."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from pyhanko.pdf_utils.generic import NameObject, TextStringObject
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from agreements import (
    CeremonyIncomplete,
    LibreOfficeConverter,
    Matter,
    SealedDocument,
    SealKey,
    VersionSuperseded,
    builtin_template,
    print_copy,
    seal_document,
    verify_pdf,
)
from agreements.demo import demo_agreement
from agreements.seal import CA_FILE

from .conftest import Room, docx_text, needs_pdfsig, needs_soffice

pytestmark = [needs_soffice, pytest.mark.slow]


def pdfsig(path: Path, nssdir: Path | None = None) -> str:
    options = ["-nssdir", f"sql:{nssdir}"] if nssdir else []
    result = subprocess.run(
        ["pdfsig", *options, str(path)], check=False, capture_output=True, text=True, timeout=60
    )
    return result.stdout + result.stderr


def flip_a_byte_in_a_content_stream(pdf: bytes) -> bytes:
    # Inside the first stream's data: the file still parses, the signed bytes differ.
    start = pdf.index(b"stream\n") + len(b"stream\n") + 20
    tampered = bytearray(pdf)
    tampered[start] ^= 0x01
    return bytes(tampered)


def append_an_incremental_update(pdf: bytes) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    writer.root[NameObject("/Lang")] = TextStringObject("en")
    writer.update_root()  # type: ignore[no-untyped-call]  # pyHanko is untyped
    out = io.BytesIO()
    writer.write(out)  # type: ignore[no-untyped-call]
    return out.getvalue()


def test_the_sealed_agreement_verifies_with_pyhanko(
    sealed_agreement: SealedDocument, seal_key: SealKey
) -> None:
    result = verify_pdf(sealed_agreement.pdf, [seal_key.trust_root_pem])
    assert result.authentic, result.reasons
    (seal,) = result.signatures
    assert seal.field_name == "CommitteeSeal"
    assert "示例街道人民调解委员会" in seal.signer
    assert seal.intact and seal.valid and seal.trusted and seal.covers_whole_file
    assert result.document_sha256 == sealed_agreement.pdf_sha256


@needs_pdfsig
@pytest.mark.skipif(shutil.which("certutil") is None, reason="needs libnss3-tools")
def test_pdfsig_trusts_the_seal_once_the_committee_ca_is_in_its_store(
    sealed_agreement: SealedDocument, seal_dir: Path, tmp_path: Path
) -> None:
    nss = tmp_path / "nss"
    nss.mkdir()
    certutil = ["certutil", "-d", f"sql:{nss}"]
    subprocess.run([*certutil, "-N", "--empty-password"], check=True, capture_output=True)
    subprocess.run(
        [*certutil, "-A", "-n", "committee-ca", "-t", "C,C,C", "-i", str(seal_dir / CA_FILE)],
        check=True,
        capture_output=True,
    )
    path = tmp_path / "agreement.pdf"
    path.write_bytes(sealed_agreement.pdf)
    report = pdfsig(path, nss)
    assert "Signature Validation: Signature is Valid." in report
    assert "Certificate Validation: Certificate is Trusted." in report


@needs_pdfsig
def test_the_sealed_agreement_verifies_with_poppler_pdfsig(
    sealed_agreement: SealedDocument, tmp_path: Path
) -> None:
    path = tmp_path / "agreement.pdf"
    path.write_bytes(sealed_agreement.pdf)
    report = pdfsig(path)
    assert "Signature Validation: Signature is Valid." in report
    assert "Total document signed" in report
    assert "示例街道人民调解委员会 电子印章" in report


def test_the_pdf_holds_the_text_signatures_and_audit_page(
    sealed_agreement: SealedDocument, tmp_path: Path
) -> None:
    path = tmp_path / "agreement.pdf"
    path.write_bytes(sealed_agreement.pdf)
    text = subprocess.run(
        ["pdftotext", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    flat = re.sub(r"\s+", "", text)
    assert "人民调解协议书" in flat
    assert "本协议一式3份" in flat
    assert "30日内共同向人民法院申请司法确认" in flat
    assert "签署记录" in flat
    assert sealed_agreement.version_digest in flat
    assert "e3b0c44298fc1c149afbf4c8996fb924" in flat  # head of the session's event log
    assert "验证码确认" in flat
    images = subprocess.run(
        ["pdfimages", "-list", str(path)], check=True, capture_output=True, text=True
    )
    # One drawn signature per signer: two parties, the mediator.
    assert len(images.stdout.splitlines()) - 2 == 3
    audit = docx_text(sealed_agreement.docx)
    assert "192.0.2.10" in audit


def test_chinese_text_is_drawn_with_an_embedded_cjk_font(
    sealed_agreement: SealedDocument, tmp_path: Path
) -> None:
    path = tmp_path / "agreement.pdf"
    path.write_bytes(sealed_agreement.pdf)
    fonts = subprocess.run(
        ["pdffonts", str(path)], check=True, capture_output=True, text=True
    ).stdout
    assert re.search(r"CJK.*\byes\b", fonts), fonts
    # Render the title band of page 1 and check that it has ink: real glyphs, not blanks.
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            "40",
            "-gray",
            "-f",
            "1",
            "-l",
            "1",
            "-y",
            "0",
            "-H",
            "80",
            "-W",
            "400",
            str(path),
            str(tmp_path / "page"),
        ],
        check=True,
    )
    pgm = next(tmp_path.glob("page*.pgm")).read_bytes()
    pixels = pgm.split(b"\n", 3)[3]
    dark = sum(1 for value in pixels if value < 128)
    assert dark > 50


def test_the_judicial_confirmation_deadline_is_thirty_days_after_sealing(
    sealed_agreement: SealedDocument,
) -> None:
    # The fake clock seals on 2026-11-25 (China time).
    assert sealed_agreement.judicial_confirmation_deadline == date(2026, 12, 25)


def test_one_changed_byte_fails_pyhanko_and_pdfsig(
    sealed_agreement: SealedDocument, seal_key: SealKey, tmp_path: Path
) -> None:
    tampered = flip_a_byte_in_a_content_stream(sealed_agreement.pdf)
    result = verify_pdf(tampered, [seal_key.trust_root_pem])
    assert not result.authentic
    assert any("changed" in reason for reason in result.reasons)
    if shutil.which("pdfsig"):
        path = tmp_path / "tampered.pdf"
        path.write_bytes(tampered)
        assert "Signature is Valid" not in pdfsig(path)


def test_an_appended_incremental_update_fails_pyhanko_and_pdfsig(
    sealed_agreement: SealedDocument, seal_key: SealKey, tmp_path: Path
) -> None:
    updated = append_an_incremental_update(sealed_agreement.pdf)
    result = verify_pdf(updated, [seal_key.trust_root_pem])
    assert not result.authentic
    assert "content was appended after the last signature" in result.reasons
    if shutil.which("pdfsig"):
        path = tmp_path / "updated.pdf"
        path.write_bytes(updated)
        report = pdfsig(path)
        assert "Total document signed" not in report
        assert "Not total document signed" in report


def test_a_seal_from_an_untrusted_ca_is_not_authentic(
    sealed_agreement: SealedDocument, tmp_path: Path
) -> None:
    result = verify_pdf(sealed_agreement.pdf, trust_roots=[])
    assert not result.authentic
    assert any("not trusted" in reason for reason in result.reasons)


@pytest.mark.parametrize(
    "content", [b"", b"%PDF-1.7\n%%EOF\n", b"hello"], ids=["empty", "unsigned", "garbage"]
)
def test_a_damaged_or_unsigned_file_is_a_negative_verdict_not_a_crash(content: bytes) -> None:
    result = verify_pdf(content)
    assert not result.authentic
    assert result.reasons


def test_sealing_refuses_an_incomplete_or_superseded_ceremony(
    room: Room, seal_key: SealKey
) -> None:
    version = room.drafts.create(
        case_number="C-1", kind="agreement", data=demo_agreement(), author="m"
    )
    ceremony = room.signing.open(version.draft_id)
    draft = room.store.get_draft(version.draft_id)
    template = builtin_template("agreement", "zh-CN")
    with pytest.raises(CeremonyIncomplete) as caught:
        seal_document(
            draft=draft, version=version, ceremony=ceremony, template=template, key=seal_key
        )
    assert "P1" in caught.value.message
    done = room.sign_all(version, ceremony)
    v2 = room.drafts.edit(version.draft_id, demo_agreement(), "m", 1)
    with pytest.raises(VersionSuperseded):
        seal_document(draft=draft, version=v2, ceremony=done, template=template, key=seal_key)


def test_a_marriage_agreement_is_printed_for_wet_ink_with_empty_signature_blocks(
    room: Room, converter: LibreOfficeConverter, tmp_path: Path
) -> None:
    version = room.drafts.create(
        case_number="C-9", kind="agreement", data=demo_agreement(Matter.marriage), author="m"
    )
    docx, pdf = print_copy(
        draft=room.store.get_draft(version.draft_id),
        version=version,
        template=builtin_template("agreement", "zh-CN"),
        converter=converter,
    )
    assert "申请人（签名、盖章或按指印）：张三" in docx_text(docx)
    assert pdf.startswith(b"%PDF")
    result = verify_pdf(pdf)
    assert not result.authentic
    assert result.reasons == ("the PDF carries no signature",)


def test_an_unreadable_trust_root_is_a_negative_verdict(sealed_agreement: SealedDocument) -> None:
    result = verify_pdf(sealed_agreement.pdf, [b"not a certificate"])
    assert not result.authentic
    assert result.reasons[0].startswith("a trust root is unreadable")
