"""The HTTP API against real databases: accounts, cases, sessions, invites, errors, OpenAPI."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from signaling.api.registry import openapi
from signaling.keys import API
from tests.signaling.harness import login, make_user, running_server


async def test_health_answers_ok_when_the_database_answers(database_url: str,
                                                           tmp_path: Path) -> None:
    async with running_server(database_url, tmp_path) as srv, aiohttp.ClientSession() as http:
        async with http.get(srv.url + "/healthz") as r:
            body = await r.json()
        assert r.status == 200
        assert body["status"] == "ok" and body["database"] == "ok"


async def test_cases_sessions_and_invites_round_trip(database_url: str, tmp_path: Path) -> None:
    async with running_server(database_url, tmp_path) as srv, aiohttp.ClientSession() as http:
        await make_user(srv, "li")
        staff = await login(srv, http, "li")
        case_id, session_id = await staff.new_session()
        st, listed = await staff.call("GET", "/api/v1/cases")
        assert st == 200 and [c["id"] for c in listed["items"]] == [case_id]
        st, sessions = await staff.call("GET", f"/api/v1/cases/{case_id}/sessions")
        assert [s["id"] for s in sessions["items"]] == [session_id]
        inv = await staff.invite(session_id, side="A", label="张三")
        assert inv["url"].startswith(srv.url + "/join#t=")
        assert inv["token"] in inv["url"]
        st, invs = await staff.call("GET", f"/api/v1/sessions/{session_id}/invites")
        assert st == 200 and invs["items"][0]["side"] == "A"
        assert "token" not in invs["items"][0], "a listed invite never shows its token again"
        st, revoked = await staff.call("POST", f"/api/v1/invites/{inv['id']}/revoke")
        assert st == 200 and revoked["revoked"] is True
        st, state = await staff.call("GET", f"/api/v1/sessions/{session_id}")
        assert st == 200 and state["session"]["status"] == "scheduled"


@pytest.mark.slow
async def test_wrong_password_is_refused_and_repeated_failures_lock_the_account(
        tmp_path: Path) -> None:
    async with running_server(f"sqlite+aiosqlite:///{tmp_path}/t.db", tmp_path) as srv, \
            aiohttp.ClientSession() as http:
        await make_user(srv, "li")
        codes = []
        for _ in range(6):
            async with http.post(srv.url + "/api/v1/auth/login",
                                 json={"username": "li", "password": "wrong password"}) as r:
                codes.append((r.status, (await r.json())["error"]["code"], r.headers))
        assert codes[0][:2] == (401, "bad_credentials")
        last_status, last_code, headers = codes[-1]
        assert (last_status, last_code) == (429, "rate_limited")
        assert int(headers["Retry-After"]) >= 1
        async with http.post(srv.url + "/api/v1/auth/login",
                             json={"username": "nobody", "password": "whatever1"}) as r:
            assert r.status == 401


async def test_another_office_cannot_read_a_case_by_its_id(tmp_path: Path) -> None:
    async with running_server(f"sqlite+aiosqlite:///{tmp_path}/t.db", tmp_path) as srv, \
            aiohttp.ClientSession() as http:
        await make_user(srv, "li")
        await make_user(srv, "wang", office="桐乡市乌镇司法所")
        li = await login(srv, http, "li")
        wang = await login(srv, http, "wang")
        case_id, session_id = await li.new_session()
        for path in (f"/api/v1/cases/{case_id}", f"/api/v1/cases/{case_id}/sessions",
                     f"/api/v1/sessions/{session_id}", f"/api/v1/sessions/{session_id}/invites",
                     f"/api/v1/sessions/{session_id}/events"):
            st, body = await wang.call("GET", path)
            assert st == 404, (path, body)
        st, body = await wang.call("POST", f"/api/v1/sessions/{session_id}/invites", {})
        assert st == 404
        st, listed = await wang.call("GET", "/api/v1/cases")
        assert listed["items"] == []


async def test_a_clerk_cannot_open_cases_or_create_invites(tmp_path: Path) -> None:
    async with running_server(f"sqlite+aiosqlite:///{tmp_path}/t.db", tmp_path) as srv, \
            aiohttp.ClientSession() as http:
        await make_user(srv, "li")
        await make_user(srv, "zhou", role="clerk")
        li = await login(srv, http, "li")
        clerk = await login(srv, http, "zhou")
        _, session_id = await li.new_session()
        st, body = await clerk.call("POST", "/api/v1/cases", {"number": "x", "dispute_type": "y"})
        assert (st, body["error"]["code"]) == (403, "role_not_allowed")
        st, body = await clerk.call("POST", f"/api/v1/sessions/{session_id}/invites", {})
        assert st == 403
        st, _ = await clerk.call("GET", f"/api/v1/sessions/{session_id}")
        assert st == 200


async def test_bad_input_gets_a_clear_error_and_loses_nothing(tmp_path: Path) -> None:
    async with running_server(f"sqlite+aiosqlite:///{tmp_path}/t.db", tmp_path) as srv, \
            aiohttp.ClientSession() as http:
        await make_user(srv, "li")
        li = await login(srv, http, "li")
        case_id, _ = await li.new_session()
        hdr = {"Authorization": f"Bearer {li.token}", "Content-Type": "application/json"}
        async with http.post(srv.url + "/api/v1/cases", data=b"{not json", headers=hdr) as r:
            assert (r.status, (await r.json())["error"]["code"]) == (400, "invalid_json")
        async with http.post(srv.url + "/api/v1/cases", data=b"[1,2]", headers=hdr) as r:
            assert (await r.json())["error"]["code"] == "invalid_payload"
        st, body = await li.call("POST", "/api/v1/cases", {"number": "", "dispute_type": "x",
                                                           "evil": 1})
        assert st == 400 and "number" in body["error"]["message"]
        async with http.post(srv.url + "/api/v1/cases", data=b'{"number":"' + b"x" * 300_000
                             + b'"}', headers=hdr) as r:
            assert r.status == 413
        st, body = await li.call("POST", "/api/v1/cases", {"number": "(2026)长北调字第1号",
                                                           "dispute_type": "x"})
        assert (st, body["error"]["code"]) == (409, "case_number_taken")
        st, body = await li.call("GET", "/api/v1/cases/0123456789abcdef0123456789abcdef")
        assert (st, body["error"]["code"]) == (404, "case_not_found")
        async with http.get(srv.url + "/api/v1/nothing-here") as r:
            assert (r.status, (await r.json())["error"]["code"]) == (404, "not_found")
        st, listed = await li.call("GET", "/api/v1/cases")
        assert [c["id"] for c in listed["items"]] == [case_id]


async def test_cookie_logins_need_the_csrf_header_for_changes(tmp_path: Path) -> None:
    # unsafe=True: aiohttp's jar otherwise ignores cookies from IP-address hosts.
    async with running_server(f"sqlite+aiosqlite:///{tmp_path}/t.db", tmp_path) as srv, \
            aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        await make_user(srv, "li")
        async with http.post(srv.url + "/api/v1/auth/login",
                             json={"username": "li", "password": "correct horse battery"}) as r:
            body = await r.json()
            cookie = r.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        async with http.get(srv.url + "/api/v1/auth/me") as r:
            assert r.status == 200
        case = {"number": "c-1", "dispute_type": "debt"}
        async with http.post(srv.url + "/api/v1/cases", json=case) as r:
            assert (r.status, (await r.json())["error"]["code"]) == (403, "csrf_failed")
        async with http.post(srv.url + "/api/v1/cases", json=case,
                             headers={"X-CSRF-Token": body["csrf_token"]}) as r:
            assert r.status == 201
        async with http.post(srv.url + "/api/v1/auth/logout",
                             headers={"X-CSRF-Token": body["csrf_token"]}) as r:
            assert r.status == 200
        async with http.get(srv.url + "/api/v1/auth/me",
                            headers={"Authorization": f"Bearer {body['token']}"}) as r:
            assert r.status == 401


async def test_openapi_document_lists_exactly_the_served_api_routes(tmp_path: Path) -> None:
    async with running_server(f"sqlite+aiosqlite:///{tmp_path}/t.db", tmp_path) as srv, \
            aiohttp.ClientSession() as http:
        async with http.get(srv.url + "/api/openapi.json") as r:
            doc = await r.json()
        documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
        served = set()
        for route in srv.app.router.routes():
            info = route.resource.get_info() if route.resource else {}
            path = info.get("path") or info.get("formatter")
            if route.method in ("HEAD", "*") or path is None:
                continue
            # The public verify page is declared (and documented) with the API's routes.
            public_page = path == "/verify" or path.startswith("/verify/")
            if path.startswith("/api/") and path != "/api/openapi.json" or \
                    path in ("/healthz",) or public_page:
                served.add((route.method, path))
        assert documented == served
        assert doc == openapi(srv.app[API], title="Tiaojie API", version=doc["info"]["version"])
        from openapi_spec_validator import validate

        validate(doc)
