"""The office's statistics and case register on known data, on SQLite and PostgreSQL,
through the HTTP API: every figure of the dashboard, the filters, the register as CSV and
XLSX with parties masked as the role requires, and who is refused (office heads, who are
not among the authorization walk's callers, are walked here)."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from openpyxl import load_workbook
from sqlalchemy import update

from signaling import case_states
from signaling.db.models import Case, CaseEvent, MediationSession, Participant
from signaling.intake import applicant_account
from tests.signaling.harness import PASSWORD, Server, Staff, login, make_user, running_server

OTHER = "赤峰市红山区人民调解委员会"


def at(text: str) -> datetime:
    """A time written in Shanghai (UTC+8), as UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC) - timedelta(hours=8)


async def new_case(staff: Staff, number: str, dispute_type: str) -> str:
    st, body = await staff.call(
        "POST", "/api/v1/cases", {"number": number, "dispute_type": dispute_type}
    )
    assert st == 201, body
    return str(body["id"])


async def life(
    srv: Server,
    case_id: str,
    created: str,
    moves: list[tuple[str, str]],
    mediator_id: str | None = None,
) -> None:
    """Give a case its application time and moves (state, Shanghai time), as if lived."""
    async with srv.services.db.session() as db:
        values: dict[str, Any] = {
            "created_at": at(created),
            "status": moves[-1][0] if moves else "applied",
        }
        if mediator_id:
            values["mediator_id"] = mediator_id
        await db.execute(
            update(CaseEvent).where(CaseEvent.case_id == case_id).values(at=at(created))
        )
        case = await db.get(Case, case_id)
        assert case is not None
        actor = case.created_by
        prev = "applied"
        for to, when in moves:
            for column in case_states.MILESTONES.get(to, ()):
                values.setdefault(column, at(when))
            db.add(
                CaseEvent(
                    case_id=case_id,
                    actor_id=actor,
                    from_status=prev,
                    to_status=to,
                    at=at(when),
                    reason="理由" if to == "terminated" else "",
                )
            )
            prev = to
        await db.execute(update(Case).where(Case.id == case_id).values(**values))
        await db.commit()


async def expert_minutes(
    srv: Server, case_id: str, session_id: str, domain: str, minutes: int
) -> None:
    from experts.tables import ExpertCall, ExpertProfile, ExpertVisit

    async with srv.services.db.session() as db:
        case = await db.get(Case, case_id)
        assert case is not None
        name = f"exp{uuid.uuid4().hex[:6]}"
        from signaling.accounts import create_user

        user = await create_user(
            db, office_id=case.office_id, username=name, password="a-long-password", role="expert"
        )
        prof = ExpertProfile(
            user_id=user.id, office_id=case.office_id, display_name=name, domains=[domain]
        )
        db.add(prof)
        await db.flush()
        now = datetime.now(UTC)
        call = ExpertCall(
            office_id=case.office_id,
            case_id=case_id,
            session_id=session_id,
            mediator_participant_id="m" * 32,
            domain=domain,
            scope="joint",
            deadline=now,
            state="ended",
        )
        db.add(call)
        await db.flush()
        db.add(
            ExpertVisit(
                call_id=call.id,
                expert_id=prof.id,
                office_id=case.office_id,
                case_id=case_id,
                session_id=session_id,
                scope="joint",
                joined_at=now,
                minutes=minutes,
            )
        )
        await db.commit()


async def parties(srv: Server, session_id: str, names: dict[str, str]) -> None:
    async with srv.services.db.session() as db:
        for side, name in names.items():
            db.add(
                Participant(
                    session_id=session_id,
                    role="party",
                    side=side,
                    display_name=name,
                    resume_token_hash=uuid.uuid4().hex * 2,
                )
            )
        await db.execute(
            update(MediationSession)
            .where(MediationSession.id == session_id)
            .values(started_at=datetime.now(UTC), status="ended")
        )
        await db.commit()


