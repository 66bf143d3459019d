"""The whole path in a running server: draft, preview, edit voids signatures, every signer
signs with the code from the outbox, the seal is applied (real LibreOffice and pyHanko),
the clerk downloads the PDF, pdfsig and the verify route accept it and refuse a copy
with one byte changed. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import aiohttp
import pytest

from tests.signaling.harness import Staff, login, make_user, running_server

from .room_helpers import DocRoom, agreement_data, doc_room, open_signing, sign_as

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("soffice") is None, reason="needs LibreOffice"),
    pytest.mark.skipif(shutil.which("pdfsig") is None, reason="needs poppler-utils"),
]

SEAL_TIMEOUT_S = 180.0
"""LibreOffice's first start on a cold profile, on a shared machine."""


async def _get(staff: Staff, path: str) -> tuple[int, bytes, dict[str, str]]:
    async with staff.http.get(staff.server.url + path,
                              headers={"Authorization": f"Bearer {staff.token}"}) as resp:
        return resp.status, await resp.read(), dict(resp.headers)


async def _post_raw(staff: Staff, path: str, body: bytes, content_type: str
                    ) -> tuple[int, dict[str, object]]:
    async with staff.http.post(staff.server.url + path, data=body,
                               headers={"Authorization": f"Bearer {staff.token}",
                                        "Content-Type": content_type}) as resp:
        return resp.status, await resp.json()


async def _collect_every_signature(r: DocRoom, ceremony_id: str, digest: str) -> None:
    # Parties in any order, the mediator last; no clerk signs the agreement.
    for signer_id in (r.b.pid, r.a.pid):
        ack = await sign_as(r, signer_id, ceremony_id, digest)
        assert ack["ok"], (signer_id, ack)
    ack = await sign_as(r, "mediator", ceremony_id, digest, typed_name="Li")
    assert ack["ok"] and ack["status"] == "complete", ack


async def test_parties_sign_in_the_room_and_the_clerk_downloads_a_verifiable_pdf(
        database_url: str, tmp_path: Path) -> None:
    async with running_server(database_url, tmp_path) as srv, aiohttp.ClientSession() as http:
        r = await doc_room(srv, http, tmp_path)
        made = await r.med.call("draft_create", {"kind": "agreement", "data": agreement_data(r)})
        assert made["ok"], made
        draft_id = made["draft_id"]
        for party in (r.a, r.b):
            await party.wait_for("draft", lambda d: d["draft_id"] == draft_id)

        # A signs version 1, then the mediator edits: A's signature is void, and says so.
        first = await open_signing(r, draft_id)
        assert (await sign_as(r, r.a.pid, first["ceremony_id"], first["digest"]))["ok"]
        edited = await r.med.call("draft_edit", {
            "draft_id": draft_id, "base_version": 1,
            "data": agreement_data(r, responsibility="被申请人承担全部责任。")})
        assert edited["version"] == 2 and edited["voided_signatures"] == [r.a.pid], edited
        voided = await r.b.wait_for("signature", lambda d: d["event"] == "voided")
        assert voided["ceremony_id"] == first["ceremony_id"] and voided["status"] == "void"
        await r.a.wait_for("draft", lambda d: d["version"] == 2)
        stale = await r.b.call("signing_send_code", {"ceremony_id": first["ceremony_id"]})
        assert stale["error"]["code"] == "version_superseded"

        second = await r.med.call("signing_open", {"draft_id": draft_id})
        assert second["ok"], second  # confirmations stand: the edit left the parties as they were
        assert second["version"] == 2 and second["digest"] == edited["digest"]
        wrong = await r.b.call("signing_send_code", {"ceremony_id": second["ceremony_id"]})
        assert wrong["ok"]
        refused = await r.b.call("sign", {"ceremony_id": second["ceremony_id"],
                                          "code": "12345x", "version_digest": second["digest"],
                                          "typed_name": "王五"})
        assert refused["error"]["code"] == "code_invalid"
        await _collect_every_signature(r, second["ceremony_id"], second["digest"])
        sealed = await r.med.wait_for("sealed", lambda d: d["draft_id"] == draft_id,
                                      timeout=SEAL_TIMEOUT_S)
        await r.a.wait_for("sealed", lambda d: d["draft_id"] == draft_id)
        assert sealed["judicial_confirmation_deadline"]

        # The clerk lists the case's documents and downloads the sealed PDF and DOCX.
        status, listing = await r.clerk_staff.call(
            "GET", f"/api/v1/cases/{await _case_id(r)}/documents")
        assert status == 200 and [d["id"] for d in listing["items"]] == [sealed["document_id"]]
        doc = listing["items"][0]
        status, pdf, headers = await _get(r.clerk_staff, doc["pdf_url"])
        assert status == 200 and pdf.startswith(b"%PDF")
        assert headers["Content-Type"] == "application/pdf"
        assert headers["Content-Disposition"].startswith("attachment;")
        status, docx, headers = await _get(r.clerk_staff, doc["docx_url"])
        assert status == 200 and docx.startswith(b"PK")
        assert headers["Content-Disposition"].startswith("attachment;")

        path = tmp_path / "agreement.pdf"
        path.write_bytes(pdf)
        report = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True,
                                timeout=60, check=False)
        assert "Signature Validation: Signature is Valid." in report.stdout, report
        assert "Total document signed" in report.stdout
        # The office's own committee seals it, under its name.
        assert "长宁区北新泾街道人民调解委员会 电子印章" in report.stdout

        status, verdict = await _post_raw(r.clerk_staff, "/api/v1/documents/verify", pdf,
                                          "application/pdf")
        assert status == 200 and verdict["authentic"] is True, verdict
        assert verdict["known_document_id"] == sealed["document_id"]
        tampered = bytearray(pdf)
        tampered[pdf.index(b"stream\n") + 27] ^= 0x01
        status, verdict = await _post_raw(r.clerk_staff, "/api/v1/documents/verify",
                                          bytes(tampered), "application/pdf")
        assert status == 200 and verdict["authentic"] is False and verdict["reasons"]

        # Another office's clerk sees nothing of it: 404, exactly like a missing document.
        await make_user(srv, "zhou", role="clerk", office="另一个调解委员会")
        stranger = await login(srv, http, "zhou")
        status, _ = await stranger.call("GET", f"/api/v1/cases/{await _case_id(r)}/documents")
        assert status == 404
        status, _, _ = await _get(stranger, doc["pdf_url"])
        assert status == 404

        # A sealed draft is final.
        late = await r.med.call("draft_edit", {"draft_id": draft_id, "base_version": 2,
                                               "data": agreement_data(r)})
        assert late["error"]["code"] == "draft_sealed"


