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
