"""DOCX to PDF with LibreOffice: a clear error when it is missing, fails or hangs."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from agreements import ConversionFailed, ConverterMissing, LibreOfficeConverter, builtin_template
from agreements.pdf import find_soffice


def fake_soffice(tmp_path: Path, body: str) -> str:
    path = tmp_path / "soffice"
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_a_missing_libreoffice_is_a_clear_error(tmp_path: Path) -> None:
    converter = LibreOfficeConverter(binary=str(tmp_path / "no-such-soffice"))
    with pytest.raises(ConverterMissing) as caught:
        converter.convert(builtin_template("record", "en"))
    assert caught.value.code == "libreoffice_missing"
    assert "apt-get install" in caught.value.message


def test_a_crashing_libreoffice_is_a_retryable_failure(tmp_path: Path) -> None:
    converter = LibreOfficeConverter(binary=fake_soffice(tmp_path, "echo boom >&2; exit 3"))
    with pytest.raises(ConversionFailed) as caught:
        converter.convert(b"docx")
    assert "exited with 3" in caught.value.message and "boom" in caught.value.message
    assert caught.value.retryable


def test_a_libreoffice_that_writes_nothing_is_a_failure(tmp_path: Path) -> None:
    converter = LibreOfficeConverter(binary=fake_soffice(tmp_path, "exit 0"))
    with pytest.raises(ConversionFailed, match="without writing a PDF"):
        converter.convert(b"docx")


def test_a_hanging_libreoffice_is_killed_at_the_timeout(tmp_path: Path) -> None:
    converter = LibreOfficeConverter(binary=fake_soffice(tmp_path, "sleep 30"), timeout_s=0.5)
    with pytest.raises(ConversionFailed, match="did not finish"):
        converter.convert(b"docx")


def test_each_run_gets_its_own_profile_directory(tmp_path: Path) -> None:
    # The fake records the -env:UserInstallation argument it was given.
    log = tmp_path / "args.log"
    script = f'echo "$1" >> {log}; exit 1'
    converter = LibreOfficeConverter(
        binary=fake_soffice(tmp_path, script), profile_root=tmp_path / "profiles"
    )
    for _ in range(2):
        with pytest.raises(ConversionFailed):
            converter.convert(b"docx")
    first, second = log.read_text().split()
    assert first.startswith("-env:UserInstallation=file://")
    assert first == second  # a kept (warm) profile is reused by the next run
    assert (tmp_path / "profiles").is_dir()


def test_find_soffice_names_the_binary_it_found(tmp_path: Path) -> None:
    assert find_soffice(fake_soffice(tmp_path, "exit 0")).endswith("soffice")
