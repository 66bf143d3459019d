"""Nobody answers: the online tier times out, available experts are notified out of band,
the mediator is told at each step, and a call nobody takes expires."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import update

from experts import config, runtime, switchboard
from experts.notifier import LogNotifier
from experts.tables import ExpertProfile
from signaling.db.base import utcnow
from tests.experts.kit import expert_server, office, open_console

# Each test runs a whole server (and often PostgreSQL) with several consoles: seconds.
pytestmark = pytest.mark.slow


def board(srv: object) -> switchboard.Switchboard:
    return runtime.switchboard(srv.services)  # type: ignore[attr-defined]


async def test_nobody_answers_so_the_call_escalates_then_expires_and_the_mediator_is_told(
        database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(config, "RING_TIMEOUT_S", 0.3)
    monkeypatch.setattr(config, "ESCALATION_WAIT_S", 0.5)
    caplog.set_level(logging.INFO, logger="tiaojie.experts.notifier")
    async with expert_server(database_url, tmp_path) as srv, aiohttp.ClientSession() as http:
        o = await office(srv, http, 3)
        med = await o.mediator_in()
        online = [await open_console(srv.url, e.token) for e in o.experts[:2]]
        ack = await med.call("expert_call", {"domain": "property"})
        call_id = ack["call"]["call_id"]
        assert ack["call"]["ringing"] == 2
        for c in online:
            await c.wait_for("ring")
        esc = await med.wait_for("expert_call_state", lambda d: d["tier"] == "escalated")
        assert esc["no_answer"] == 2 and esc["notified"] == 1 and esc["state"] == "ringing"
        for c in online:
            await c.wait_for("ring_cancelled", lambda d: d["reason"] == "no_answer")
        end = await med.wait_for("expert_call_state", lambda d: d["state"] == "expired")
        assert end["end_reason"] == "no_answer"
        sent = board(srv).notifier
        assert isinstance(sent, LogNotifier)
        assert [n.expert_id for n in sent.sent] == [o.profiles[2]["id"]]
        assert sent.sent[0].phone == "13800130002"
        # The log names the expert but never the whole number.
        assert "13800130002" not in caplog.text and "138****0002" in caplog.text
        late = await online[0].call("accept", {"call_id": call_id})
        assert late["error"]["code"] == "call_expired"


async def test_when_everyone_declines_the_call_escalates_at_once(database_url: str,
                                                                 tmp_path: Path) -> None:
    async with expert_server(database_url, tmp_path) as srv, aiohttp.ClientSession() as http:
        o = await office(srv, http, 3)
        med = await o.mediator_in()
        online = [await open_console(srv.url, e.token) for e in o.experts[:2]]
        ack = await med.call("expert_call", {"domain": "property"})
        call_id = ack["call"]["call_id"]
        for c in online:
            await c.wait_for("ring")
            assert (await c.call("decline", {"call_id": call_id, "reason": "在开会"}))["ok"]
        # The ring time-out is 30 s here: escalation can only come from the declines.
        esc = await med.wait_for("expert_call_state", lambda d: d["tier"] == "escalated")
        assert esc["declined"] == 2 and esc["notified"] == 1
        # The notified expert opens the console, finds the call waiting and takes it.
        late = await open_console(srv.url, o.experts[2].token)
        assert [r["call_id"] for r in late.received("console")[0]["rings"]] == [call_id]
        won = await late.call("accept", {"call_id": call_id})
        assert won["ok"], won
        again = await online[0].call("accept", {"call_id": call_id})
        assert again["error"]["code"] == "already_taken"


async def test_a_call_every_expert_declines_ends_declined(database_url: str,
                                                         tmp_path: Path) -> None:
    async with expert_server(database_url, tmp_path) as srv, aiohttp.ClientSession() as http:
        o = await office(srv, http, 2, availability=[])
        med = await o.mediator_in()
        consoles = [await open_console(srv.url, e.token) for e in o.experts]
        ack = await med.call("expert_call", {"domain": "property"})
        call_id = ack["call"]["call_id"]
        for c in consoles:
            await c.wait_for("ring")
            assert (await c.call("decline", {"call_id": call_id}))["ok"]
        end = await med.wait_for("expert_call_state", lambda d: d["state"] == "declined")
        assert end["declined"] == 2 and end["end_reason"] == "declined"
        again = await consoles[0].call("decline", {"call_id": call_id})
        assert again["error"]["code"] == "call_declined"


async def test_with_nobody_online_or_available_the_call_expires_at_once(
        database_url: str, tmp_path: Path) -> None:
    async with expert_server(database_url, tmp_path) as srv, aiohttp.ClientSession() as http:
        o = await office(srv, http, 1, availability=[])
        med = await o.mediator_in()
        ack = await med.call("expert_call", {"domain": "property"})
        assert ack["call"]["ringing"] == 0
        end = await med.wait_for("expert_call_state", lambda d: d["state"] == "expired")
        assert end["notified"] == 0 and end["tier"] == "escalated"
        # A domain nobody covers is the same: no expert, told at once.
        ack = await med.call("expert_call", {"domain": "medical"})
        cid = ack["call"]["call_id"]
        await med.wait_for("expert_call_state", lambda d: d["call_id"] == cid
                           and d["state"] == "expired")


async def test_in_turns_rings_the_least_recently_called_first_one_at_a_time(
        database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIAOJIE_EXPERTS_STRATEGY", "turns")
    monkeypatch.setattr(config, "TURN_S", 30.0)  # only declines move the turn on
    async with expert_server(database_url, tmp_path) as srv, aiohttp.ClientSession() as http:
        o = await office(srv, http, 3, availability=[])
        # e1 was called longest ago, then e2; e0 just now.
        now = utcnow()
        async with srv.services.db.session() as db:
            for i, age in ((0, 1), (1, 300), (2, 60)):
                await db.execute(update(ExpertProfile).where(
                    ExpertProfile.id == o.profiles[i]["id"]).values(
                    last_call_at=now - timedelta(minutes=age)))
            await db.commit()
        med = await o.mediator_in()
        consoles = [await open_console(srv.url, e.token) for e in o.experts]
        ack = await med.call("expert_call", {"domain": "property"})
        call_id = ack["call"]["call_id"]
        order = []
        for _ in range(3):
            rung = [i for i, c in enumerate(consoles) if c.received("ring")
                    and i not in order]
            while not rung:
                await med.wait_for("expert_call_state")
                med.events.clear()
                rung = [i for i, c in enumerate(consoles) if c.received("ring")
                        and i not in order]
            assert len(rung) == 1, rung  # one at a time
            order.append(rung[0])
            # Declining hands the call to the next expert without waiting for the turn.
            assert (await consoles[rung[0]].call("decline", {"call_id": call_id}))["ok"]
        assert order == [1, 2, 0]
        await med.wait_for("expert_call_state", lambda d: d["state"] == "declined")
