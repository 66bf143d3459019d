"""``tiaojie media``: the SFU for the sessions placed on it, reached over Redis; over HTTP
it serves only its health and metrics, and only on an internal address."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, cast

import aiohttp
import pytest

from media import aiortc_seams
from signaling.cli import internal_address, main
from tests.conftest import REDIS_URL
from tests.signaling.harness import PASSWORD, connect, eventually, login_at, settled
from tests.signaling.nodes import cli, node_env, start_node
from tests.signaling.rtc_bot import RtcBot

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]

NOT_SERVED = ("/", "/join", "/api/openapi.json", "/api/v1/cases", "/api/v1/auth/me",
              "/assets/x.js", "/socket.io/?EIO=4&transport=polling")


async def test_a_media_node_serves_media_over_redis_and_nothing_but_health_over_http(
        pg_database: str, redis_prefix: str, tmp_path: Path) -> None:
    aiortc_seams.set_announced_addresses(["127.0.0.1"])  # the bots' own candidates
    env = node_env(pg_database, REDIS_URL, redis_prefix, tmp_path,
                   TIAOJIE_RECONNECT_GRACE_S="60")
    cli(env, "user", "create", "--username", "li", "--role", "mediator", "--password", PASSWORD)
    signaling = start_node(env, tmp_path)  # media off: relays only
    media = start_node(dict(env, TIAOJIE_MEDIA_ENABLED="true", TIAOJIE_MEDIA_WORKERS="1"),
                       tmp_path, command="media")
    bots: list[RtcBot] = []
    try:
        async with aiohttp.ClientSession() as http:
            for path in NOT_SERVED:
                async with http.get(media.url + path) as r:
                    assert r.status == 404, (path, r.status)
            async with http.get(media.url + "/healthz") as r:
                assert r.status == 200
            async with http.get(media.url + "/metrics") as r:
                assert r.status == 401
            staff = await login_at(signaling.url, http, "li")
            _, sid = await staff.new_session()
            med = await connect(signaling.url, {"token": staff.token, "session_id": sid})
            a = await connect(signaling.url, {"invite": (await staff.invite(sid))["token"],
                                              "name": "张三", "consent": True})
            assert (await med.call("admit", {"participant_id": a.pid}))["ok"]
            await a.wait_for("admitted")
            bot_med, bot_a = RtcBot(med, tone=False), RtcBot(a, tone=True)
            bots += [bot_med, bot_a]
            await bot_med.publish()
            await bot_a.publish()
            # The signaling node runs no SFU: the tone reaches the mediator through the
            # media node, which the session was placed on.
            await eventually(lambda: bot_med.energy_from(a.pid) > 1.0, timeout=60)
            from redis.asyncio import Redis

            rdb = Redis.from_url(REDIS_URL)
            owner = cast(bytes, await rdb.get(f"{redis_prefix}:media:session:{sid}")).decode()
            await rdb.aclose()
            assert owner.endswith(str(media.port)), owner
    finally:
        for bot in bots:
            await bot.close()
        media.stop()
        signaling.stop()


def test_internal_addresses_are_loopback_or_private_literals() -> None:
    for ok in ("127.0.0.1", "localhost", "10.1.2.3", "172.28.0.5", "192.168.1.9", "::1",
               "fd00::2"):
        assert internal_address(ok), ok
    for bad in ("0.0.0.0", "::", "203.0.113.10", "8.8.8.8", "2001:4860::8888",
                "media.example.cn"):
        assert not internal_address(bad), bad


def test_tiaojie_media_refuses_a_public_or_wildcard_address(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        tmp_path: Path) -> None:
    monkeypatch.setenv("TIAOJIE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TIAOJIE_REDIS_URL", REDIS_URL)
    for host in ("0.0.0.0", "203.0.113.10"):
        assert main(["media", "--host", host]) == 2
        err = capsys.readouterr().err
        assert "internal address" in err and host in err, err
    monkeypatch.delenv("TIAOJIE_REDIS_URL")
    assert main(["media"]) == 2
    assert "TIAOJIE_REDIS_URL" in capsys.readouterr().err


async def test_speech_settings_made_on_a_signaling_node_reach_captions_on_the_media_node(
        pg_database: str, redis_prefix: str, tmp_path: Path) -> None:
    """The session's language and a shared seat's enrolled names are set through a
    signaling node that transcribes nothing, partly before any media node exists: the
    media node the session lands on captions in that language and names the speakers."""
    from sqlalchemy import select

    from signaling.db.engine import Database
    from tests.transcription.test_diarization import solo_turns
    from tests.transcription.test_shared_device_live import CueTrack, clip_48k
    from transcription.tables import UtteranceRow

    aiortc_seams.set_announced_addresses(["127.0.0.1"])
    env = node_env(pg_database, REDIS_URL, redis_prefix, tmp_path,
                   TIAOJIE_RECONNECT_GRACE_S="60")
    cli(env, "user", "create", "--username", "li", "--role", "mediator", "--password", PASSWORD)
    signaling = start_node(env, tmp_path)  # no SFU, no captions here
    media = None
    bots: list[RtcBot] = []
    try:
        async with aiohttp.ClientSession() as http:
            staff = await login_at(signaling.url, http, "li")
            st, case = await staff.call("POST", "/api/v1/cases", {"number": "sd-c",
                                                                  "dispute_type": "debt"})
            assert st == 201, case
            st, sess = await staff.call("POST", f"/api/v1/cases/{case['id']}/sessions",
                                        {"language": "en"})  # the media node's default: zh
            assert st == 201, sess
            sid = sess["id"]
            med = await connect(signaling.url, {"token": staff.token, "session_id": sid})
            table = await connect(signaling.url, {
                "invite": (await staff.invite(sid, side="A"))["token"], "name": "张家",
                "consent": True})
            other = await connect(signaling.url, {
                "invite": (await staff.invite(sid, side="B"))["token"], "name": "Bob",
                "consent": True})
            for p in (table, other):
                assert (await med.call("admit", {"participant_id": p.pid}))["ok"]
                await p.wait_for("admitted")
            # No media node yet: the seat is marked shared in the room state only.
            assert (await med.call("shared_device", {"participant_id": table.pid,
                                                     "people": 2}))["ok"]
            await table.wait_for("voices", lambda d: d["people"] == 2)
            ack = await med.call("voice_enroll", {"participant_id": table.pid, "name": "王芳"})
            assert ack["error"]["code"] == "captions_unavailable"  # nobody transcribes yet

            media = start_node(dict(env, TIAOJIE_MEDIA_ENABLED="true",
                                    TIAOJIE_MEDIA_WORKERS="1",
                                    TIAOJIE_TRANSCRIPTION_ENABLED="true"),
                               tmp_path, command="media")
            mic = CueTrack()
            bots += [RtcBot(med, tone=False), RtcBot(table, track=mic),
                     RtcBot(other, tone=False)]
            for bot in bots:  # the session lands on the media node with its settings
                await bot.publish()

            names = {"MEE009": "王芳", "MEE012": "李雷"}
            sentences = {"MEE009": (6.2, 9.9), "MEE012": solo_turns("dev00", "MEE012")[0]}
            for speaker, name in names.items():
                assert (await med.call("voice_enroll", {"participant_id": table.pid,
                                                        "name": name}))["ok"]
                await table.wait_for("voices", lambda d, n=name: d["enrolling"] == n)
                mic.play(clip_48k("dev00", *sentences[speaker]))
                await table.wait_for("voices", lambda d, n=name: n in d["voices"], timeout=120)
                while mic.queue.size:
                    await asyncio.sleep(0.1)  # polling a condition

            def finals() -> list[dict[str, Any]]:
                return [d for d in other.received("caption") if d["final"]
                        and d["speaker"]["participant_id"] == table.pid]

            turns = sorted((s, e, spk) for spk in names for s, e in solo_turns("dev01", spk))
            firsts = [next(t for t in turns if t[2] == spk) for spk in names]
            for start, end, _speaker in sorted(firsts):
                mic.play(clip_48k("dev01", start, end), gap_s=2.0)
            while mic.queue.size:
                await asyncio.sleep(0.1)  # polling a condition
            await eventually(lambda: {d["speaker"]["name"] for d in finals()}
                             >= set(names.values()), timeout=120)
            await settled(other)
            # Every caption of the seat names one of its enrolled people, and both speak
            # (who said which sentence is the diarizer's test: a late final of one turn
            # may arrive after the next turn began, so turns are not windows here).
            got = [(d["speaker"]["name"], d["text"]) for d in finals()]
            assert {name for name, _ in got} == set(names.values()), got
            # Captioned in the session's language, not the media node's default.
            assert any(c.isascii() and c.isalpha() for d in finals() for c in d["text"])
            db = Database(pg_database)
            try:
                async with db.session() as s:
                    langs = set((await s.execute(select(UtteranceRow.language).where(
                        UtteranceRow.session_id == sid))).scalars())
            finally:
                await db.close()
            assert langs == {"en"}, langs
    finally:
        for bot in bots:
            await bot.close()
        if media is not None:
            media.stop()
        signaling.stop()
