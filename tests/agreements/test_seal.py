"""The committee's seal key: generated once in embedded mode, or the operator's PKCS#12."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from agreements import SealConfig, SealKeyUnavailable, load_seal_key
from agreements.seal import P12_FILE, PASSPHRASE_FILE, load_or_create_seal_key


def test_the_development_seal_is_generated_once_and_reused(tmp_path: Path) -> None:
    first = load_or_create_seal_key(tmp_path, "测试调解委员会")
    second = load_seal_key(SealConfig(data_dir=tmp_path))
    assert first.certificate_pem == second.certificate_pem
    assert "测试调解委员会" in first.subject
    assert first.trust_root_pem != first.certificate_pem


def test_the_private_material_is_readable_by_the_owner_only(tmp_path: Path) -> None:
    load_or_create_seal_key(tmp_path)
    for name in (P12_FILE, PASSPHRASE_FILE):
        assert os.stat(tmp_path / name).st_mode & 0o077 == 0


def _operator_p12(tmp_path: Path, passphrase: bytes) -> Path:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Operator seal")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False), True
        )
        .sign(key, hashes.SHA256())
    )
    path = tmp_path / "operator.p12"
    path.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"op", key, cert, None, serialization.BestAvailableEncryption(passphrase)
        )
    )
    return path


def test_an_operator_pkcs12_is_used_instead_of_generating(tmp_path: Path) -> None:
    path = _operator_p12(tmp_path, b"secret")
    key = load_seal_key(
        SealConfig(data_dir=tmp_path / "unused", pkcs12_path=path, pkcs12_passphrase=b"secret")
    )
    assert "Operator seal" in key.subject
    assert not (tmp_path / "unused").exists()


def test_a_wrong_passphrase_is_a_clear_error(tmp_path: Path) -> None:
    path = _operator_p12(tmp_path, b"secret")
    with pytest.raises(SealKeyUnavailable) as caught:
        load_seal_key(SealConfig(data_dir=tmp_path, pkcs12_path=path, pkcs12_passphrase=b"no"))
    assert caught.value.code == "seal_key_unavailable"


def minimal_pdf() -> bytes:
    """A one-page blank PDF, made without LibreOffice."""
    import io

    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.writer import PdfFileWriter

    writer = PdfFileWriter()  # type: ignore[no-untyped-call]  # pyHanko is untyped
    writer.insert_page(generic.DictionaryObject({  # type: ignore[no-untyped-call]
        generic.NameObject("/Type"): generic.NameObject("/Page"),
        generic.NameObject("/MediaBox"): generic.ArrayObject(
            [generic.NumberObject(x) for x in (0, 0, 595, 842)]),  # type: ignore[no-untyped-call]
        generic.NameObject("/Resources"): generic.DictionaryObject()}))  # type: ignore[no-untyped-call]
    out = io.BytesIO()
    writer.write(out)  # type: ignore[no-untyped-call]
    return out.getvalue()


def _operator_pem(tmp_path: Path, passphrase: bytes) -> tuple[Path, Path]:
    p12 = _operator_p12(tmp_path, passphrase)
    key, cert, _ = pkcs12.load_key_and_certificates(p12.read_bytes(), passphrase)
    assert key is not None and cert is not None
    key_path, cert_path = tmp_path / "seal.key", tmp_path / "seal.crt"
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.BestAvailableEncryption(passphrase)))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


def test_an_operator_key_and_certificate_seal_a_pdf_that_verifies(tmp_path: Path) -> None:
    from agreements.seal import seal_pdf
    from agreements.verify import verify_pdf

    key_path, cert_path = _operator_pem(tmp_path, b"secret")
    key = load_seal_key(SealConfig(data_dir=tmp_path / "unused", key_path=key_path,
                                   cert_path=cert_path, pkcs12_passphrase=b"secret"))
    assert "Operator seal" in key.subject and not (tmp_path / "unused").exists()
    sealed = seal_pdf(minimal_pdf(), key, reason="test", location="test")
    assert verify_pdf(sealed, [key.trust_root_pem]).authentic


async def test_the_server_seals_with_the_configured_key_not_a_generated_one(
        tmp_path: Path) -> None:
    from agreements.runtime import Runtime
    from signaling.context import Services
    from signaling.db.engine import Database
    from signaling.rooms.store import LocalRoomStore
    from signaling.settings import load_settings

    key_path, cert_path = _operator_pem(tmp_path, b"secret")
    settings = load_settings(data_dir=tmp_path / "data", env="test", seal_key=key_path,
                             seal_certificate=cert_path, seal_passphrase="secret")
    db = Database(settings.database_url)
    runtime = Runtime(Services(settings, db, LocalRoomStore()))
    key = await runtime.seal_key("office-1", "某调解委员会")
    await db.close()
    assert "Operator seal" in key.subject
    assert not (tmp_path / "data" / "seal").exists()


def test_a_missing_operator_key_is_a_clear_error(tmp_path: Path) -> None:
    _, cert_path = _operator_pem(tmp_path, b"secret")
    with pytest.raises(SealKeyUnavailable):
        load_seal_key(SealConfig(data_dir=tmp_path, key_path=tmp_path / "absent.key",
                                 cert_path=cert_path))
