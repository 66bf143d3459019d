"""schemathesis over every route of /api/openapi.json, as a mediator and anonymously:
no 5xx, and every answer matches the document."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.security.fuzzkit import ApiStats, fuzz_api, operations
from tests.signaling.harness import login, make_user, running_server

pytestmark = pytest.mark.slow

EXAMPLES = 4
"""Per operation and mode: enough to send valid, invalid and real-id requests to every
route in about a minute on a shared two-core machine."""


async def test_every_route_answers_as_documented_for_a_mediator_and_an_anonymous_caller(
        tmp_path: Path) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path / 'fuzz.db'}"
    async with running_server(db, tmp_path) as srv, aiohttp.ClientSession() as http:
        await make_user(srv, "fuzzmed")
        staff = await login(srv, http, "fuzzmed")
        spare = await login(srv, http, "fuzzmed")  # logout revokes it, not the main token
        case_id, session_id = await staff.new_session()
        invite = await staff.invite(session_id)
        async with http.get(srv.url + "/api/openapi.json") as r:
            doc: dict[str, Any] = await r.json()
        bearer = {"Authorization": f"Bearer {staff.token}"}
        ids = {"case_id": case_id, "session_id": session_id, "invite_id": invite["id"]}
        as_mediator = await asyncio.to_thread(
            fuzz_api, doc, srv.url, headers=bearer, examples=EXAMPLES, stats=ApiStats(),
            known_ids=ids, header_for={
                "POST /api/v1/auth/logout": {"Authorization": f"Bearer {spare.token}"}})
        anonymous = await asyncio.to_thread(
            fuzz_api, doc, srv.url, headers={}, examples=2, stats=ApiStats())
    for stats in (as_mediator, anonymous):
        assert stats.server_errors == 0, stats.findings
        assert stats.schema_violations == 0, stats.findings
        assert stats.covered == set(operations(doc)), set(operations(doc)) - stats.covered
    # The mediator's requests got past authentication; the anonymous ones did not,
    # except on the public routes.
    assert sum(n for s, n in as_mediator.statuses.items() if s < 300) > len(doc["paths"])
    assert set(anonymous.statuses) <= {200, 400, 401, 404, 405, 413, 429}
    assert anonymous.statuses[401] > 0
