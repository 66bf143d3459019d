"""The statistics dashboard's query time on many cases (issue 15 item 5).

Seeds a fresh PostgreSQL database of its own (migrated as production is) with ``--cases``
cases spread over five offices and their mediators, each with a life of moves, half of the
decided ones agreed with a sealed agreement, sessions held online and expert visits; bulk
inserted with COPY. Then times the whole dashboard (every aggregate of
``signaling.statistics.compute``) for three views: an administrator's over every office,
an office head's over one office, and one mediator's cases over a quarter; and the case
register's rows of one office for a month.

Prints a table and a final line ``RESULT {json}`` with ``cases`` and ``dashboard_p95_ms``
(the administrator's view over all the cases, the slowest), and the other views' p95.

    python benchmarks/dashboard.py                # 100,000 cases (a minute or two to seed)
    python benchmarks/dashboard.py --smoke        # seconds: 2,000 cases, 5 rounds
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from signaling.accounts import Principal  # noqa: E402
from signaling.case_states import MILESTONES  # noqa: E402
from signaling.db.engine import Database  # noqa: E402
from signaling.db.migrate import migrate  # noqa: E402
from signaling.register import rows as register_rows  # noqa: E402
from signaling.statistics import Filters, compute  # noqa: E402
from tests.conftest import PG_ADMIN_DSN, create_pg_database, drop_pg_database, pg_url  # noqa: E402

TYPES = ("neighbour", "debt", "family", "labour", "property", "traffic", "medical", "other")
DOMAINS = ("legal", "property", "medical", "psychological")
OFFICES = 5
MEDIATORS_PER_OFFICE = 8


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * (len(s) - 1))))]


def hexid() -> str:
    return uuid.uuid4().hex


def life(rng: random.Random) -> list[str]:
    """A plausible path through the case's states (signaling/case_states.py)."""
    path = ["applied"]
    r = rng.random()
    if r < 0.05:
        return path + ["rejected"]
    if r < 0.12:
        return path
    path.append("accepted")
    if rng.random() < 0.05:
        return path + ["terminated"]
    path += ["scheduled", "in_mediation"]
    r = rng.random()
    if r < 0.08:
        return path
    if r < 0.7:
        path.append("agreed")
        if rng.random() < 0.3:
            path.append("judicial_confirm")
        if rng.random() < 0.6:
            path += ["return_visit", "archived"]
    elif r < 0.9:
        path += ["not_agreed", "archived"]
    else:
        path += ["terminated", "archived"]
    return path


