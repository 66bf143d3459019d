"""Live captions: the transcription pipeline taps the SFU, and captions go back to the room.

The core imports no feature: ``signaling/plugins.py`` finds ``attach_transcription`` here
by name (``start_transcription``), and ``tiaojie worker transcription``
(``transcription/worker.py``) applies the same delivery rule to what it transcribes.

A caption reaches the people who could hear its audio when it was spoken AND are still
in that space when it is delivered (``caption_recipients``): it never widens who learns
what was said, whatever moved in between (a caucus ended mid-sentence, someone was moved
in). Final captions are stored as utterances of the session's transcript, in the space
they were spoken in, whoever is left to see them live.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web
from sqlalchemy import select

from signaling.context import Services
from signaling.rooms.room import Room

from .context import SpeechContext
from .errors import TranscriptionError
from .models import TranscriptionConfig
from .pipeline import TranscriptionPipeline
from .queue import FinishedSegment, QueueCipher, enqueue
from .store import store_record_text, store_utterance
from .utterance import Caption

log = logging.getLogger("tiaojie.captions")


async def attach_transcription(app: web.Application, services: Services) -> None:
    settings = services.settings
    config = TranscriptionConfig(model_dir=settings.whisper_model_dir,
                                 cache_dir=settings.models_dir,
                                 language=settings.language)

    async def deliver(caption: Caption) -> None:
        await deliver_caption(services, caption)

    sink = None
    if settings.transcription_queue and services.redis is not None:
        stream = queue_stream(settings.redis_prefix)
        redis = services.redis
        cipher = QueueCipher.from_secret(settings.secret_key)

        async def sink(segment: FinishedSegment) -> None:
            await enqueue(redis, segment, cipher=cipher, stream=stream,
                          max_age_s=settings.transcription_queue_max_age_s)

    async def record(caption: Caption) -> None:
        """The second pass: the record's text, stored as a version of the utterance."""
        async with services.db.session() as db:
            await store_record_text(db, caption)

    async def enrolled(session_id: str, participant_id: str, name: str) -> None:
        """A person's voice was enrolled on a shared device (``voice_enroll``)."""
        if services.hub is not None:
            await services.hub.voice_enrolled(session_id, participant_id, name)

    try:
        pipeline = TranscriptionPipeline(config, deliver, segment_sink=sink, on_record=record,
                                         on_enrolled=enrolled)
    except TranscriptionError as err:
        log.warning("live captions off: %s (%s)", err.message, err.code)
        return
    services.extras["transcription"] = pipeline
    services.extras["tap"] = pipeline

    async def store(caption: Caption) -> None:
        async with services.db.session() as db:
            await store_utterance(db, caption)

    services.extras["transcript_store"] = store

    async def refresh_context(session_id: str) -> None:
        from signaling.db.models import Case, MediationSession, Participant

        async with services.db.session() as db:
            session = await db.get(MediationSession, session_id)
            if session is None:
                return
            case = await db.get(Case, session.case_id)
            names = (await db.execute(select(Participant.display_name).where(
                Participant.session_id == session_id).order_by(Participant.created_at)
            )).scalars().all()
        if case is None:
            return
        # Case-level data only (never anything said): the same for every space.
        pipeline.set_context(session_id, SpeechContext.from_case(
            names=names, dispute_type=case.dispute_type, summary=case.summary))

    services.extras["speech_context"] = refresh_context
    log.info("live captions on (default language %s)", settings.language)

    async def close(app: web.Application) -> None:
        await pipeline.close(discard=True)

    app.on_shutdown.append(close)


def queue_stream(prefix: str) -> str:
    return f"{prefix}:transcription:segments"


def caption_recipients(room: Room, caption: Any) -> list[str]:
    """Who may read a caption live: in its space now, and able to hear it when spoken.

    Fails closed: an ended room, an ended caucus, or a caption whose audience is unknown
    reaches nobody but (at most) the speaker still in that space."""
    if room.ended:
        return []
    allowed = set(caption.heard_by) | {caption.speaker.participant_id}
    return [pid for pid in room.audience(caption.caucus_id) if pid in allowed]


def label_interpreted(room: Room, event: dict[str, Any], speaker_id: str) -> dict[str, Any]:
    """An interpreter's caption carries ``interpreted``: what they interpret and for whom,
    so that pages label it ("手语翻译 · 为 张三") rather than pass it off as the party's words."""
    m = room.members.get(speaker_id)
    if m is None or m.role != "interpreter":
        return event
    party = room.members.get(m.interprets_for) if m.interprets_for else None
    return {**event, "interpreted": {"kind": m.interpretation,
                                     "for_id": party.participant_id if party else None,
                                     "for_name": party.name if party else None}}


async def deliver_caption(services: Services, caption: Any) -> None:
    """Send a caption to who may read it (``caption_recipients``) and store it when final."""
    room = await services.rooms.get(caption.session_id)
    if room is None or services.hub is None:
        return
    await services.hub.emit_to(caption_recipients(room, caption), "caption",
                               label_interpreted(room, caption.to_event(),
                                                 caption.speaker.participant_id))
    if caption.final and caption.text.strip():
        store = services.extras.get("transcript_store")
        if store is not None:
            try:
                await store(caption)
            except Exception:  # a storage error must not stop captions
                log.exception("could not store utterance %s", caption.utterance_id)