async def known_world(srv: Server, http: aiohttp.ClientSession) -> dict[str, Any]:
    """Office A: five cases of two mediators; office B: one case."""
    from tests.signaling.test_case_states import sealed

    for name, role in (
        ("li", "mediator"),
        ("wang", "mediator"),
        ("clerk", "clerk"),
        ("adm", "admin"),
        ("head", "head"),
    ):
        await make_user(srv, name, role)
    await make_user(srv, "outsider", "mediator", office=OTHER)
    await make_user(srv, "ohead", "head", office=OTHER)
    s = {
        u: await login(srv, http, u)
        for u in ("li", "wang", "clerk", "adm", "head", "outsider", "ohead")
    }
    li, wang = s["li"], s["wang"]
    c1, s1 = await li.new_session("(2026)长北调字第1号")
    await life(
        srv,
        c1,
        "2026-01-10T09:00",
        [
            ("accepted", "2026-01-11T09:00"),
            ("scheduled", "2026-01-12T09:00"),
            ("in_mediation", "2026-01-15T09:00"),
            ("agreed", "2026-01-20T09:00"),
            ("judicial_confirm", "2026-01-25T09:00"),
        ],
    )
    await sealed(srv, c1, s1, "agreement")
    await parties(srv, s1, {"A": "张三丰", "B": "李四"})
    await expert_minutes(srv, c1, s1, "legal", 30)
    await expert_minutes(srv, c1, s1, "medical", 12)
    c2 = await new_case(li, "(2026)长北调字第2号", "neighbour")
    await life(
        srv,
        c2,
        "2026-02-05T10:00",
        [
            ("accepted", "2026-02-06T10:00"),
            ("scheduled", "2026-02-07T10:00"),
            ("in_mediation", "2026-02-08T10:00"),
            ("not_agreed", "2026-02-09T10:00"),
        ],
    )
    c3 = await new_case(li, "(2026)长北调字第3号", "debt")
    await life(
        srv,
        c3,
        "2026-02-20T10:00",
        [("accepted", "2026-02-21T10:00"), ("terminated", "2026-02-22T10:00")],
    )
    c4, s4 = await wang.new_session("(2026)长北调字第4号")
    await life(
        srv,
        c4,
        "2026-03-01T08:00",
        [
            ("accepted", "2026-03-02T08:00"),
            ("scheduled", "2026-03-03T08:00"),
            ("in_mediation", "2026-03-04T08:00"),
            ("agreed", "2026-03-05T08:00"),
        ],
        mediator_id=wang.user["id"],
    )
    await sealed(srv, c4, s4, "oral_register")
    # 01:00 on 1 April in Shanghai is still 31 March in UTC: it counts in April.
    c5 = await new_case(li, "(2026)长北调字第5号", "debt")
    await life(srv, c5, "2026-04-01T01:00", [])
    o1 = await new_case(s["outsider"], "(2026)红调字第1号", "debt")
    await life(srv, o1, "2026-01-03T10:00", [])
    return {"staff": s, "cases": [c1, c2, c3, c4, c5]}


def counts(items: list[dict[str, Any]]) -> dict[str, int]:
    return {x["key"]: x["count"] for x in items}


async def test_the_dashboard_counts_known_cases(database_url: str, tmp_path: Path) -> None:
    async with running_server(database_url, tmp_path) as srv, aiohttp.ClientSession() as http:
        w = await known_world(srv, http)
        head: Staff = w["staff"]["head"]
        st, out = await head.call("GET", "/api/v1/statistics")
        assert st == 200, out
        assert out["office_id"] == head.user["office_id"]
        assert out["cases"] == 5
        assert counts(out["by_state"]) == {
            "judicial_confirm": 1,
            "not_agreed": 1,
            "terminated": 1,
            "agreed": 1,
            "applied": 1,
        }
        assert out["by_type"] == [{"key": "neighbour", "count": 3}, {"key": "debt", "count": 2}]
        assert counts(out["by_month"]) == {"2026-01": 1, "2026-02": 2, "2026-03": 1, "2026-04": 1}
        assert (out["decided"], out["succeeded"], out["success_rate"]) == (4, 2, 0.5)
        assert out["median_days_to_agreement"] == pytest.approx(7.0)  # 10 and 4 days
        assert out["sessions_online"] == 1
        assert counts(out["expert_minutes"]) == {"legal": 30, "medical": 12}
        assert out["agreements_sealed"] == 2
        assert out["judicial_confirmations"] == 1
        assert {m["name"] for m in out["mediators"]} == {"Li", "Wang"}
        assert [o["id"] for o in out["offices"]] == [head.user["office_id"]]

        # Filters: a mediator; a period (dates in the office's time zone, both included).
        wang = w["staff"]["wang"].user["id"]
        st, out = await head.call("GET", f"/api/v1/statistics?mediator_id={wang}")
        assert (out["cases"], out["median_days_to_agreement"]) == (1, pytest.approx(4.0))
        st, out = await head.call("GET", "/api/v1/statistics?since=2026-02-01&until=2026-02-20")
        assert st == 200 and out["cases"] == 2 and out["success_rate"] == 0.0
        st, out = await head.call("GET", "/api/v1/statistics?since=2026-04-01")
        assert out["cases"] == 1 and out["success_rate"] is None

        # An administrator reads every office, or one.
        adm: Staff = w["staff"]["adm"]
        st, out = await adm.call("GET", "/api/v1/statistics")
        assert st == 200 and out["cases"] == 6 and out["office_id"] is None
        assert len(out["offices"]) == 2
        other = w["staff"]["outsider"].user["office_id"]
        st, out = await adm.call("GET", f"/api/v1/statistics?office_id={other}")
        assert out["cases"] == 1 and counts(out["by_month"]) == {"2026-01": 1}


