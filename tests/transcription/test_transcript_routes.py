"""The stored transcript over HTTP: read, export, correct with history, caucus privacy."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from media.tap import Speaker
from tests.signaling.harness import login, make_user, running_server
from transcription.store import store_utterance
from transcription.utterance import Caption


def caption(session_id: str, uid: str, text: str, start: float, caucus: str | None = None
            ) -> Caption:
    return Caption(utterance_id=uid, session_id=session_id,
                   speaker=Speaker("a" * 32, "张三", "party"), caucus_id=caucus, start=start,
                   end=start + 1.5, text=text, final=True, model="base", confidence=0.8,
                   language="zh")


async def test_clerks_read_export_and_correct_the_joint_record(database_url: str,
                                                              tmp_path: Path) -> None:
    async with running_server(database_url, tmp_path) as srv, aiohttp.ClientSession() as http:
        await make_user(srv, "li")
        await make_user(srv, "zhou", role="clerk")
        med = await login(srv, http, "li")
        clerk = await login(srv, http, "zhou")
        _, sid = await med.new_session()
        async with srv.services.db.session() as db:
            assert await store_utterance(db, caption(sid, "u1", "楼上漏水三个月了", 1.0))
            assert not await store_utterance(db, caption(sid, "u1", "楼上漏水三个月了", 1.0))
            await store_utterance(db, caption(sid, "u2", "我最多赔两千", 5.0, caucus="c" * 16))
        st, body = await med.call("GET", f"/api/v1/sessions/{sid}/transcript")
        assert [u["id"] for u in body["items"]] == ["u1", "u2"]
        st, body = await clerk.call("GET", f"/api/v1/sessions/{sid}/transcript")
        assert [u["id"] for u in body["items"]] == ["u1"], "caucus words stay out of the record"
        st, body = await clerk.call("PATCH", "/api/v1/utterances/u1",
                                    {"text": "楼上漏水已经三个月了"})
        assert st == 200 and body["version"] == 2
        st, body = await clerk.call("PATCH", "/api/v1/utterances/u2", {"text": "x"})
        assert st == 404
        st, hist = await clerk.call("GET", "/api/v1/utterances/u1/history")
        assert hist["items"][0]["text_before"] == "楼上漏水三个月了"
        async with http.get(srv.url + f"/api/v1/sessions/{sid}/transcript/export?format=srt",
                            headers={"Authorization": f"Bearer {clerk.token}"}) as r:
            srt = await r.text()
            assert r.status == 200 and "attachment" in r.headers["Content-Disposition"]
        assert "00:00:01,000 --> 00:00:02,500" in srt and "楼上漏水已经三个月了" in srt
        assert "两千" not in srt


async def test_the_second_pass_is_the_records_text_and_the_clerk_writes_over_it(
        database_url: str, tmp_path: Path) -> None:
    from dataclasses import replace

    from transcription.store import RECORD_EDITOR, store_record_text

    async with running_server(database_url, tmp_path) as srv, aiohttp.ClientSession() as http:
        await make_user(srv, "li")
        await make_user(srv, "zhou", role="clerk")
        med = await login(srv, http, "li")
        clerk = await login(srv, http, "zhou")
        _, sid = await med.new_session()
        live = caption(sid, "u1", "他欠我三千五百块钱", 1.0)
        async with srv.services.db.session() as db:
            assert not await store_record_text(db, replace(live, source="record")), \
                "no live final stored: nothing to revise"
            assert await store_utterance(db, live)
            assert await store_record_text(db, replace(live, text="他欠我3500元。",
                                                       source="record"))
            assert not await store_record_text(db, replace(live, text="again",
                                                           source="record"))
        st, body = await clerk.call("GET", f"/api/v1/sessions/{sid}/transcript")
        (u,) = body["items"]
        assert (u["text"], u["version"], u["text_source"], u["live_text"]) == \
            ("他欠我3500元。", 2, "record", "他欠我三千五百块钱")
        st, hist = await clerk.call("GET", "/api/v1/utterances/u1/history")
        assert [(e["version"], e["editor_id"]) for e in hist["items"]] == [(2, RECORD_EDITOR)]
        st, body = await clerk.call("PATCH", "/api/v1/utterances/u1", {"text": "他欠我3500元。吧"})
        assert (body["version"], body["text_source"], body["live_text"]) == \
            (3, "clerk", "他欠我三千五百块钱")
        # A second pass arriving after a person's correction never overwrites it.
        async with srv.services.db.session() as db:
            assert not await store_record_text(db, replace(live, text="x", source="record"))
        st, body = await clerk.call("GET", f"/api/v1/sessions/{sid}/transcript")
        assert body["items"][0]["text"] == "他欠我3500元。吧"
