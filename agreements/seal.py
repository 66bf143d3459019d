"""The committee's seal: its key and certificate, and the PAdES signature on a PDF.

In embedded mode a development CA and a seal certificate are generated on
first use into a data directory; in production the operator supplies a
PKCS#12 file issued by a real CA (and, where the issuer is not a public root,
the CA certificate verifiers should trust). The private key never leaves the
data directory or the PKCS#12 file: only the signer object holds it.

pyHanko's synchronous API runs its own event loop, so call these functions
from a worker thread (``asyncio.to_thread``) in async code.
"""

from __future__ import annotations

import fcntl
import io
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers

from .errors import SealKeyUnavailable

SEAL_FIELD = "CommitteeSeal"
"""Name of the signature field the seal occupies."""
CA_FILE = "seal-ca.pem"
P12_FILE = "seal.p12"
PASSPHRASE_FILE = "seal.pass"


@dataclass(frozen=True)
class SealKey:
    """The committee's signing key and certificates, ready to seal PDFs."""

    signer: signers.SimpleSigner
    """pyHanko's signer holding the private key."""
    certificate_pem: bytes
    """The seal certificate."""
    trust_root_pem: bytes
    """The CA certificate verifiers should trust for this seal."""
    subject: str
    """Human-readable subject of the seal certificate."""


@contextmanager
def _locked(directory: Path) -> Iterator[None]:
    # Two workers starting at once must not both generate a CA.
    with open(directory / ".seal.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _name(committee: str, common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, committee),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _generate(directory: Path, committee: str) -> None:
    now = datetime.now(UTC) - timedelta(minutes=5)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = _name(committee, f"{committee} development CA")
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    seal_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    seal_cert = (
        x509.CertificateBuilder()
        .subject_name(_name(committee, f"{committee} 电子印章"))
        .issuer_name(ca_name)
        .public_key(seal_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1825))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            # digitalSignature and contentCommitment (non-repudiation): a seal.
            x509.KeyUsage(True, True, False, False, False, False, False, False, False),
            critical=True,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    passphrase = secrets.token_urlsafe(32).encode()
    p12 = pkcs12.serialize_key_and_certificates(
        b"seal",
        seal_key,
        seal_cert,
        [ca_cert],
        serialization.BestAvailableEncryption(passphrase),
    )
    # The CA key is not kept: the development CA issues exactly one certificate.
    _write_private(directory / PASSPHRASE_FILE, passphrase)
    _write_private(directory / P12_FILE, p12)
    (directory / CA_FILE).write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))


def _write_private(path: Path, content: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)


def load_or_create_seal_key(data_dir: Path, committee: str = "Tiaojie") -> SealKey:
    """The development seal in ``data_dir``, generated on first use."""
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        with _locked(data_dir):
            if not (data_dir / P12_FILE).is_file():
                _generate(data_dir, committee)
        passphrase = (data_dir / PASSPHRASE_FILE).read_bytes()
    except OSError as exc:
        raise SealKeyUnavailable(f"cannot create the seal key in {data_dir}: {exc}") from exc
    return load_pkcs12_seal_key(data_dir / P12_FILE, passphrase, data_dir / CA_FILE)


def load_pkcs12_seal_key(
    path: Path, passphrase: bytes | None, trust_root: Path | None = None
) -> SealKey:
    """An operator-supplied seal: a PKCS#12 file and, optionally, the CA to trust.

    Without ``trust_root`` the last certificate of the PKCS#12 chain is taken as
    the root verifiers should trust.
    """
    try:
        data = path.read_bytes()
        key, cert, chain = pkcs12.load_key_and_certificates(data, passphrase)
        root_pem = trust_root.read_bytes() if trust_root else b""
    except (OSError, ValueError) as exc:
        raise SealKeyUnavailable(f"cannot load the seal key from {path}: {exc}") from exc
    if key is None or cert is None:
        raise SealKeyUnavailable(f"{path} holds no private key and certificate")
    if not root_pem:
        root = chain[-1] if chain else cert
        root_pem = root.public_bytes(serialization.Encoding.PEM)
    signer = signers.SimpleSigner.load_pkcs12_data(data, other_certs=[], passphrase=passphrase)
    return SealKey(
        signer=signer,
        certificate_pem=cert.public_bytes(serialization.Encoding.PEM),
        trust_root_pem=root_pem,
        subject=cert.subject.rfc4514_string(),
    )


