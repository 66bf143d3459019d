"""``tiaojie worker transcription``: transcribe queued utterances, store them, caption them.

The command is this feature's (``register_cli``, listed by ``transcription/feature.py``);
the core's ``tiaojie`` parser only gathers it.

Each worker reads the Redis Streams consumer group; an entry is acknowledged only after
its utterance is stored, so a killed worker loses nothing. The caption is then emitted
to the audience of the space it was spoken in, through Socket.IO's Redis channel, so
that whichever signaling node holds each listener delivers it.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal

import socketio
from redis.asyncio import Redis

from signaling.db.engine import Database
from signaling.db.migrate import migrate
from signaling.hub import participant_room
from signaling.rooms.store import RedisRoomStore
from signaling.settings import Settings, load_settings

from .captions import caption_recipients, label_interpreted, queue_stream
from .models import TranscriptionConfig
from .queue import QueueCipher, run_worker
from .store import store_utterance
from .utterance import Caption

log = logging.getLogger("tiaojie.worker")


async def run_transcription_worker(settings: Settings, stop: asyncio.Event | None = None) -> None:
    if not settings.redis_url:
        raise SystemExit("tiaojie worker transcription needs TIAOJIE_REDIS_URL")
    stop = stop or asyncio.Event()
    db = Database(settings.database_url)
    await migrate(db)
    redis = Redis.from_url(settings.redis_url)
    rooms = RedisRoomStore(redis, settings.redis_prefix)
    emitter = socketio.AsyncRedisManager(settings.redis_url, write_only=True,
                                         channel=f"{settings.redis_prefix}:socketio")

    async def store(caption: Caption) -> None:
        async with db.session() as s:
            new = await store_utterance(s, caption)
        if not new:
            return  # a redelivery: stored and announced already
        room = await rooms.get(caption.session_id)
        if room is None:
            return
        audience = caption_recipients(room, caption)
        if audience:
            event = label_interpreted(room, caption.to_event(), caption.speaker.participant_id)
            await emitter.emit("caption", event, namespace="/",
                               room=[participant_room(p) for p in audience])

    config = TranscriptionConfig(model_dir=settings.whisper_model_dir,
                                 cache_dir=settings.models_dir,
                                 language=settings.language)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    log.info("transcription worker %s reading %s", settings.node_id,
             queue_stream(settings.redis_prefix))
    try:
        await run_worker(settings.redis_url, store, config=config,
                         cipher=QueueCipher.from_secret(settings.secret_key),
                         max_age_s=settings.transcription_queue_max_age_s,
                         stream=queue_stream(settings.redis_prefix),
                         consumer=settings.node_id, stop=stop,
                         claim_idle_ms=settings.transcription_claim_idle_ms)
    finally:
        await redis.aclose()
        await db.close()


def cmd_worker(args: argparse.Namespace) -> int:
    from signaling import logs

    settings = load_settings()
    logs.configure(settings.log_level, settings.log_json)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    asyncio.run(run_transcription_worker(settings))
    return 0


def register_cli(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``tiaojie worker transcription``."""
    worker = subparsers.add_parser("worker", help="background workers")
    worker.add_argument("role", choices=["transcription"])
    worker.set_defaults(func=cmd_worker)
