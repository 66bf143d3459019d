"""Two server nodes sharing PostgreSQL and Redis: the draft, its versions and the signing
round are one, whichever node a participant is connected to."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from tests.conftest import REDIS_URL
from tests.signaling.harness import connect, login, make_user, running_server

from .room_helpers import DocRoom, agreement_data, learn_invites, open_signing, sign_as

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]


async def test_a_party_on_the_other_node_sees_the_draft_and_signs_it(
        pg_database: str, redis_prefix: str, tmp_path: Path) -> None:
    async with running_server(pg_database, tmp_path, redis_url=REDIS_URL,
                              redis_prefix=redis_prefix) as n1, \
            running_server(pg_database, tmp_path, redis_url=REDIS_URL,
                           redis_prefix=redis_prefix) as n2, \
            aiohttp.ClientSession() as http:
        await make_user(n1, "li")
        await make_user(n1, "qian", role="clerk")
        staff = await login(n1, http, "li")
        _, session_id = await staff.new_session()
        med = await connect(n1.url, {"token": staff.token, "session_id": session_id})
        clerk = await connect(n2.url, {"token": (await login(n2, http, "qian")).token,
                                       "session_id": session_id})
        a = await connect(n2.url, {"invite": (await staff.invite(session_id, side="A"))["token"],
                                   "name": "张三", "consent": True})
        b = await connect(n1.url, {"invite": (await staff.invite(session_id, side="B"))["token"],
                                   "name": "李四", "consent": True})
        for p in (a, b):
            assert (await med.call("admit", {"participant_id": p.pid}))["ok"]
            await p.wait_for("admitted")
        r = DocRoom(med, a, b, staff, session_id, await login(n1, http, "qian"), clerk,
                    tmp_path / "outbox")
        await learn_invites(n1, r)

        made = await med.call("draft_create", {"kind": "agreement", "data": agreement_data(r)})
        assert made["ok"], made
        await a.wait_for("draft", lambda d: d["draft_id"] == made["draft_id"])
        opened = await open_signing(r, made["draft_id"])
        # A signs on node 2 while B signs on node 1; both count, and both nodes tell.
        assert (await sign_as(r, a.pid, opened["ceremony_id"], opened["digest"]))["ok"]
        assert (await sign_as(r, b.pid, opened["ceremony_id"], opened["digest"]))["ok"]
        await med.wait_for("signature", lambda d: d["event"] == "signed"
                           and d["signer_id"] == a.pid)
        seen = await a.wait_for("signature", lambda d: d["event"] == "signed"
                                and d["signer_id"] == b.pid)
        assert seen["missing"] == ["mediator"]
        # An edit on node 1 voids both signatures for everyone, on both nodes.
        edited = await med.call("draft_edit", {"draft_id": made["draft_id"], "base_version": 1,
                                               "data": agreement_data(r, facts="漏水三周。")})
        assert sorted(edited["voided_signatures"]) == sorted([a.pid, b.pid])
        await a.wait_for("signature", lambda d: d["event"] == "voided")
        await clerk.wait_for("draft", lambda d: d["version"] == 2)
