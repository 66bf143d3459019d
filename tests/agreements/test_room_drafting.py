"""Drafting in the room over real Socket.IO: previews, versions, comments, who may do what."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest

from agreements import signature
from agreements.tables import CeremonyRow
from tests.signaling.harness import Staff, login, make_user, running_server, settled

from .room_helpers import agreement_data, doc_room, open_signing, sign_as


def _sqlite(tmp: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp}/t.db"


async def test_both_parties_see_the_preview_with_identity_data_masked(tmp_path: Path) -> None:
    async with running_server(_sqlite(tmp_path), tmp_path) as srv, \
            aiohttp.ClientSession() as http:
        r = await doc_room(srv, http, tmp_path)
        ack = await r.med.call("draft_create", {"kind": "agreement", "data": agreement_data(r)})
        assert ack["ok"], ack
        for party in (r.a, r.b):
            seen = await party.wait_for("draft", lambda d: d["draft_id"] == ack["draft_id"])
            assert seen["version"] == 1 and seen["digest"] == ack["digest"]
            assert "人民调解协议书" in seen["html"] and "张三" in seen["html"]
            first = seen["data"]["parties"][0]
            assert first["id_number"] == "3101**********0013"
            assert first["phone"] == "*******0001"
            assert "310105196803140013" not in str(seen)
        staff_view = await r.clerk.wait_for("draft", lambda d: d["draft_id"] == ack["draft_id"])
        assert staff_view["data"]["parties"][0]["id_number"] == "310105196803140013"


async def test_a_party_cannot_draft_or_edit_but_may_comment(tmp_path: Path) -> None:
    async with running_server(_sqlite(tmp_path), tmp_path) as srv, \
            aiohttp.ClientSession() as http:
        r = await doc_room(srv, http, tmp_path)
        refused = await r.a.call("draft_create", {"kind": "agreement", "data": agreement_data(r)})
        assert refused["error"]["code"] == "not_room_admin"
        ack = await r.med.call("draft_create", {"kind": "agreement", "data": agreement_data(r)})
        refused = await r.a.call("draft_edit", {"draft_id": ack["draft_id"], "base_version": 1,
                                                "data": agreement_data(r, facts="改写")})
        assert refused["error"]["code"] == "not_room_admin"
        said = await r.a.call("draft_comment", {"draft_id": ack["draft_id"], "version": 1,
                                                "text": "赔偿金额请再核对"})
        assert said["ok"], said
        remark = await r.b.wait_for("draft_comment", lambda d: d["text"] == "赔偿金额请再核对")
        assert remark["author"]["participant_id"] == r.a.pid


async def test_an_edit_bumps_the_version_and_a_stale_edit_is_a_conflict(tmp_path: Path) -> None:
    async with running_server(_sqlite(tmp_path), tmp_path) as srv, \
            aiohttp.ClientSession() as http:
        r = await doc_room(srv, http, tmp_path)
        ack = await r.med.call("draft_create", {"kind": "agreement", "data": agreement_data(r)})
        edited = await r.med.call("draft_edit", {"draft_id": ack["draft_id"], "base_version": 1,
                                                 "data": agreement_data(r, facts="漏水两周。")})
        assert edited["ok"] and edited["version"] == 2, edited
        seen = await r.b.wait_for("draft", lambda d: d["version"] == 2)
        assert seen["changes"] == ["facts changed"] or any("facts" in c for c in seen["changes"])
        stale = await r.med.call("draft_edit", {"draft_id": ack["draft_id"], "base_version": 1,
                                                "data": agreement_data(r, facts="又改了。")})
        assert stale["error"]["code"] == "version_conflict"
        got = await r.a.call("draft_get", {"draft_id": ack["draft_id"]})
        assert got["draft"]["version"] == 2


async def test_a_draft_written_in_a_caucus_never_reaches_the_other_side(tmp_path: Path) -> None:
    async with running_server(_sqlite(tmp_path), tmp_path) as srv, \
            aiohttp.ClientSession() as http:
        r = await doc_room(srv, http, tmp_path)
        made = await r.med.call("caucus_create", {"name": "与张三单独谈",
                                                  "members": [r.med.pid, r.a.pid]})
        assert made["ok"], made
        ack = await r.med.call("draft_create", {"kind": "agreement", "data": agreement_data(r)})
        assert ack["caucus_id"] == made["caucus_id"]
        listed = await r.a.call("draft_list", {})
        assert [d["draft_id"] for d in listed["drafts"]] == [ack["draft_id"]]
        assert (await r.b.call("draft_list", {}))["drafts"] == []
        await r.a.wait_for("draft", lambda d: d["draft_id"] == ack["draft_id"])
        assert (await r.b.call("draft_get", {"draft_id": ack["draft_id"]}))["error"]["code"] \
            == "draft_not_found"
        assert (await r.b.call("draft_comment", {"draft_id": ack["draft_id"], "version": 1,
                                                 "text": "?"}))["error"]["code"] \
            == "draft_not_found"
        # Even after the caucus ends and everyone is back in the joint session.
        assert (await r.med.call("caucus_end", {"caucus_id": made["caucus_id"]}))["ok"]
        await r.med.call("draft_edit", {"draft_id": ack["draft_id"], "base_version": 1,
                                        "data": agreement_data(r, facts="单独谈后修改。")})
        assert (await r.a.call("draft_get", {"draft_id": ack["draft_id"]}))["error"]["code"] \
            == "draft_not_found"
        await settled(r.b, r.clerk)  # anything misrouted has arrived by now
        for other in (r.b, r.clerk):
            assert not [d for d in other.received("draft") if d["draft_id"] == ack["draft_id"]]
            assert "单独谈后修改" not in str(other.events)


async def test_wrong_codes_are_refused_and_counted_until_the_signer_is_locked(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(signature, "MAX_WRONG_CODES", 3)
    async with running_server(_sqlite(tmp_path), tmp_path) as srv, \
            aiohttp.ClientSession() as http:
        r = await doc_room(srv, http, tmp_path)
        ack = await r.med.call("draft_create", {"kind": "agreement", "data": agreement_data(r)})
        opened = await open_signing(r, ack["draft_id"])
        # No clerk signs: the agreement's recorder is printed, not a signer.
        assert opened["seats"] == {r.a.pid: r.a.pid, r.b.pid: r.b.pid, "mediator": r.med.pid}
        sent = await r.a.call("signing_send_code", {"ceremony_id": opened["ceremony_id"]})
        assert sent["ok"] and sent["sent_to"] == "*******0001", sent
        real = r.code(r.a.pid)
        wrong = f"{(int(real) + 1) % 10**6:06d}"
        codes = []
        for _ in range(3):
            ack_sign = await r.a.call("sign", {"ceremony_id": opened["ceremony_id"], "code": wrong,
                                               "version_digest": opened["digest"],
                                               "typed_name": "张三"})
            codes.append(ack_sign["error"]["code"])
        assert codes == ["code_invalid", "code_invalid", "signer_locked"]
        late = await r.a.call("sign", {"ceremony_id": opened["ceremony_id"], "code": real,
                                       "version_digest": opened["digest"], "typed_name": "张三"})
        assert late["error"]["code"] == "signer_locked"
        # The code itself never travels in an event or an acknowledgement.
        for client in (r.med, r.a, r.b, r.clerk):
            assert real not in str(client.events)


async def test_a_signature_records_ip_and_user_agent_and_cannot_be_given_twice(
        tmp_path: Path) -> None:
    async with running_server(_sqlite(tmp_path), tmp_path) as srv, \
            aiohttp.ClientSession() as http:
        r = await doc_room(srv, http, tmp_path)
        ack = await r.med.call("draft_create", {"kind": "agreement", "data": agreement_data(r)})
        opened = await open_signing(r, ack["draft_id"])
        await sign_as(r, r.a.pid, opened["ceremony_id"], opened["digest"])
        async with srv.services.db.session() as db:
            stored = await db.get(CeremonyRow, opened["ceremony_id"])
        signed = stored.state["signatures"][r.a.pid]
        assert signed["ip"] == "127.0.0.1" and signed["user_agent"]
        assert r.code(r.a.pid) not in str(stored.state)  # only a salted HMAC was kept
        again = await r.a.call("sign", {"ceremony_id": opened["ceremony_id"], "code": "000000",
                                        "version_digest": opened["digest"], "typed_name": "张三"})
        assert again["error"]["code"] == "already_signed"
        # A party cannot open signing, and the mediator cannot seat anyone as a recorder the
        # agreement does not have.
        assert (await r.a.call("signing_open", {"draft_id": ack["draft_id"]}))["error"]["code"] \
            == "not_room_admin"
        bad = await r.med.call("signing_open", {"draft_id": ack["draft_id"],
                                                "seats": {"recorder": r.b.pid}})
        assert bad["error"]["code"] == "not_a_signer"


async def test_an_office_template_with_an_undefined_field_is_refused_with_its_problems(
        tmp_path: Path) -> None:
    from agreements import builtin_template

    from .conftest import make_docx

    docx_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    async with running_server(_sqlite(tmp_path), tmp_path) as srv, \
            aiohttp.ClientSession() as http:
        r = await doc_room(srv, http, tmp_path)
        await make_user(srv, "admin", role="admin")
        admin = await login(srv, http, "admin")

        async def upload(staff: Staff, body: bytes) -> tuple[int, Any]:
            async with http.post(srv.url + "/api/v1/templates?kind=agreement&name=ours",
                                 data=body, headers={"Authorization": f"Bearer {staff.token}",
                                                     "Content-Type": docx_type}) as resp:
                return resp.status, await resp.json()

        status, body = await upload(admin, make_docx("当事人：{{ no_such_field }}"))
        assert status == 422, body
        assert body["error"]["code"] == "template_rejected"
        assert [p["code"] for p in body["error"]["problems"]] == ["undefined_field"]
        assert "no_such_field" in str(body["error"]["problems"])
        status, body = await upload(r.staff, builtin_template("agreement", "zh-CN"))
        assert (status, body["error"]["code"]) == (403, "role_not_allowed")
        status, made = await upload(admin, builtin_template("agreement", "zh-CN"))
        assert status == 201, made
        status, listing = await r.clerk_staff.call("GET", "/api/v1/templates")
        assert [t["id"] for t in listing["items"]] == [made["id"]]
        ack = await r.med.call("draft_create", {"kind": "agreement", "data": agreement_data(r),
                                                "template_id": made["id"]})
        assert ack["ok"], ack
        wrong_kind = await r.med.call("draft_create", {"kind": "record", "data": {},
                                                       "template_id": made["id"]})
        assert wrong_kind["error"]["code"] == "template_not_found"


async def test_the_record_is_drafted_like_the_agreement_and_carries_the_case_number(
        tmp_path: Path) -> None:
    from agreements.demo import demo_record

    async with running_server(_sqlite(tmp_path), tmp_path) as srv, \
            aiohttp.ClientSession() as http:
        r = await doc_room(srv, http, tmp_path)
        record = demo_record().model_dump(mode="json")
        record.pop("case_number")
        ack = await r.med.call("draft_create", {"kind": "record", "data": record})
        assert ack["ok"], ack
        seen = await r.b.wait_for("draft", lambda d: d["draft_id"] == ack["draft_id"])
        assert "人民调解记录" in seen["html"] and seen["case_number"] == "(2026)长北调字第1号"
        record["case_number"] = "（2026）别的案号"
        wrong = await r.med.call("draft_create", {"kind": "record", "data": record})
        assert wrong["error"]["code"] == "case_number_mismatch"
        broken = await r.med.call("draft_create", {"kind": "agreement", "data": {"facts": ""}})
        assert broken["error"]["code"] == "invalid_payload"
        assert r.med.sio.connected
