"""A mediation room with documents: the mediator, parties A and B, and a clerk.

Builds on signaling's harness (a real server, real Socket.IO clients); the party ids in
the document are the parties' participant ids, so each party signs from their own seat.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import aiohttp

from agreements import OutboxCodeSender
from agreements.demo import demo_agreement
from agreements.images import make_png
from tests.signaling.harness import Client, Server, Staff, connect, login, make_user
from tests.signaling.test_join_flow import full_room

CASE_NUMBER = "(2026)长北调字第1号"
"""The number ``Staff.new_session`` gives the case."""


class DocRoom:
    """A full room plus a clerk in it, and the outbox where signing codes land."""

    def __init__(self, med: Client, a: Client, b: Client, staff: Staff, session_id: str,
                 clerk_staff: Staff, clerk: Client, outbox: Path) -> None:
        self.med, self.a, self.b = med, a, b
        self.staff, self.session_id = staff, session_id
        self.clerk_staff = clerk_staff
        self.clerk = clerk
        self.outbox = OutboxCodeSender(outbox)
        self.invites: dict[str, str] = {}
        """participant id -> the invite id they joined through (A's and B's)."""

    def code(self, signer_id: str) -> str:
        code = self.outbox.last_code(signer_id)
        assert code is not None, f"no code sent to {signer_id}"
        return code

    def clients(self) -> dict[str, Client]:
        """Signer id -> the client who signs as that signer."""
        return {self.a.pid: self.a, self.b.pid: self.b, "mediator": self.med}


async def doc_room(srv: Server, http: aiohttp.ClientSession, tmp: Path) -> DocRoom:
    room = await full_room(srv, http)
    await make_user(srv, "qian", role="clerk")
    clerk_staff = await login(srv, http, "qian")
    clerk = await connect(srv.url, {"token": clerk_staff.token, "session_id": room.session_id})
    r = DocRoom(room.med, room.a, room.b, room.staff, room.session_id, clerk_staff, clerk,
                tmp / "outbox")
    await learn_invites(srv, r)
    return r


async def learn_invites(srv: Server, r: DocRoom) -> None:
    """Which link each party came in through (the mediator's editor knows it from the
    invitation list; tests read it from the database)."""
    from sqlalchemy import select

    from signaling.db.models import Participant

    async with srv.services.db.session() as db:
        for pid, invite in await db.execute(select(Participant.id, Participant.invite_id)
                                            .where(Participant.session_id == r.session_id)):
            if invite:
                r.invites[pid] = invite


def agreement_data(r: DocRoom, **changes: Any) -> dict[str, Any]:
    """The demo agreement with the room's parties as P1 and P2 (ids = participant ids):
    A is 张三 in person, B is 王五, the agent of the company P2."""
    data = demo_agreement().model_dump(mode="json")
    ids = {"P1": r.a.pid, "P2": r.b.pid}
    for party in data["parties"]:
        party["party_id"] = ids[party["party_id"]]
    data["parties"][0]["invite_id"] = r.invites.get(r.a.pid)
    data["parties"][1]["agents"][0]["invite_id"] = r.invites.get(r.b.pid)
    for clause in data["clauses"]:
        clause["obligor"] = ids[clause["obligor"]]
        clause["obligee"] = ids[clause["obligee"]]
    data["case_number"] = CASE_NUMBER
    data["mediator"]["name"] = "Li"
    data["recorder"] = {"name": "Qian"}
    data.update(changes)
    return data


async def confirm_parties(r: DocRoom, draft_id: str, *parties: Client) -> None:
    """Each party (A, and B as the company's agent) confirms what the draft prints."""
    for client in parties or (r.a, r.b):
        mine = await client.call("party_details_get", {"draft_id": draft_id})
        assert mine["ok"], mine
        for entry in mine["parties"]:
            ack = await client.call("party_confirm", {"draft_id": draft_id,
                                                      "version": mine["version"],
                                                      "party_id": entry["party_id"]})
            assert ack["ok"] and ack["state"] == "confirmed", ack


async def open_signing(r: DocRoom, draft_id: str, **seats: str) -> Any:
    """Parties confirm, then the mediator opens signing."""
    await confirm_parties(r, draft_id)
    opened = await r.med.call("signing_open", {"draft_id": draft_id, "seats": seats})
    assert opened["ok"], opened
    return opened


def drawn(strokes: int = 3) -> str:
    return base64.b64encode(make_png(240, 80, strokes=strokes)).decode("ascii")


async def sign_as(r: DocRoom, signer_id: str, ceremony_id: str, digest: str,
                  **mark: Any) -> Any:
    """The signer asks for a code, reads it from the outbox and signs."""
    client = r.clients()[signer_id]
    sent = await client.call("signing_send_code", {"ceremony_id": ceremony_id})
    assert sent["ok"], sent
    payload = {"ceremony_id": ceremony_id, "code": r.code(signer_id), "version_digest": digest,
               **(mark or {"image_png_b64": drawn()})}
    return await client.call("sign", payload)


async def stored_document(srv: Server, case_id: str, session_id: str) -> dict[str, str]:
    """A draft and a sealed-document row of a case, written straight to the database
    (no LibreOffice): ids for route walks such as signaling's authorization table.
    The "PDF" is a placeholder; nothing here verifies it."""
    from datetime import UTC, datetime

    from agreements.runtime import runtime
    from agreements.shortid import new_short_id
    from agreements.store_sql import Place
    from agreements.tables import SealedDocumentRow

    data = demo_agreement()
    version = await runtime(srv.services).run(
        lambda st: st.drafts.create(case_number=data.case_number, kind="agreement", data=data,
                                    author="mediator"),
        Place(case_id, session_id, None))
    row = SealedDocumentRow(case_id=case_id, session_id=session_id, draft_id=version.draft_id,
                            ceremony_id="0" * 32, kind="agreement", version_number=1,
                            version_digest=version.digest, pdf=b"%PDF-1.7\n", docx=b"PK",
                            pdf_sha256="0" * 64, sealed_at=datetime.now(UTC),
                            judicial_confirmation_deadline=None, short_id=new_short_id())
    async with srv.services.db.session() as db:
        db.add(row)
        await db.commit()
    return {"document_id": row.id, "draft_id": version.draft_id,
            "short_id": str(row.short_id)}
