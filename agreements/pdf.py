"""DOCX to PDF with LibreOffice headless.

Each conversion runs with its own LibreOffice user profile
(``-env:UserInstallation``): two soffice processes sharing a profile block on
its lock or hand the job to each other. A converter with a ``profile_root``
keeps its profiles between conversions, because creating a fresh profile is
most of a cold start; one profile serves one conversion at a time.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import threading
from pathlib import Path

from .errors import ConversionFailed, ConverterMissing

CONVERSION_TIMEOUT_S = 120.0
"""How long one conversion may take before soffice is killed; tests may override."""


def find_soffice(binary: str | None = None) -> str:
    """The path of LibreOffice's ``soffice``, or ``ConverterMissing``."""
    for candidate in [binary] if binary else ["soffice", "libreoffice"]:
        found = shutil.which(candidate)
        if found:
            return found
    raise ConverterMissing(
        "LibreOffice is not installed (no 'soffice' on PATH); install libreoffice-writer "
        "(Debian: apt-get install libreoffice-writer-nogui) or configure its path"
    )


class LibreOfficeConverter:
    """Converts DOCX bytes to PDF bytes by running soffice, one profile per run."""

    def __init__(
        self,
        binary: str | None = None,
        profile_root: Path | None = None,
        timeout_s: float | None = None,
    ) -> None:
        self._binary = binary
        self._profile_root = profile_root
        self._timeout_s = timeout_s
        self._lock = threading.Lock()
        self._free: list[Path] = []
        self._created = 0

    def _checkout_profile(self) -> Path | None:
        if self._profile_root is None:
            return None
        with self._lock:
            if self._free:
                return self._free.pop()
            self._created += 1
            # The pid keeps two processes that share profile_root off each other's profiles.
            path = self._profile_root / f"profile-{os.getpid()}-{self._created}"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def _return_profile(self, path: Path | None) -> None:
        if path is not None:
            with self._lock:
                self._free.append(path)

    def convert(self, docx: bytes) -> bytes:
        """Convert one DOCX to PDF; ``ConversionFailed`` on crash, timeout or no output."""
        soffice = find_soffice(self._binary)
        timeout = self._timeout_s if self._timeout_s is not None else CONVERSION_TIMEOUT_S
        profile = self._checkout_profile()
        try:
            with tempfile.TemporaryDirectory(prefix="tiaojie-lo-") as work:
                workdir = Path(work)
                own_profile = profile or workdir / "profile"
                source = workdir / "document.docx"
                source.write_bytes(docx)
                outdir = workdir / "out"
                command = [
                    soffice,
                    f"-env:UserInstallation={own_profile.resolve().as_uri()}",
                    "--headless",
                    "--norestore",
                    "--nologo",
                    "--nodefault",
                    "--convert-to",
                    "pdf:writer_pdf_Export",
                    "--outdir",
                    str(outdir),
                    str(source),
                ]
                _run(command, timeout)
                result = outdir / "document.pdf"
                if not result.is_file() or result.stat().st_size == 0:
                    raise ConversionFailed("LibreOffice finished without writing a PDF")
                return result.read_bytes()
        finally:
            self._return_profile(profile)


def _run(command: list[str], timeout: float) -> None:
    # A new session so that a timeout can kill soffice.bin too, not only its launcher.
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        env={**os.environ, "HOME": os.environ.get("HOME", tempfile.gettempdir())},
    )
    try:
        _, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise ConversionFailed(f"LibreOffice did not finish within {timeout:g} s") from None
    if process.returncode != 0:
        tail = stderr.decode("utf-8", "replace")[-500:]
        raise ConversionFailed(f"LibreOffice exited with {process.returncode}: {tail}")


_default: LibreOfficeConverter | None = None


def docx_to_pdf(docx: bytes) -> bytes:
    """Convert with a process-wide converter that uses a throwaway profile per run."""
    global _default
    if _default is None:
        _default = LibreOfficeConverter()
    return _default.convert(docx)