async def test_bad_filters_get_a_clear_answer(tmp_path: Path) -> None:
    async with (
        running_server(f"sqlite+aiosqlite:///{tmp_path}/t.db", tmp_path) as srv,
        aiohttp.ClientSession() as http,
    ):
        await make_user(srv, "adm", "admin")
        adm = await login(srv, http, "adm")
        for query, code in (
            ("since=2026-13-01", "bad_date"),
            ("until=yesterday", "bad_date"),
            ("since=2026-03-01&until=2026-02-01", "bad_period"),
            ("mediator_id=x'%20or%201=1", "bad_id"),
            ("office_id=" + "0" * 32, "office_not_found"),
        ):
            st, out = await adm.call("GET", f"/api/v1/statistics?{query}")
            assert st in (400, 404) and out["error"]["code"] == code, (query, out)


async def test_who_is_refused_the_dashboard_and_the_register(tmp_path: Path) -> None:
    async with (
        running_server(f"sqlite+aiosqlite:///{tmp_path}/t.db", tmp_path) as srv,
        aiohttp.ClientSession() as http,
    ):
        for name, role in (
            ("li", "mediator"),
            ("clerk", "clerk"),
            ("exp", "expert"),
            ("head", "head"),
        ):
            await make_user(srv, name, role)
        await make_user(srv, "ohead", "head", office=OTHER)
        s = {u: await login(srv, http, u) for u in ("li", "clerk", "exp", "head", "ohead")}
        other = s["ohead"].user["office_id"]
        for who in ("li", "clerk", "exp"):
            st, out = await s[who].call("GET", "/api/v1/statistics")
            assert (st, out["error"]["code"]) == (403, "role_not_allowed"), who
        for who in ("li", "exp"):
            for fmt in ("csv", "xlsx"):
                st, out = await s[who].call("GET", f"/api/v1/register.{fmt}")
                assert (st, out["error"]["code"]) == (403, "role_not_allowed"), who
        # A head, or a clerk, asking for another office's figures is refused, not served.
        for path in (
            f"/api/v1/statistics?office_id={other}",
            f"/api/v1/register.csv?office_id={other}",
        ):
            st, out = await s["head"].call("GET", path)
            assert (st, out["error"]["code"]) == (403, "forbidden"), path
        st, out = await s["clerk"].call("GET", f"/api/v1/register.xlsx?office_id={other}")
        assert (st, out["error"]["code"]) == (403, "forbidden")
        async with http.get(srv.url + "/api/v1/statistics") as r:
            assert r.status == 401
        # A head is no administrator: the console's routes refuse them.
        for method, path in (("GET", "/api/v1/staff"), ("GET", "/api/v1/retention")):
            st, out = await s["head"].call(method, path)
            assert (st, out["error"]["code"]) == (403, "role_not_allowed"), path


async def download(staff: Staff, path: str) -> tuple[int, bytes, str]:
    async with staff.http.get(
        staff.server.url + path, headers={"Authorization": f"Bearer {staff.token}"}
    ) as r:
        return r.status, await r.read(), r.headers.get("Content-Type", "")


