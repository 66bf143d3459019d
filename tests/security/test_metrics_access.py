"""``/metrics`` answers an administrator's login or the scraper token, and nobody else."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from tests.signaling.harness import login, make_user, running_server

pytestmark = pytest.mark.slow

SCRAPER = "scraper-" + "s" * 40


async def test_metrics_need_an_administrator_or_the_scraper_token(tmp_path: Path) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path / 't.db'}"
    async with running_server(db, tmp_path, metrics_token=SCRAPER) as srv, \
            aiohttp.ClientSession() as http:
        await make_user(srv, "li")
        await make_user(srv, "boss", role="admin")
        mediator = await login(srv, http, "li")
        admin = await login(srv, http, "boss")

        async def get(headers: dict[str, str]) -> tuple[int, str, str]:
            async with http.get(srv.url + "/metrics", headers=headers) as r:
                text = await r.text()
                code = (await r.json())["error"]["code"] if r.status >= 400 else ""
                return r.status, code, text

        assert (await get({}))[:2] == (401, "login_required")
        assert (await get({"Authorization": "Bearer wrong-token"}))[:2] == \
            (401, "login_required")
        assert (await get({"Authorization": f"Bearer {SCRAPER[:-1]}"}))[:2] == \
            (401, "login_required")
        assert (await get({"Authorization": f"Bearer {mediator.token}"}))[:2] == \
            (403, "role_not_allowed")
        for ok in (admin.token, SCRAPER):
            status, _, text = await get({"Authorization": f"Bearer {ok}"})
            assert status == 200 and "tiaojie_rooms" in text


async def test_without_a_scraper_token_only_administrators_read_the_metrics(
        tmp_path: Path) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path / 't.db'}"
    async with running_server(db, tmp_path) as srv, aiohttp.ClientSession() as http:
        await make_user(srv, "boss", role="admin")
        admin = await login(srv, http, "boss")
        # An empty configured token must not let an empty bearer through.
        async with http.get(srv.url + "/metrics", headers={"Authorization": "Bearer "}) as r:
            assert r.status == 401
        async with http.get(srv.url + "/metrics",
                            headers={"Authorization": f"Bearer {admin.token}"}) as r:
            assert r.status == 200