async def _case_id(r: DocRoom) -> str:
    status, state = await r.staff.call("GET", f"/api/v1/sessions/{r.session_id}")
    assert status == 200
    return str(state["session"]["case_id"])


async def test_a_marriage_matter_ends_in_a_printed_copy_not_online_signing(
        tmp_path: Path) -> None:
    async with running_server(f"sqlite+aiosqlite:///{tmp_path}/t.db", tmp_path) as srv, \
            aiohttp.ClientSession() as http:
        r = await doc_room(srv, http, tmp_path)
        made = await r.med.call("draft_create", {
            "kind": "agreement", "data": agreement_data(r, matter="marriage")})
        seen = await r.a.wait_for("draft", lambda d: d["draft_id"] == made["draft_id"])
        assert seen["esign_applies"] is False
        refused = await r.med.call("signing_open", {"draft_id": made["draft_id"]})
        assert refused["error"]["code"] == "esign_not_applicable"
        status, pdf, headers = await _get(r.clerk_staff,
                                          f"/api/v1/drafts/{made['draft_id']}/print-copy")
        assert status == 200 and pdf.startswith(b"%PDF"), pdf[:200]
        assert headers["Content-Disposition"].startswith("attachment;")

        online = await r.med.call("draft_create", {"kind": "agreement",
                                                   "data": agreement_data(r)})
        status, body, _ = await _get(r.clerk_staff,
                                     f"/api/v1/drafts/{online['draft_id']}/print-copy")
        assert status == 409 and b"esign_applies" in body


async def test_a_seal_that_fails_is_announced_and_can_be_retried_without_signing_again(
        tmp_path: Path) -> None:
    from agreements import LibreOfficeConverter
    from agreements.runtime import runtime

    async with running_server(f"sqlite+aiosqlite:///{tmp_path}/t.db", tmp_path) as srv, \
            aiohttp.ClientSession() as http:
        r = await doc_room(srv, http, tmp_path)
        rt = runtime(srv.services)
        working = rt.converter
        rt.converter = LibreOfficeConverter(binary="no-such-soffice")
        made = await r.med.call("draft_create", {"kind": "agreement", "data": agreement_data(r)})
        early = await r.med.call("draft_seal", {"draft_id": made["draft_id"]})
        assert early["error"]["code"] == "ceremony_incomplete"
        opened = await open_signing(r, made["draft_id"])
        await _collect_every_signature(r, opened["ceremony_id"], opened["digest"])
        failed = await r.med.wait_for("signature", lambda d: d["event"] == "seal_failed",
                                      timeout=SEAL_TIMEOUT_S)
        assert failed["error"]["code"] == "libreoffice_missing"
        assert failed["status"] == "complete"  # the signatures are kept
        frozen = await r.med.call("draft_edit", {"draft_id": made["draft_id"], "base_version": 1,
                                                 "data": agreement_data(r, facts="改。")})
        assert frozen["error"]["code"] == "signing_complete"

        assert (await r.a.call("draft_seal", {"draft_id": made["draft_id"]}))["error"]["code"] \
            == "not_room_admin"
        rt.converter = working
        retried = await r.med.call("draft_seal", {"draft_id": made["draft_id"]})
        assert retried["ceremony_id"] == opened["ceremony_id"], retried
        sealed = await r.b.wait_for("sealed", lambda d: d["draft_id"] == made["draft_id"],
                                    timeout=SEAL_TIMEOUT_S)
        assert sealed["version"] == 1