async def test_the_register_as_csv_and_xlsx_masks_parties_by_role(
    database_url: str, tmp_path: Path
) -> None:
    from signaling.register import COLUMNS

    async with running_server(database_url, tmp_path) as srv, aiohttp.ClientSession() as http:
        w = await known_world(srv, http)
        st, raw, ctype = await download(w["staff"]["clerk"], "/api/v1/register.csv")
        assert st == 200 and ctype.startswith("text/csv")
        assert raw.startswith("\ufeff".encode())
        table = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
        assert tuple(table[0]) == COLUMNS
        assert [r["案件编号"] for r in table] == [f"(2026)长北调字第{i}号" for i in range(1, 6)]
        first = table[0]
        assert first["当事人"] == "甲方张三丰；乙方李四"
        assert (first["申请日期"], first["受理日期"], first["协议日期"]) == (
            "2026-01-10",
            "2026-01-11",
            "2026-01-20",
        )
        assert (first["纠纷类型"], first["调解员"], first["案件状态"]) == (
            "neighbour",
            "Li",
            "司法确认",
        )
        assert (first["调解结果"], first["协议形式"], first["司法确认"]) == (
            "调解成功",
            "书面协议",
            "已申请",
        )
        assert first["协议履行情况"] == "待回访"
        by_number = {r["案件编号"]: r for r in table}
        assert by_number["(2026)长北调字第2号"]["调解结果"] == "调解不成功"
        assert by_number["(2026)长北调字第3号"]["调解结果"] == "终止调解"
        assert by_number["(2026)长北调字第4号"]["协议形式"] == "口头协议"
        assert by_number["(2026)长北调字第5号"]["申请日期"] == "2026-04-01"

        # The head and the administrator see the names masked; no number ever appears.
        st, raw, _ = await download(w["staff"]["head"], "/api/v1/register.csv")
        head_rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
        assert head_rows[0]["当事人"] == "甲方张**；乙方李*"
        assert "张三丰" not in raw.decode("utf-8-sig")

        st, raw, ctype = await download(w["staff"]["adm"], "/api/v1/register.xlsx")
        assert st == 200 and ctype.startswith("application/vnd.openxmlformats")
        ws = load_workbook(io.BytesIO(raw)).active
        assert ws is not None
        rows = list(ws.iter_rows(values_only=True))
        assert rows[0] == COLUMNS
        assert len(rows) == 1 + 6  # every office's cases for an administrator
        assert "张三丰" not in str(rows)
        numbers = [r[1] for r in rows[1:]]
        assert "(2026)红调字第1号" in numbers
        other = w["staff"]["outsider"].user["office_id"]
        st, raw, _ = await download(
            w["staff"]["adm"], f"/api/v1/register.xlsx?office_id={other}&until=2026-01-31"
        )
        ws = load_workbook(io.BytesIO(raw)).active
        assert ws is not None and [r[1] for r in ws.iter_rows(min_row=2, values_only=True)] == [
            "(2026)红调字第1号"
        ]


