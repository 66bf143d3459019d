"""The public verify page and its JSON, in a running server with a document sealed the
real way (LibreOffice, pyHanko): anyone, with no login, learns that the sealed PDF is
authentic, who signed and when, and whether the session's audit chain holds; one changed
byte, an unknown id, a file too large and garbage each get their clear answer. A stored
event altered with raw SQL breaks the chain, for the route and for ``tiaojie documents
verify --document``. SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select, text

from agreements.shortid import display_short_id
from agreements.tables import SealedDocumentRow
from tests.signaling.harness import Server, running_server

from .room_helpers import DocRoom, agreement_data, doc_room, open_signing, sign_as

needs_soffice = pytest.mark.skipif(shutil.which("soffice") is None, reason="needs LibreOffice")
needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None,
                                   reason="needs poppler-utils")
SEAL_TIMEOUT_S = 180.0
LIMIT = 4 * 1024 * 1024


async def _seal(r: DocRoom, language: str = "zh-CN") -> str:
    made = await r.med.call("draft_create", {"kind": "agreement", "data": agreement_data(r),
                                             "language": language})
    assert made["ok"], made
    opened = await open_signing(r, made["draft_id"])
    for signer_id in (r.a.pid, r.b.pid):
        assert (await sign_as(r, signer_id, opened["ceremony_id"], opened["digest"]))["ok"]
    done = await sign_as(r, "mediator", opened["ceremony_id"], opened["digest"],
                         typed_name="Li")
    assert done["status"] == "complete", done
    sealed = await r.med.wait_for("sealed", lambda d: d["draft_id"] == made["draft_id"],
                                  timeout=SEAL_TIMEOUT_S)
    return str(sealed["document_id"])


async def _public(srv: Server, method: str, path: str, **kw: Any) -> tuple[int, Any, str]:
    """A request from a fresh client: no cookie, no token."""
    async with aiohttp.ClientSession() as anonymous, \
            anonymous.request(method, srv.url + path, **kw) as resp:
        raw = await resp.text()
        body = json.loads(raw) if resp.content_type.endswith("json") else None
        return resp.status, body, raw + "\n" + json.dumps(dict(resp.headers))


def _form(pdf: bytes, short_id: str | None = None) -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("file", pdf, filename="协议书.pdf", content_type="application/pdf")
    if short_id is not None:
        form.add_field("short_id", short_id)
    return form


def _one_byte_changed(pdf: bytes) -> bytes:
    changed = bytearray(pdf)
    changed[pdf.index(b"stream\n") + 27] ^= 0x01
    return bytes(changed)


def _cli_verify(path: Path, srv_data: Path, database_url: str, ref: str) -> int:
    roots = sorted((srv_data / "seal").glob("*/seal-ca.pem"))
    args = ["documents", "verify", str(path), "--document", ref, "--database-url",
            database_url, *[a for root in roots for a in ("--trust", str(root))]]
    done = subprocess.run([sys.executable, "-m", "signaling.cli", *args],
                          env={**os.environ, "TIAOJIE_DATA_DIR": str(srv_data)},
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode in (0, 1), done.stderr
    return done.returncode


@pytest.mark.slow
@needs_soffice
@needs_poppler
async def test_anyone_verifies_a_sealed_document_without_logging_in(
        database_url: str, tmp_path: Path) -> None:
    async with running_server(database_url, tmp_path, verify_max_bytes=LIMIT) as srv, \
            aiohttp.ClientSession() as http:
        r = await doc_room(srv, http, tmp_path)
        document_id = await _seal(r)
        async with srv.services.db.session() as db:
            doc = (await db.execute(select(SealedDocumentRow).where(
                SealedDocumentRow.id == document_id))).scalar_one()
        pdf, short_id = doc.pdf, str(doc.short_id)
        status, listing = await r.clerk_staff.call("GET", f"/api/v1/cases/{doc.case_id}/documents")
        assert status == 200 and listing["items"][0]["short_id"] == short_id
        assert listing["items"][0]["verify_url"] == f"/verify/{short_id}"

        # The audit page prints the short id and the address the QR code holds.
        path = tmp_path / "sealed.pdf"
        path.write_bytes(pdf)
        printed = subprocess.run(["pdftotext", str(path), "-"], capture_output=True,
                                 text=True, timeout=60, check=True).stdout
        assert display_short_id(short_id) in printed
        # The certificate page: each code sent (masked), each signer's address and browser,
        # the digest of the version signed.
        flat = re.sub(r"\s+", "", printed)
        assert "完成证明" in printed and "发送短信验证码至" in flat
        assert "*******" in printed and doc.version_digest in flat
        assert "127.0.0.1" in printed
        assert f"{srv.url}/verify/{short_id}" in re.sub(r"\s+", "", printed)
        assert doc.event_log_head and doc.event_log_head.split(":")[0].isdigit()

        # Upload the PDF: authentic, who signed and when, the chain holds.
        status, v, raw = await _public(srv, "POST", "/api/verify", data=_form(pdf))
        assert status == 200 and v["authentic"] is True, v
        assert v["document"]["short_id"] == short_id and v["sha256"] == doc.pdf_sha256
        assert {s["name"] for s in v["signed_by"]} >= {"张三", "Li"}
        assert all(s["signed_at"] for s in v["signed_by"])
        assert v["audit_chain"]["intact"] is True and v["audit_chain"]["recorded_head_holds"]
        assert v["seal"]["trusted"] and v["seal"]["covers_whole_file"]
        # The completion certificate: drafted, confirmations, signatures; publicly without
        # the numbers the codes went to.
        timeline = [step["what"] for step in v["certificate"]["timeline"]]
        assert timeline[0].startswith("起草人民调解协议书"), timeline
        assert any("确认本人信息" in t for t in timeline)
        assert sum("签署（验证码" in t for t in timeline) == 3
        assert not any("发送" in t for t in timeline)
        assert {g["version_digest"] for g in v["certificate"]["signatures"]} == {
            doc.version_digest}
        # Names, roles and times only: no ID or phone number, no address, no IP.
        data = agreement_data(r)
        for secret in (data["parties"][0]["id_number"], data["parties"][0]["phone"],
                       data["parties"][0]["address"], "127.0.0.1"):
            assert secret not in raw, secret

        # By its short id (as typed from paper: lower case, with the hyphen) or raw body.
        status, v, _ = await _public(srv, "GET", f"/api/verify/{display_short_id(short_id)}"
                                     .lower())
        assert status == 200 and v["authentic"] is True
        status, v, _ = await _public(srv, "POST", f"/api/verify?short_id={short_id}", data=pdf,
                                     headers={"Content-Type": "application/pdf"})
        assert status == 200 and v["authentic"] is True

        # One byte changed: not authentic, and nothing about the signers.
        tampered = _one_byte_changed(pdf)
        status, v, _ = await _public(srv, "POST", "/api/verify", data=_form(tampered))
        assert status == 200 and v["authentic"] is False and v["reasons"], v
        status, v, _ = await _public(srv, "POST", "/api/verify",
                                     data=_form(tampered, short_id))
        assert status == 200 and v["authentic"] is False and v["signed_by"] == []

        # Refusals, each with its code.
        status, v, _ = await _public(srv, "GET", "/api/verify/ZZZZZZZZZZ")
        assert (status, v["error"]["code"]) == (404, "document_not_found")
        status, v, _ = await _public(srv, "GET", "/api/verify/not-an-id")
        assert (status, v["error"]["code"]) == (404, "document_not_found")
        status, v, _ = await _public(srv, "POST", "/api/verify",
                                     data=_form(pdf, "ZZZZZZZZZZ"))
        assert (status, v["error"]["code"]) == (404, "document_not_found")
        status, v, _ = await _public(srv, "POST", "/api/verify",
                                     data=_form(b"%PDF-" + b"\0" * LIMIT))
        assert (status, v["error"]["code"]) == (413, "pdf_too_large")
        for garbage in (b"this is not a pdf", b"%PDF-1.7\n" + os.urandom(4096)):
            status, v, _ = await _public(srv, "POST", "/api/verify", data=_form(garbage))
            assert (status, v["error"]["code"]) == (400, "pdf_malformed"), garbage[:12]
        status, v, _ = await _public(srv, "POST", "/api/verify", data=b"",
                                     headers={"Content-Type": "application/pdf"})
        assert (status, v["error"]["code"]) == (400, "pdf_missing")

        # The page: zh-CN, no script, its style allowed by hash.
        status, _, page = await _public(srv, "GET", "/verify")
        assert status == 200 and "人民调解文书核验" in page and "<script" not in page
        assert "style-src 'self' 'sha256-" in page
        status, _, page = await _public(srv, "GET", f"/verify/{short_id}")
        assert status == 200 and "文书真实" in page and "张三" in page and "完成证明" in page
        status, _, page = await _public(srv, "GET", "/verify?id=ZZZZZ-ZZZZZ")
        assert status == 404 and "没有与此验证码对应的文书" in page
        status, _, page = await _public(srv, "POST", "/verify", data=_form(tampered))
        assert status == 200 and "未能证明文书真实" in page
        status, _, page = await _public(srv, "POST", "/verify", data=_form(b"junk"))
        assert status == 400 and "不是可读取的 PDF" in page

        # The command line, against the same database: authentic, until an event changes.
        assert _cli_verify(path, tmp_path, database_url, short_id) == 0
        changed = tmp_path / "changed.pdf"
        changed.write_bytes(tampered)
        assert _cli_verify(changed, tmp_path, database_url, short_id) == 1
        async with srv.services.db.engine.begin() as conn:
            await conn.execute(text(
                "UPDATE session_events SET payload = :p WHERE session_id = :s AND seq = 2"),
                {"p": '{"text": "改过的"}', "s": doc.session_id})
        status, v, _ = await _public(srv, "GET", f"/api/verify/{short_id}")
        assert status == 200 and v["audit_chain"]["intact"] is False, v
        assert v["audit_chain"]["broken_at"] == 2
        status, _, page = await _public(srv, "GET", f"/verify/{short_id}")
        assert "记录被改动" in page
        assert _cli_verify(path, tmp_path, database_url, short_id) == 1


@pytest.mark.slow
@needs_soffice
@needs_poppler
async def test_an_english_document_prints_its_completion_certificate_in_english(
        database_url: str, tmp_path: Path) -> None:
    async with running_server(database_url, tmp_path) as srv, aiohttp.ClientSession() as http:
        r = await doc_room(srv, http, tmp_path)
        document_id = await _seal(r, language="en")
        async with srv.services.db.session() as db:
            doc = await db.get(SealedDocumentRow, document_id)
            assert doc is not None
        path = tmp_path / "sealed-en.pdf"
        path.write_bytes(doc.pdf)
        printed = subprocess.run(["pdftotext", str(path), "-"], capture_output=True,
                                 text=True, timeout=60, check=True).stdout
        flat = re.sub(r"\s+", " ", printed)
        assert "Completion certificate" in flat and "完成证明" not in flat
        for words in ("How each signer was verified", "Drafted the people's mediation agreement",
                      "Signing opened (version 1)", "SMS code sent to", "Applicant", "Mediator",
                      "SMS code (sent to", "final file's SHA-256"):
            assert words in flat, words
        for chinese in ("签署过程", "签署人身份核验", "发起签署", "短信验证码", "调解员"):
            assert chinese not in flat, chinese


async def test_the_verify_routes_are_rate_limited_per_address(tmp_path: Path) -> None:
    async with running_server(f"sqlite+aiosqlite:///{tmp_path}/t.db", tmp_path,
                              rate_limits={"verify_ip": (2, 600)}) as srv:
        for _ in range(2):
            status, v, _ = await _public(srv, "GET", "/api/verify/ZZZZZZZZZZ")
            assert status == 404
        status, v, headers = await _public(srv, "GET", "/api/verify/ZZZZZZZZZZ")
        assert (status, v["error"]["code"]) == (429, "rate_limited")
        assert "Retry-After" in headers
        status, _, page = await _public(srv, "GET", "/verify/ZZZZZZZZZZ")
        assert status == 429 and "核验次数过多" in page
        status, _, page = await _public(srv, "GET", "/verify")
        assert status == 200  # the empty form costs nothing
