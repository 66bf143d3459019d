"""The wet-ink path for marriage, adoption and inheritance matters (电子签名法 art. 3): the
scan of the copy signed on paper is uploaded and archived with its SHA-256, and downloaded
unchanged. A document signed online, a file that is no scan, a clerk on a caucus draft and
another office are refused. SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import select

from agreements.demo import demo_agreement
from agreements.models import Matter
from agreements.runtime import runtime
from agreements.store_sql import Place
from agreements.tables import WetInkCopyRow
from signaling.db.models import SessionEvent
from tests.signaling.harness import Server, Staff, login, make_user, running_server

SCAN = b"%PDF-1.4\n% a scanned page signed in ink\n" + bytes(range(256)) * 4


async def draft(srv: Server, case_id: str, session_id: str, matter: Matter,
                caucus_id: str | None = None) -> str:
    data = demo_agreement().model_copy(update={"matter": matter})
    version = await runtime(srv.services).run(
        lambda st: st.drafts.create(case_number=data.case_number, kind="agreement", data=data,
                                    author="mediator"),
        Place(case_id, session_id, caucus_id))
    return str(version.draft_id)


async def send(http: aiohttp.ClientSession, srv: Server, who: Staff, method: str, path: str,
               data: bytes | None = None) -> tuple[int, Any, bytes, Any]:
    headers = {"Authorization": f"Bearer {who.token}", "Content-Type": "application/pdf"}
    async with http.request(method, srv.url + path, data=data, headers=headers) as r:
        raw = await r.read()
        body = json.loads(raw) if r.content_type.endswith("json") else None
        return r.status, body, raw, r.headers


async def test_a_scanned_wet_ink_copy_is_archived_with_its_hash(
        database_url: str, tmp_path: Path) -> None:
    async with running_server(database_url, tmp_path, deadline_reminder_interval_s=0) as srv, \
            aiohttp.ClientSession() as http:
        await make_user(srv, "li")
        await make_user(srv, "qian", "clerk")
        await make_user(srv, "wang", office="另一个调解委员会")
        li, qian, wang = [await login(srv, http, n) for n in ("li", "qian", "wang")]
        case_id, session_id = await li.new_session()
        marriage = await draft(srv, case_id, session_id, Matter.marriage)
        online = await draft(srv, case_id, session_id, Matter.debt)
        in_caucus = await draft(srv, case_id, session_id, Matter.inheritance, caucus_id="k" * 32)
        path = f"/api/v1/drafts/{marriage}/wet-ink"

        status, body, _, _ = await send(http, srv, qian, "GET", path)
        assert (status, body["error"]["code"]) == (409, "no_wet_ink_copy")
        status, body, _, _ = await send(http, srv, qian, "POST", path, SCAN)
        assert status == 201, body
        assert body["sha256"] == hashlib.sha256(SCAN).hexdigest()
        assert (body["version_number"], body["content_type"], body["size"]) == (
            1, "application/pdf", len(SCAN))
        status, _, raw, headers = await send(http, srv, li, "GET", path)
        assert status == 200 and raw == SCAN
        assert headers["X-Content-SHA256"] == hashlib.sha256(SCAN).hexdigest()
        assert headers["Content-Disposition"].startswith("attachment;")
        async with srv.services.db.session() as db:
            rows = list((await db.execute(select(WetInkCopyRow))).scalars())
            logged = list((await db.execute(select(SessionEvent).where(
                SessionEvent.session_id == session_id,
                SessionEvent.kind == "document.wet_ink_archived"))).scalars())
        assert [r.sha256 for r in rows] == [hashlib.sha256(SCAN).hexdigest()]
        assert [e.payload["sha256"] for e in logged] == [rows[0].sha256]

        # Refused: a document signed online, a file that is no scan, a clerk on a caucus
        # draft, another office.
        status, body, _, _ = await send(http, srv, li, "POST", f"/api/v1/drafts/{online}/wet-ink",
                                        SCAN)
        assert (status, body["error"]["code"]) == (409, "esign_applies")
        status, body, _, _ = await send(http, srv, li, "POST", path, b"GIF89a not a scan")
        assert (status, body["error"]["code"]) == (400, "unsupported_scan")
        status, body, _, _ = await send(http, srv, li, "POST", path, b"")
        assert (status, body["error"]["code"]) == (400, "empty_body")
        caucus_path = f"/api/v1/drafts/{in_caucus}/wet-ink"
        status, body, _, _ = await send(http, srv, qian, "POST", caucus_path, SCAN)
        assert (status, body["error"]["code"]) == (404, "draft_not_found")
        status, body, _, _ = await send(http, srv, li, "POST", caucus_path, SCAN)
        assert status == 201
        for method in ("GET", "POST"):
            status, body, _, _ = await send(http, srv, wang, method, path, SCAN)
            assert (status, body["error"]["code"]) == (404, "draft_not_found")
