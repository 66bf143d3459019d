"""The audio archive through the real SFU: aiortc participants publish real speech, the
SFU writes each speaker's Opus packets as Ogg Opus, sealed on disk; caucus audio is filed
under the caucus and only the mediator hears it; one line plays exactly its span; purge
removes expired audio and export hands a participant their own."""

from __future__ import annotations

import base64
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from media.archive import RATE, duration, read_packets
from signaling import retention
from signaling.audio_archive import MAGIC, AudioSegment, decrypt, keyring
from signaling.db.base import utcnow
from signaling.db.models import MediationSession
from tests.signaling.harness import Server, eventually, login, make_user, running_server
from tests.signaling.rtc_bot import RtcBot, SpeechTrack, load_speech
from tests.signaling.test_privacy_attacks import JFK, english_room, poll

pytestmark = pytest.mark.slow


async def segments(srv: Server) -> list[AudioSegment]:
    async with srv.services.db.session() as db:
        return list((await db.execute(select(AudioSegment))).scalars())


async def get(
    srv: Server, http: aiohttp.ClientSession, path: str, headers: dict[str, str]
) -> tuple[int, bytes, Any]:
    async with http.get(srv.url + path, headers=headers) as r:
        return r.status, await r.read(), r.headers


async def test_caucus_audio_is_archived_under_the_caucus_for_the_mediator_only(
    database_url: str, tmp_path: Path
) -> None:
    async with (
        running_server(
            database_url, tmp_path, media=True, transcription=True, language="en"
        ) as srv,
        aiohttp.ClientSession() as http,
    ):
        staff, sid, med, (a, b) = await english_room(srv, http, 2)
        await make_user(srv, "clerk1", role="clerk")
        clerk = await login(srv, http, "clerk1")
        assert med.welcome["layout"]["recording"] is True
        assert (await b.wait_for("layout"))["recording"] is True
        cid = (await med.call("caucus_create", {"name": "A", "members": [a.pid]}))["caucus_id"]
        assert (await med.call("caucus_move", {"participant_id": med.pid, "caucus_id": cid}))["ok"]
        bots = [
            RtcBot(med, tone=False),
            RtcBot(a, track=SpeechTrack(load_speech(JFK))),
            RtcBot(b, tone=False),
        ]
        try:
            for bot in bots:
                await bot.publish()

            async def her_line() -> bool:
                st, t = await staff.call("GET", f"/api/v1/sessions/{sid}/transcript")
                return any(
                    u["participant_id"] == a.pid and u["end"] - u["start"] > 1 for u in t["items"]
                )

            await poll(her_line, timeout=150)
            # Once audio exists the switch cannot hide it; a party cannot touch it at all.
            off = await med.call("recording", {"on": False})
            assert off["error"]["code"] == "recording_started", off
            assert (await b.call("recording", {"on": False}))["error"]["code"] == "not_room_admin"
        finally:
            for bot in bots:
                await bot.close()
        await srv.services.extras["audio_archive"].drain()
        st, t = await staff.call("GET", f"/api/v1/sessions/{sid}/transcript")
        line = next(u for u in t["items"] if u["participant_id"] == a.pid)
        assert line["caucus_id"] == cid
        hers = [s for s in await segments(srv) if s.participant_id == a.pid]
        assert hers and {s.caucus_id for s in hers} == {cid}, hers
        assert {s.participant_id for s in await segments(srv)} == {a.pid, b.pid, med.pid}

        # Sealed at rest: chunks with a key id, no Ogg page in clear.
        raw = (tmp_path / "audio" / sid / f"{hers[0].id}.tja").read_bytes()
        assert raw.startswith(MAGIC) and b"OggS" not in raw and b"OpusHead" not in raw
        kid, _ = keyring(srv.services.settings)
        assert raw[5 : 5 + raw[4]].decode() == kid

        # The mediator hears exactly the line; Range requests work on the decrypted cut.
        path = f"/api/v1/utterances/{line['id']}/audio"
        med_h = {"Authorization": f"Bearer {staff.token}"}
        st, body, hdr = await get(srv, http, path, med_h)
        assert st == 200 and hdr["Content-Type"] == "audio/ogg", body[:200]
        assert body.startswith(b"OggS") and hdr["Accept-Ranges"] == "bytes"
        assert duration(body) == pytest.approx(line["end"] - line["start"], abs=1 / RATE)
        st, part, hdr = await get(srv, http, path, {**med_h, "Range": "bytes=0-99"})
        assert st == 206 and part == body[:100]
        assert hdr["Content-Range"] == f"bytes 0-99/{len(body)}"
        st, tail, _ = await get(srv, http, path, {**med_h, "Range": "bytes=-10"})
        assert st == 206 and tail == body[-10:]
        st, _, _ = await get(srv, http, path, {**med_h, "Range": f"bytes={len(body)}-"})
        assert st == 416

        # Refused: the clerk (joint record only), the other side's party with its seat,
        # anyone without a login.
        st, out, _ = await get(srv, http, path, {"Authorization": f"Bearer {clerk.token}"})
        assert st == 404 and b"utterance_not_found" in out
        st, out, _ = await get(srv, http, path, {"X-Seat-Token": b.welcome["resume_token"]})
        assert st == 401 and b"login_required" in out
        st, out, _ = await get(srv, http, path, {})
        assert st == 401

        # A participant's export holds their own audio, playable.
        async with srv.services.db.session() as db:
            mine = await retention.export_participant(db, a.pid, srv.services.settings)
        assert mine["audio"] and {x["caucus_id"] for x in mine["audio"]} == {cid}
        ogg = base64.b64decode(mine["audio"][0]["ogg_base64"])
        assert ogg.startswith(b"OggS") and read_packets(ogg)

        # Purge: after the session ended and its audio's retention passed, files and
        # rows are gone (and logged), the other kinds of data kept by their own setting.
        assert (await med.call("end_session", {}))["ok"]
        async with srv.services.db.session() as db:
            s = await db.get(MediationSession, sid)
            assert s is not None
            s.ended_at = utcnow() - timedelta(days=2)
            await db.commit()
        settings = srv.services.settings.model_copy(update={"retention_days_audio": 1})
        async with srv.services.db.session() as db:
            report = await retention.purge(db, settings)
        assert report.sessions[sid] == {"audio_segments": 3}
        assert await segments(srv) == []
        assert not (tmp_path / "audio" / sid).exists()
        st, t = await staff.call("GET", f"/api/v1/sessions/{sid}/transcript")
        assert any(u["id"] == line["id"] for u in t["items"])  # transcripts kept longer
        st, out, _ = await get(srv, http, path, med_h)
        assert st == 404 and b"audio_not_found" in out


