"""docker-compose.yml checked without a Docker engine: structure, references, and that
every Tiaojie command and setting in it is one the code knows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from signaling.cli import parser
from signaling.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def compose() -> dict[str, Any]:
    return dict(yaml.safe_load((ROOT / "docker-compose.yml").read_text()))


def test_the_topology_has_every_role_twice_and_the_shared_services() -> None:
    services = compose()["services"]
    commands = {name: s.get("command", []) for name, s in services.items()}
    roles = [c[1] for c in commands.values() if c and c[0] == "tiaojie"]
    assert roles.count("serve") == 2 and roles.count("media") == 2
    assert sum(1 for c in commands.values() if c[1:3] == ["worker", "transcription"]) == 2
    assert {"postgres", "redis", "coturn", "proxy"} <= set(services)


def test_references_resolve_and_every_long_running_service_has_a_health_check() -> None:
    doc = compose()
    services = doc["services"]
    for name, s in services.items():
        for dep in s.get("depends_on", {}):
            assert dep in services, (name, dep)
        for vol in s.get("volumes", []):
            src = vol.split(":", 1)[0]
            if not src.startswith((".", "/")):
                assert src in doc["volumes"], (name, src)
        assert "image" in s or "build" in s, name
        if (s.get("command") or [""])[:2] != ["tiaojie", "worker"] and name != "coturn":
            assert "healthcheck" in s, name


def test_every_tiaojie_command_parses_and_every_setting_exists() -> None:
    fields = {f"TIAOJIE_{k.upper()}" for k in Settings.model_fields}
    for name, s in compose()["services"].items():
        cmd = s.get("command") or []
        if cmd and cmd[0] == "tiaojie":
            parser().parse_args(cmd[1:])
        for key in (s.get("environment") or {}):
            if key.startswith("TIAOJIE_"):
                assert key in fields, (name, key)
    for line in (ROOT / ".env.example").read_text().splitlines():
        key = line.split("=", 1)[0]
        if key.startswith("TIAOJIE_"):
            assert key in fields, key
