"""Live captions: the transcription pipeline taps the SFU, and captions go back to the room.

A caption reaches exactly the audience of the space it was spoken in (the joint session
or one caucus), computed from the room state when it is delivered; final captions are
stored as utterances of the session's transcript.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from signaling.context import Services

log = logging.getLogger("tiaojie.captions")


async def attach_transcription(app: web.Application, services: Services) -> None:
    from transcription import TranscriptionConfig, TranscriptionError, TranscriptionPipeline
    from transcription.utterance import Caption

    settings = services.settings
    config = TranscriptionConfig(model_dir=settings.whisper_model_dir,
                                 cache_dir=settings.models_dir,
                                 language=settings.language)

    async def deliver(caption: Caption) -> None:
        await deliver_caption(services, caption)

    sink = None
    if settings.transcription_queue and services.redis is not None:
        from transcription.queue import FinishedSegment, QueueCipher, enqueue

        stream = queue_stream(settings.redis_prefix)
        redis = services.redis
        cipher = QueueCipher.from_secret(settings.secret_key)

        async def sink(segment: FinishedSegment) -> None:
            await enqueue(redis, segment, cipher=cipher, stream=stream,
                          max_age_s=settings.transcription_queue_max_age_s)

    try:
        pipeline = TranscriptionPipeline(config, deliver, segment_sink=sink)
    except TranscriptionError as err:
        log.warning("live captions off: %s (%s)", err.message, err.code)
        return
    services.extras["transcription"] = pipeline
    services.extras["tap"] = pipeline

    async def store(caption: Caption) -> None:
        from transcription.store import store_utterance

        async with services.db.session() as db:
            await store_utterance(db, caption)

    services.extras["transcript_store"] = store
    log.info("live captions on (default language %s)", settings.language)

    async def close(app: web.Application) -> None:
        await pipeline.close(discard=True)

    app.on_shutdown.append(close)


def queue_stream(prefix: str) -> str:
    return f"{prefix}:transcription:segments"


async def deliver_caption(services: Services, caption: Any) -> None:
    """Send a caption to the members of its space and store it when it is final."""
    room = await services.rooms.get(caption.session_id)
    if room is None or services.hub is None:
        return
    audience = room.audience(caption.caucus_id)
    await services.hub.emit_to(audience, "caption", caption.to_event())
    if caption.final and caption.text.strip():
        store = services.extras.get("transcript_store")
        if store is not None:
            try:
                await store(caption)
            except Exception:  # a storage error must not stop captions
                log.exception("could not store utterance %s", caption.utterance_id)