async def test_recording_switched_off_before_anyone_speaks_archives_nothing(
    database_url: str, tmp_path: Path
) -> None:
    async with (
        running_server(database_url, tmp_path, media=True) as srv,
        aiohttp.ClientSession() as http,
    ):
        staff, sid, med, (a,) = await english_room(srv, http, 1)
        assert (await med.call("recording", {"on": "no"}))["error"]["code"] == "invalid_payload"
        assert (await med.call("recording", {"on": False}))["ok"]
        await a.wait_for("layout", lambda d: d["recording"] is False)
        bots = [RtcBot(med), RtcBot(a)]
        try:
            for bot in bots:
                await bot.publish()
            await eventually(lambda: bots[0].frames.get(a.pid, 0) > 50)
            assert await segments(srv) == []
            # On again: from then on it records, and the indicator shows.
            assert (await med.call("recording", {"on": True}))["ok"]
            await a.wait_for("layout", lambda d: d["recording"] is True)
            archive = srv.services.extras["audio_archive"]

            async def recorded() -> bool:
                await archive.drain()
                return {s.participant_id for s in await segments(srv)} == {a.pid, med.pid}

            await poll(recorded, timeout=30)
        finally:
            for bot in bots:
                await bot.close()
        st, log = await staff.call("GET", f"/api/v1/sessions/{sid}/events")
        assert st == 200, log
        kinds = [e["kind"] for e in log["items"]]
        assert kinds.index("recording.stopped") < kinds.index("recording.started")


def test_a_rotated_secret_keeps_old_audio_readable_by_its_key_id(tmp_path: Path) -> None:
    from signaling.audio_archive import seal_chunk, segment_path
    from signaling.errors import TiaojieError
    from signaling.settings import load_settings

    old = load_settings(data_dir=tmp_path, secret_key="o" * 40, env="test")
    seg = AudioSegment(
        id="a" * 32,
        session_id="s" * 32,
        participant_id="p" * 32,
        caucus_id=None,
        start=0.0,
        end=1.0,
        chunks=2,
        size=0,
    )
    path = segment_path(old, seg)
    path.parent.mkdir(parents=True)
    path.write_bytes(
        seal_chunk(old, seg.id, 0, 0.0, 0.5, b"first")
        + seal_chunk(old, seg.id, 1, 0.5, 1.0, b"second")
    )
    new = old.model_copy(update={"secret_key": "n" * 40})
    with pytest.raises(TiaojieError) as err:
        decrypt(new, seg)
    assert err.value.code == "audio_key_unknown"
    rotated = new.model_copy(update={"previous_secret_keys": ["o" * 40]})
    assert decrypt(rotated, seg) == b"firstsecond"
    assert keyring(rotated)[0] != keyring(old)[0]  # new chunks name the new key
    # Chunks cannot be swapped: the associated data binds index and times.
    raw = path.read_bytes()
    half = raw.index(MAGIC, 4)
    path.write_bytes(raw[half:] + raw[:half])
    with pytest.raises(Exception):  # noqa: B017 - cryptography's InvalidTag
        decrypt(rotated, seg)


async def test_shutdown_seals_the_pages_of_segments_still_open(tmp_path: Path) -> None:
    from media.archive import ArchiveFeed
    from media.tap import Speaker, TapStamp
    from signaling.audio_archive import AudioArchive
    from tests.media.test_archive import opus_packets

    async with (
        running_server(f"sqlite+aiosqlite:///{tmp_path}/t.db", tmp_path) as srv,
        aiohttp.ClientSession() as http,
    ):
        await make_user(srv, "li")
        _, sid = await (await login(srv, http, "li")).new_session()
        archive = AudioArchive(srv.services.settings, srv.services.db)
        feed = ArchiveFeed(sink=archive, session_id=sid, participant_id="p" * 32, clock_origin=0.0)
        stamp = TapStamp(Speaker("p" * 32, "甲", "party"), None, frozenset())
        pkts = opus_packets(3.0)
        for i, p in enumerate(pkts):
            feed.feed(i, i * 960, p, 5.0 + i * 0.02, stamp)
        await archive.close()  # the feed is still open: 3 s received, under one chunk
        (seg,) = await segments(srv)
        assert seg.chunks == 1 and seg.start == pytest.approx(5.0)
        assert read_packets(decrypt(srv.services.settings, seg)) == pkts
