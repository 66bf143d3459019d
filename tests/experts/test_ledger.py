"""The time ledger: a line per visit, minutes credited, totals that add up, CSV exports
per expert and per period, and the mediator's rating."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select, update

from experts.ledger import credited_minutes
from experts.tables import ExpertVisit
from tests.experts.kit import Office, expert_server, office, open_console
from tests.signaling.harness import connect, login, make_user

# Each test runs a whole server (and often PostgreSQL) with several consoles: seconds.
pytestmark = pytest.mark.slow

T0 = datetime(2026, 10, 1, 1, 0, tzinfo=UTC)


def test_minutes_are_rounded_up_and_a_moment_counts_as_one() -> None:
    assert credited_minutes(T0, T0) == 1
    assert credited_minutes(T0, T0 + timedelta(seconds=60)) == 1
    assert credited_minutes(T0, T0 + timedelta(seconds=61)) == 2
    assert credited_minutes(T0, T0 + timedelta(hours=1)) == 60


async def serve(o: Office, expert: int) -> str:
    """One complete call: ring, accept, join, end. Returns the call id."""
    assert o.med is not None
    con = await open_console(o.srv.url, o.experts[expert].token)
    ack = await o.med.call("expert_call", {"domain": "property", "scope": "joint",
                                           "expert_id": o.profiles[expert]["id"]})
    call_id = ack["call"]["call_id"]
    await con.wait_for("ring", lambda d: d["call_id"] == call_id)
    grant = (await con.call("accept", {"call_id": call_id}))["grant"]
    ex = await connect(o.srv.url, {"resume": grant["token"]})
    await o.med.wait_for("expert_call_state", lambda d: d["call_id"] == call_id
                         and d["state"] == "joined")
    assert (await o.med.call("expert_call_end", {"call_id": call_id}))["ok"]
    await ex.wait_for("removed")
    await con.close()
    return str(call_id)


def csv_rows(text: str) -> list[dict[str, str]]:
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


async def test_the_ledger_adds_up_per_expert_and_per_period(database_url: str,
                                                             tmp_path: Path) -> None:
    async with expert_server(database_url, tmp_path) as srv, aiohttp.ClientSession() as http:
        o = await office(srv, http, 2)
        await o.mediator_in()
        calls = [await serve(o, i) for i in (0, 0, 0, 1, 1)]
        # Give the visits known times (a month of history) to check the sums exactly.
        lengths = [5, 12, 30, 7, 45]  # minutes
        async with srv.services.db.session() as db:
            for n, (cid, minutes) in enumerate(zip(calls, lengths, strict=True)):
                joined = T0 + timedelta(days=7 * n)
                await db.execute(update(ExpertVisit).where(ExpertVisit.call_id == cid).values(
                    joined_at=joined, left_at=joined + timedelta(minutes=minutes),
                    minutes=credited_minutes(joined, joined + timedelta(minutes=minutes))))
            await db.commit()
        e0, e1 = o.profiles[0]["id"], o.profiles[1]["id"]
        st, led = await o.admin.call("GET", f"/api/v1/experts/{e0}/ledger")
        assert st == 200 and [v["minutes"] for v in led["items"]] == [5, 12, 30]
        assert led["total_minutes"] == 47
        # The expert reads their own, in the same figures, as CSV too.
        async with http.get(f"{srv.url}/api/v1/experts/{e0}/ledger.csv",
                            headers={"Authorization": f"Bearer {o.experts[0].token}"}) as r:
            assert r.status == 200 and r.content_type == "text/csv"
            rows = csv_rows(await r.text())
        assert sum(int(x["minutes"]) for x in rows) == 47
        assert {x["case_number"] for x in rows} == {"(2026)长北调字第1号"}
        # A period: the 2nd to the 4th week holds visits 2, 3 and 4 (two experts).
        q = "from=2026-10-08&to=2026-10-23"
        async with http.get(f"{srv.url}/api/v1/expert-ledger.csv?{q}",
                            headers={"Authorization": f"Bearer {o.admin.token}"}) as r:
            rows = csv_rows(await r.text())
        assert [(x["expert_id"], int(x["minutes"])) for x in rows] == [
            (e0, 12), (e0, 30), (e1, 7)]
        st, led1 = await o.admin.call("GET", f"/api/v1/experts/{e1}/ledger?{q}")
        assert led1["total_minutes"] == 7
        st, bad = await o.admin.call("GET", f"/api/v1/experts/{e1}/ledger?from=yesterday")
        assert st == 400 and bad["error"]["code"] == "invalid_query"


async def test_the_mediator_rates_the_help_once(database_url: str, tmp_path: Path) -> None:
    async with expert_server(database_url, tmp_path) as srv, aiohttp.ClientSession() as http:
        o = await office(srv, http, 1)
        await o.mediator_in()
        first = await serve(o, 0)
        second = await serve(o, 0)
        st, c = await o.mediator.call("POST", f"/api/v1/expert-calls/{first}/rating",
                                      {"stars": 5, "comment": "很专业"})
        assert st == 200 and c["rating"] == 5
        st, err = await o.mediator.call("POST", f"/api/v1/expert-calls/{first}/rating",
                                        {"stars": 1})
        assert st == 409 and err["error"]["code"] == "already_rated"
        # Only the mediator who called rates (or an administrator).
        await make_user(srv, "wang")
        wang = await login(srv, http, "wang")
        st, err = await wang.call("POST", f"/api/v1/expert-calls/{second}/rating",
                                  {"stars": 1})
        assert st == 403 and err["error"]["code"] == "not_your_call"
        st, c = await o.admin.call("POST", f"/api/v1/expert-calls/{second}/rating",
                                   {"stars": 4})
        assert st == 200
        st, prof = await o.mediator.call("GET", f"/api/v1/experts/{o.profiles[0]['id']}")
        assert prof["rating"] == 4.5 and prof["rating_count"] == 2
        st, err = await o.mediator.call("POST", f"/api/v1/expert-calls/{first}/rating",
                                        {"stars": 9})
        assert st == 400
        # Help that never arrived is not rated.
        ack = await o.med.call("expert_call", {"domain": "medical"})  # type: ignore[union-attr]
        cid = ack["call"]["call_id"]
        await o.med.wait_for("expert_call_state",  # type: ignore[union-attr]
                             lambda d: d["call_id"] == cid and d["state"] == "expired")
        st, err = await o.mediator.call("POST", f"/api/v1/expert-calls/{cid}/rating",
                                        {"stars": 3})
        assert st == 409 and err["error"]["code"] == "nothing_to_rate"
        async with srv.services.db.session() as db:
            assert len(list((await db.execute(select(ExpertVisit))).scalars())) == 2
