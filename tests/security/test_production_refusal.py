"""``TIAOJIE_ENV=production`` refuses to start with an unsafe setting and names it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import free_port

# The in-process runs of the CLI set up the process's logging: undo it after each test.
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("restore_logging")]

STRONG = "k" * 24 + "-0123456789abcdef"
TURN = "t" * 24 + "-0123456789abcdef"
DB_PASSWORD = "d" * 24 + "-0123456789abcdef"
ROOT = Path(__file__).resolve().parents[2]
SAFE = {
    "TIAOJIE_ENV": "production",
    "TIAOJIE_SECRET_KEY": STRONG,
    "TIAOJIE_BEHIND_TLS": "true",
    "TIAOJIE_TRUSTED_PROXIES": '["172.28.0.10"]',
    "TIAOJIE_PUBLIC_URL": "https://tiaojie.example.cn",
    "TIAOJIE_DATABASE_URL": f"postgresql+asyncpg://tiaojie:{DB_PASSWORD}@127.0.0.1:1/never",
    "TIAOJIE_TURN_SECRET": TURN,
    "TIAOJIE_SEAL_PKCS12": "(made by the seal_outside_the_data fixture)",
    "TIAOJIE_NOTIFY_SENDER": "smtp",
    "TIAOJIE_SMTP_HOST": "127.0.0.1",
    "TIAOJIE_SMTP_FROM": "tiaojie@example.cn",
}
NAMED = {"TIAOJIE_SECRET_KEY", "TIAOJIE_BEHIND_TLS", "TIAOJIE_PUBLIC_URL",
         "TIAOJIE_DATABASE_URL", "TIAOJIE_TURN_SECRET", "TIAOJIE_TRUSTED_PROXIES",
         "TIAOJIE_SEAL_PKCS12", "TIAOJIE_METRICS_TOKEN",
         "TIAOJIE_SMTP_HOST", "TIAOJIE_SMTP_FROM"}


def env_example() -> dict[str, str]:
    """The placeholder values an operator copies from ``.env.example``."""
    out = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            k, v = line.split("=", 1)
            out[k.strip()] = v.strip()
    return out


@pytest.fixture(autouse=True)
def seal_outside_the_data(tmp_path_factory: pytest.TempPathFactory,
                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The seal file lives outside every test's data directory, as production requires
    (its content is not read before start-up)."""
    path = tmp_path_factory.mktemp("seal") / "seal.p12"
    path.write_bytes(b"x")
    monkeypatch.setitem(SAFE, "TIAOJIE_SEAL_PKCS12", str(path))


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
    # Only the wrong setting is named, and no secret is ever printed.
    others = NAMED - {named}
    assert not any(o in out.stderr for o in others), out.stderr
    for secret in (STRONG, TURN, DB_PASSWORD):
        assert secret not in out.stderr + out.stdout
    assert "Traceback" not in out.stderr


EXAMPLE = env_example()
INSIDE_DATA = "{data}/seal.p12"
"""A seal file inside the data directory (the test fills in its data directory)."""


