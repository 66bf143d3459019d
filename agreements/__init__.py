"""The mediation record and agreement: templates, drafts, online signatures, the sealed PDF.

The server calls this facade; every function is storage-agnostic (drafts and
ceremonies go through the ``DraftStore`` and ``CeremonyStore`` protocols) and
the blocking ones (LibreOffice, pyHanko) are meant for a worker thread.
"""

from .builtin import build_template, builtin_ref, builtin_template, write_builtin_templates
from .ceremony import Ceremony, CeremonyStore, CollectedSignature, InMemoryCeremonyStore, Signer
from .context import JUDICIAL_CONFIRMATION_DAYS, build_context, mask_id_number
from .draft import (
    Comment,
    Draft,
    DraftId,
    DraftService,
    DraftStore,
    DraftVersion,
    InMemoryDraftStore,
    summarize_changes,
)
from .errors import (
    CeremonyIncomplete,
    CodeExpired,
    CodeInvalid,
    ConversionFailed,
    ConverterMissing,
    DocumentError,
    DraftNotFound,
    ESignatureNotApplicable,
    RenderFailed,
    SealKeyUnavailable,
    SignatureImageInvalid,
    SignerLocked,
    SigningRefused,
    TemplateProblem,
    TemplateRejected,
    TemplateUnsafe,
    VersionConflict,
    VersionSuperseded,
)
from .finalize import SealedDocument, judicial_confirmation_deadline, print_copy, seal_document
from .images import validate_signature_png
from .models import (
    Agent,
    AgreementData,
    Clause,
    DocumentData,
    DocumentKind,
    Evidence,
    Language,
    Matter,
    OralRegisterData,
    PartyDetails,
    Person,
    RecordData,
    RecordParticipant,
    Statement,
    esign_applies,
    statements_from_transcript,
)
from .notify import CodeSender, OutboxCodeSender
from .pdf import LibreOfficeConverter, docx_to_pdf
from .preview import render_preview, version_digest
from .render import render
from .seal import SealConfig, SealKey, load_seal_key, seal_pdf
from .signature import SignatureService, required_signers
from .template import ValidatedTemplate, validate_template
from .verify import SignatureReport, VerificationResult, verify_pdf

__all__ = [
    "JUDICIAL_CONFIRMATION_DAYS",
    "Agent",
    "AgreementData",
    "Ceremony",
    "CeremonyIncomplete",
    "CeremonyStore",
    "Clause",
    "CodeExpired",
    "CodeInvalid",
    "CodeSender",
    "CollectedSignature",
    "Comment",
    "ConversionFailed",
    "ConverterMissing",
    "DocumentData",
    "DocumentError",
    "DocumentKind",
    "Draft",
    "DraftId",
    "DraftNotFound",
    "DraftService",
    "DraftStore",
    "DraftVersion",
    "ESignatureNotApplicable",
    "Evidence",
    "InMemoryCeremonyStore",
    "InMemoryDraftStore",
    "Language",
    "LibreOfficeConverter",
    "Matter",
    "OutboxCodeSender",
    "PartyDetails",
    "Person",
    "OralRegisterData",
    "RecordData",
    "RecordParticipant",
    "RenderFailed",
    "SealConfig",
    "SealKey",
    "SealKeyUnavailable",
    "SealedDocument",
    "SignatureImageInvalid",
    "SignatureReport",
    "SignatureService",
    "Signer",
    "SignerLocked",
    "SigningRefused",
    "Statement",
    "TemplateProblem",
    "TemplateRejected",
    "TemplateUnsafe",
    "ValidatedTemplate",
    "VerificationResult",
    "VersionConflict",
    "VersionSuperseded",
    "build_context",
    "build_template",
    "builtin_ref",
    "builtin_template",
    "docx_to_pdf",
    "esign_applies",
    "judicial_confirmation_deadline",
    "load_seal_key",
    "mask_id_number",
    "print_copy",
    "render",
    "render_preview",
    "required_signers",
    "seal_document",
    "seal_pdf",
    "statements_from_transcript",
    "summarize_changes",
    "validate_signature_png",
    "validate_template",
    "verify_pdf",
    "version_digest",
    "write_builtin_templates",
]
