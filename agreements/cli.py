"""``documents demo`` and ``documents verify``: the library without a server.

One parser and one implementation serve both entry points: ``python -m agreements
...`` (``main``) and ``tiaojie documents ...`` (``register_cli``, which signaling's CLI
picks up like every package's commands). The only difference is where the trust roots
come from when ``--trust`` is not given: the library's default data directory, or the
server's seal directory named by the settings.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from .builtin import builtin_template
from .ceremony import InMemoryCeremonyStore
from .demo import demo_agreement, demo_record
from .draft import DraftService, InMemoryDraftStore
from .errors import DocumentError
from .finalize import seal_document
from .images import make_png
from .models import DocumentData, DocumentKind
from .notify import OutboxCodeSender
from .pdf import LibreOfficeConverter
from .seal import CA_FILE, default_data_dir, load_or_create_seal_key
from .signature import SignatureService
from .verify import VerificationResult, verify_pdf

RootsFinder = Callable[[argparse.Namespace], list[bytes]]
"""The CA certificates to trust when the command line names none."""


def write_demo(
    out: Path, data_dir: Path, converter: LibreOfficeConverter | None = None
) -> dict[str, Path]:
    """Draft, sign (every signer, with one-time codes) and seal the demo agreement and
    record; write PDF and DOCX of each and the CA certificate to ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    key = load_or_create_seal_key(data_dir, demo_agreement().committee)
    store = InMemoryDraftStore()
    drafts = DraftService(store)
    written: dict[str, Path] = {}
    with tempfile.TemporaryDirectory(prefix="tiaojie-outbox-") as outbox_dir:
        outbox = OutboxCodeSender(Path(outbox_dir))
        signing = SignatureService(store, InMemoryCeremonyStore(), outbox)
        cases: list[tuple[DocumentKind, DocumentData]] = [
            ("agreement", demo_agreement()),
            ("record", demo_record()),
        ]
        for kind, data in cases:
            version = drafts.create(
                case_number=data.case_number, kind=kind, data=data, author="mediator"
            )
            ceremony = signing.open(version.draft_id)
            for number, signer in enumerate(ceremony.signers):
                signing.send_code(ceremony.ceremony_id, signer.signer_id)
                signing.sign(
                    ceremony.ceremony_id,
                    signer.signer_id,
                    code=outbox.last_code(signer.signer_id) or "",
                    version_digest=version.digest,
                    image_png=make_png(240, 80, strokes=2 + number),
                    ip="127.0.0.1",
                    user_agent="tiaojie-demo",
                )
            sealed = seal_document(
                draft=store.get_draft(version.draft_id),
                version=version,
                ceremony=signing.ceremonies.get(ceremony.ceremony_id),
                template=builtin_template(kind, "zh-CN"),
                key=key,
                converter=converter,
            )
            for suffix, content in (("pdf", sealed.pdf), ("docx", sealed.docx)):
                path = out / f"{kind}.{suffix}"
                path.write_bytes(content)
                written[f"{kind}.{suffix}"] = path
    ca = out / CA_FILE
    shutil.copyfile(data_dir / CA_FILE, ca)
    written["ca"] = ca
    return written


def verification_report(path: Path, result: VerificationResult) -> dict[str, Any]:
    """The JSON the verify command prints."""
    return {
        "file": str(path),
        "authentic": result.authentic,
        "sha256": result.document_sha256,
        "signatures": [
            {
                "field": s.field_name,
                "signer": s.signer,
                "certificate_sha256": s.certificate_sha256,
                "signing_time": s.signing_time.isoformat() if s.signing_time else None,
                "intact": s.intact,
                "trusted": s.trusted,
                "covers_whole_file": s.covers_whole_file,
            }
            for s in result.signatures
        ],
        "reasons": list(result.reasons),
    }


def library_roots(args: argparse.Namespace) -> list[bytes]:
    """``python -m agreements``: the development CA in ``--data-dir`` (or the default)."""
    data_dir: Path = args.data_dir or default_data_dir()
    ca = data_dir / CA_FILE
    return [ca.read_bytes()] if ca.is_file() else []


async def _against_database(url: str, pdf: bytes, roots: list[bytes], document: str | None,
                            session: str | None) -> tuple[bool, dict[str, Any]]:
    """The stored document's and the session log's verdicts, from the service's database."""
    from signaling.db.engine import Database

    from .audit import check_audit_log, check_document, find_document

    db = Database(url)
    try:
        async with db.session() as s:
            out: dict[str, Any] = {}
            ok = True
            if document is not None:
                row = await find_document(s, document)
                if row is None:
                    raise DocumentError(f"no sealed document {document!r} in the database",
                                        code="document_not_found")
                verdict = await check_document(s, pdf, roots, expected=row)
                report = verdict.to_dict()
                out["stored_document"] = report["document"] | {
                    "id": row.id, "file_matches": row.pdf_sha256 == verdict.pdf.document_sha256}
                out["signed_by"] = report["signed_by"]
                out["audit_chain"] = report["audit_chain"]
                out["reasons"] = list(verdict.reasons)
                ok = verdict.authentic and (verdict.audit is None or verdict.audit.intact)
                if session is None or session == row.session_id:
                    return ok, out
            if session is not None:
                audit = await check_audit_log(s, session)
                out["session_audit_chain"] = {"session_id": session, **audit.to_dict()}
                ok = ok and audit.intact
            return ok, out
    finally:
        await db.close()


