"""The clerk's court bundle for 司法确认: refused before the agreement is sealed; then a ZIP
with the sealed agreement, the sealed record, the parties' confirmed identities and a
prefilled application (DOCX), for the session's mediator and the office's clerks and
administrators only. SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import aiohttp

from agreements.demo import demo_agreement
from agreements.tables import DraftRow, SealedDocumentRow
from tests.signaling.harness import Server, Staff, login, make_user, running_server

from .conftest import docx_text
from .room_helpers import stored_document
from .test_deadlines import agreement_with_deadline

DEADLINE = date(2027, 1, 5)


async def get(http: aiohttp.ClientSession, srv: Server, staff: Staff | None, path: str
              ) -> tuple[int, Any, bytes]:
    headers = {"Authorization": f"Bearer {staff.token}"} if staff else {}
    async with http.get(srv.url + path, headers=headers) as r:
        raw = await r.read()
        body = json.loads(raw) if r.content_type.endswith("json") else None
        return r.status, body, raw


async def sealed_record(srv: Server, case_id: str, session_id: str) -> bytes:
    """A sealed record of the session (a placeholder PDF, as ``stored_document`` writes)."""
    ids = await stored_document(srv, case_id, session_id)
    pdf = b"%PDF-1.7\n% the record\n"
    async with srv.services.db.session() as db:
        row = await db.get(SealedDocumentRow, ids["document_id"])
        draft = await db.get(DraftRow, ids["draft_id"])
        assert row is not None and draft is not None
        row.kind = draft.kind = "record"
        row.pdf = pdf
        row.judicial_confirmation_deadline = None
        await db.commit()
    return pdf


async def test_the_clerk_exports_the_court_bundle_once_the_agreement_is_sealed(
        database_url: str, tmp_path: Path) -> None:
    async with running_server(database_url, tmp_path, deadline_reminder_interval_s=0) as srv, \
            aiohttp.ClientSession() as http:
        for name, role in (("li", "mediator"), ("qian", "clerk"), ("sun", "admin"),
                           ("zhou", "mediator"), ("wu", "expert")):
            await make_user(srv, name, role)
        await make_user(srv, "wang", office="另一个调解委员会")
        li, qian, sun, zhou, wu, wang = [await login(srv, http, n) for n in (
            "li", "qian", "sun", "zhou", "wu", "wang")]

        # Before the seal: a clear refusal.
        _, unsealed = await li.new_session("(2026)长北调字第9号")
        status, body, _ = await get(http, srv, qian, f"/api/v1/sessions/{unsealed}/court-bundle")
        assert (status, body["error"]["code"]) == (409, "agreement_not_sealed")

        ids = await agreement_with_deadline(srv, li, DEADLINE)
        record_pdf = await sealed_record(srv, ids["case_id"], ids["session_id"])
        path = f"/api/v1/sessions/{ids['session_id']}/court-bundle"

        # Who is refused: no login, another of the office's mediators, an expert, another
        # office's mediator.
        for who, expected in ((None, (401, "login_required")),
                              (zhou, (403, "not_your_session")),
                              (wu, (403, "role_not_allowed")),
                              (wang, (404, "session_not_found"))):
            status, body, _ = await get(http, srv, who, path)
            assert (status, body["error"]["code"]) == expected, who

        bundles = {}
        for who in (li, qian, sun):
            status, _, raw = await get(http, srv, who, path)
            assert status == 200, raw[:200]
            bundles[who.user["username"]] = raw
        z = zipfile.ZipFile(io.BytesIO(bundles["qian"]))
        number = demo_agreement().case_number
        names = set(z.namelist())
        assert names == {f"1-人民调解协议书-{number}.pdf", f"2-人民调解记录-{number}.pdf",
                         "当事人身份信息.json", f"司法确认申请书-{number}.docx",
                         "manifest.json"}
        async with srv.services.db.session() as db:
            agreement = await db.get(SealedDocumentRow, ids["document_id"])
            assert agreement is not None
        assert z.read(f"1-人民调解协议书-{number}.pdf") == agreement.pdf
        assert z.read(f"2-人民调解记录-{number}.pdf") == record_pdf
        manifest = json.loads(z.read("manifest.json"))
        for name in names - {"manifest.json"}:
            assert manifest["files"][name] == hashlib.sha256(z.read(name)).hexdigest()
        assert manifest["agreement"]["judicial_confirmation_deadline"] == "2027-01-05"

        identities = json.loads(z.read("当事人身份信息.json"))
        by_id = {p["party_id"]: p for p in identities["parties"]}
        assert by_id["P1"]["confirmed"] and by_id["P1"]["confirmed_by"] == "party"
        assert by_id["P1"]["details"]["email"] == "zhang@example.cn"  # as P1 confirmed it
        assert by_id["P2"]["confirmed_by"] == "agent:0"
        assert "invite_id" not in by_id["P1"]["details"]

        text = docx_text(z.read(f"司法确认申请书-{number}.docx"))
        demo = demo_agreement()
        for needle in ("司法确认申请书", "申请人1：张三", "身份证号码：310105196803140013",
                       "申请人2：示例物业管理有限公司", "统一社会信用代码：91310105MA1FL00004",
                       "法定代表人：李四", "委托代理人：王五", demo.committee, number,
                       "请求人民法院依法确认", "2027年1月5日", "＿＿＿＿＿＿＿＿＿＿人民法院",
                       "2. 人民调解记录"):
            assert needle in text, needle
        assert "{{" not in text and "{%" not in text
