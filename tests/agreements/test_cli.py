"""``python -m agreements demo`` and ``verify``: exit 0 only for an authentic document."""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
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


# -- ``tiaojie documents``: the same commands through the service's CLI ------------------


def tiaojie(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    """Run ``tiaojie ARGS`` (signaling.cli, the console script's target) as a process."""
    env = {**os.environ, "TIAOJIE_DATA_DIR": str(data_dir)}
    return subprocess.run([sys.executable, "-m", "signaling.cli", *args], env=env,
                          capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def tiaojie_demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """``tiaojie documents demo``, its seal made where a server keeps an office's seal."""
    data_dir = tmp_path_factory.mktemp("server-data")
    out = tmp_path_factory.mktemp("tiaojie-demo")
    done = tiaojie("documents", "--data-dir", str(data_dir / "seal" / "demo-office"), "demo",
                   "--out", str(out), data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    assert "agreement.pdf" in done.stdout
    return out, data_dir


def test_tiaojie_documents_verify_trusts_the_servers_seals(
    tiaojie_demo: tuple[Path, Path],
) -> None:
    out, data_dir = tiaojie_demo
    done = tiaojie("documents", "verify", str(out / "agreement.pdf"), data_dir=data_dir)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.rstrip().endswith("\nAUTHENTIC")
    report = json.loads(done.stdout.rstrip().rsplit("\n", 1)[0])
    assert report["authentic"] is True and report["signatures"]


@pytest.mark.parametrize("change", ["content stream", "middle of the file", "last byte"])
def test_tiaojie_documents_verify_refuses_a_one_byte_change(
    tiaojie_demo: tuple[Path, Path], tmp_path: Path, change: str
) -> None:
    out, data_dir = tiaojie_demo
    pdf = (out / "agreement.pdf").read_bytes()
    if change == "content stream":
        tampered = flip_a_byte_in_a_content_stream(pdf)
    else:
        at = len(pdf) // 2 if change == "middle of the file" else len(pdf) - 2
        changed = bytearray(pdf)
        changed[at] = ord("0") if changed[at] != ord("0") else ord("1")
        tampered = bytes(changed)
    assert tampered != pdf and len(tampered) == len(pdf)
    path = tmp_path / "tampered.pdf"
    path.write_bytes(tampered)
    done = tiaojie("documents", "verify", str(path), data_dir=data_dir)
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.rstrip().endswith("NOT AUTHENTIC")


def test_tiaojie_documents_verify_without_the_seals_ca_is_not_authentic(
    tiaojie_demo: tuple[Path, Path], tmp_path: Path
) -> None:
    out, _ = tiaojie_demo
    done = tiaojie("documents", "verify", str(out / "agreement.pdf"), data_dir=tmp_path)
    assert done.returncode == 1
    assert "not trusted" in done.stdout


def test_verify_with_a_session_rewalks_its_audit_chain(
    demo_dir: tuple[Path, Path], database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from sqlalchemy import text

    from signaling import eventlog
    from signaling.db.engine import Database
    from signaling.db.migrate import migrate
    from tests.signaling.test_event_chain import _sessions

    async def make_log() -> str:
        db = Database(database_url)
        await migrate(db)
        session_id, _ = await _sessions(db)
        for n in range(3):
            async with db.session() as s:
                await eventlog.append(s, session_id, "chat", payload={"text": f"第{n}句"})
        await db.close()
        return session_id

    async def change_one_event(session_id: str) -> None:
        db = Database(database_url)
        async with db.engine.begin() as conn:
            await conn.execute(text("UPDATE session_events SET kind = 'x' "
                                    "WHERE session_id = :s AND seq = 2"), {"s": session_id})
        await db.close()

    out, data_dir = demo_dir
    session_id = asyncio.run(make_log())
    args = ["--data-dir", str(data_dir), "verify", str(out / "agreement.pdf"),
            "--session", session_id, "--database-url", database_url]
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out.rstrip().rsplit("\n", 1)[0])
    assert report["session_audit_chain"]["intact"] is True
    assert report["session_audit_chain"]["events"] == 3
    asyncio.run(change_one_event(session_id))
    assert main(args) == 1
    printed = capsys.readouterr().out
    report = json.loads(printed.rstrip().rsplit("\n", 1)[0])
    assert report["session_audit_chain"]["broken_at"] == 2
    assert printed.rstrip().endswith("NOT AUTHENTIC")
    # Without a database the command says what it needs.
    assert main(["--data-dir", str(data_dir), "verify", str(out / "agreement.pdf"),
                 "--session", session_id]) == 2
