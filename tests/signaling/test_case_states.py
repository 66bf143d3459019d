"""A case's life: every move the table allows succeeds and is logged, every other move is
refused with 409, and the moves that need a reason or a sealed document say so; on SQLite
and PostgreSQL, through the HTTP API."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import text

from signaling import case_states
from signaling.db.engine import Database
from signaling.db.migrate import migrate
from signaling.errors import BadRequest, Conflict
from tests.signaling.harness import Server, Staff, login, make_user, running_server

EDGES = {
    ("applied", "accepted"), ("applied", "rejected"),
    ("accepted", "scheduled"), ("accepted", "terminated"),
    ("scheduled", "in_mediation"), ("scheduled", "terminated"),
    ("in_mediation", "agreed"), ("in_mediation", "not_agreed"),
    ("in_mediation", "terminated"), ("in_mediation", "scheduled"),
    ("agreed", "judicial_confirm"), ("agreed", "return_visit"),
    ("judicial_confirm", "return_visit"), ("return_visit", "archived"),
    ("not_agreed", "archived"), ("terminated", "archived"),
}
"""The life of a case as the issue states it, written out independently of the table."""


# -- the table ----------------------------------------------------------------------------

def test_the_table_allows_exactly_the_moves_of_a_cases_life() -> None:
    assert set(case_states.TRANSITIONS) == set(case_states.STATES)
    for current in case_states.STATES:
        for target in case_states.STATES:
            reason = "理由" if target in case_states.REASON_REQUIRED else ""
            if (current, target) in EDGES:
                case_states.check_move(current, target, reason)
            else:
                with pytest.raises(Conflict) as exc:
                    case_states.check_move(current, target, reason)
                assert exc.value.code == "illegal_transition"
    assert case_states.allowed_moves("rejected") == []
    assert case_states.allowed_moves("archived") == []


@pytest.mark.parametrize("target", sorted(case_states.REASON_REQUIRED))
def test_rejecting_and_terminating_need_a_reason(target: str) -> None:
    current = "applied" if target == "rejected" else "accepted"
    with pytest.raises(BadRequest) as exc:
        case_states.check_move(current, target, "")
    assert exc.value.code == "reason_required"


def test_every_state_has_a_label_and_the_old_states_map_to_states() -> None:
    assert set(case_states.LABELS) == set(case_states.STATES)
    assert set(case_states.LEGACY.values()) <= set(case_states.STATES)
    assert case_states.LEGACY["open"] == "accepted"


# -- through the API, on both databases ------------------------------------------------

async def sealed(srv: Server, case_id: str, session_id: str, kind: str) -> None:
    """A sealed-document row of the case (as agreements writes it when sealing)."""
    from tests.agreements.room_helpers import stored_document

    ids = await stored_document(srv, case_id, session_id)
    if kind != "agreement":
        async with srv.services.db.session() as db:
            await db.execute(text("UPDATE agreement_documents SET kind = :k WHERE id = :i"),
                             {"k": kind, "i": ids["document_id"]})
            await db.commit()


async def move(staff: Staff, case_id: str, to: str, reason: str = "") -> tuple[int, Any]:
    body = {"to": to} | ({"reason": reason} if reason else {})
    return await staff.call("POST", f"/api/v1/cases/{case_id}/moves", body)


def code(body: Any) -> str:
    return str(body["error"]["code"])


async def test_a_case_goes_from_application_to_archive_and_every_move_is_logged(
        database_url: str, tmp_path: Path) -> None:
    async with running_server(database_url, tmp_path) as srv, aiohttp.ClientSession() as http:
        await make_user(srv, "li")
        li = await login(srv, http, "li")
        case_id, session_id = await li.new_session()
        st, case = await li.call("GET", f"/api/v1/cases/{case_id}")
        assert case["status"] == "applied"
        assert case["allowed_moves"] == ["accepted", "rejected"]

        st, body = await move(li, case_id, "in_mediation")
        assert (st, code(body)) == (409, "illegal_transition")
        for to in ("accepted", "scheduled", "in_mediation"):
            st, case = await move(li, case_id, to)
            assert st == 200 and case["status"] == to, case
        st, body = await move(li, case_id, "agreed")
        assert (st, code(body)) == (409, "agreement_not_sealed")
        await sealed(srv, case_id, session_id, "agreement")
        st, case = await move(li, case_id, "agreed")
        assert st == 200 and case["allowed_moves"] == ["judicial_confirm", "return_visit"]
        st, body = await move(li, case_id, "archived")
        assert (st, code(body)) == (409, "illegal_transition")
        for to in ("judicial_confirm", "return_visit"):
            st, case = await move(li, case_id, to)
            assert st == 200, case
        st, body = await move(li, case_id, "archived")
        assert (st, code(body)) == (409, "record_not_sealed")
        await sealed(srv, case_id, session_id, "record")
        st, case = await move(li, case_id, "archived")
        assert st == 200 and case["status"] == "archived" and case["allowed_moves"] == []

        st, log = await li.call("GET", f"/api/v1/cases/{case_id}/log")
        assert st == 200
        steps = [(e["from_status"], e["to_status"]) for e in log["items"]]
        assert steps == [(None, "applied"), ("applied", "accepted"), ("accepted", "scheduled"),
                         ("scheduled", "in_mediation"), ("in_mediation", "agreed"),
                         ("agreed", "judicial_confirm"), ("judicial_confirm", "return_visit"),
                         ("return_visit", "archived")]
        assert {e["actor_id"] for e in log["items"]} == {li.user["id"]}
        assert {e["actor_name"] for e in log["items"]} == {"Li"}
        times = [datetime.fromisoformat(e["at"]) for e in log["items"]]
        assert times == sorted(times) and all(t.tzinfo is not None for t in times)


async def test_rejecting_and_terminating_are_logged_with_their_reason(
        database_url: str, tmp_path: Path) -> None:
    async with running_server(database_url, tmp_path) as srv, aiohttp.ClientSession() as http:
        await make_user(srv, "li")
        li = await login(srv, http, "li")
        rejected, _ = await li.new_session("(2026)长北调字第1号")
        st, body = await move(li, rejected, "rejected")
        assert (st, code(body)) == (400, "reason_required")
        st, case = await move(li, rejected, "rejected", "不属于人民调解受理范围")
        assert st == 200 and case["status"] == "rejected" and case["allowed_moves"] == []
        st, body = await move(li, rejected, "accepted")
        assert (st, code(body)) == (409, "illegal_transition")

        ended, session_id = await li.new_session("(2026)长北调字第2号")
        await move(li, ended, "accepted")
        st, body = await move(li, ended, "terminated")
        assert (st, code(body)) == (400, "reason_required")
        st, case = await move(li, ended, "terminated", "申请人撤回申请")
        assert st == 200
        st, body = await move(li, ended, "archived")
        assert (st, code(body)) == (409, "record_not_sealed")
        await sealed(srv, ended, session_id, "record")
        assert (await move(li, ended, "archived"))[0] == 200

        for case_id, reason in ((rejected, "不属于人民调解受理范围"), (ended, "申请人撤回申请")):
            st, log = await li.call("GET", f"/api/v1/cases/{case_id}/log")
            assert [e["reason"] for e in log["items"] if e["reason"]] == [reason]
        st, body = await move(li, ended, "nonsense")
        assert (st, code(body)) == (400, "invalid_payload")


async def test_who_may_move_a_case(database_url: str, tmp_path: Path) -> None:
    async with running_server(database_url, tmp_path) as srv, aiohttp.ClientSession() as http:
        for name, role in (("li", "mediator"), ("wang", "mediator"), ("zhao", "clerk"),
                           ("adm", "admin")):
            await make_user(srv, name, role)
        await make_user(srv, "far", office="桐乡市乌镇司法所")
        li, wang, zhao, adm, far = [await login(srv, http, u)
                                    for u in ("li", "wang", "zhao", "adm", "far")]
        case_id, _ = await li.new_session()
        st, body = await move(zhao, case_id, "accepted")
        assert (st, code(body)) == (403, "role_not_allowed")
        st, body = await move(wang, case_id, "accepted")
        assert (st, code(body)) == (403, "not_your_case")
        st, body = await move(far, case_id, "accepted")
        assert (st, code(body)) == (404, "case_not_found")
        st, body = await far.call("GET", f"/api/v1/cases/{case_id}/log")
        assert (st, code(body)) == (404, "case_not_found")
        st, case = await move(adm, case_id, "accepted")
        assert st == 200 and case["mediator_id"] == li.user["id"]
        st, log = await zhao.call("GET", f"/api/v1/cases/{case_id}/log")
        assert st == 200 and log["items"][-1]["actor_id"] == adm.user["id"]

        # A case an administrator opened has no mediator: the first mediator to move it
        # takes it, and then it is theirs alone.
        st, unassigned = await adm.call("POST", "/api/v1/cases", {
            "number": "(2026)长北调字第9号", "dispute_type": "debt"})
        assert st == 201 and unassigned["mediator_id"] is None
        st, case = await move(wang, unassigned["id"], "accepted")
        assert st == 200 and case["mediator_id"] == wang.user["id"]
        st, body = await move(li, unassigned["id"], "scheduled")
        assert (st, code(body)) == (403, "not_your_case")


async def test_cases_of_the_old_states_migrate_to_the_new_ones(database_url: str) -> None:
    db = Database(database_url)
    try:
        await migrate(db, "0003")
        now = datetime.now(UTC)
        async with db.engine.begin() as conn:
            await conn.execute(text("INSERT INTO offices (id, name, created_at) "
                                    "VALUES ('o1', '司法所', :t)"), {"t": now})
            await conn.execute(text(
                "INSERT INTO users (id, office_id, username, display_name, role, password_hash,"
                " active, failed_logins, created_at) VALUES ('u1', 'o1', 'li', 'Li', "
                "'mediator', 'x', :yes, 0, :t)"), {"t": now, "yes": True})
            for i, old in enumerate(("open", "in_mediation", "agreed", "failed", "closed")):
                await conn.execute(text(
                    "INSERT INTO cases (id, office_id, number, dispute_type, summary, status, "
                    "created_by, created_at) VALUES (:id, 'o1', :n, 'debt', '', :s, 'u1', :t)"),
                    {"id": old, "n": f"N{i}", "s": old, "t": now})
        await migrate(db)
        async with db.engine.connect() as conn:
            result = await conn.execute(text("SELECT id, status FROM cases"))
            rows = {str(r[0]): str(r[1]) for r in result.all()}
        assert rows == dict(case_states.LEGACY)
    finally:
        await db.close()


async def test_two_moves_at_once_one_wins_and_the_log_has_it_once(
        database_url: str, tmp_path: Path) -> None:
    import asyncio

    async with running_server(database_url, tmp_path) as srv, aiohttp.ClientSession() as http:
        await make_user(srv, "li")
        await make_user(srv, "adm", "admin")
        li, adm = await login(srv, http, "li"), await login(srv, http, "adm")
        case_id, _ = await li.new_session()
        answers = await asyncio.gather(move(li, case_id, "accepted"),
                                       move(adm, case_id, "rejected", "不属于受理范围"))
        statuses = sorted(st for st, _ in answers)
        assert statuses == [200, 409], answers
        loser = next(body for st, body in answers if st == 409)
        assert code(loser) in ("case_moved", "illegal_transition")
        st, log = await li.call("GET", f"/api/v1/cases/{case_id}/log")
        assert len(log["items"]) == 2
