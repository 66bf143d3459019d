"""Experts shared across a city (issue 15, item 6): an office that calls the city's experts
(``use_city_experts``) sees and rings the experts of the other offices of the same city
that lend theirs (``share_experts``), labelled with their office; the lent expert joins the
call, the time ledger books the visit to the calling office, and the expert's home office
sees the time its experts gave. Not sharing, another city, and sharing withdrawn between
the directory and the ring (or between the ring and the answer) are refused."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select, update

from experts.tables import ExpertVisit
from signaling.db.models import Office
from tests.experts.kit import ALWAYS, Console, expert_server, office, open_console
from tests.experts.kit import Office as Home
from tests.signaling.harness import Server, Staff, connect, login, make_user

pytestmark = pytest.mark.slow

HOME = "长宁区北新泾街道人民调解委员会"
"""The office ``tests.experts.kit.office`` builds (mediator li, admin boss)."""
LENDER = "长宁区新泾镇人民调解委员会"
KEEPER = "长宁区程家桥街道人民调解委员会"
"""Same city, lends nothing."""
FAR = "杭州市西湖区人民调解委员会"
"""Lends its experts, in another city."""


async def configure(srv: Server, name: str, **values: Any) -> None:
    async with srv.services.db.session() as db:
        await db.execute(update(Office).where(Office.name == name).values(**values))
        await db.commit()


async def outside_expert(srv: Server, http: aiohttp.ClientSession, office_name: str,
                         prefix: str, domain: str = "property") -> tuple[Staff, Staff, str]:
    """An administrator and an expert of ``office_name``; returns them and the profile id."""
    await make_user(srv, f"{prefix}-adm", "admin", office=office_name)
    await make_user(srv, f"{prefix}-exp", "expert", office=office_name)
    adm = await login(srv, http, f"{prefix}-adm")
    exp = await login(srv, http, f"{prefix}-exp")
    st, prof = await adm.call("POST", "/api/v1/experts", {
        "user_id": exp.user["id"], "domains": [domain], "phone": "13900139000",
        "organisation": "市律师协会", "availability": ALWAYS})
    assert st == 201, prof
    return adm, exp, str(prof["id"])


async def listed(o: Home) -> dict[str, dict[str, Any]]:
    st, out = await o.mediator.call("GET", "/api/v1/experts")
    assert st == 200, out
    return {x["id"]: x for x in out["items"]}


async def named_call(o: Home, expert_id: str, domain: str = "property") -> dict[str, Any]:
    assert o.med is not None
    return dict(await o.med.call("expert_call", {"domain": domain, "scope": "joint",
                                                 "expert_id": expert_id}))


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


async def ledger_csv(http: aiohttp.ClientSession, srv: Server, who: Staff) -> list[dict[str, str]]:
    async with http.get(f"{srv.url}/api/v1/expert-ledger.csv",
                        headers={"Authorization": f"Bearer {who.token}"}) as r:
        assert r.status == 200
        return csv_rows(await r.text())


async def test_a_lent_expert_is_listed_rung_joins_and_is_booked_to_the_calling_office(
        database_url: str, tmp_path: Path) -> None:
    async with expert_server(database_url, tmp_path) as srv, aiohttp.ClientSession() as http:
        o = await office(srv, http, 1)
        lender_adm, lent, lent_id = await outside_expert(srv, http, LENDER, "xj", "medical")
        await configure(srv, HOME, city="上海市", use_city_experts=True)
        await configure(srv, LENDER, city="上海市", share_experts=True)

        # The directory: own experts first, the lent one labelled with its office; its
        # phone masked even for the calling office's administrator.
        found = await listed(o)
        assert list(found)[0] == o.profiles[0]["id"] and not found[o.profiles[0]["id"]]["lent"]
        assert found[lent_id]["lent"] is True and found[lent_id]["office_name"] == LENDER
        assert found[lent_id]["phone"] == "139****9000"
        st, out = await o.admin.call("GET", "/api/v1/experts?domain=medical")
        assert [x["id"] for x in out["items"]] == [lent_id]
        assert out["items"][0]["phone"] == "139****9000"
        # Editing stays with the expert's own office.
        st, out = await o.admin.call("PATCH", f"/api/v1/experts/{lent_id}", {"region": "x"})
        assert st == 404 and out["error"]["code"] == "expert_not_found"

        # A call by domain alone rings the lent expert (the only one in that domain).
        med = await o.mediator_in()
        con: Console = await open_console(srv.url, lent.token)
        ack = await med.call("expert_call", {"domain": "medical", "scope": "joint"})
        assert ack["ok"], ack
        call_id = ack["call"]["call_id"]
        ring = await con.wait_for("ring", lambda d: d["call_id"] == call_id)
        assert ring["office_name"] == HOME  # who is calling, since it is not their office
        acc = await con.call("accept", {"call_id": call_id})
        assert acc["ok"], acc
        ex = await connect(srv.url, {"resume": acc["grant"]["token"]})
        await med.wait_for("expert_call_state", lambda d: d["call_id"] == call_id
                           and d["state"] == "joined")
        assert (await med.call("expert_call_end", {"call_id": call_id}))["ok"]
        await ex.wait_for("removed")

        # The ledger: the visit is the calling office's ...
        async with srv.services.db.session() as db:
            visit = (await db.execute(select(ExpertVisit).where(
                ExpertVisit.call_id == call_id))).scalar_one()
        assert visit.office_id == o.mediator.user["office_id"] and visit.expert_id == lent_id
        rows = await ledger_csv(http, srv, o.admin)
        assert [(r["expert_id"], r["served_office"], r["expert_office"]) for r in rows] == [
            (lent_id, HOME, LENDER)]
        # ... and the home office sees the time its expert gave to another office.
        rows = await ledger_csv(http, srv, lender_adm)
        assert [(r["expert_id"], r["served_office"], r["expert_office"]) for r in rows] == [
            (lent_id, HOME, LENDER)]
        st, led = await lender_adm.call("GET", f"/api/v1/experts/{lent_id}/ledger")
        assert st == 200 and [v["office_id"] for v in led["items"]] == [
            o.mediator.user["office_id"]]
        assert led["total_minutes"] == visit.minutes >= 1
        st, led = await lent.call("GET", f"/api/v1/experts/{lent_id}/ledger")
        assert st == 200 and len(led["items"]) == 1
        # The dashboard counts the minutes where the help was given, not twice.
        await make_user(srv, "head", "head")
        head = await login(srv, http, "head")
        st, stats = await head.call("GET", "/api/v1/statistics")
        assert st == 200 and {c["key"]: c["count"] for c in stats["expert_minutes"]} == {
            "medical": visit.minutes}


async def test_not_sharing_another_city_and_not_asking_are_refused(
        database_url: str, tmp_path: Path) -> None:
    async with expert_server(database_url, tmp_path) as srv, aiohttp.ClientSession() as http:
        o = await office(srv, http, 1)
        _, keeper, keeper_id = await outside_expert(srv, http, KEEPER, "cj")
        _, far, far_id = await outside_expert(srv, http, FAR, "xh")
        _, lent, lent_id = await outside_expert(srv, http, LENDER, "xj")
        await configure(srv, HOME, city="上海市", use_city_experts=True)
        await configure(srv, KEEPER, city="上海市", share_experts=False)
        await configure(srv, FAR, city="杭州市", share_experts=True)
        await configure(srv, LENDER, city="上海市", share_experts=True)
        await o.mediator_in()
        consoles = {i: await open_console(srv.url, s.token)
                    for i, s in ((keeper_id, keeper), (far_id, far), (lent_id, lent))}

        found = await listed(o)
        assert lent_id in found and keeper_id not in found and far_id not in found
        for expert_id in (keeper_id, far_id):
            ack = await named_call(o, expert_id)
            assert ack["error"]["code"] == "expert_not_found", ack
        # A call by domain rings our own expert and the lent one, never the others.
        assert o.med is not None
        ack = await o.med.call("expert_call", {"domain": "property", "scope": "joint"})
        call_id = ack["call"]["call_id"]
        await consoles[lent_id].wait_for("ring", lambda d: d["call_id"] == call_id)
        for expert_id in (keeper_id, far_id):
            out = await consoles[expert_id].call("accept", {"call_id": call_id})
            assert out["error"]["code"] == "call_not_found", out
            assert consoles[expert_id].received("ring") == []
        assert (await o.med.call("expert_call_end", {"call_id": call_id}))["ok"]

        # An office that does not call the city's experts sees none, even lent ones.
        await configure(srv, HOME, use_city_experts=False)
        assert lent_id not in await listed(o)
        assert (await named_call(o, lent_id))["error"]["code"] == "expert_not_found"
        # Nor does an office with no city, whatever its switch says.
        await configure(srv, HOME, city="", use_city_experts=True)
        assert lent_id not in await listed(o)


async def test_sharing_withdrawn_after_the_directory_or_the_ring_is_refused(
        database_url: str, tmp_path: Path) -> None:
    async with expert_server(database_url, tmp_path) as srv, aiohttp.ClientSession() as http:
        o = await office(srv, http, 1)
        _, lent, lent_id = await outside_expert(srv, http, LENDER, "xj")
        await configure(srv, HOME, city="上海市", use_city_experts=True)
        await configure(srv, LENDER, city="上海市", share_experts=True)
        await o.mediator_in()
        con = await open_console(srv.url, lent.token)
        assert lent_id in await listed(o)
        # Withdrawn between the directory and the ring: the named call is refused.
        await configure(srv, LENDER, share_experts=False)
        assert (await named_call(o, lent_id))["error"]["code"] == "expert_not_found"
        assert con.received("ring") == []
        # Withdrawn between the ring and the answer: the answer is refused.
        await configure(srv, LENDER, share_experts=True)
        ack = await named_call(o, lent_id)
        assert ack["ok"], ack
        call_id = ack["call"]["call_id"]
        await con.wait_for("ring", lambda d: d["call_id"] == call_id)
        await configure(srv, LENDER, share_experts=False)
        for event in ("accept", "decline"):
            out = await con.call(event, {"call_id": call_id})
            assert out["error"]["code"] == "call_not_found", (event, out)
        async with srv.services.db.session() as db:
            assert (await db.execute(select(ExpertVisit))).first() is None
