"""Malformed payloads for every Socket.IO event: each ack is ok or a clear error, and the
room lives on (the other party's chat still reaches everyone)."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from signaling.sockets.namespace import EVENTS
from tests.security.fuzzkit import FuzzRoom, SocketFuzzer, SocketStats, classify_ack
from tests.signaling.harness import login, make_user, running_server

pytestmark = pytest.mark.slow

PER_EVENT = 12
"""Payloads per event and round: valid, near-miss and garbage, from the model's schema."""


def test_acks_are_classified_strictly() -> None:
    assert classify_ack({"ok": True}) == "ok"
    assert classify_ack({"ok": False, "error": {"code": "invalid_payload",
                                                "message": "Invalid payload"}}) \
        == "invalid_payload"
    assert classify_ack({"ok": False, "error": {"code": "internal", "message": "x"}}) \
        == "internal"
    bad: object
    for bad in (None, [], {"ok": False}, {"ok": False, "error": {"code": "x"}}):
        assert classify_ack(bad) == "malformed"


async def test_every_event_survives_malformed_payloads_and_the_room_lives_on(
        tmp_path: Path) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path / 'fuzz.db'}"
    async with running_server(db, tmp_path) as srv, aiohttp.ClientSession() as http:
        await make_user(srv, "fuzzmed")
        staff = await login(srv, http, "fuzzmed")
        room = await FuzzRoom.open(srv.url, http, staff.token, "FUZZ-1")
        stats = SocketStats()
        survived = await SocketFuzzer(dict(EVENTS), stats).round(room, PER_EVENT)
        await room.close()
    assert survived and stats.crashed_rooms == 0, stats.findings
    assert stats.server_errors == 0, stats.findings
    assert set(stats.per_event) == set(EVENTS) | {"/:connect", "/:disconnect"}
    # Most payloads are refused with a named error; some valid ones get through.
    assert stats.outcomes["invalid_payload"] > 0 and stats.outcomes["ok"] > 0


async def test_every_expert_console_event_survives_malformed_payloads(tmp_path: Path) -> None:
    from experts.console import CONSOLE_EVENTS
    from tests.security.fuzzkit import CONSOLE_NAMESPACE, ConsoleFuzzer, FuzzConsole

    db = f"sqlite+aiosqlite:///{tmp_path / 'fuzz.db'}"
    async with running_server(db, tmp_path) as srv, aiohttp.ClientSession() as http:
        await make_user(srv, "boss", role="admin")
        await make_user(srv, "zhuanjia", role="expert")
        admin = await login(srv, http, "boss")
        expert = await login(srv, http, "zhuanjia")
        st, _ = await admin.call("POST", "/api/v1/experts",
                                 {"user_id": expert.user["id"], "domains": ["legal"]})
        assert st == 201
        console = await FuzzConsole.open(srv.url, expert.token)
        stats = SocketStats()
        survived = await ConsoleFuzzer(dict(CONSOLE_EVENTS), stats).round(console, PER_EVENT)
        await console.close()
    assert survived and stats.crashed_rooms == 0, stats.findings
    assert stats.server_errors == 0, stats.findings
    assert {f"{CONSOLE_NAMESPACE}:{e}" for e in CONSOLE_EVENTS} <= set(stats.per_event)
    assert stats.outcomes["unknown_event"] == 12  # connect and disconnect, six payloads each
    assert stats.outcomes["invalid_payload"] > 0
