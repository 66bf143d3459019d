"""An office's templates from the administrator's console: a preview rendered with the
demo case's sample data, and the office's default per kind, which a draft opened without
naming a template then uses. Another office's administrator finds neither."""

from __future__ import annotations

import io
from pathlib import Path

import aiohttp
from docx import Document
from sqlalchemy import select

from agreements.builtin import builtin_template
from agreements.tables import DraftRow
from tests.signaling.harness import Staff, login, make_user, running_server

from .room_helpers import agreement_data, doc_room

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


async def upload(staff: Staff, name: str) -> dict[str, object]:
    async with staff.http.post(
        staff.server.url + f"/api/v1/templates?kind=agreement&name={name}",
        data=builtin_template("agreement", "zh-CN"),
        headers={"Authorization": f"Bearer {staff.token}", "Content-Type": DOCX},
    ) as r:
        assert r.status == 201, await r.text()
        return dict(await r.json())


async def test_preview_default_and_a_draft_that_uses_the_default(tmp_path: Path) -> None:
    async with (
        running_server(f"sqlite+aiosqlite:///{tmp_path}/t.db", tmp_path) as srv,
        aiohttp.ClientSession() as http,
    ):
        r = await doc_room(srv, http, tmp_path)
        await make_user(srv, "adm", "admin")
        await make_user(srv, "oadm", "admin", office="赤峰市红山区人民调解委员会")
        adm, oadm = await login(srv, http, "adm"), await login(srv, http, "oadm")
        first, second = await upload(adm, "甲"), await upload(adm, "乙")

        async with http.get(
            srv.url + f"/api/v1/templates/{first['id']}/preview",
            headers={"Authorization": f"Bearer {adm.token}"},
        ) as resp:
            assert resp.status == 200 and resp.content_type == DOCX
            text = "\n".join(p.text for p in Document(io.BytesIO(await resp.read())).paragraphs)
        assert "人民调解协议书" in text and "{{" not in text

        st, out = await adm.call("POST", f"/api/v1/templates/{second['id']}/default")
        assert st == 200 and out["is_default"] is True
        st, out = await adm.call("POST", f"/api/v1/templates/{first['id']}/default")
        assert st == 200
        st, listed = await adm.call("GET", "/api/v1/templates")
        assert {t["name"]: t["is_default"] for t in listed["items"]} == {"甲": True, "乙": False}

        for method, path in (
            ("GET", f"/api/v1/templates/{first['id']}/preview"),
            ("POST", f"/api/v1/templates/{first['id']}/default"),
        ):
            st, out = await oadm.call(method, path)
            assert (st, out["error"]["code"]) == (404, "template_not_found")
            st, out = await r.staff.call(method, path)
            assert (st, out["error"]["code"]) == (403, "role_not_allowed")

        ack = await r.med.call("draft_create", {"kind": "agreement", "data": agreement_data(r)})
        assert ack["ok"], ack
        async with srv.services.db.session() as db:
            row = (
                await db.execute(select(DraftRow).where(DraftRow.id == ack["draft_id"]))
            ).scalar_one()
        assert row.template_ref == f"office:{first['id']}"
