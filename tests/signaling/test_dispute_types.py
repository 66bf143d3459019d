"""The office's dispute types as data, through the HTTP API on SQLite and PostgreSQL: the
seeded defaults, an office's own list (add, rename, reorder, deactivate) reaching its
application page and staff forms while another office keeps the defaults, a deactivated
type refused to new applications but still read on old cases and in the statistics,
validation with clear codes, and who is refused (office heads, who are not among the
authorization walk's callers, are walked here)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp

from tests.signaling.harness import Server, Staff, login, make_user, running_server
from tests.signaling.test_intake import ROOMY, plant_code, post_application, submit_application

OTHER = "赤峰市红山区人民调解委员会"
DEFAULT_NAMES = ["婚姻家庭纠纷", "邻里纠纷", "物业纠纷", "合同、债务纠纷", "劳动争议",
                 "损害赔偿纠纷", "房屋、土地纠纷", "消费纠纷", "其他纠纷"]


async def public(srv: Server, http: aiohttp.ClientSession, office_id: str
                 ) -> list[dict[str, Any]]:
    async with http.get(f"{srv.url}/api/v1/public/offices/{office_id}/dispute-types") as r:
        assert r.status == 200
        items: list[dict[str, Any]] = (await r.json())["items"]
    async with http.get(f"{srv.url}/api/v1/public/offices/{office_id}/apply") as r:
        assert (await r.json())["dispute_types"] == items  # the page offers the same list
    return items


async def people(srv: Server, http: aiohttp.ClientSession) -> dict[str, Staff]:
    for name, role in (("adm", "admin"), ("head", "head"), ("li", "mediator"),
                       ("clerk", "clerk"), ("exp", "expert")):
        await make_user(srv, name, role)
    await make_user(srv, "oadm", "admin", office=OTHER)
    return {u: await login(srv, http, u)
            for u in ("adm", "head", "li", "clerk", "exp", "oadm")}


async def test_an_office_keeps_its_own_list_of_dispute_types(database_url: str,
                                                             tmp_path: Path) -> None:
    async with running_server(database_url, tmp_path, rate_limits=ROOMY) as srv, \
            aiohttp.ClientSession() as http:
        s = await people(srv, http)
        office, other = s["adm"].user["office_id"], s["oadm"].user["office_id"]
        assert [t["name"] for t in await public(srv, http, office)] == DEFAULT_NAMES
        st, out = await s["li"].call("GET", "/api/v1/office/dispute-types")
        assert st == 200 and all(t["default"] and t["active"] for t in out["items"])

        # The head adds a type; the administrator renames, moves and deactivates others.
        st, added = await s["head"].call("POST", "/api/v1/office/dispute-types",
                                         {"name": "  拆迁 安置纠纷 "})
        assert st == 201 and added["name"] == "拆迁 安置纠纷" and added["position"] == 9, added
        assert added["key"].startswith("t_") and not added["default"]
        items = (await s["adm"].call("GET", "/api/v1/office/dispute-types"))[1]["items"]
        by_name = {t["name"]: t for t in items}
        assert not any(t["default"] for t in items)  # the office's own copy now
        st, out = await s["adm"].call("PATCH",
                                      f"/api/v1/office/dispute-types/{added['id']}",
                                      {"position": 0})
        assert st == 200 and out["position"] == 0
        st, out = await s["adm"].call(
            "PATCH", f"/api/v1/office/dispute-types/{by_name['物业纠纷']['id']}",
            {"name": "物业服务纠纷"})
        assert st == 200 and out["name"] == "物业服务纠纷"
        consumer = by_name["消费纠纷"]

        # An application of a type that is then deactivated keeps its name on the case.
        await plant_code(srv, "13800003333", "123456")
        await submit_application(srv, http, office, phone="13800003333", code="123456",
                                 dispute_type="consumer")
        st, out = await s["head"].call(
            "PATCH", f"/api/v1/office/dispute-types/{consumer['id']}", {"active": False})
        assert st == 200 and out["active"] is False
        names = [t["name"] for t in await public(srv, http, office)]
        assert names[0] == "拆迁 安置纠纷" and "物业服务纠纷" in names
        assert "消费纠纷" not in names and len(names) == 9
        st, out = await s["clerk"].call("GET", "/api/v1/office/dispute-types")
        assert [t["name"] for t in out["items"] if not t["active"]] == ["消费纠纷"]
        await plant_code(srv, "13800004444", "654321")
        st, err = await post_application(srv, http, office, {
            **(await _body("13800004444", "654321")), "dispute_type": "consumer"})
        assert (st, err["error"]["code"]) == (400, "dispute_type_invalid")
        await submit_application(srv, http, office, phone="13800004444", code="654321",
                                 dispute_type=added["key"])
        st, cases = await s["li"].call("GET", "/api/v1/cases")
        assert sorted(c["dispute_type"] for c in cases["items"]) == ["拆迁 安置纠纷", "消费纠纷"]
        st, stats = await s["head"].call("GET", "/api/v1/statistics")
        assert {x["key"] for x in stats["by_type"]} == {"拆迁 安置纠纷", "消费纠纷"}
        async with http.get(srv.url + "/api/v1/register.csv",
                            headers={"Authorization": f"Bearer {s['head'].token}"}) as r:
            register = (await r.read()).decode("utf-8-sig")
        assert r.status == 200 and "消费纠纷" in register and "拆迁 安置纠纷" in register

        # Reactivated, it is offered again. Another office still reads the defaults.
        st, out = await s["adm"].call(
            "PATCH", f"/api/v1/office/dispute-types/{consumer['id']}", {"active": True})
        assert st == 200 and "消费纠纷" in [t["name"] for t in await public(srv, http, office)]
        assert [t["name"] for t in await public(srv, http, other)] == DEFAULT_NAMES


async def _body(phone: str, code: str) -> dict[str, Any]:
    from tests.signaling.test_intake import application

    return application(phone, code)


async def test_bad_dispute_types_get_a_clear_answer(database_url: str, tmp_path: Path) -> None:
    async with running_server(database_url, tmp_path) as srv, aiohttp.ClientSession() as http:
        s = await people(srv, http)
        adm = s["adm"]
        path = "/api/v1/office/dispute-types"
        default_id = (await adm.call("GET", path))[1]["items"][0]["id"]
        body: dict[str, Any]
        for body, status, code in (
            ({"name": "   "}, 400, "dispute_type_name_empty"),
            ({"name": "纠" * 41}, 400, "dispute_type_name_too_long"),
            ({"name": "纠" * 201}, 400, "invalid_payload"),
            ({"name": "邻里纠纷"}, 409, "dispute_type_duplicate"),
            ({"name": "新类型", "key": "Bad Key"}, 400, "invalid_payload"),
            ({"name": "新类型", "key": "neighbour"}, 409, "dispute_type_duplicate"),
            ({"name": "新类型", "colour": "red"}, 400, "invalid_payload"),
        ):
            st, out = await adm.call("POST", path, body)
            assert (st, out["error"]["code"]) == (status, code), body
        st, own = await adm.call("POST", path, {"name": "纠" * 40, "key": "long_one"})
        assert st == 201 and own["key"] == "long_one"
        items = (await adm.call("GET", path))[1]["items"]
        neighbour = next(t for t in items if t["key"] == "neighbour")
        for body, status, code in (
            ({"name": "婚姻家庭纠纷"}, 409, "dispute_type_duplicate"),
            ({"name": ""}, 400, "dispute_type_name_empty"),
            ({"position": 10}, 400, "dispute_type_position"),
            ({"position": -1}, 400, "dispute_type_position"),
            ({"active": "maybe"}, 400, "invalid_payload"),
        ):
            st, out = await adm.call("PATCH", f"{path}/{neighbour['id']}", body)
            assert (st, out["error"]["code"]) == (status, code), body
        st, out = await adm.call("PATCH", f"{path}/{'0' * 32}", {"name": "无"})
        assert (st, out["error"]["code"]) == (404, "not_found")

        # Another office's type is not found from here, and its list is untouched.
        st, theirs = await s["oadm"].call("POST", path, {"name": "草原纠纷"})
        assert st == 201
        st, out = await adm.call("PATCH", f"{path}/{theirs['id']}", {"active": False})
        assert (st, out["error"]["code"]) == (404, "not_found")
        st, out = await s["oadm"].call("GET", path)
        assert next(t for t in out["items"] if t["id"] == theirs["id"])["active"] is True
        assert "草原纠纷" not in [t["name"] for t in (await adm.call("GET", path))[1]["items"]]
        # A default row's id, once the office has its own list, names nothing; nor does an
        # office that does not exist.
        st, out = await adm.call("PATCH", f"{path}/{default_id}", {"name": "旧的默认"})
        assert (st, out["error"]["code"]) == (404, "not_found")
        async with http.get(f"{srv.url}/api/v1/public/offices/{'0' * 32}/dispute-types") as r:
            assert r.status == 404


async def test_who_may_change_the_dispute_types(database_url: str, tmp_path: Path) -> None:
    async with running_server(database_url, tmp_path) as srv, aiohttp.ClientSession() as http:
        s = await people(srv, http)
        path = "/api/v1/office/dispute-types"
        items = (await s["li"].call("GET", path))[1]["items"]
        for who in ("li", "clerk", "exp"):
            st, out = await s[who].call("POST", path, {"name": "越权类型"})
            assert (st, out["error"]["code"]) == (403, "role_not_allowed"), who
            st, out = await s[who].call("PATCH", f"{path}/{items[0]['id']}", {"active": False})
            assert (st, out["error"]["code"]) == (403, "role_not_allowed"), who
        st, out = await s["exp"].call("GET", path)
        assert (st, out["error"]["code"]) == (403, "role_not_allowed")
        async with http.post(srv.url + path, json={"name": "匿名"}) as r:
            assert r.status == 401
        async with http.get(srv.url + path) as r:
            assert r.status == 401
        st, out = await s["li"].call("GET", path)
        assert [t["name"] for t in out["items"]] == DEFAULT_NAMES and all(
            t["active"] for t in out["items"])
        # Heads and administrators may, even both at once on the office's first change
        # (each would copy the defaults: one copy is kept).
        answers = await asyncio.gather(*(s[who].call("POST", path, {"name": f"{who}的类型"})
                                         for who in ("head", "adm")))
        assert [st for st, _ in answers] == [201, 201], answers
        st, out = await s["li"].call("GET", path)
        keys = [t["key"] for t in out["items"]]
        assert len(keys) == len(set(keys)) == 11 and not any(t["default"] for t in out["items"])