async def seed(dsn: str, n_cases: int, seed_value: int) -> dict[str, Any]:
    import asyncpg

    rng = random.Random(seed_value)
    now = datetime.now(UTC)
    offices = [(hexid(), f"第{i + 1}人民调解委员会", now) for i in range(OFFICES)]
    users: list[tuple[Any, ...]] = []
    mediators: dict[str, list[str]] = {}
    for oid, _, _ in offices:
        ids = []
        for m in range(MEDIATORS_PER_OFFICE):
            uid = hexid()
            ids.append(uid)
            users.append((uid, oid, f"m{uid[:10]}", f"调解员{m}", "mediator", "x", True, 0, now))
        mediators[oid] = ids
    experts: list[tuple[Any, ...]] = []
    profiles: list[tuple[Any, ...]] = []
    for oid, _, _ in offices:
        for d in DOMAINS:
            uid, pid = hexid(), hexid()
            users.append((uid, oid, f"e{uid[:10]}", f"专家{d}", "expert", "x", True, 0, now))
            profiles.append(
                (
                    pid,
                    uid,
                    oid,
                    f"专家{d}",
                    json.dumps([d]),
                    "[]",
                    "",
                    "",
                    "",
                    "",
                    "[]",
                    True,
                    0.0,
                    0,
                    now,
                )
            )
            experts.append((oid, d, pid))
    cases, events, sessions, drafts, documents, calls, visits = [], [], [], [], [], [], []
    start = datetime(2024, 1, 1, tzinfo=UTC)
    span = (now - start).total_seconds() - 120 * 86400
    for i in range(n_cases):
        oid = offices[i % OFFICES][0]
        med = rng.choice(mediators[oid])
        cid = hexid()
        created = start + timedelta(seconds=rng.random() * span)
        path = life(rng)
        case = [
            cid,
            oid,
            f"({created.year})调字第{i + 1}号",
            rng.choice(TYPES),
            "",
            path[-1],
            None if len(path) == 1 else med,
            med,
            created,
            None,
            None,
            None,
        ]
        cases.append(case)
        at = created
        prev: str | None = None
        sid = None
        for state in path:
            events.append(
                (cid, at, med, prev, state, "理由" if state in ("rejected", "terminated") else "")
            )
            for column in MILESTONES.get(state, ()):
                slot = {"decided_at": 9, "agreed_at": 10, "judicial_at": 11}[column]
                case[slot] = case[slot] or at
            if state == "in_mediation":
                sid = hexid()
                sessions.append(
                    (
                        sid,
                        cid,
                        "第一次调解",
                        "ended",
                        "zh",
                        at,
                        at,
                        at + timedelta(hours=1),
                        med,
                        at,
                        0,
                    )
                )
                if rng.random() < 0.1:
                    eoid, dom, pid = rng.choice([e for e in experts if e[0] == oid])
                    call_id = hexid()
                    calls.append(
                        (
                            call_id,
                            oid,
                            cid,
                            sid,
                            "m" * 32,
                            med,
                            dom,
                            "joint",
                            "all",
                            "ended",
                            "online",
                            at,
                            at,
                            "",
                            "",
                        )
                    )
                    visits.append(
                        (hexid(), call_id, pid, oid, cid, sid, "joint", at, rng.randint(5, 60))
                    )
            if state == "agreed" and sid is not None:
                did = hexid()
                drafts.append(
                    (did, cid, sid, None, case[2], "agreement", "zh", "builtin", "m" * 32, at)
                )
                documents.append(
                    (
                        hexid(),
                        cid,
                        sid,
                        did,
                        "0" * 32,
                        "agreement" if rng.random() < 0.9 else "oral_register",
                        1,
                        "0" * 64,
                        b"%PDF",
                        b"PK",
                        "0" * 64,
                        at,
                    )
                )
            prev = state
            at = at + timedelta(days=rng.randint(1, 12), hours=rng.randint(0, 23))
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            await conn.copy_records_to_table(
                "offices", records=offices, columns=["id", "name", "created_at"]
            )
            await conn.copy_records_to_table(
                "users",
                records=users,
                columns=[
                    "id",
                    "office_id",
                    "username",
                    "display_name",
                    "role",
                    "password_hash",
                    "active",
                    "failed_logins",
                    "created_at",
                ],
            )
            await conn.copy_records_to_table(
                "expert_profiles",
                records=profiles,
                columns=[
                    "id",
                    "user_id",
                    "office_id",
                    "display_name",
                    "domains",
                    "languages",
                    "region",
                    "organisation",
                    "phone",
                    "bio",
                    "availability",
                    "active",
                    "rating_sum",
                    "rating_count",
                    "created_at",
                ],
            )
            await conn.copy_records_to_table(
                "cases",
                records=[tuple(c) for c in cases],
                columns=[
                    "id",
                    "office_id",
                    "number",
                    "dispute_type",
                    "summary",
                    "status",
                    "mediator_id",
                    "created_by",
                    "created_at",
                    "decided_at",
                    "agreed_at",
                    "judicial_at",
                ],
            )
            await conn.copy_records_to_table(
                "case_events",
                records=events,
                columns=["case_id", "at", "actor_id", "from_status", "to_status", "reason"],
            )
            await conn.copy_records_to_table(
                "sessions",
                records=sessions,
                columns=[
                    "id",
                    "case_id",
                    "title",
                    "status",
                    "language",
                    "scheduled_at",
                    "started_at",
                    "ended_at",
                    "created_by",
                    "created_at",
                    "event_seq",
                ],
            )
            await conn.copy_records_to_table(
                "agreement_drafts",
                records=drafts,
                columns=[
                    "id",
                    "case_id",
                    "session_id",
                    "caucus_id",
                    "case_number",
                    "kind",
                    "language",
                    "template_ref",
                    "created_by",
                    "created_at",
                ],
            )
            await conn.copy_records_to_table(
                "agreement_documents",
                records=documents,
                columns=[
                    "id",
                    "case_id",
                    "session_id",
                    "draft_id",
                    "ceremony_id",
                    "kind",
                    "version_number",
                    "version_digest",
                    "pdf",
                    "docx",
                    "pdf_sha256",
                    "sealed_at",
                ],
            )
            await conn.copy_records_to_table(
                "expert_calls",
                records=calls,
                columns=[
                    "id",
                    "office_id",
                    "case_id",
                    "session_id",
                    "mediator_participant_id",
                    "mediator_user_id",
                    "domain",
                    "scope",
                    "strategy",
                    "state",
                    "tier",
                    "deadline",
                    "created_at",
                    "end_reason",
                    "rating_comment",
                ],
            )
            await conn.copy_records_to_table(
                "expert_visits",
                records=visits,
                columns=[
                    "id",
                    "call_id",
                    "expert_id",
                    "office_id",
                    "case_id",
                    "session_id",
                    "scope",
                    "joined_at",
                    "minutes",
                ],
            )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return {
        "office_id": offices[0][0],
        "mediator_id": mediators[offices[0][0]][0],
        "events": len(events),
        "sessions": len(sessions),
        "documents": len(documents),
    }


