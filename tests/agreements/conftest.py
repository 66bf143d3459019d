"""Fixtures for the documents library: real docxtpl, LibreOffice, pyHanko and pdfsig.

LibreOffice conversions take about a second each, so the sealed documents are
built once per session and shared; tests that change them work on copies.
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from docx import Document

from agreements import (
    Ceremony,
    DraftService,
    DraftVersion,
    InMemoryCeremonyStore,
    InMemoryDraftStore,
    LibreOfficeConverter,
    OutboxCodeSender,
    SealedDocument,
    SealKey,
    SignatureService,
    builtin_template,
    seal_document,
)
from agreements.demo import demo_agreement
from agreements.images import make_png
from agreements.seal import load_or_create_seal_key

needs_soffice = pytest.mark.skipif(shutil.which("soffice") is None, reason="needs LibreOffice")
needs_pdfsig = pytest.mark.skipif(shutil.which("pdfsig") is None, reason="needs poppler-utils")


class FakeClock:
    """A clock the test moves by hand, so expiry is tested without waiting."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@dataclass
class Room:
    """Everything a signing test needs: stores, services, outbox and clock."""

    store: InMemoryDraftStore
    drafts: DraftService
    signing: SignatureService
    outbox: OutboxCodeSender
    clock: FakeClock

    def sign_all(self, version: DraftVersion, ceremony: Ceremony) -> Ceremony:
        """Every signer asks for a code and signs with a drawn image."""
        for number, signer in enumerate(ceremony.signers):
            self.signing.send_code(ceremony.ceremony_id, signer.signer_id)
            code = self.outbox.last_code(signer.signer_id)
            assert code is not None
            self.signing.sign(
                ceremony.ceremony_id,
                signer.signer_id,
                code=code,
                version_digest=version.digest,
                image_png=make_png(240, 80, strokes=2 + number),
                ip="192.0.2.10",
                user_agent="pytest",
            )
        return self.signing.ceremonies.get(ceremony.ceremony_id)


@pytest.fixture
def room(tmp_path: Path) -> Room:
    clock = FakeClock()
    store = InMemoryDraftStore()
    outbox = OutboxCodeSender(tmp_path / "outbox")
    return Room(
        store=store,
        drafts=DraftService(store, clock=clock),
        signing=SignatureService(store, InMemoryCeremonyStore(), outbox, clock=clock),
        outbox=outbox,
        clock=clock,
    )


def docx_text(content: bytes) -> str:
    """All paragraph and table text of a DOCX, as python-docx reads it."""
    document = Document(io.BytesIO(content))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return "\n".join(parts)


def make_docx(*paragraphs: str) -> bytes:
    """A DOCX whose body is the given paragraphs (for uploaded-template tests)."""
    document = Document()
    for text in paragraphs:
        document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


@pytest.fixture(scope="session")
def seal_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("seal")


@pytest.fixture(scope="session")
def seal_key(seal_dir: Path) -> SealKey:
    return load_or_create_seal_key(seal_dir, "示例街道人民调解委员会")


@pytest.fixture(scope="session")
def converter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LibreOfficeConverter]:
    # Profiles are kept between conversions of the session: warm starts.
    yield LibreOfficeConverter(profile_root=tmp_path_factory.mktemp("lo-profiles"))


@pytest.fixture(scope="session")
def sealed_agreement(
    tmp_path_factory: pytest.TempPathFactory, seal_key: SealKey, converter: LibreOfficeConverter
) -> SealedDocument:
    """The demo agreement, signed by all four signers and sealed (one conversion)."""
    if shutil.which("soffice") is None:
        pytest.skip("needs LibreOffice")
    clock = FakeClock()
    store = InMemoryDraftStore()
    outbox = OutboxCodeSender(tmp_path_factory.mktemp("outbox"))
    room = Room(
        store,
        DraftService(store, clock=clock),
        SignatureService(store, InMemoryCeremonyStore(), outbox, clock=clock),
        outbox,
        clock,
    )
    version = room.drafts.create(
        case_number="（2026）长新调字第015号",
        kind="agreement",
        data=demo_agreement(),
        author="mediator",
    )
    ceremony = room.sign_all(version, room.signing.open(version.draft_id))
    return seal_document(
        draft=store.get_draft(version.draft_id),
        version=version,
        ceremony=ceremony,
        template=builtin_template("agreement", "zh-CN"),
        key=seal_key,
        converter=converter,
        event_log_head="e3b0c44298fc1c149afbf4c8996fb924",
        clock=clock,
    )
