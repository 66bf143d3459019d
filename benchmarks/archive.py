"""Audio archive: disk used per participant-hour, through the real writer and store.

Each of ``--participants`` speakers' microphone is the shared Mandarin clips, looped, with
pauses between, encoded as Chromium sends it (libopus, 20 ms packets, mono, VBR at
``--bitrate``: Chromium's fake device measured about 32 kbps, ../shared/notes). The
packets go through ``media.archive.ArchiveFeed`` (the seam the SFU feeds) into
``signaling.audio_archive.AudioArchive`` (sealed chunks, rows in an SQLite database),
exactly as in a session; the bytes on disk are then divided by the audio's duration.

    python3 benchmarks/archive.py                # 4 participants x 10 minutes
    python3 benchmarks/archive.py --smoke        # 2 participants x 60 s, in seconds

Ends with ``RESULT {json}``: ``archive_bytes_per_participant_hour`` (bytes on disk per
hour of one participant's audio), ``archive_bytes_per_session_hour`` (a session of
``participants``), ``opus_payload_bytes_per_participant_hour`` (the packets alone) and
``overhead_ratio`` (disk / payload: Ogg framing, chunk headers, AES-GCM tags).
"""

from __future__ import annotations

import argparse
import asyncio
import fractions
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import av  # noqa: E402
import numpy as np  # noqa: E402

from media.archive import RATE, ArchiveFeed  # noqa: E402
from media.tap import Speaker, TapStamp  # noqa: E402

CLIPS = sorted((ROOT.parent / "shared" / "data" / "speech" / "zh").glob("*.wav"))


def microphone(seconds: float) -> np.ndarray:
    """The shared clips looped with 2 s pauses (a conversation's silences), or a tone
    when the clips are not on this machine."""
    parts: list[np.ndarray] = []
    resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
    for clip in CLIPS:
        with av.open(str(clip)) as c:
            for frame in c.decode(audio=0):
                for out in resampler.resample(frame):
                    parts.append(out.to_ndarray().reshape(-1))
        parts.append(np.zeros(2 * RATE, dtype=np.int16))
    if not parts:
        t = np.arange(10 * RATE) / RATE
        parts = [(np.sin(2 * np.pi * 220 * t) * 6000).astype(np.int16)]
    one = np.concatenate(parts).astype(np.int16)
    n = int(seconds * RATE)
    return np.resize(one, n)


def encode(samples: np.ndarray, bitrate: int) -> list[bytes]:
    enc = av.CodecContext.create("libopus", "w")
    enc.sample_rate, enc.layout, enc.format, enc.bit_rate = RATE, "mono", "s16", bitrate
    out: list[bytes] = []
    for i in range(0, len(samples) - 959, 960):
        f = av.AudioFrame.from_ndarray(samples[i : i + 960].reshape(1, -1), format="s16",
                                       layout="mono")
        f.sample_rate, f.pts, f.time_base = RATE, i, fractions.Fraction(1, RATE)
        out += [bytes(p) for p in enc.encode(f)]
    return out


async def run(participants: int, seconds: float, bitrate: int) -> dict[str, float]:
    from signaling.audio_archive import AudioArchive
    from signaling.db.engine import Database
    from signaling.db.migrate import migrate
    from signaling.db.models import Case, MediationSession, Office, User
    from signaling.settings import load_settings

    packets = encode(microphone(seconds), bitrate)
    payload = sum(len(p) for p in packets)
    with tempfile.TemporaryDirectory(prefix="tiaojie-archive-bench-") as tmp:
        settings = load_settings(data_dir=Path(tmp), env="test", secret_key="b" * 40)
        db = Database(settings.database_url)
        await migrate(db)
        async with db.session() as s:
            office = Office(name="bench")
            s.add(office)
            await s.flush()
            user = User(office_id=office.id, username="bench", password_hash="x",
                        role="mediator", display_name="bench")
            s.add(user)
            await s.flush()
            case = Case(office_id=office.id, number="bench", dispute_type="debt",
                        created_by=user.id)
            s.add(case)
            await s.flush()
            session = MediationSession(case_id=case.id, created_by=user.id)
            s.add(session)
            await s.commit()
            sid = session.id
        archive = AudioArchive(settings, db)
        feeds = []
        for k in range(participants):
            pid = f"{k:032x}"
            feeds.append((ArchiveFeed(sink=archive, session_id=sid, participant_id=pid,
                                      clock_origin=0.0),
                          TapStamp(Speaker(pid, f"P{k}", "party"), None, frozenset())))
        t0 = time.process_time()
        for i, p in enumerate(packets):
            for feed, stamp in feeds:
                feed.feed(i & 0xFFFF, i * 960, p, i * 0.02, stamp)
            if i % 500 == 0:
                await archive.drain()
        for feed, _ in feeds:
            feed.close()
        await archive.drain()
        cpu = time.process_time() - t0
        disk = sum(f.stat().st_size for f in (Path(tmp) / "audio").rglob("*.tja"))
        await archive.close()
        await db.close()
    hours = len(packets) * 0.02 / 3600
    per_participant = disk / participants / hours
    return {
        "participants": participants,
        "seconds_each": round(len(packets) * 0.02, 1),
        "bitrate": bitrate,
        "archive_bytes_per_participant_hour": round(per_participant),
        "archive_bytes_per_session_hour": round(per_participant * participants),
        "opus_payload_bytes_per_participant_hour": round(payload / hours),
        "overhead_ratio": round(disk / participants / payload, 4),
        "archive_cpu_s_per_participant_hour": round(cpu / participants / hours, 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--smoke", action="store_true", help="2 participants x 60 s (seconds)")
    ap.add_argument("--participants", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=600.0, help="audio per participant")
    ap.add_argument("--bitrate", type=int, default=32_000)
    args = ap.parse_args()
    if args.smoke:
        args.participants, args.seconds = 2, 60.0
    result: dict[str, object] = dict(asyncio.run(run(args.participants, args.seconds,
                                                      args.bitrate)))
    if args.smoke:
        result["smoke"] = True
    for k, v in result.items():
        print(f"{k:42} {v}")
    print(f"RESULT {json.dumps(result)}")


if __name__ == "__main__":
    main()
