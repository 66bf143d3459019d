"""The office editor (signaling/offices.py) through the HTTP API: an administrator lists,
creates and edits offices; an office head edits their own office's address and phone and
nothing else; everyone else is refused (office heads are not among the authorization walk's
callers, so they are walked here); bad input gets a clear code and changes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp

from tests.signaling.harness import login, make_user, running_server

HOME = "长宁区北新泾街道人民调解委员会"
OTHER = "赤峰市红山区人民调解委员会"


async def test_an_administrator_creates_lists_and_edits_offices(tmp_path: Path) -> None:
    async with (
        running_server(f"sqlite+aiosqlite:///{tmp_path}/t.db", tmp_path) as srv,
        aiohttp.ClientSession() as http,
    ):
        await make_user(srv, "adm", "admin")
        await make_user(srv, "ohead", "head", office=OTHER)
        adm = await login(srv, http, "adm")
        st, out = await adm.call("POST", "/api/v1/offices", {
            "name": "西湖区人民调解委员会", "city": "杭州市", "address": "西湖区文三路1号",
            "phone": "0571-12348", "share_experts": True})
        assert st == 201, out
        assert out["city"] == "杭州市" and out["share_experts"] is True
        assert out["use_city_experts"] is False and out["time_zone"] == "Asia/Shanghai"
        new_id = out["id"]
        st, out = await adm.call("POST", "/api/v1/offices", {"name": "西湖区人民调解委员会"})
        assert st == 409 and out["error"]["code"] == "office_exists"

        st, out = await adm.call("GET", "/api/v1/offices")
        assert st == 200
        names = {o["name"] for o in out["items"]}
        assert {HOME, OTHER, "西湖区人民调解委员会"} <= names

        st, out = await adm.call("PATCH", f"/api/v1/offices/{new_id}",
                                 {"use_city_experts": True, "city": " 杭州市 "})
        assert st == 200 and out["use_city_experts"] is True and out["city"] == "杭州市"
        st, out = await adm.call("PATCH", f"/api/v1/offices/{'0' * 32}", {"city": "x"})
        assert st == 404 and out["error"]["code"] == "not_found"
        # An administrator edits their own office through /office as well.
        st, out = await adm.call("PATCH", "/api/v1/office", {"city": "上海市"})
        assert st == 200 and out["city"] == "上海市" and out["name"] == HOME

        # Bad input: a clear code, nothing changed.
        for body, code in (
            ({"phone": "call me"}, "office_phone_invalid"),
            ({"phone": "12"}, "office_phone_invalid"),
            ({"name": ""}, "invalid_payload"),
            ({"name": None}, "invalid_payload"),
            ({"colour": "red"}, "invalid_payload"),
            ({"city": "市" * 61}, "invalid_payload"),
            ({"name": OTHER}, "office_exists"),
        ):
            st, out = await adm.call("PATCH", f"/api/v1/offices/{new_id}", body)
            assert st in (400, 409) and out["error"]["code"] == code, (body, out)
        st, out = await adm.call("GET", "/api/v1/offices")
        mine = next(o for o in out["items"] if o["id"] == new_id)
        assert mine["phone"] == "0571-12348" and mine["name"] == "西湖区人民调解委员会"


async def test_an_office_head_edits_only_their_own_address_and_phone(tmp_path: Path) -> None:
    async with (
        running_server(f"sqlite+aiosqlite:///{tmp_path}/t.db", tmp_path) as srv,
        aiohttp.ClientSession() as http,
    ):
        for name, role in (("head", "head"), ("li", "mediator"), ("clerk", "clerk"),
                           ("exp", "expert"), ("adm", "admin")):
            await make_user(srv, name, role)
        await make_user(srv, "ohead", "head", office=OTHER)
        s = {u: await login(srv, http, u) for u in ("head", "li", "clerk", "exp", "ohead")}
        head = s["head"]
        st, out = await head.call("PATCH", "/api/v1/office",
                                  {"address": "北新泾街道剑河路1号", "phone": "(021) 6212 3456"})
        assert st == 200, out
        assert out["address"] == "北新泾街道剑河路1号" and out["phone"] == "(021) 6212 3456"
        # Every staff member reads their own office, never another's.
        for who in ("li", "clerk", "exp"):
            st, out = await s[who].call("GET", "/api/v1/office")
            assert st == 200 and out["address"] == "北新泾街道剑河路1号", who
        st, out = await s["ohead"].call("GET", "/api/v1/office")
        assert st == 200 and out["name"] == OTHER and out["address"] == ""

        # The name, the city and the sharing switches are the administrator's.
        body: dict[str, Any] | None
        for body in ({"name": "改名"}, {"city": "杭州市"}, {"share_experts": True},
                     {"use_city_experts": True}, {"address": "x", "share_experts": True}):
            st, out = await head.call("PATCH", "/api/v1/office", body)
            assert st == 403 and out["error"]["code"] == "role_not_allowed", body
        # Mediators, clerks and experts edit nothing.
        for who in ("li", "clerk", "exp"):
            for body in ({"address": "x"}, {"colour": "red"}):  # refused before the body
                st, out = await s[who].call("PATCH", "/api/v1/office", body)
                assert st == 403 and out["error"]["code"] == "role_not_allowed", who
        # A head is no administrator: the office list and editor refuse them.
        office_id = head.user["office_id"]
        for method, path, body in (
            ("GET", "/api/v1/offices", None),
            ("POST", "/api/v1/offices", {"name": "新调委会"}),
            ("PATCH", f"/api/v1/offices/{office_id}", {"address": "x"}),
            ("PATCH", f"/api/v1/offices/{s['ohead'].user['office_id']}", {"address": "x"}),
        ):
            st, out = await head.call(method, path, body)
            assert st == 403 and out["error"]["code"] == "role_not_allowed", (method, path)
        st, out = await head.call("GET", "/api/v1/office")
        assert out["address"] == "北新泾街道剑河路1号" and out["city"] == ""
        assert out["share_experts"] is False
