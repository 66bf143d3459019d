"""``python -m agreements demo`` and ``verify``: exit 0 only for an authentic document."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from docx import Document

from agreements.cli import main

from .conftest import needs_soffice
from .test_sealing_functional import flip_a_byte_in_a_content_stream

pytestmark = [needs_soffice, pytest.mark.slow]


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("demo")
    data_dir = tmp_path_factory.mktemp("demo-seal")
    assert main(["--data-dir", str(data_dir), "demo", "--out", str(out)]) == 0
    return out, data_dir


def test_the_demo_writes_sealed_pdfs_and_docx_for_agreement_and_record(
    demo_dir: tuple[Path, Path],
) -> None:
    out, _ = demo_dir
    for name in ("agreement.pdf", "agreement.docx", "record.pdf", "record.docx", "seal-ca.pem"):
        assert (out / name).stat().st_size > 0, name
    Document(io.BytesIO((out / "record.docx").read_bytes()))


def test_verify_exits_zero_for_the_authentic_demo(
    demo_dir: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    out, data_dir = demo_dir
    code = main(["--data-dir", str(data_dir), "verify", str(out / "agreement.pdf")])
    assert code == 0
    assert capsys.readouterr().out.rstrip().endswith("AUTHENTIC")
    assert main(["verify", str(out / "record.pdf"), "--trust", str(out / "seal-ca.pem")]) == 0


def test_verify_exits_nonzero_for_a_tampered_copy(
    demo_dir: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, data_dir = demo_dir
    tampered = tmp_path / "tampered.pdf"
    tampered.write_bytes(flip_a_byte_in_a_content_stream((out / "agreement.pdf").read_bytes()))
    assert main(["--data-dir", str(data_dir), "verify", str(tampered)]) == 1
    assert "NOT AUTHENTIC" in capsys.readouterr().out


def test_verify_of_a_missing_file_is_an_error(tmp_path: Path) -> None:
    assert main(["--data-dir", str(tmp_path), "verify", str(tmp_path / "none.pdf")]) == 2