def load_pem_seal_key(
    key_path: Path, cert_path: Path, passphrase: bytes | None, trust_root: Path | None = None
) -> SealKey:
    """An operator-supplied seal as a PEM (or DER) private key and its certificate, with
    the CA to trust (also its chain for the signature); without ``trust_root`` the
    certificate is taken as its own root (a self-signed committee certificate)."""
    try:
        cert_bytes = cert_path.read_bytes()
        root_bytes = trust_root.read_bytes() if trust_root else b""
        key_path.stat()  # a missing key is named here rather than by pyHanko's logger
    except OSError as exc:
        raise SealKeyUnavailable(f"cannot read the seal key or certificate: {exc}") from exc
    try:
        cert = (x509.load_pem_x509_certificate(cert_bytes) if b"-----BEGIN" in cert_bytes
                else x509.load_der_x509_certificate(cert_bytes))
    except ValueError as exc:
        raise SealKeyUnavailable(f"{cert_path} holds no certificate: {exc}") from exc
    signer = signers.SimpleSigner.load(  # type: ignore[no-untyped-call]
        key_file=str(key_path), cert_file=str(cert_path),
        ca_chain_files=(str(trust_root),) if trust_root else None, key_passphrase=passphrase)
    if signer is None:
        raise SealKeyUnavailable(f"cannot load the seal key from {key_path}")
    if not root_bytes:
        root_bytes = cert.public_bytes(serialization.Encoding.PEM)
    return SealKey(
        signer=signer,
        certificate_pem=cert.public_bytes(serialization.Encoding.PEM),
        trust_root_pem=root_bytes,
        subject=cert.subject.rfc4514_string(),
    )


def seal_pdf(pdf: bytes, key: SealKey, *, reason: str, location: str) -> bytes:
    """Add the committee's PAdES signature over the whole PDF and return the result.

    The signature certifies the document with "no changes allowed", so any
    later incremental update, even a well-formed one, is reported by verifiers.
    """
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    meta = signers.PdfSignatureMetadata(
        field_name=SEAL_FIELD,
        reason=reason,
        location=location,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        certify=True,
        docmdp_permissions=fields.MDPPerm.NO_CHANGES,
    )
    out = signers.PdfSigner(meta, signer=key.signer).sign_pdf(writer)
    return bytes(out.getvalue())


@dataclass(frozen=True)
class SealConfig:
    """Where the seal key comes from; the server builds it from its settings."""

    data_dir: Path
    """Directory for the generated development CA and seal (embedded mode)."""
    pkcs12_path: Path | None = None
    """An operator-supplied PKCS#12 seal; when set, nothing is generated."""
    pkcs12_passphrase: bytes | None = None
    """Passphrase of ``pkcs12_path``."""
    trust_root_path: Path | None = None
    """CA certificate (PEM/DER) verifiers should trust for the operator's seal."""
    key_path: Path | None = None
    """An operator-supplied private key (PEM/DER), with ``cert_path``; the passphrase, if
    any, is ``pkcs12_passphrase``."""
    cert_path: Path | None = None
    """The certificate of ``key_path``."""
    committee: str = "Tiaojie"
    """Organisation name written into a generated certificate."""


def load_seal_key(config: SealConfig) -> SealKey:
    """The operator's seal (PKCS#12, or a key and certificate) if configured, else the
    development seal."""
    if config.key_path is not None and config.cert_path is not None:
        return load_pem_seal_key(config.key_path, config.cert_path, config.pkcs12_passphrase,
                                 config.trust_root_path)
    if config.pkcs12_path is not None:
        return load_pkcs12_seal_key(
            config.pkcs12_path, config.pkcs12_passphrase, config.trust_root_path
        )
    return load_or_create_seal_key(config.data_dir, config.committee)


def default_data_dir() -> Path:
    """``$TIAOJIE_DATA_DIR/seal``, or ``~/.local/share/tiaojie/seal``."""
    base = os.environ.get("TIAOJIE_DATA_DIR")
    root = Path(base) if base else Path.home() / ".local" / "share" / "tiaojie"
    return root / "seal"
