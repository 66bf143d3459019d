"""The 人民调解记录 drafted from the session: prefilled with time, place, who took part and
the joint transcript in speaker turns, never a word said in a caucus; then edited, signed
by the parties, the mediator and the 记录人, and sealed (real LibreOffice, pdfsig and
pdftotext). Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.signaling.harness import Server, running_server
from transcription.tables import UtteranceRow

from .conftest import docx_text
from .room_helpers import DocRoom, doc_room, sign_as

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("soffice") is None, reason="needs LibreOffice"),
    pytest.mark.skipif(shutil.which("pdfsig") is None, reason="needs poppler-utils"),
]

SEAL_TIMEOUT_S = 180.0
SECRET = "背靠背里说的底线是八千元"
"""Said by party A in a caucus: it must reach no record."""


async def _speak(srv: Server, r: DocRoom, lines: list[tuple[str, str | None, float, str]]
                 ) -> None:
    """Final utterances as the transcription pipeline stores them."""
    names = {r.a.pid: ("张三", "party"), r.b.pid: ("李四", "party"),
             r.med.pid: ("Li", "mediator")}
    async with srv.services.db.session() as db:
        for n, (pid, caucus_id, start, text) in enumerate(lines):
            name, role = names[pid]
            db.add(UtteranceRow(id=f"u{n}", session_id=r.session_id, caucus_id=caucus_id,
                                participant_id=pid, speaker_name=name, speaker_role=role,
                                voice=None, start=start, end=start + 4.0, text=text,
                                model="test", confidence=0.9, language="zh"))
        await db.commit()


def _pdf_text(pdf: bytes, tmp: Path) -> str:
    path = tmp / "record.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True,
                         text=True, timeout=60).stdout
    return re.sub(r"\s+", "", out)


def _edited(data: dict[str, Any], r: DocRoom) -> dict[str, Any]:
    """What the clerk adds before reading it back: contacts for the codes, the outcome."""
    out = dict(data)
    phones = {r.a.pid: "13800000001", r.b.pid: "13800000002"}
    out["parties"] = [{**p, "phone": phones[p["party_id"]]} for p in data["parties"]]
    out["mediator"] = {**data["mediator"], "phone": "13800000003"}
    out["recorder"] = {**data["recorder"], "phone": "13800000004"}
    out["rights_notified"] = True
    out["outcome_reached"] = True
    out["outcome"] = "双方达成口头协议。"
    return out


async def test_the_record_is_prefilled_from_the_joint_transcript_then_signed_and_sealed(
        database_url: str, tmp_path: Path) -> None:
    async with running_server(database_url, tmp_path) as srv, aiohttp.ClientSession() as http:
        r = await doc_room(srv, http, tmp_path)
        caucus = await r.med.call("caucus_create", {"name": "甲方",
                                                    "members": [r.a.pid, r.clerk.pid]})
        assert caucus["ok"], caucus
        await _speak(srv, r, [
            (r.med.pid, None, 10.0, "今天调解漏水赔偿一事。"),
            (r.a.pid, None, 20.0, "楼上水管漏了两个星期。"),
            (r.a.pid, None, 25.0, "物业一直没有来修。"),
            (r.a.pid, caucus["caucus_id"], 30.0, SECRET),
            (r.b.pid, None, 70.0, "物业同意承担维修费用。"),
        ])
        # The record is the joint session's: not drafted from inside a caucus.
        inside = await r.clerk.call("draft_create", {"kind": "record", "prefill": "session"})
        assert inside["error"]["code"] == "outside_space", inside
        ended = await r.med.call("caucus_end", {"caucus_id": caucus["caucus_id"]})
        assert ended["ok"], ended

        # Only staff prefill, and only a record.
        refused = await r.a.call("draft_create", {"kind": "record", "prefill": "session"})
        assert refused["error"]["code"] == "not_room_admin", refused
        wrong = await r.clerk.call("draft_create", {"kind": "agreement", "prefill": "session"})
        assert wrong["error"]["code"] == "prefill_not_supported", wrong

        made = await r.clerk.call("draft_create", {"kind": "record", "prefill": "session"})
        assert made["ok"], made
        draft_id = made["draft_id"]
        got = await r.clerk.call("draft_get", {"draft_id": draft_id})
        data = got["draft"]["data"]
        assert data["place"] == "线上（远程视频调解）"
        assert data["started_at"] and data["committee"] == "长宁区北新泾街道人民调解委员会"
        assert [(p["party_id"], p["name"], p["role"]) for p in data["parties"]] == [
            (r.a.pid, "张三", "applicant"), (r.b.pid, "李四", "respondent")]
        assert data["mediator"]["name"] == "Li" and data["recorder"]["name"] == "Qian"
        # A's two utterances in a row are one turn, with its times; the caucus is absent.
        assert [(s["speaker"], s["text"], s["start"], s["end"]) for s in data["statements"]] == [
            ("Li", "今天调解漏水赔偿一事。", 10.0, 14.0),
            ("张三", "楼上水管漏了两个星期。物业一直没有来修。", 20.0, 29.0),
            ("李四", "物业同意承担维修费用。", 70.0, 74.0),
        ]
        assert SECRET not in str(got)
        assert "00:00:20–00:00:29" in got["draft"]["html"]

        # The oral agreement register is drafted through the same events.
        from agreements.demo import demo_oral_register
        register = demo_oral_register().model_dump(mode="json")
        register["case_number"] = made_case = got["draft"]["case_number"]
        oral = await r.clerk.call("draft_create", {"kind": "oral_register", "data": register})
        assert oral["ok"], oral
        seen = await r.a.wait_for("draft", lambda d: d["draft_id"] == oral["draft_id"])
        assert "口头调解协议登记表" in seen["html"] and seen["case_number"] == made_case

        edited = await r.clerk.call("draft_edit", {"draft_id": draft_id, "base_version": 1,
                                                   "data": _edited(data, r)})
        assert edited["ok"], edited

        # The parties, the mediator and the 记录人 (the clerk in the room) sign.
        opened = await r.med.call("signing_open", {"draft_id": draft_id})
        assert opened["ok"], opened
        assert opened["seats"] == {r.a.pid: r.a.pid, r.b.pid: r.b.pid,
                                   "mediator": r.med.pid, "recorder": r.clerk.pid}
        clients = {**r.clients(), "recorder": r.clerk}
        r.clients = lambda: clients  # type: ignore[method-assign]
        for signer_id in (r.a.pid, r.b.pid, "recorder"):
            ack = await sign_as(r, signer_id, opened["ceremony_id"], opened["digest"])
            assert ack["ok"], (signer_id, ack)
        ack = await sign_as(r, "mediator", opened["ceremony_id"], opened["digest"],
                            typed_name="Li")
        assert ack["ok"] and ack["status"] == "complete", ack
        sealed = await r.med.wait_for("sealed", lambda d: d["draft_id"] == draft_id,
                                      timeout=SEAL_TIMEOUT_S)

        status, state = await r.staff.call("GET", f"/api/v1/sessions/{r.session_id}")
        status, listing = await r.clerk_staff.call(
            "GET", f"/api/v1/cases/{state['session']['case_id']}/documents")
        assert status == 200
        doc = next(d for d in listing["items"] if d["id"] == sealed["document_id"])
        assert doc["kind"] == "record" and doc["judicial_confirmation_deadline"] is None
        pdf = await _download(r, doc["pdf_url"])
        docx = await _download(r, doc["docx_url"])

        text = _pdf_text(pdf, tmp_path)
        for expected in ("人民调解记录", "地点：线上（远程视频调解）",
                         "楼上水管漏了两个星期。物业一直没有来修。", "张三（00:00:20–00:00:29）",
                         "物业同意承担维修费用", "记录人", "Qian"):
            assert expected in text, expected
        assert SECRET not in text
        # The session knows only the parties' names: no label is printed without a value.
        assert not re.search(r"：[，。；]", text), text
        words = docx_text(docx)
        assert "楼上水管漏了两个星期。物业一直没有来修。" in words and SECRET not in words
        path = tmp_path / "sealed.pdf"
        path.write_bytes(pdf)
        report = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True,
                                timeout=60, check=False)
        assert "Signature Validation: Signature is Valid." in report.stdout, report


async def test_with_no_clerk_the_mediator_fills_the_recorder_line_and_the_record_seals(
        database_url: str, tmp_path: Path) -> None:
    """One mediator and two parties, nobody else (many 司法所 sessions): the 记录人 line
    prints the office's choice (the mediator's name) and the parties and the mediator sign;
    no empty recorder seat blocks the ceremony."""
    from tests.signaling.test_join_flow import full_room

    async with running_server(database_url, tmp_path) as srv, aiohttp.ClientSession() as http:
        room = await full_room(srv, http)
        # DocRoom's clerk fields are never touched here: there is no clerk.
        r = DocRoom(room.med, room.a, room.b, room.staff, room.session_id, room.staff,
                    None, tmp_path / "outbox")  # type: ignore[arg-type]
        await _speak(srv, r, [(r.a.pid, None, 5.0, "楼上水管漏了两个星期。"),
                              (r.b.pid, None, 12.0, "物业同意承担维修费用。")])
        made = await r.med.call("draft_create", {"kind": "record", "prefill": "session"})
        assert made["ok"], made
        draft_id = made["draft_id"]
        got = await r.med.call("draft_get", {"draft_id": draft_id})
        data = got["draft"]["data"]
        assert data["recorder"]["name"] == "Li" and data["recorder_signs"] is False
        assert '<li data-signer="recorder">记录人：Li</li>' in got["draft"]["html"]
        # The mediator records: no recorder's phone to give.
        edited = {**_edited(data, r), "recorder": data["recorder"]}
        ack = await r.med.call("draft_edit", {"draft_id": draft_id, "base_version": 1,
                                              "data": edited})
        assert ack["ok"], ack

        opened = await r.med.call("signing_open", {"draft_id": draft_id})
        assert opened["ok"], opened
        assert opened["seats"] == {r.a.pid: r.a.pid, r.b.pid: r.b.pid, "mediator": r.med.pid}
        for signer_id in (r.a.pid, r.b.pid):
            ack = await sign_as(r, signer_id, opened["ceremony_id"], opened["digest"])
            assert ack["ok"], (signer_id, ack)
        ack = await sign_as(r, "mediator", opened["ceremony_id"], opened["digest"],
                            typed_name="Li")
        assert ack["ok"] and ack["status"] == "complete", ack
        sealed = await r.med.wait_for("sealed", lambda d: d["draft_id"] == draft_id,
                                      timeout=SEAL_TIMEOUT_S)

        status, state = await r.staff.call("GET", f"/api/v1/sessions/{r.session_id}")
        status, listing = await r.staff.call(
            "GET", f"/api/v1/cases/{state['session']['case_id']}/documents")
        assert status == 200
        doc = next(d for d in listing["items"] if d["id"] == sealed["document_id"])
        pdf = await _download(r, doc["pdf_url"])
        text = _pdf_text(pdf, tmp_path)
        assert "调解员：Li记录人：Li" in text, text
        assert "记录人（签名）" not in text  # printed, not a signature line
        assert "调解员（签名）：Li" in text
        # No label is printed without its value.
        assert not re.search(r"：[，。；]", text) and not re.search(r"：$", text), text
        path = tmp_path / "sealed.pdf"
        path.write_bytes(pdf)
        report = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True,
                                timeout=60, check=False)
        assert "Signature Validation: Signature is Valid." in report.stdout, report


async def test_a_record_drafted_after_the_agreement_seats_each_party_by_their_link(
        database_url: str, tmp_path: Path) -> None:
    """The record prefilled from the agreement names the parties as the agreement does
    (P1, P2 with their join links), not by seat: the party in person and the company's
    agent sign from the seats that came in through those links, the agent on the
    company's line with their own phone, and the mediator's phone comes from the
    agreement. A seat of the other side is refused."""
    from tests.signaling.test_join_flow import full_room

    from .room_helpers import agreement_data, learn_invites

    async with running_server(database_url, tmp_path) as srv, aiohttp.ClientSession() as http:
        room = await full_room(srv, http)
        r = DocRoom(room.med, room.a, room.b, room.staff, room.session_id, room.staff,
                    None, tmp_path / "outbox")  # type: ignore[arg-type]
        await learn_invites(srv, r)
        agreement = agreement_data(r)
        back = {r.a.pid: "P1", r.b.pid: "P2"}
        for party in agreement["parties"]:
            party["party_id"] = back[party["party_id"]]
        for clause in agreement["clauses"]:
            clause["obligor"], clause["obligee"] = back[clause["obligor"]], back[clause["obligee"]]
        agreement["recorder"] = None
        made = await r.med.call("draft_create", {"kind": "agreement", "data": agreement})
        assert made["ok"], made

        record = await r.med.call("draft_create", {"kind": "record", "prefill": "session"})
        assert record["ok"], record
        draft_id = record["draft_id"]
        data = (await r.med.call("draft_get", {"draft_id": draft_id}))["draft"]["data"]
        assert [p["party_id"] for p in data["parties"]] == ["P1", "P2"]
        assert data["mediator"] == {"name": "Li", "phone": "13800000003"}
        assert data["recorder_signs"] is False
        ack = await r.med.call("draft_edit", {"draft_id": draft_id, "base_version": 1, "data": {
            **data, "rights_notified": True, "outcome_reached": True, "outcome": "达成协议。"}})
        assert ack["ok"], ack

        wrong = await r.med.call("signing_open", {"draft_id": draft_id,
                                                  "seats": {"P1": r.b.pid}})
        assert wrong["error"]["code"] == "seat_wrong_party", wrong
        opened = await r.med.call("signing_open", {"draft_id": draft_id})
        assert opened["ok"], opened
        assert opened["seats"] == {"P1": r.a.pid, "P2": r.b.pid, "mediator": r.med.pid}
        clients = {"P1": r.a, "P2": r.b, "mediator": r.med}
        r.clients = lambda: clients  # type: ignore[method-assign]
        sent = await r.b.call("signing_send_code", {"ceremony_id": opened["ceremony_id"]})
        assert sent["ok"] and sent["sent_to"].endswith("0002"), sent  # the agent's phone
        for signer_id in ("P1", "P2"):
            ack = await sign_as(r, signer_id, opened["ceremony_id"], opened["digest"])
            assert ack["ok"], (signer_id, ack)
        ack = await sign_as(r, "mediator", opened["ceremony_id"], opened["digest"],
                            typed_name="Li")
        assert ack["ok"] and ack["status"] == "complete", ack
        sealed = await r.med.wait_for("sealed", lambda d: d["draft_id"] == draft_id,
                                      timeout=SEAL_TIMEOUT_S)
        status, state = await r.staff.call("GET", f"/api/v1/sessions/{r.session_id}")
        status, listing = await r.staff.call(
            "GET", f"/api/v1/cases/{state['session']['case_id']}/documents")
        doc = next(d for d in listing["items"] if d["id"] == sealed["document_id"])
        text = _pdf_text(await _download(r, doc["pdf_url"]), tmp_path)
        # The agent signs on the company's line, named as its agent.
        assert "示例物业管理有限公司委托代理人：王五" in text, text
        assert "调解员：Li记录人：Li" in text, text


async def _download(r: DocRoom, url: str) -> bytes:
    staff = r.clerk_staff
    async with staff.http.get(staff.server.url + url,
                              headers={"Authorization": f"Bearer {staff.token}"}) as resp:
        assert resp.status == 200
        return await resp.read()


async def test_the_parties_come_from_the_joint_agreement_with_their_id_numbers_masked(
        database_url: str, tmp_path: Path) -> None:
    from .room_helpers import agreement_data

    async with running_server(database_url, tmp_path) as srv, aiohttp.ClientSession() as http:
        r = await doc_room(srv, http, tmp_path)
        agreement = agreement_data(r)
        made = await r.med.call("draft_create", {"kind": "agreement", "data": agreement})
        assert made["ok"], made
        record = await r.med.call("draft_create", {"kind": "record", "prefill": "session",
                                                   "data": {"subject": "漏水赔偿"}})
        assert record["ok"], record
        got = await r.med.call("draft_get", {"draft_id": record["draft_id"]})
        data = got["draft"]["data"]
        assert data["subject"] == "漏水赔偿"  # what the caller gives wins
        assert [p["name"] for p in data["parties"]] == [p["name"] for p in agreement["parties"]]
        assert data["statements"] == []  # nothing was said yet
        full = agreement["parties"][0]["id_number"]
        assert full and full in str(data)  # staff keep the case file...
        html = got["draft"]["html"]
        assert full not in html and f"{full[:4]}" in html  # ...the document prints it masked
        # A party reads the record with the numbers masked.
        seen = await r.a.wait_for("draft", lambda d: d["draft_id"] == record["draft_id"])
        assert full not in str(seen)
