"""``documents demo`` and ``documents verify``: the library without a server.

``tiaojie documents ...`` (signaling's CLI) can hand its arguments to
``main``; ``python -m agreements ...`` runs the same commands.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

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
from .verify import verify_pdf


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


def _verify(path: Path, trust: list[Path], data_dir: Path) -> int:
    roots = [p.read_bytes() for p in trust]
    if not roots and (data_dir / CA_FILE).is_file():
        roots.append((data_dir / CA_FILE).read_bytes())
    result = verify_pdf(path.read_bytes(), roots)
    report = {
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
    print(json.dumps(report, ensure_ascii=False, indent=2))
    print("AUTHENTIC" if result.authentic else "NOT AUTHENTIC")
    return 0 if result.authentic else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``demo --out DIR`` or ``verify FILE.pdf``; return the exit status."""
    parser = argparse.ArgumentParser(prog="tiaojie documents")
    parser.add_argument(
        "--data-dir", type=Path, default=None, help="seal key directory (default: ~/.local/...)"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="write a signed, sealed example case")
    demo.add_argument("--out", type=Path, required=True)
    verify = commands.add_parser("verify", help="verify a sealed PDF; exit 0 if authentic")
    verify.add_argument("file", type=Path)
    verify.add_argument("--trust", type=Path, action="append", default=[], help="CA (PEM/DER)")
    args = parser.parse_args(argv)
    data_dir: Path = args.data_dir or default_data_dir()
    try:
        if args.command == "demo":
            for name, path in write_demo(args.out, data_dir).items():
                print(f"{name}: {path}")
            return 0
        return _verify(args.file, args.trust, data_dir)
    except DocumentError as exc:
        print(f"error [{exc.code}]: {exc.message}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
