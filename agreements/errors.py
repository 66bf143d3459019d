"""Errors of the documents library: one base class, each error a stable code.

The HTTP and Socket.IO edges map ``code`` to a response; ``message`` is for
people; ``retryable`` says whether trying the same call again can succeed.
"""

from __future__ import annotations

from dataclasses import dataclass


class DocumentError(Exception):
    """A refusal or failure of the documents library, with a stable code."""

    code: str = "document_error"
    retryable: bool = False

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def to_dict(self) -> dict[str, object]:
        """The error as the edges send it: ``{"code", "message", "retryable"}``."""
        return {"code": self.code, "message": self.message, "retryable": self.retryable}


@dataclass(frozen=True)
class TemplateProblem:
    """One thing wrong with an uploaded template."""

    code: str
    """Stable code: not_docx, too_large, syntax_error, undefined_field, unsafe_access."""
    message: str
    """What is wrong, for the office administrator."""
    where: str = ""
    """The paragraph text around the problem, or the field path, when known."""


class TemplateRejected(DocumentError):
    """A template was refused before any session could depend on it."""

    code = "template_rejected"

    def __init__(self, problems: list[TemplateProblem]) -> None:
        self.problems = list(problems)
        summary = "; ".join(f"{p.code}: {p.message}" for p in self.problems[:10])
        super().__init__(f"template refused ({len(self.problems)} problem(s)): {summary}")

    def to_dict(self) -> dict[str, object]:
        out = super().to_dict()
        out["problems"] = [
            {"code": p.code, "message": p.message, "where": p.where} for p in self.problems
        ]
        return out


class TemplateUnsafe(TemplateRejected):
    """A template tried to reach Python internals through the sandbox."""

    code = "template_unsafe"


class RenderFailed(DocumentError):
    """Rendering a validated template with given data failed."""

    code = "render_failed"


class DraftNotFound(DocumentError):
    """No draft, version or ceremony with that id."""

    code = "draft_not_found"


class VersionConflict(DocumentError):
    """Someone saved a newer version first; reload and apply the edit again."""

    code = "version_conflict"
    retryable = True


class ESignatureNotApplicable(DocumentError):
    """电子签名法 art. 3: marriage, adoption and inheritance need wet-ink signatures."""

    code = "esign_not_applicable"


class SigningRefused(DocumentError):
    """A signing step was refused; ``code`` says which rule."""

    code = "signing_refused"


class CodeInvalid(SigningRefused):
    """The one-time code does not match."""

    code = "code_invalid"
    retryable = True


class CodeExpired(SigningRefused):
    """The one-time code is past its expiry; ask for a new one."""

    code = "code_expired"


class SignerLocked(SigningRefused):
    """Too many wrong codes, or too many codes sent: the signer is locked."""

    code = "signer_locked"


class VersionSuperseded(SigningRefused):
    """The document changed after signing started; signatures start over."""

    code = "version_superseded"


class SignatureImageInvalid(SigningRefused):
    """The drawn signature is not a PNG of acceptable size."""

    code = "signature_image_invalid"


class CeremonyIncomplete(DocumentError):
    """Sealing was asked for before every signer had signed."""

    code = "ceremony_incomplete"


class ConverterMissing(DocumentError):
    """LibreOffice (soffice) is not installed or not on PATH."""

    code = "libreoffice_missing"


class ConversionFailed(DocumentError):
    """LibreOffice did not produce a PDF (crash or timeout)."""

    code = "conversion_failed"
    retryable = True


class SealKeyUnavailable(DocumentError):
    """The committee's seal key could not be created or loaded."""

    code = "seal_key_unavailable"
