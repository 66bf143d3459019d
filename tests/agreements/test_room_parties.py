"""Parties confirm their own details on their own seat, and each signs only from the seat
that joined through their own (or their agent's) link, with the code going to the phone
they confirmed. A session with a mediator and two parties, and no clerk, signs in full.
Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.signaling.harness import Server, running_server
from tests.signaling.test_join_flow import full_room

from .room_helpers import DocRoom, agreement_data, confirm_parties, learn_invites, sign_as


async def two_parties_no_clerk(srv: Server, http: aiohttp.ClientSession, tmp: Path) -> DocRoom:
    room = await full_room(srv, http)
    r = DocRoom(room.med, room.a, room.b, room.staff, room.session_id, room.staff, room.med,
                tmp / "outbox")
    await learn_invites(srv, r)
    return r


def gateway_codes(tmp: Path, phone: str) -> list[dict[str, Any]]:
    import json

    return [json.loads(p.read_text()) for p in sorted((tmp / "outbox").glob("*.json"))
            if json.loads(p.read_text()).get("to") == phone]


async def test_a_party_confirms_corrects_and_signs_with_the_phone_they_confirmed(
        database_url: str, tmp_path: Path) -> None:
    async with running_server(database_url, tmp_path) as srv, aiohttp.ClientSession() as http:
        r = await two_parties_no_clerk(srv, http, tmp_path)
        made = await r.med.call("draft_create", {"kind": "agreement", "data": agreement_data(r)})
        assert made["ok"], made
        draft_id = made["draft_id"]

        # A sees their own entry in full, and only their own.
        mine = await r.a.call("party_details_get", {"draft_id": draft_id})
        assert [e["party_id"] for e in mine["parties"]] == [r.a.pid]
        entry = mine["parties"][0]
        assert entry["details"]["id_number"] == "310105196803140013"
        assert entry["acting_as"] == "party" and entry["state"] == "pending"
        assert "身份证号码：3101**********0013" in entry["printed"]["details"]
        # B (the company's agent) sees the company's entry, never A's number.
        theirs = await r.b.call("party_details_get", {"draft_id": draft_id})
        assert [(e["party_id"], e["acting_as"]) for e in theirs["parties"]] == [
            (r.b.pid, "agent:0")]
        assert "310105196803140013" not in str(theirs)

        # Signing cannot open before both confirmed.
        early = await r.med.call("signing_open", {"draft_id": draft_id})
        assert early["error"]["code"] == "details_not_confirmed", early
        assert set(early["error"]["details"]["waiting"]) == {"张三", "示例物业管理有限公司"}

        # A corrects their phone; a bad ID number is refused with the field named.
        bad = await r.a.call("party_confirm", {"draft_id": draft_id, "version": 1,
                                               "party_id": r.a.pid,
                                               "details": {"id_number": "310105196803140012"}})
        assert bad["error"]["code"] == "invalid_details"
        assert bad["error"]["details"]["problems"][0]["field"] == "party.id_number"
        fixed = await r.a.call("party_confirm", {"draft_id": draft_id, "version": 1,
                                                 "party_id": r.a.pid,
                                                 "details": {"phone": "13911112222"}})
        assert fixed["ok"] and fixed["status"] == "corrected", fixed
        told = await r.med.wait_for("party_confirmation", lambda d: d["party_id"] == r.a.pid)
        assert told["status"] == "corrected" and told["changes"] == ["phone"]
        assert "party_confirmation" not in [e for e, _ in r.b.events]
        # A party may not confirm for the other side.
        other = await r.a.call("party_confirm", {"draft_id": draft_id, "version": 1,
                                                 "party_id": r.b.pid})
        assert other["error"]["code"] == "not_your_party"
        await confirm_parties(r, draft_id, r.b)
        still = await r.med.call("signing_open", {"draft_id": draft_id})
        assert still["error"]["details"]["waiting"] == ["张三"]

        # The mediator applies the correction: the new version reads as A confirmed it.
        data = agreement_data(r)
        data["parties"][0]["phone"] = "13911112222"
        edited = await r.med.call("draft_edit", {"draft_id": draft_id, "base_version": 1,
                                                 "data": data})
        assert edited["ok"], edited
        got = await r.med.call("draft_get", {"draft_id": draft_id})
        assert got["confirmations"][r.a.pid]["status"] == "confirmed"
        assert got["confirmations"][r.b.pid]["status"] == "confirmed"

        # No clerk in the room, and signing opens: parties and the mediator sign.
        opened = await r.med.call("signing_open", {"draft_id": draft_id})
        assert opened["ok"], opened
        assert opened["seats"] == {r.a.pid: r.a.pid, r.b.pid: r.b.pid, "mediator": r.med.pid}
        sent = await r.a.call("signing_send_code", {"ceremony_id": opened["ceremony_id"]})
        assert sent["sent_to"] == "*******2222"
        assert gateway_codes(tmp_path, "13911112222")
        sent_b = await r.b.call("signing_send_code", {"ceremony_id": opened["ceremony_id"]})
        assert sent_b["sent_to"] == "*******0002"  # the agent's phone, not the company's line
        early_med = await r.med.call("signing_send_code", {"ceremony_id": opened["ceremony_id"]})
        assert early_med["error"]["code"] == "mediator_signs_last"
        for signer in (r.a.pid, r.b.pid):
            mark = {"typed_name": "王五"} if signer == r.b.pid else {}
            ack = await sign_as(r, signer, opened["ceremony_id"], opened["digest"], **mark)
            assert ack["ok"], ack
        done = await sign_as(r, "mediator", opened["ceremony_id"], opened["digest"],
                             typed_name="Li")
        assert done["ok"] and done["status"] == "complete", done


async def test_a_signer_slot_bound_to_the_other_sides_participant_is_refused(
        database_url: str, tmp_path: Path) -> None:
    async with running_server(database_url, tmp_path) as srv, aiohttp.ClientSession() as http:
        r = await two_parties_no_clerk(srv, http, tmp_path)
        made = await r.med.call("draft_create", {"kind": "agreement", "data": agreement_data(r)})
        await confirm_parties(r, made["draft_id"])
        for seats in ({r.a.pid: r.b.pid}, {r.b.pid: r.a.pid}, {r.a.pid: r.med.pid}):
            refused = await r.med.call("signing_open", {"draft_id": made["draft_id"],
                                                        "seats": seats})
            assert refused["error"]["code"] == "seat_wrong_party", (seats, refused)
        # A party who is not in the room, nor their agent, cannot be seated at all.
        data = agreement_data(r)
        data["parties"][0]["invite_id"] = None
        edited = await r.med.call("draft_edit", {"draft_id": made["draft_id"],
                                                 "base_version": 1, "data": data})
        assert edited["ok"], edited
        await confirm_parties(r, made["draft_id"], r.b)
        absent = await r.med.call("signing_open", {"draft_id": made["draft_id"]})
        assert absent["error"]["code"] == "details_not_confirmed"  # nobody could confirm


async def test_details_that_fail_their_checks_are_refused_with_every_field_named(
        database_url: str, tmp_path: Path) -> None:
    async with running_server(database_url, tmp_path) as srv, aiohttp.ClientSession() as http:
        r = await two_parties_no_clerk(srv, http, tmp_path)
        data = agreement_data(r)
        data["parties"][0]["id_number"] = "310105196803140012"
        data["parties"][1]["id_number"] = "91310105MA1FL00000"
        data["parties"][0]["phone"] = "12345"
        made = await r.med.call("draft_create", {"kind": "agreement", "data": data})
        assert made["error"]["code"] == "invalid_details"
        fields = {p["field"]: p["code"] for p in made["error"]["details"]["problems"]}
        assert fields == {"parties.0.id_number": "id_checksum",
                          "parties.1.id_number": "uscc_checksum",
                          "parties.0.phone": "phone_format"}
        # The room is fine and nothing was stored.
        assert (await r.med.call("draft_list", {}))["drafts"] == []


async def test_a_clerk_in_the_room_drafts_but_only_the_mediator_opens_signing(
        tmp_path: Path) -> None:
    from .room_helpers import doc_room

    async with running_server(f"sqlite+aiosqlite:///{tmp_path}/t.db", tmp_path) as srv, \
            aiohttp.ClientSession() as http:
        r = await doc_room(srv, http, tmp_path)
        made = await r.clerk.call("draft_create", {"kind": "agreement",
                                                   "data": agreement_data(r)})
        assert made["ok"], made
        seen = await r.med.wait_for("draft", lambda d: d["draft_id"] == made["draft_id"])
        assert seen["data"]["parties"][0]["id_number"] == "310105196803140013"
        edited = await r.clerk.call("draft_edit", {"draft_id": made["draft_id"],
                                                   "base_version": 1,
                                                   "data": agreement_data(r, facts="改。")})
        assert edited["ok"] and edited["version"] == 2
        await confirm_parties(r, made["draft_id"])
        refused = await r.clerk.call("signing_open", {"draft_id": made["draft_id"]})
        assert refused["error"]["code"] == "not_room_admin"
        refused = await r.a.call("draft_create", {"kind": "agreement",
                                                  "data": agreement_data(r)})
        assert refused["error"]["code"] == "not_room_admin"


@pytest.mark.parametrize("provider", ["aliyun", "tencent"])
async def test_codes_reach_the_confirmed_phone_through_the_sms_gateway_and_a_busy_one_can_be_retried(  # noqa: E501
        database_url: str, tmp_path: Path, provider: str) -> None:
    from tests.signaling.sms_gateway import sender_settings, start_gateway

    gw = await start_gateway(provider)
    try:
        async with running_server(database_url, tmp_path,
                                  **sender_settings(provider, gw)) as srv, \
                aiohttp.ClientSession() as http:
            r = await two_parties_no_clerk(srv, http, tmp_path)
            made = await r.med.call("draft_create", {"kind": "agreement",
                                                     "data": agreement_data(r)})
            await confirm_parties(r, made["draft_id"])
            opened = await r.med.call("signing_open", {"draft_id": made["draft_id"]})
            assert opened["ok"], opened
            gw.fail_next.append("isv.BUSINESS_LIMIT_CONTROL" if provider == "aliyun"
                                else "LimitExceeded.PhoneNumberThirtySecondLimit")
            busy = await r.a.call("signing_send_code", {"ceremony_id": opened["ceremony_id"]})
            assert busy["error"]["code"] == "gateway_busy" and busy["error"]["retryable"]
            sent = await r.a.call("signing_send_code", {"ceremony_id": opened["ceremony_id"]})
            assert sent["ok"] and sent["sent_to"] == "*******0001", sent
            code = gw.codes_to("13800000001")[-1]
            ack = await r.a.call("sign", {"ceremony_id": opened["ceremony_id"], "code": code,
                                          "version_digest": opened["digest"],
                                          "typed_name": "张三"})
            assert ack["ok"], ack
            # The agent's code went to the agent's own mobile, not the company's landline.
            await r.b.call("signing_send_code", {"ceremony_id": opened["ceremony_id"]})
            assert gw.codes_to("13800000002") and not gw.refused[1:]
            assert not (tmp_path / "outbox").exists()  # nothing written to files
            for client in (r.med, r.a, r.b):
                assert code not in str(client.events)
    finally:
        await gw.close()
