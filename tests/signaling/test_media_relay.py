"""Signaling and the SFU together: offers through Socket.IO, caucus privacy in the media."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from tests.signaling.harness import connect, eventually, login, make_user, running_server
from tests.signaling.rtc_bot import RtcBot

pytestmark = pytest.mark.slow



async def test_parties_hear_each_other_and_a_caucus_silences_the_other_side(
        tmp_path: Path) -> None:
    async with running_server(f"sqlite+aiosqlite:///{tmp_path}/t.db", tmp_path,
                              media=True) as srv, aiohttp.ClientSession() as http:
        await make_user(srv, "li")
        staff = await login(srv, http, "li")
        _, session_id = await staff.new_session()
        med = await connect(srv.url, {"token": staff.token, "session_id": session_id})
        a = await connect(srv.url, {"invite": (await staff.invite(session_id, side="A"))["token"],
                                    "name": "张三", "consent": True})
        b = await connect(srv.url, {"invite": (await staff.invite(session_id, side="B"))["token"],
                                    "name": "李四", "consent": True})
        for p in (a, b):
            assert (await med.call("admit", {"participant_id": p.pid}))["ok"]
            await p.wait_for("admitted")
        bots = {c.pid: RtcBot(c, tone=c is a) for c in (med, a, b)}
        try:
            for bot in bots.values():
                await bot.publish()
            bot_b, bot_med = bots[b.pid], bots[med.pid]
            await eventually(lambda: bot_b.energy_from(a.pid) > 1.0
                             and bot_med.energy_from(a.pid) > 1.0)
            # The mediator takes side A into a caucus: B must receive nothing from A.
            cid = (await med.call("caucus_create", {"name": "甲方", "members": [a.pid]}))[
                "caucus_id"]
            assert (await med.call("caucus_move", {"participant_id": med.pid,
                                                   "caucus_id": cid}))["ok"]
            # A's own audio is the clock (20 ms frames): packets sent before the move have
            # landed once the mediator has had a second of A since; then, for the next
            # three seconds of A that the mediator hears, B must hear nothing of A.
            def heard(bot: RtcBot) -> int:
                return bot.frames.get(a.pid, 0)

            moved = heard(bot_med)
            await eventually(lambda: heard(bot_med) >= moved + 50)
            before_b, before_med = bot_b.energy_from(a.pid), heard(bot_med)
            await eventually(lambda: heard(bot_med) >= before_med + 150)
            assert bot_b.energy_from(a.pid) - before_b == 0.0
            # Back to the joint session: B hears A again.
            assert (await med.call("caucus_end", {"caucus_id": cid}))["ok"]
            after = bot_b.energy_from(a.pid)
            await eventually(lambda: bot_b.energy_from(a.pid) > after + 1.0)
            # A hostile SDP hurts only its sender.
            ack = await b.call("signal", {"type": "offer", "sdp": "v=0\r\nthis is not sdp"})
            assert ack["ok"] is False and ack["error"]["code"] in ("bad_sdp", "bad_message"), ack
            mark = bot_med.energy_from(a.pid)
            await eventually(lambda: bot_med.energy_from(a.pid) > mark + 1.0)
        finally:
            for bot in bots.values():
                await bot.close()
