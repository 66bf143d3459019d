"""The recording commands, run as a clerk would run them."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from transcription.cli import main, register_cli
from transcription.metrics import wer

from .conftest import DIAR, EN, references

pytestmark = pytest.mark.slow


def test_register_cli_adds_both_commands_with_callables() -> None:
    parser = argparse.ArgumentParser()
    register_cli(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["transcribe", "x.wav", "--language", "en", "--speakers", "2",
                              "--json", "--model-dir", "/m"])
    assert callable(args.func) and args.speakers == 2 and args.model_dir == Path("/m")
    args = parser.parse_args(["diarize", "x.wav", "--speakers", "2", "--rttm"])
    assert callable(args.func) and args.rttm


def test_transcribe_prints_speaker_attributed_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["transcribe", str(EN / "jfk.flac"), "--language", "en", "--speakers", "1",
                 "--json"]) == 0
    lines = json.loads(capsys.readouterr().out)
    assert lines and set(lines[0]) == {"speaker", "start", "end", "text"}
    assert wer([references(EN)["jfk.flac"]], [" ".join(x["text"] for x in lines)]) < 0.15


def test_diarize_prints_rttm(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diarize", str(DIAR / "sample.wav"), "--speakers", "2", "--rttm"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert rows and all(r[0] == "SPEAKER" and r[1] == "sample" and len(r) == 10 for r in rows)
    assert {r[7] for r in rows} == {"SPEAKER_00", "SPEAKER_01"}


def test_an_unreadable_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "not-audio.wav"
    bad.write_bytes(b"this is not audio")
    proc = subprocess.run([sys.executable, "-m", "transcription", "transcribe", str(bad)],
                          capture_output=True, text=True, cwd=Path(__file__).parents[2],
                          check=False)
    assert proc.returncode == 2
    assert "audio_decode_error" in proc.stderr
