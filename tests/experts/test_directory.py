"""The directory: administrators list experts, experts edit their own profile, mediators
search by domain, language and live status; phone numbers are masked for others."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest

from experts.directory import DOMAINS, available_at, mask_phone, register_domain
from tests.experts.kit import expert_server, office, open_console
from tests.signaling.harness import login, make_user

# Each test runs a whole server (and often PostgreSQL) with several consoles: seconds.
pytestmark = pytest.mark.slow


def test_phone_numbers_keep_only_their_ends() -> None:
    assert mask_phone("13800138000") == "138****8000"
    assert mask_phone("+86 138-0013-8000") == "138****8000"
    assert mask_phone("12345") == "*****"


def test_availability_is_read_in_china_time() -> None:
    slots = [{"weekday": 0, "start": "09:00", "end": "17:00"}]
    # Monday 01:30 UTC is Monday 09:30 in Beijing; Sunday 23:30 UTC is Monday 07:30.
    assert available_at(slots, datetime(2026, 11, 23, 1, 30, tzinfo=UTC))
    assert not available_at(slots, datetime(2026, 11, 22, 23, 30, tzinfo=UTC))
    assert not available_at([], datetime(2026, 11, 23, 1, 30, tzinfo=UTC))


def test_a_deployment_can_add_its_own_domain() -> None:
    register_domain("fishery", "渔业", "Fishery")
    try:
        assert DOMAINS["fishery"] == ("渔业", "Fishery")
    finally:
        del DOMAINS["fishery"]


async def test_admin_lists_experts_and_mediators_search_them_with_live_status(
        database_url: str, tmp_path: Path) -> None:
    async with expert_server(database_url, tmp_path) as srv, aiohttp.ClientSession() as http:
        o = await office(srv, http, 2)
        st, body = await o.mediator.call("GET", "/api/v1/expert-domains")
        assert st == 200 and {"property", "medical", "sign_language"} <= {
            d["code"] for d in body["items"]}
        # A third expert covering medicine and Cantonese.
        await make_user(srv, "doc", role="expert")
        doc = await login(srv, http, "doc")
        st, prof = await o.admin.call("POST", "/api/v1/experts", {
            "user_id": doc.user["id"], "domains": ["medical"], "languages": ["zh", "yue"],
            "phone": "13900001234"})
        assert st == 201 and prof["phone"] == "13900001234" and prof["status"] == "offline"
        st, again = await o.admin.call("POST", "/api/v1/experts", {
            "user_id": doc.user["id"], "domains": ["medical"]})
        assert st == 409 and again["error"]["code"] == "profile_exists"
        st, bad = await o.admin.call("POST", "/api/v1/experts", {
            "user_id": o.mediator.user["id"], "domains": ["medical"]})
        assert st == 400 and bad["error"]["code"] == "user_not_expert"
        st, bad = await o.admin.call("POST", "/api/v1/experts", {
            "user_id": doc.user["id"], "domains": ["astrology"]})
        assert st == 400 and bad["error"]["code"] == "unknown_domain"

        st, found = await o.mediator.call("GET", "/api/v1/experts?domain=medical&language=yue")
        assert st == 200 and [x["id"] for x in found["items"]] == [prof["id"]]
        assert found["items"][0]["phone"] == "139****1234"
        con = await open_console(srv.url, doc.token)
        st, found = await o.mediator.call("GET", "/api/v1/experts?status=online")
        assert [x["id"] for x in found["items"]] == [prof["id"]]
        await con.close()

        # The expert edits their own profile but not their vetted domains.
        st, me = await doc.call("PATCH", "/api/v1/experts/me", {
            "organisation": "长宁区中心医院", "availability": [
                {"weekday": 2, "start": "18:00", "end": "21:00"}]})
        assert st == 200 and me["organisation"] == "长宁区中心医院"
        assert me["phone"] == "13900001234"
        st, err = await doc.call("PATCH", "/api/v1/experts/me", {"domains": ["legal"]})
        assert st == 400 and err["error"]["code"] == "invalid_payload"
        st, err = await doc.call("PATCH", "/api/v1/experts/me", {"availability": [
            {"weekday": 2, "start": "21:00", "end": "18:00"}]})
        assert st == 400
        # The administrator can, and can take an expert off the list.
        st, upd = await o.admin.call("PATCH", f"/api/v1/experts/{prof['id']}", {
            "domains": ["medical", "psychological"], "active": False})
        assert st == 200 and upd["domains"] == ["medical", "psychological"]
        st, found = await o.mediator.call("GET", "/api/v1/experts?domain=medical")
        assert found["items"] == []


async def test_an_expert_in_a_call_shows_as_busy(database_url: str, tmp_path: Path) -> None:
    async with expert_server(database_url, tmp_path) as srv, aiohttp.ClientSession() as http:
        o = await office(srv, http, 1)
        med = await o.mediator_in()
        con = await open_console(srv.url, o.experts[0].token)
        ack = await med.call("expert_call", {"domain": "property", "scope": "joint"})
        await con.wait_for("ring")
        assert (await con.call("accept", {"call_id": ack["call"]["call_id"]}))["ok"]
        st, found = await o.mediator.call("GET", "/api/v1/experts")
        assert [x["status"] for x in found["items"]] == ["busy"]
        # A busy expert is not rung for the next call.
        ack = await med.call("expert_call", {"domain": "property", "scope": "joint"})
        assert ack["call"]["ringing"] == 0