async def timed(db_url: str, rounds: int, make: Any) -> list[float]:
    db = Database(db_url)
    out = []
    try:
        for _ in range(rounds + 2):
            async with db.session() as s:
                t0 = time.perf_counter()
                await make(s)
                out.append((time.perf_counter() - t0) * 1000)
    finally:
        await db.close()
    return out[2:]  # the first two warm the connection and the plans


async def run(args: argparse.Namespace) -> dict[str, Any]:
    name = await create_pg_database()
    url = pg_url(name)
    try:
        db = Database(url)
        await migrate(db)
        await db.close()
        t0 = time.perf_counter()
        seeded = await seed(PG_ADMIN_DSN.rsplit("/", 1)[0] + "/" + name, args.cases, args.seed)
        seed_s = time.perf_counter() - t0
        office, mediator = seeded["office_id"], seeded["mediator_id"]
        today = datetime.now(UTC).date()
        views = {
            "admin_all_offices": Filters(),
            "head_one_office": Filters(office_id=office),
            "mediator_quarter": Filters(
                office_id=office,
                mediator_id=mediator,
                since=today - timedelta(days=365),
                until=today - timedelta(days=275),
            ),
        }
        results: dict[str, list[float]] = {}
        for view, f in views.items():
            results[view] = await timed(url, args.rounds, lambda s, f=f: compute(s, f))
        clerk = Principal("0" * 32, office, "clerk", "clerk", "clerk", "0" * 32, "")
        month = Filters(
            office_id=office,
            since=date(today.year, today.month, 1) - timedelta(days=62),
            until=date(today.year, today.month, 1) - timedelta(days=32),
        )
        results["register_one_month"] = await timed(
            url, args.rounds, lambda s: register_rows(s, clerk, month)
        )
        async with Database(url).session() as s:
            total = (await compute(s, Filters())).cases
    finally:
        await drop_pg_database(name)
    out: dict[str, Any] = {
        "cases": total,
        "rounds": args.rounds,
        "seed_s": round(seed_s, 1),
        "smoke": args.smoke,
        **{k: v for k, v in seeded.items() if k not in ("office_id", "mediator_id")},
    }
    for view, ms in results.items():
        out[f"{view}_p50_ms"] = round(pct(ms, 50), 1)
        out[f"{view}_p95_ms"] = round(pct(ms, 95), 1)
    out["dashboard_p95_ms"] = out["admin_all_offices_p95_ms"]
    return out


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=30, help="timed dashboards per view")
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--smoke", action="store_true", help="seconds: 2,000 cases, 5 rounds")
    args = ap.parse_args()
    if args.smoke:
        args.cases, args.rounds = 2000, 5
    r = asyncio.run(run(args))
    print(
        f"{r['cases']} cases, {r['events']} moves, {r['sessions']} sessions, "
        f"{r['documents']} agreements; seeded in {r['seed_s']} s"
    )
    print(f"{'view':<24}{'p50 ms':>10}{'p95 ms':>10}")
    for view in ("admin_all_offices", "head_one_office", "mediator_quarter", "register_one_month"):
        print(f"{view:<24}{r[view + '_p50_ms']:>10.1f}{r[view + '_p95_ms']:>10.1f}")
    print("RESULT " + json.dumps(r, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
