from __future__ import annotations

from pathlib import Path

import aiohttp

from tests.experts.kit import expert_server, office, open_console
from tests.signaling.harness import connect


async def test_smoke(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 't.db'}"
    async with expert_server(url, tmp_path) as srv, aiohttp.ClientSession() as http:
        o = await office(srv, http, 1)
        med = await o.mediator_in()
        con = await open_console(srv.url, o.experts[0].token)
        ack = await med.call("expert_call", {"domain": "property", "scope": "consultation"})
        print(ack)
        assert ack["ok"], ack
        ring = await con.wait_for("ring")
        acc = await con.call("accept", {"call_id": ring["call_id"]})
        print(acc)
        assert acc["ok"], acc
        ex = await connect(srv.url, {"resume": acc["grant"]["token"]})
        print(ex.welcome)
        st = await med.wait_for("expert_call_state", lambda d: d["state"] == "joined")
        print(st)
