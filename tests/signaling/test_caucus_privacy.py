"""Two caucuses at once: what is said in each reaches only its members, on every channel
the signaling server carries (chat, hands, evidence, the log, the layout of a scoped
participant). Media and captions have their own tests (test_media_relay.py,
tests/transcription/test_live_captions.py); drafts theirs (tests/agreements)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from tests.signaling.harness import login, make_user, running_server, settled
from tests.signaling.test_evidence import PNG, upload
from tests.signaling.test_join_flow import full_room


async def test_two_caucuses_keep_their_chat_hands_evidence_and_log_to_themselves(
        database_url: str, tmp_path: Path) -> None:
    async with running_server(database_url, tmp_path) as srv, aiohttp.ClientSession() as http:
        room = await full_room(srv, http)
        med, a, b = room.med, room.a, room.b
        ca = (await med.call("caucus_create", {"name": "甲方", "members": [a.pid]}))["caucus_id"]
        cb = (await med.call("caucus_create", {"name": "乙方", "members": [b.pid]}))["caucus_id"]
        assert (await med.call("caucus_move", {"participant_id": med.pid, "caucus_id": ca}))["ok"]
        await b.wait_for("layout", lambda d: len(d["caucuses"]) == 2)

        assert (await a.call("chat", {"text": "甲方底线三千"}))["ok"]
        assert (await b.call("chat", {"text": "乙方底线两千"}))["ok"]
        assert (await b.call("hand", {"raised": True}))["ok"]
        await med.wait_for("chat", lambda d: d["text"] == "甲方底线三千")
        st, ev = await upload(srv, http, room.session_id, a.welcome["resume_token"], PNG)
        assert (await med.call("evidence_show", {"evidence_id": ev["id"]}))["ok"]
        await a.wait_for("evidence")
        await b.wait_for("hand")
        await settled(a, med, b)  # anything misrouted has arrived by now

        def texts(c: object) -> set[str]:
            return {d["text"] for d in c.received("chat")}  # type: ignore[attr-defined]

        assert texts(a) == {"甲方底线三千"}
        assert texts(med) == {"甲方底线三千"}, "the mediator is in A's caucus, not B's"
        assert texts(b) == {"乙方底线两千"}
        assert not a.received("hand") and not med.received("hand")
        assert not b.received("evidence")

        # The log: the mediator reads both caucuses, a clerk reads neither.
        await make_user(srv, "zhou", role="clerk")
        clerk = await login(srv, http, "zhou")
        for _ in range(50):  # chat lines are written just behind the broadcast
            st, full = await room.staff.call("GET", f"/api/v1/sessions/{room.session_id}/events")
            logged = {e["payload"].get("text"): e["caucus_id"] for e in full["items"]
                      if e["kind"] == "chat"}
            if len(logged) == 2:
                break
            await asyncio.sleep(0.1)
        assert logged == {"甲方底线三千": ca, "乙方底线两千": cb}
        st, joint = await clerk.call("GET", f"/api/v1/sessions/{room.session_id}/events")
        assert not [e for e in joint["items"] if e["kind"] == "chat"]
        assert not [e for e in joint["items"] if e["caucus_id"] is not None]