async def test_an_administrator_manages_the_offices_staff(tmp_path: Path) -> None:
    async with (
        running_server(f"sqlite+aiosqlite:///{tmp_path}/t.db", tmp_path) as srv,
        aiohttp.ClientSession() as http,
    ):
        await make_user(srv, "adm", "admin")
        await make_user(srv, "oadm", "admin", office=OTHER)
        adm, oadm = await login(srv, http, "adm"), await login(srv, http, "oadm")
        st, out = await adm.call(
            "POST",
            "/api/v1/staff",
            {
                "username": "zhao",
                "display_name": "赵调解员",
                "role": "mediator",
                "password": PASSWORD,
            },
        )
        assert st == 201 and out["role"] == "mediator" and out["active"], out
        zhao_id = out["id"]
        st, out = await adm.call(
            "POST",
            "/api/v1/staff",
            {
                "username": "zhao",
                "display_name": "重名",
                "role": "clerk",
                "password": "a-long-password",
            },
        )
        assert (st, out["error"]["code"]) == (409, "username_taken")
        st, out = await adm.call(
            "POST",
            "/api/v1/staff",
            {"username": "qian", "display_name": "钱", "role": "boss", "password": "short"},
        )
        assert (st, out["error"]["code"]) == (400, "invalid_payload")
        st, out = await adm.call("GET", "/api/v1/staff")
        assert {u["username"] for u in out["items"]} == {"adm", "zhao"}

        zhao = await login(srv, http, "zhao")
        st, out = await adm.call("PATCH", f"/api/v1/staff/{zhao_id}", {"active": False})
        assert st == 200 and out["active"] is False
        st, _ = await zhao.call("GET", "/api/v1/auth/me")
        assert st == 401  # the disabled account's login ended at once
        async with http.post(
            srv.url + "/api/v1/auth/login", json={"username": "zhao", "password": PASSWORD}
        ) as r:
            assert r.status == 401
        await adm.call("PATCH", f"/api/v1/staff/{zhao_id}", {"active": True, "role": "head"})
        st, out = await adm.call(
            "POST", f"/api/v1/staff/{zhao_id}/password", {"password": "a-new-long-password"}
        )
        assert st == 200 and out["role"] == "head"
        async with http.post(
            srv.url + "/api/v1/auth/login",
            json={"username": "zhao", "password": "a-new-long-password"},
        ) as r:
            assert r.status == 200
        # Another office's administrator does not find the account; nobody drops their own
        # administrator role.
        st, out = await oadm.call("PATCH", f"/api/v1/staff/{zhao_id}", {"active": False})
        assert (st, out["error"]["code"]) == (404, "not_found")
        st, out = await adm.call("PATCH", f"/api/v1/staff/{adm.user['id']}", {"active": False})
        assert (st, out["error"]["code"]) == (400, "own_account")
        st, out = await adm.call("GET", "/api/v1/retention")
        assert st == 200 and out["chat_days"] == 365

        # The office's stand-in account for online applications is the service's: never
        # listed, never enabled or reset, and nobody can take its name first.
        async with srv.services.db.session() as db:
            stand_in = await applicant_account(db, adm.user["office_id"])
            await db.commit()
        st, out = await adm.call("GET", "/api/v1/staff")
        assert stand_in not in {u["id"] for u in out["items"]}
        st, out = await adm.call("PATCH", f"/api/v1/staff/{stand_in}", {"active": True})
        assert (st, out["error"]["code"]) == (404, "not_found")
        st, out = await adm.call("POST", f"/api/v1/staff/{stand_in}/password",
                                 {"password": "a-new-long-password"})
        assert (st, out["error"]["code"]) == (404, "not_found")
        st, out = await adm.call("POST", "/api/v1/staff", {
            "username": "apply@another-office", "display_name": "冒名", "role": "clerk",
            "password": "a-long-password"})
        assert (st, out["error"]["code"]) == (400, "username_reserved")


async def test_moves_through_the_api_keep_the_first_milestones(tmp_path: Path) -> None:
    """The figures read ``cases.decided_at``/``agreed_at``/``judicial_at``: each move sets
    its milestone the first time, and a later move keeps it."""
    from tests.signaling.test_case_states import move, sealed

    async with (
        running_server(f"sqlite+aiosqlite:///{tmp_path}/t.db", tmp_path) as srv,
        aiohttp.ClientSession() as http,
    ):
        await make_user(srv, "li")
        await make_user(srv, "head", "head")
        li, head = await login(srv, http, "li"), await login(srv, http, "head")
        case_id, session_id = await li.new_session()
        await sealed(srv, case_id, session_id, "agreement")
        for to in (
            "accepted",
            "scheduled",
            "in_mediation",
            "agreed",
            "judicial_confirm",
            "return_visit",
        ):
            st, body = await move(li, case_id, to)
            assert st == 200, body
        async with srv.services.db.session() as db:
            case = await db.get(Case, case_id)
            assert case is not None and case.agreed_at is not None
            assert case.decided_at == case.agreed_at and case.judicial_at is not None
            assert case.judicial_at >= case.agreed_at
        st, out = await head.call("GET", "/api/v1/statistics")
        assert (out["cases"], out["decided"], out["succeeded"]) == (1, 1, 1)
        assert out["judicial_confirmations"] == 1 and out["agreements_sealed"] == 1
        assert counts(out["by_state"]) == {"return_visit": 1}