@pytest.mark.parametrize("override, named", [
    ({"TIAOJIE_SECRET_KEY": "tiaojie-development-secret-change-me"}, "TIAOJIE_SECRET_KEY"),
    ({"TIAOJIE_SECRET_KEY": "short-secret"}, "TIAOJIE_SECRET_KEY"),
    ({"TIAOJIE_SECRET_KEY": EXAMPLE["TIAOJIE_SECRET_KEY"]}, "TIAOJIE_SECRET_KEY"),
    ({"TIAOJIE_PUBLIC_URL": "http://tiaojie.example.cn"}, "TIAOJIE_PUBLIC_URL"),
    ({"TIAOJIE_TURN_SECRET": ""}, "TIAOJIE_TURN_SECRET"),
    ({"TIAOJIE_TURN_SECRET": EXAMPLE["TIAOJIE_TURN_SECRET"]}, "TIAOJIE_TURN_SECRET"),
    ({"TIAOJIE_TURN_SECRET": "change-me-" + "x" * 40}, "TIAOJIE_TURN_SECRET"),
    ({"TIAOJIE_DATABASE_URL": "postgresql+asyncpg://tiaojie@db:5432/tiaojie"},
     "TIAOJIE_DATABASE_URL"),
    ({"TIAOJIE_DATABASE_URL":
      f"postgresql+asyncpg://tiaojie:{EXAMPLE['POSTGRES_PASSWORD']}@db:5432/tiaojie"},
     "TIAOJIE_DATABASE_URL"),
    ({"TIAOJIE_TRUSTED_PROXIES": "[]"}, "TIAOJIE_TRUSTED_PROXIES"),
    ({"TIAOJIE_SEAL_PKCS12": ""}, "TIAOJIE_SEAL_PKCS12"),
    ({"TIAOJIE_SEAL_PKCS12": "/nonexistent/seal.p12"}, "TIAOJIE_SEAL_PKCS12"),
    ({"TIAOJIE_SEAL_PKCS12": INSIDE_DATA}, "TIAOJIE_SEAL_PKCS12"),
    ({"TIAOJIE_METRICS_TOKEN": "scrape"}, "TIAOJIE_METRICS_TOKEN"),
    # The file outbox would leave every signing code readable on the server's disk.
    ({"TIAOJIE_NOTIFY_SENDER": "outbox"}, "TIAOJIE_NOTIFY_SENDER"),
    ({"TIAOJIE_NOTIFY_SENDER": "aliyun"}, "TIAOJIE_ALIYUN_ACCESS_KEY_SECRET"),
], ids=["explicit-default-secret", "short-secret", "env-example-secret", "http-url",
        "empty-turn-secret", "env-example-turn-secret", "placeholder-turn-secret",
        "no-database-password", "env-example-database-password", "no-trusted-proxy",
        "development-seal", "missing-seal-file", "seal-in-the-data-directory",
        "short-metrics-token", "file-outbox", "aliyun-without-credentials"])
def test_the_cli_refuses_other_unsafe_values_in_process(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path,
        override: dict[str, str], named: str) -> None:
    from signaling.cli import main

    for k in [k for k in os.environ if k.startswith("TIAOJIE_")]:
        monkeypatch.delenv(k)
    if override.get("TIAOJIE_SEAL_PKCS12") == INSIDE_DATA:
        (tmp_path / "seal.p12").write_bytes(b"x")
        override = {"TIAOJIE_SEAL_PKCS12": str(tmp_path / "seal.p12")}
    for k, v in {**SAFE, **override, "TIAOJIE_DATA_DIR": str(tmp_path)}.items():
        if v:
            monkeypatch.setenv(k, v)
        else:
            monkeypatch.delenv(k, raising=False)
    assert main(["serve", "--port", str(free_port())]) == 2
    err = capsys.readouterr().err
    assert "refusing to start" in err and named in err, err
    assert not any(o in err for o in NAMED - {named}), err
    for secret in (STRONG, TURN, DB_PASSWORD, EXAMPLE["POSTGRES_PASSWORD"]):
        assert secret not in err


def test_every_placeholder_of_env_example_is_refused(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        tmp_path: Path) -> None:
    """An operator who copies .env.example and changes nothing does not start."""
    from signaling.cli import main

    for k in [k for k in os.environ if k.startswith("TIAOJIE_")]:
        monkeypatch.delenv(k)
    copied = {k: v for k, v in EXAMPLE.items() if k.startswith("TIAOJIE_")}
    copied["TIAOJIE_DATABASE_URL"] = (f"postgresql+asyncpg://tiaojie:"
                                      f"{EXAMPLE['POSTGRES_PASSWORD']}@postgres:5432/tiaojie")
    for k, v in {**SAFE, **copied, "TIAOJIE_DATA_DIR": str(tmp_path)}.items():
        monkeypatch.setenv(k, v)
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    for name in ("TIAOJIE_SECRET_KEY", "TIAOJIE_TURN_SECRET", "TIAOJIE_DATABASE_URL"):
        assert name in err, err


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
                 "TIAOJIE_DATABASE_URL", "TIAOJIE_TURN_SECRET", "TIAOJIE_SEAL_PKCS12",
                 "TIAOJIE_NOTIFY_SENDER"):
        assert name in err, err
