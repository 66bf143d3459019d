"""Issue 13's outside attack, replayed against a real ``tiaojie serve`` process.

Starts ``tiaojie serve`` on embedded defaults (SQLite, one process, no Redis, the SFU and
the live captions on, English model), creates accounts with the CLI, and attacks it from
outside with Python clients only (Socket.IO, aiortc, aiohttp), as the attacker did. Each
probe prints ``held`` or ``LEAK`` with what it saw; the exit status is the number of leaks.

    python3 -m tests.security.outside_attack

Not part of the suite (it runs for a minute or two); the same attacks run in-process in
tests/signaling/test_privacy_attacks.py on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import numpy as np

from tests.conftest import SHARED_DATA
from tests.signaling.harness import PASSWORD, Client, Staff, _Remote, connect, login_at
from tests.signaling.nodes import cli, node_env, start_node, wait_healthy
from tests.signaling.rtc_bot import RATE, RtcBot, SpeechTrack, load_speech

JFK = str(SHARED_DATA / "speech" / "en" / "jfk.flac")
RESULTS: list[tuple[str, bool, str]] = []


def report(name: str, held: bool, detail: str = "") -> None:
    RESULTS.append((name, held, detail))
    print(f"{'held' if held else 'LEAK'}  {name}" + (f"  ({detail})" if detail else ""),
          flush=True)


async def until(cond: Callable[[], Awaitable[bool]], timeout: float) -> bool:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while loop.time() < end:
        if await cond():
            return True
        await asyncio.sleep(0.2)
    return False


async def room(url: str, http: aiohttp.ClientSession, staff: Staff, n: int,
               number: str) -> tuple[str, Client, list[Client]]:
    st, case = await staff.call("POST", "/api/v1/cases", {"number": number,
                                                          "dispute_type": "debt"})
    st, sess = await staff.call("POST", f"/api/v1/cases/{case['id']}/sessions",
                                {"language": "en"})
    sid = sess["id"]
    med = await connect(url, {"token": staff.token, "session_id": sid})
    parties = []
    for i in range(n):
        inv = await staff.invite(sid, side="AB"[i % 2])
        p = await connect(url, {"invite": inv["token"], "name": f"P{i}", "consent": True})
        await med.call("admit", {"participant_id": p.pid})
        parties.append(p)
    return sid, med, parties


async def caucus_cut_mid_sentence(url: str, http: aiohttp.ClientSession, staff: Staff) -> None:
    sid, med, (a, b) = await room(url, http, staff, 2, "atk-1")
    cid = (await med.call("caucus_create", {"name": "A", "members": [a.pid]}))["caucus_id"]
    await med.call("caucus_move", {"participant_id": med.pid, "caucus_id": cid})
    bots = [RtcBot(med, tone=False),
            RtcBot(a, track=SpeechTrack(load_speech(JFK, repeat=2, gap_s=1.0))),
            RtcBot(b, tone=False)]
    for bot in bots:
        await bot.publish()
    try:
        await med.wait_for("caption", lambda d: d["caucus"] == cid, timeout=120)
        await med.call("caucus_end", {"caucus_id": cid})

        async def stored() -> bool:
            st, t = await staff.call("GET", f"/api/v1/sessions/{sid}/transcript")
            hers = [u for u in t["items"] if u["participant_id"] == a.pid]
            return bool(hers) and max(u["end"] for u in hers) - hers[0]["start"] > 20
        await until(stored, 150)
    finally:
        for bot in bots:
            await bot.close()
    in_caucus = {d["utterance_id"] for d in med.received("caption") if d["caucus"] == cid}
    leaked = [d for d in b.received("caption")
              if d["utterance_id"] in in_caucus or d["caucus"] is not None]
    st, t = await staff.call("GET", f"/api/v1/sessions/{sid}/transcript")
    joint = [u for u in t["items"] if u["id"] in in_caucus and u["caucus_id"] != cid]
    report("a caucus sentence cut by the end of the caucus", not leaked and not joint,
           f"{len(in_caucus)} caucus utterances; {len(leaked)} reached the other party; "
           f"{len(joint)} stored as joint")
    await med.call("end_session")


async def silenced_speech(url: str, http: aiohttp.ClientSession, staff: Staff) -> None:
    sid, med, (muted, control, lobby) = await room(url, http, staff, 3, "atk-2")
    inv = await staff.invite(sid, role="observer")
    obs = await connect(url, {"invite": inv["token"], "name": "Obs", "consent": True})
    await med.call("admit", {"participant_id": obs.pid})
    await med.call("mute", {"participant_id": muted.pid, "source": "audio", "muted": True})
    speech = load_speech(JFK)
    silence = np.zeros(RATE * 6, np.int16)
    bots = [RtcBot(med, tone=False), RtcBot(muted, track=SpeechTrack(speech)),
            RtcBot(obs, track=SpeechTrack(speech)),
            RtcBot(lobby, track=SpeechTrack(np.concatenate([silence, speech]))),
            RtcBot(control, track=SpeechTrack(np.concatenate([silence, silence, speech])))]
    for bot in bots:
        await bot.publish()
    await med.call("send_back", {"participant_id": lobby.pid})
    try:
        await med.wait_for("caption", lambda d: d["final"]
                           and d["speaker"]["participant_id"] == control.pid, timeout=150)
    finally:
        for bot in bots:
            await bot.close()
    silenced = {muted.pid, obs.pid, lobby.pid}
    seen = [d for c in (med, control) for d in c.received("caption")
            if d["speaker"]["participant_id"] in silenced]
    report("speech of a muted party, an observer and a party in the lobby", not seen,
           f"{len(seen)} captions")
    await med.call("end_session")


async def seats_after_the_end(url: str, http: aiohttp.ClientSession, staff: Staff) -> None:
    sid, med, (a, b) = await room(url, http, staff, 2, "atk-3")
    resume = a.welcome["resume_token"]
    await med.call("end_session")
    await asyncio.sleep(0.5)
    chat_ok = a.sio.connected and (await a.call("chat", {"text": "还在吗"}))["ok"]
    async with http.post(f"{url}/api/v1/sessions/{sid}/evidence",
                         data=b"\x89PNG\r\n\x1a\n" + bytes(64),
                         headers={"X-Seat-Token": resume}) as r:
        upload = r.status
    report("chat and evidence after the end of the session", not chat_ok and upload == 410,
           f"chat {'accepted' if chat_ok else 'refused'}, upload {upload}")


async def logged_out_socket(url: str, http: aiohttp.ClientSession) -> None:
    staff = await login_at(url, http, "li")
    sid, med, (a,) = await room(url, http, staff, 1, "atk-4")
    await staff.call("POST", "/api/v1/auth/logout")
    await asyncio.sleep(0.5)
    ok = med.sio.connected and (await med.call("remove", {"participant_id": a.pid}))["ok"]
    report("a logged-out mediator's open socket", not ok,
           "removed a party" if ok else "refused and disconnected")


async def metrics_and_console(url: str, http: aiohttp.ClientSession) -> None:
    async with http.get(f"{url}/metrics") as r:
        report("/metrics without a login", r.status == 401, f"HTTP {r.status}")


async def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        env = node_env(f"sqlite+aiosqlite:///{data}/t.db", "", "atk", data,
                       TIAOJIE_MEDIA_ENABLED="true", TIAOJIE_TRANSCRIPTION_ENABLED="true",
                       TIAOJIE_LANGUAGE="en", TIAOJIE_REDIS_URL="")
        cli(env, "migrate")
        cli(env, "user", "create", "--username", "li", "--role", "mediator",
            "--password", PASSWORD)
        node = start_node(env, data)
        try:
            wait_healthy(node)
            async with aiohttp.ClientSession() as http:
                staff = await login_at(node.url, http, "li")
                for probe in (caucus_cut_mid_sentence, silenced_speech, seats_after_the_end):
                    await probe(node.url, http, staff)
                await logged_out_socket(node.url, http)
                await metrics_and_console(node.url, http)
        finally:
            node.stop()
    leaks = [r for r in RESULTS if not r[1]]
    print(f"{len(RESULTS)} probes, {len(leaks)} leaks")
    return len(leaks)


_ = _Remote

if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
