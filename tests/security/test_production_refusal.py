"""``TIAOJIE_ENV=production`` refuses to start with an unsafe setting and names it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import free_port

pytestmark = pytest.mark.slow

STRONG = "k" * 24 + "-0123456789abcdef"
SAFE = {
    "TIAOJIE_ENV": "production",
    "TIAOJIE_SECRET_KEY": STRONG,
    "TIAOJIE_BEHIND_TLS": "true",
    "TIAOJIE_PUBLIC_URL": "https://tiaojie.example.cn",
    "TIAOJIE_DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:1/never",
    "TIAOJIE_NOTIFY_SENDER": "smtp",
    "TIAOJIE_SMTP_HOST": "127.0.0.1",
    "TIAOJIE_SMTP_FROM": "tiaojie@example.cn",
}


def serve(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("TIAOJIE_")}
    full.update({"TIAOJIE_DATA_DIR": str(tmp_path), "TIAOJIE_PORT": str(free_port()),
                 "TIAOJIE_MEDIA_ENABLED": "false", "TIAOJIE_TRANSCRIPTION_ENABLED": "false"})
    full.update({k: v for k, v in env.items() if v is not None})
    # A refusal happens before the port is bound; the timeout only guards a server that
    # wrongly starts (it would then serve until killed).
    return subprocess.run([sys.executable, "-m", "signaling.cli", "serve"], env=full,
                          capture_output=True, text=True, timeout=60)


# Each case starts a real ``tiaojie serve`` (about ten seconds of imports on a busy
# machine), so the process test covers the three the issue names; the other unsafe values
# are checked in-process below, through the same check_production and CLI path.
@pytest.mark.parametrize("override, named", [
    ({"TIAOJIE_SECRET_KEY": ""}, "TIAOJIE_SECRET_KEY"),
    ({"TIAOJIE_BEHIND_TLS": "false"}, "TIAOJIE_BEHIND_TLS"),
    ({"TIAOJIE_DATABASE_URL": ""}, "TIAOJIE_DATABASE_URL"),
], ids=["default-secret", "no-tls", "sqlite"])
def test_tiaojie_serve_in_production_refuses_an_unsafe_setting_and_names_it(
        tmp_path: Path, override: dict[str, str], named: str) -> None:
    env = dict(SAFE)
    for k, v in override.items():
        if v:
            env[k] = v
        else:
            env.pop(k)
    out = serve(tmp_path, **env)
    assert out.returncode != 0, out.stdout + out.stderr
    assert "refusing to start" in out.stderr and named in out.stderr, out.stderr
    # Only the wrong setting is named, and the secret itself is never printed.
    others = {"TIAOJIE_SECRET_KEY", "TIAOJIE_BEHIND_TLS", "TIAOJIE_PUBLIC_URL",
              "TIAOJIE_DATABASE_URL"} - {named}
    assert not any(o in out.stderr for o in others), out.stderr
    assert STRONG not in out.stderr + out.stdout
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize("override, named", [
    ({"TIAOJIE_SECRET_KEY": "tiaojie-development-secret-change-me"}, "TIAOJIE_SECRET_KEY"),
    ({"TIAOJIE_SECRET_KEY": "short-secret"}, "TIAOJIE_SECRET_KEY"),
    ({"TIAOJIE_PUBLIC_URL": "http://tiaojie.example.cn"}, "TIAOJIE_PUBLIC_URL"),
    # The file outbox would leave every signing code readable on the server's disk.
    ({"TIAOJIE_NOTIFY_SENDER": "outbox"}, "TIAOJIE_NOTIFY_SENDER"),
    ({"TIAOJIE_NOTIFY_SENDER": "aliyun"}, "TIAOJIE_ALIYUN_ACCESS_KEY_SECRET"),
], ids=["explicit-default-secret", "short-secret", "http-url", "file-outbox",
        "aliyun-without-credentials"])
def test_the_cli_refuses_other_unsafe_values_in_process(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path,
        override: dict[str, str], named: str) -> None:
    from signaling.cli import main

    for k in [k for k in os.environ if k.startswith("TIAOJIE_")]:
        monkeypatch.delenv(k)
    for k, v in {**SAFE, **override, "TIAOJIE_DATA_DIR": str(tmp_path)}.items():
        monkeypatch.setenv(k, v)
    assert main(["serve", "--port", str(free_port())]) == 2
    err = capsys.readouterr().err
    assert "refusing to start" in err and named in err, err


def test_production_with_everything_wrong_names_every_setting(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        tmp_path: Path) -> None:
    from signaling.cli import main

    for k in [k for k in os.environ if k.startswith("TIAOJIE_")]:
        monkeypatch.delenv(k)
    monkeypatch.setenv("TIAOJIE_ENV", "production")
    monkeypatch.setenv("TIAOJIE_DATA_DIR", str(tmp_path))
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    for name in ("TIAOJIE_SECRET_KEY", "TIAOJIE_BEHIND_TLS", "TIAOJIE_PUBLIC_URL",
                 "TIAOJIE_DATABASE_URL", "TIAOJIE_NOTIFY_SENDER"):
        assert name in err, err
