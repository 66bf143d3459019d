"""Purge and export against PostgreSQL: what expired goes, the log keeps its shape."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select, update

from signaling.db.base import utcnow
from signaling.db.models import MediationSession, SessionEvent
from signaling.eventchain import verify_chain
from tests.signaling.harness import running_server
from tests.signaling.nodes import cli, node_env
from tests.signaling.test_evidence import PNG, upload
from tests.signaling.test_join_flow import full_room

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


async def test_purge_removes_expired_chat_and_evidence_and_logs_it_and_export_tells_all(
        pg_database: str, tmp_path: Path) -> None:
    async with running_server(pg_database, tmp_path) as srv, aiohttp.ClientSession() as http:
        room = await full_room(srv, http)
        assert (await room.a.call("chat", {"text": "我的电话是13812345678"}))["ok"]
        st, ev = await upload(srv, http, room.session_id, room.a.welcome["resume_token"], PNG)
        assert st == 201
        assert (await room.med.call("end_session", {}))["ok"]
        a_pid = room.a.pid
        session_id = room.session_id
    env = node_env(pg_database, "", "x", tmp_path, TIAOJIE_REDIS_URL="")
    exported = json.loads(cli(env, "data", "export", "--participant", a_pid))
    assert exported["participant"]["display_name"] == "张三"
    assert any(e["payload"].get("text", "").startswith("我的电话") for e in exported["events"])
    assert exported["evidence"][0]["sha256"] == ev["sha256"]
    assert "nothing to purge" in cli(env, "data", "purge")
    # Make the session a year and a day old, then purge.
    async with running_server(pg_database, tmp_path) as srv:
        async with srv.services.db.session() as db:
            await db.execute(update(MediationSession).where(MediationSession.id == session_id)
                             .values(ended_at=utcnow() - timedelta(days=366)))
            await db.commit()
        dry = cli(env, "data", "purge", "--dry-run")
        assert "chat_messages=1" in dry and "evidence_files=1" in dry
        out = cli(env, "data", "purge")
        assert "chat_messages=1" in out and "13812345678" not in out
        async with srv.services.db.session() as db:
            events = list((await db.execute(select(SessionEvent).where(
                SessionEvent.session_id == session_id).order_by(SessionEvent.seq))).scalars())
        seqs = [e.seq for e in events]
        assert seqs == list(range(1, len(seqs) + 1)), "the log keeps its sequence"
        chats = [e for e in events if e.kind == "chat"]
        assert chats and all(e.payload == {"text": "[purged]"} for e in chats)
        assert events[-1].kind == "data.purged"
        async with srv.services.db.session() as db:
            chain = await verify_chain(db, session_id)
        assert chain.intact and chain.redacted == 1, "the blanked message keeps the chain"
        assert not list((tmp_path / "evidence").iterdir())
        assert "nothing to purge" in cli(env, "data", "purge")
