"""Checking that a PDF is a sealed Tiaojie document, unchanged since sealing.

A document is authentic only when every signature in it is cryptographically
intact, chains to a trusted root, and the last signature covers the whole
file: bytes appended after sealing (an incremental update) are a change even
when each signature on its own still checks out.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from pyhanko.keys import load_certs_from_pemder_data
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext


@dataclass(frozen=True)
class SignatureReport:
    """What one signature in the PDF says about itself."""

    field_name: str
    """The signature field's name (our seal is "CommitteeSeal")."""
    signer: str
    """Subject of the signing certificate, human-readable."""
    certificate_sha256: str
    """SHA-256 fingerprint of the signing certificate, hex."""
    signing_time: datetime | None
    """The time the signer's software claimed."""
    intact: bool
    """The signed bytes hash to the value in the signature."""
    valid: bool
    """The cryptographic signature over that hash checks out."""
    trusted: bool
    """The certificate chains to one of the trusted roots."""
    covers_whole_file: bool
    """Nothing was appended after this signature."""


@dataclass(frozen=True)
class VerificationResult:
    """The verdict on a PDF, with the reasons when it is not authentic."""

    authentic: bool
    """True only for an intact, trusted, unmodified, sealed document."""
    document_sha256: str
    """SHA-256 of the bytes checked, hex."""
    signatures: tuple[SignatureReport, ...] = ()
    """Each signature found, in file order."""
    reasons: tuple[str, ...] = field(default_factory=tuple)
    """Why the document is not authentic; empty when it is."""
    readable: bool = True
    """False when the bytes are not a PDF that can be parsed at all."""

    @property
    def signer(self) -> str | None:
        """Subject of the last (sealing) signature, if any."""
        return self.signatures[-1].signer if self.signatures else None


def _roots(trust_roots: Sequence[bytes]) -> list[object]:
    certs: list[object] = []
    for data in trust_roots:
        certs.extend(load_certs_from_pemder_data(data))
    return certs


def verify_pdf(pdf: bytes, trust_roots: Sequence[bytes] = ()) -> VerificationResult:
    """Verify ``pdf`` against the PEM or DER CA certificates in ``trust_roots``.

    Never raises for bad input: a damaged or unsigned file is a negative verdict
    with a reason. Call from a worker thread in async code (pyHanko runs a loop).
    """
    digest = hashlib.sha256(pdf).hexdigest()
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        embedded = list(reader.embedded_signatures)
    except (PdfError, ValueError, KeyError, IndexError, TypeError) as exc:
        return VerificationResult(False, digest, reasons=(f"not a readable PDF: {exc}",),
                                  readable=False)
    if not embedded:
        return VerificationResult(False, digest, reasons=("the PDF carries no signature",))
    reports = []
    reasons = []
    try:
        roots = _roots(trust_roots)
    except (ValueError, TypeError) as exc:
        return VerificationResult(False, digest, reasons=(f"a trust root is unreadable: {exc}",))
    for sig in embedded:
        context = ValidationContext(trust_roots=roots, allow_fetching=False)
        try:
            status = validate_pdf_signature(sig, context)
        except Exception as exc:  # noqa: BLE001 - pyHanko raises many types for broken input
            reasons.append(f"signature {sig.field_name!r} could not be checked: {exc}")
            continue
        cert = status.signing_cert
        whole = status.coverage == SignatureCoverageLevel.ENTIRE_FILE
        reports.append(
            SignatureReport(
                field_name=sig.field_name,
                signer=cert.subject.human_friendly,
                certificate_sha256=cert.sha256.hex(),
                signing_time=status.signer_reported_dt,
                intact=status.intact,
                valid=status.valid,
                trusted=status.trusted,
                covers_whole_file=whole,
            )
        )
        if not status.intact:
            reasons.append(f"{sig.field_name}: the signed content was changed")
        elif not status.valid:
            reasons.append(f"{sig.field_name}: the signature value does not check out")
        if not status.trusted:
            reasons.append(f"{sig.field_name}: the signer's certificate is not trusted")
        if status.docmdp_ok is False:
            reasons.append(f"{sig.field_name}: changes were made that the seal forbids")
    if reports and not reports[-1].covers_whole_file:
        reasons.append("content was appended after the last signature")
    return VerificationResult(
        authentic=not reasons,
        document_sha256=digest,
        signatures=tuple(reports),
        reasons=tuple(reasons),
    )
