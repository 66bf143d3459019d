"""Packets a hostile client can send that the fuzzer's client library would not: events
named like the lifecycle callbacks, and payloads nested too deep to decode."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from tests.signaling.harness import Client, running_server
from tests.signaling.test_join_flow import full_room

pytestmark = pytest.mark.slow


async def chat_reaches(sender: Client, receiver: Client, text: str) -> None:
    ack = await sender.call("chat", {"text": text})
    assert ack["ok"], ack
    await receiver.wait_for("chat", lambda d: d.get("text") == text)


async def test_a_payload_nested_too_deep_to_decode_drops_only_that_packet(
        tmp_path: Path) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path / 't.db'}"
    async with running_server(db, tmp_path) as srv, aiohttp.ClientSession() as http:
        room = await full_room(srv, http)
        for depth in (5_000, 100_000):
            # A raw Socket.IO EVENT packet with an ack id; python-socketio cannot decode
            # it (RecursionError), so no ack comes, but nothing else may break.
            await room.a.sio.eio.send('4277["chat",' + "[" * depth + "]" * depth + "]")
        # The server reads one connection in order: an answer to a later event means the
        # bad packets were dealt with and the connection outlived them.
        assert (await room.a.call("state"))["ok"]
        assert room.a.sio.connected
        await chat_reaches(room.a, room.b, "我还在")
        await chat_reaches(room.b, room.med, "我也在")


async def test_events_named_connect_or_disconnect_are_refused_and_change_no_seat(
        tmp_path: Path) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path / 't.db'}"
    async with running_server(db, tmp_path, reconnect_grace_s=0.5) as srv, \
            aiohttp.ClientSession() as http:
        room = await full_room(srv, http)
        ack = await room.a.sio.call("disconnect", "client disconnect", timeout=5)
        assert ack["error"]["code"] == "unknown_event"
        inv = await room.staff.invite(room.session_id, side="B")
        forged = {"invite": inv["token"], "name": "冒名", "consent": True}
        ack = await room.a.sio.call("connect", ({}, forged), timeout=5)
        assert ack["error"]["code"] == "unknown_event"
        # The acks above say the gate refused both before any handler ran, so no
        # disconnect was handled: the seat is connected now, not a grace period later.
        st, state = await room.staff.call("GET", f"/api/v1/sessions/{room.session_id}")
        assert st == 200
        seated = {p["name"]: p["connected"] for p in state["participants"]}
        assert seated.get("张三") is True, seated
        assert not state["lobby"], state["lobby"]
        assert (await room.a.call("state"))["name"] == "张三"
        await chat_reaches(room.a, room.b, "还是我")


async def test_the_expert_console_refuses_events_named_connect_or_disconnect(
        tmp_path: Path) -> None:
    from tests.experts.kit import expert_server, office, open_console

    db = f"sqlite+aiosqlite:///{tmp_path / 't.db'}"
    async with expert_server(db, tmp_path) as srv, aiohttp.ClientSession() as http:
        o = await office(srv, http, 1)
        console = await open_console(srv.url, o.experts[0].token)

        async def online() -> list[str]:
            st, found = await o.mediator.call("GET", "/api/v1/experts?status=online")
            assert st == 200, found
            return [e["id"] for e in found["items"]]

        assert await online() == [console.expert_id]
        # Sent as EVENT packets from a connected console: the lifecycle handlers would
        # drop the expert's presence (or re-run the login) while the socket stays open.
        ack = await console.sio.call("disconnect", "client disconnect",
                                     namespace="/experts", timeout=5)
        assert ack["error"]["code"] == "unknown_event", ack
        ack = await console.sio.call("connect", ({}, {"token": o.mediator.token}),
                                     namespace="/experts", timeout=5)
        assert ack["error"]["code"] == "unknown_event", ack
        assert console.sio.connected
        assert await online() == [console.expert_id]
        # Still online in the one sense that matters: a ring reaches the console.
        med = await o.mediator_in()
        assert (await med.call("expert_call", {"domain": "property", "scope": "joint"}))["ok"]
        await console.wait_for("ring")