def _verify(args: argparse.Namespace, default_roots: RootsFinder,
            default_database: Callable[[], str] | None) -> int:
    path: Path = args.file
    pdf = path.read_bytes()
    roots = [p.read_bytes() for p in args.trust] or default_roots(args)
    result = verify_pdf(pdf, roots)
    report = verification_report(path, result)
    authentic = result.authentic
    if args.document or args.session:
        url = args.database_url or (default_database() if default_database else None)
        if not url:
            raise DocumentError("--document and --session need --database-url",
                                code="database_required")
        ok, found = asyncio.run(_against_database(url, pdf, roots, args.document,
                                                  args.session))
        reasons = found.pop("reasons", None)
        if reasons is not None:
            report["reasons"] = reasons
        report.update(found)
        authentic = authentic and ok
        report["authentic"] = authentic
    print(json.dumps(report, ensure_ascii=False, indent=2))
    print("AUTHENTIC" if authentic else "NOT AUTHENTIC")
    return 0 if authentic else 1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``demo`` and ``verify`` subcommands, on either entry point's parser."""
    parser.add_argument(
        "--data-dir", type=Path, default=None,
        help="development seal directory "
             "(default: $TIAOJIE_DATA_DIR/seal or ~/.local/share/tiaojie/seal)",
    )
    commands = parser.add_subparsers(dest="documents_cmd", required=True)
    demo = commands.add_parser("demo", help="write a signed, sealed example case")
    demo.add_argument("--out", type=Path, required=True)
    verify = commands.add_parser("verify", help="verify a sealed PDF; exit 0 if authentic")
    verify.add_argument("file", type=Path)
    verify.add_argument("--trust", type=Path, action="append", default=[], help="CA (PEM/DER)")
    verify.add_argument("--document", metavar="ID",
                        help="the sealed document's id or short id: the file must be it, and "
                             "its session's audit chain must hold (needs a database)")
    verify.add_argument("--session", metavar="ID",
                        help="re-walk this session's audit chain (needs a database)")
    verify.add_argument("--database-url", metavar="URL",
                        help="the service's database (SQLAlchemy async URL); tiaojie "
                             "defaults to TIAOJIE_DATABASE_URL")


def run(args: argparse.Namespace, default_roots: RootsFinder = library_roots,
        default_database: Callable[[], str] | None = None) -> int:
    """Run the parsed ``demo`` or ``verify`` command; return the exit status (verify: 0
    authentic (and, when asked, the stored document matched and the audit chain held),
    1 not, 2 the command could not run)."""
    try:
        if args.documents_cmd == "demo":
            data_dir: Path = args.data_dir or default_data_dir()
            for name, path in write_demo(args.out, data_dir).items():
                print(f"{name}: {path}")
            return 0
        return _verify(args, default_roots, default_database)
    except DocumentError as exc:
        print(f"error [{exc.code}]: {exc.message}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except SQLAlchemyError as exc:
        print(f"error: the database could not be read: {exc}", file=sys.stderr)
        return 2


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m agreements demo --out DIR`` or ``verify FILE.pdf``; the exit status."""
    parser = argparse.ArgumentParser(prog="python -m agreements")
    add_arguments(parser)
    return run(parser.parse_args(argv))


def _server_roots(args: argparse.Namespace) -> list[bytes]:
    """``tiaojie documents``: every office's seal CA under the settings' data directory
    and the operator's trust root, as the server's own verification trusts them; with
    ``--data-dir``, that development seal directory instead."""
    if args.data_dir is not None:
        return library_roots(args)
    from signaling.settings import load_settings

    settings = load_settings()
    roots = [p.read_bytes() for p in sorted((settings.data_dir / "seal").glob(f"*/{CA_FILE}"))]
    if settings.seal_trust_root is not None and settings.seal_trust_root.is_file():
        roots.append(settings.seal_trust_root.read_bytes())
    return roots


def _server_database() -> str:
    from signaling.settings import load_settings

    return load_settings().database_url


def _run_from_tiaojie(args: argparse.Namespace) -> int:
    return run(args, _server_roots, _server_database)


def register_cli(sub: Any) -> None:
    """Add ``tiaojie documents demo|verify`` to signaling's command line."""
    documents = sub.add_parser(
        "documents", help="sealed documents: write the demo case, verify a PDF")
    add_arguments(documents)
    documents.set_defaults(func=_run_from_tiaojie)
