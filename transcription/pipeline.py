"""The live pipeline: tap chunks in, partial and final captions out.

Per (session, participant) stream: Silero VAD, utterance segmentation with look-back,
a partial caption for every ~1.5 s of new speech (each chunk decoded once, never a
growing buffer re-decoded), and a final caption of the whole utterance at its end.

Threads: ``push`` only enqueues; one ingest thread runs VAD and segmentation; a
``WorkerPool`` decodes. Captions return to the event loop with
``run_coroutine_threadsafe`` and reach ``on_caption``, whose errors are logged and
never stop the pipeline.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import logging
import queue
import threading
import uuid
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from media.tap import TAP_SAMPLE_RATE, Speaker, TapChunk

from .asr import DecodeRequest, join_text, recognize, recognize_batch, token_counter
from .audio import float_to_int16, int16_to_float
from .biasing import Biaser
from .context import (
    LIVE_PROMPT_TOKENS,
    RECORD_PROMPT_TOKENS,
    SpeechContext,
    build_prompt,
    history_prompt,
)
from .diarization import OnlineVoices, Voice
from .errors import TranscriptionError
from .itn import record_style
from .models import TranscriptionConfig, load, resolve
from .queue import FinishedSegment
from .segmenter import Segmenter, SegmenterOptions, SegmentEvent
from .utterance import Caption
from .vad import StreamingVad
from .voice_encoder import weights_path
from .workers import FINAL, IDLE, PARTIAL, WorkerPool

log = logging.getLogger(__name__)

CaptionCallback = Callable[[Caption], Awaitable[None]]
EnrolledCallback = Callable[[str, str, str], Awaitable[None]]
"""(session_id, participant_id, name): a person's voice was enrolled on a shared device."""
SegmentSink = Callable[[FinishedSegment], Awaitable[None]]
"""With Redis, finished utterances go here (e.g. ``queue.enqueue``) instead of being
decoded in this process; partial captions stay local because they must be fast."""
StreamKey = tuple[str, str]

BEAM_BACKLOG = 1
"""Jobs queued or running (this one included) above which finals fall back to greedy."""
FINALIZED_KEPT = 64
"""Closed utterance ids remembered per stream (far more than can be in flight)."""
GAP_TOLERANCE = 0.1
"""A hole in the tap clock longer than this (seconds) closes the open utterance."""
NEIGHBOURS = 2
PARTIAL_VOICE_SECONDS: float | None = None
"""Speech in a partial job from which a shared device's partial caption tells who speaks
by the voice itself (shorter: the stream's latest enrolled voice in the same space, or
nobody). None, the default: partials never embed. Embedding while someone is speaking
holds the GIL in the encoder's per-frame loop; on a loaded two-core host that coincided
with holes in the tap clock (more, shorter utterances, misnamed finals) in the live SFU
test, so it stays off until measured under load (1.0 named 6 of 6 partials right in
tests/transcription/test_diarization.py)."""
"""Preceding utterances of the same space given to the second pass as context."""
SpaceKey = tuple[str, str | None]
"""(session, caucus): the space an utterance was spoken in."""


@dataclass
class _FinalJob:
    """A finished utterance waiting for its live decode."""

    stream: _Stream
    event: SegmentEvent
    uid: str
    heard: _Heard
    language: str


@dataclass(frozen=True)
class _Heard:
    """Who spoke, where, and who could hear it: captured when the audio was heard.

    Taken when a segment event is cut and carried with its decode job, so that a caption
    is never attributed by state read later (a caucus ended while the words were being
    recognised, a participant moved in)."""

    speaker: Speaker
    """The participant whose track carried the audio."""
    caucus_id: str | None
    """The space it was spoken in; None for the joint session."""
    heard_by: frozenset[str]
    """Who routing let hear ALL of it (an intersection over its chunks)."""
    heard_at: float = 0.0
    """When its first audio reached the server, on the tap clock (``start`` counts media
    time, which runs ahead of arrival after a stall, behind it after losses)."""


@dataclass
class _Stream:
    """State of one participant's audio stream; touched only by the ingest thread,
    except ``partial_text``/``pending``/``finalized``, which are guarded by ``lock``."""

    session_id: str
    """The session the stream belongs to."""
    speaker: Speaker
    """The participant, as of the latest chunk (a rename shows on the next caption)."""
    caucus_id: str | None
    """The caucus of the open utterance; a change closes it."""
    segmenter: Segmenter
    """Utterance boundaries of this stream."""
    vad: StreamingVad = field(default_factory=StreamingVad)
    """Silero state of this stream."""
    expected: float = 0.0
    """Tap-clock time the next chunk should start at; a hole closes the utterance."""
    carry: npt.NDArray[np.float32] = field(default_factory=lambda: np.zeros(0, np.float32))
    """Samples not yet forming a whole VAD window."""
    heard_by: frozenset[str] | None = None
    """Who could hear every chunk since the last final (None: no chunk yet)."""
    origin: float = 0.0
    """Tap-clock start of the current segmenter (its time 0 is this)."""
    fed: int = 0
    """Samples given to the current segmenter so far."""
    anchors: deque[tuple[float, float]] = field(default_factory=lambda: deque(maxlen=1200))
    """(segmenter time, arrival) of recent chunks: maps an utterance's media time to when
    its audio reached the server, which is when routing decided who heard it."""
    chunk_heard_by: frozenset[str] = frozenset()
    """Who could hear the latest chunk (the next utterance starts from there)."""
    utterance_ids: dict[int, str] = field(default_factory=dict)
    """Id of each open utterance by segmenter index."""
    lock: threading.Lock = field(default_factory=threading.Lock)
    """Guards the fields below, shared with the worker threads."""
    partial_text: dict[str, list[str]] = field(default_factory=dict)
    """Text decoded so far for each open utterance's partial caption."""
    pending: dict[str, list[tuple[SegmentEvent, _Heard] | None]] = field(default_factory=dict)
    """Partial chunks not yet decoded; a leading None means a job for them is queued."""
    finalized: OrderedDict[str, None] = field(default_factory=OrderedDict)
    """Recently closed utterances, so a late partial never follows its final (bounded)."""
    partial_voice: dict[str, Voice] = field(default_factory=dict)
    """The enrolled person an open utterance's partial captions named (shared device)."""
    last_voice: tuple[str | None, OnlineVoices, Voice] | None = None
    """The latest enrolled voice a final of this shared device was given, with the space
    (caucus) it was spoken in and the voices that gave it: a partial too short to tell
    falls back to it in that space only."""
    voices: OnlineVoices | None = None
    """Voice assignment when the mediator marked this device as shared."""

    def heard(self, start: float) -> _Heard:
        """Who, where and heard by whom, as of now (ingest thread only), for audio that
        begins at segmenter time ``start``."""
        return _Heard(self.speaker, self.caucus_id,
                      self.heard_by if self.heard_by is not None else frozenset(),
                      self.arrival(start))

    def arrival(self, t: float) -> float:
        """When the audio at segmenter time ``t`` reached the server (tap clock)."""
        best: tuple[float, float] | None = None
        for seg_time, arrived in self.anchors:
            if seg_time > t:
                break
            best = (seg_time, arrived)
        if best is None:
            return t
        return best[1] + (t - best[0])


class TranscriptionPipeline:
    """A ``TapSink`` that turns participants' audio into captions for ``on_caption``."""

    def __init__(self, config: TranscriptionConfig, on_caption: CaptionCallback, *,
                 loop: asyncio.AbstractEventLoop | None = None,
                 segmenter: SegmenterOptions | None = None,
                 id_factory: Callable[[], str] = lambda: str(uuid.uuid4()),
                 segment_sink: SegmentSink | None = None,
                 on_record: CaptionCallback | None = None,
                 on_enrolled: EnrolledCallback | None = None) -> None:
        self.config = config
        self._segment_sink = segment_sink
        self._on_caption = on_caption
        self._on_record = on_record if config.second_pass else None
        self._contexts: dict[str, SpeechContext] = {}
        self._biasers: dict[str, Biaser] = {}
        self._prompts: dict[tuple[str, str], str] = {}
        self._recent: dict[SpaceKey, deque[str]] = {}
        self._finals: deque[_FinalJob] = deque()
        self._finals_lock = threading.Lock()
        self._finals_jobs = 0
        self.decode_calls: list[int] = []
        """Pieces per live final decode call, latest last (bounded): how finals batch."""
        self._loop = loop or asyncio.get_running_loop()
        self._seg_opts = segmenter or SegmenterOptions()
        self._new_id = id_factory
        self._languages: dict[str, str] = {}
        self._shared: dict[StreamKey, OnlineVoices] = {}
        self._enrolling: dict[StreamKey, str] = {}
        """Shared devices waiting for a person's enrollment sentence, and their name."""
        self._enroll_audio: dict[StreamKey, tuple[str, list[npt.NDArray[np.float32]]]] = {}
        """The enrollment sentence heard so far (worker threads, under the lock below)."""
        self._enroll_lock = threading.Lock()
        self._on_enrolled = on_enrolled
        self._streams: dict[StreamKey, _Stream] = {}
        self._inbox: queue.Queue[TapChunk | StreamKey | None] = queue.Queue()
        self._inflight: set[concurrent.futures.Future[None]] = set()
        self._ingest_busy = 0
        self._discarding = False
        self._cond = threading.Condition()
        self._inflight_lock = threading.Lock()
        resolve(config)  # fail at start, not at the first word, when no model fits
        self.pool = WorkerPool(config.worker_count(), idle_gate=self._nobody_speaking)
        # Loading and the first decode cost seconds; pay them before anyone speaks.
        self.pool.submit(FINAL, self._warm_up)
        self._ingest = threading.Thread(target=self._ingest_loop, name="transcription-ingest",
                                        daemon=True)
        self._ingest.start()

    # -- control, from the event loop -----------------------------------------------------

    def set_language(self, session_id: str, language: str) -> None:
        """Set a session's language; raises ``LanguageNotSupported`` if no model can."""
        resolve(self.config, language)
        self._languages[session_id] = language

    def language(self, session_id: str) -> str:
        """The language a session is transcribed in."""
        return self._languages.get(session_id, self.config.language)

    def set_context(self, session_id: str, context: SpeechContext | None) -> None:
        """The case's vocabulary for every stream of a session (case-level data: the same
        for the joint session and every caucus). None forgets it."""
        if context is None or context.empty:
            self._contexts.pop(session_id, None)
            self._biasers.pop(session_id, None)
        else:
            self._contexts[session_id] = context
            self._biasers[session_id] = Biaser.for_context(context)
        for key in [k for k in self._prompts if k[0] == session_id]:
            self._prompts.pop(key, None)

    def context(self, session_id: str) -> SpeechContext | None:
        """The vocabulary a session's speech is decoded with."""
        return self._contexts.get(session_id)

    def live_prompt(self, session_id: str, language: str) -> str:
        """The bounded ``initial_prompt`` of a session's final captions ('' without
        context, or unless ``context_prompt``: measured to cost words with base)."""
        key = (session_id, language)
        prompt = self._prompts.get(key)
        if prompt is None:
            context = self._contexts.get(session_id)
            if context is None or not self.config.context_prompt:
                prompt = ""
            else:
                _spec, model = load(self.config, language)
                prompt = build_prompt(context, language, token_counter(model),
                                      LIVE_PROMPT_TOKENS)
            self._prompts[key] = prompt
        return prompt

    def mark_shared_device(self, session_id: str, participant_id: str, speakers: int,
                           enrollment: Mapping[str, npt.NDArray[np.float32]] | None = None
                           ) -> None:
        """Split this participant's track into ``speakers`` voices (optionally named).
        Voices already enrolled on this device are kept; ``speakers`` 1 forgets them all.

        Raises ``DiarizerUnavailable`` at once when the voice encoder's weights are missing.
        """
        key = (session_id, participant_id)
        if speakers <= 1 and not enrollment:
            self._shared.pop(key, None)
            self._enrolling.pop(key, None)
            return
        weights_path()
        voices = self._shared.get(key)
        if voices is None or enrollment:
            self._shared[key] = OnlineVoices(speakers, enrollment)
        else:
            voices.speakers = speakers

    def enroll_next(self, session_id: str, participant_id: str, name: str | None) -> None:
        """The next final utterances of this shared device, until ``ENROLL_MIN_SECONDS``
        of speech, are ``name`` reading their sentence: they enroll that voice, and later
        captions of the device carry the name. None cancels a waiting enrollment.

        Raises ``DiarizerUnavailable`` when the voice encoder's weights are missing and
        ``KeyError`` when the device was not marked shared."""
        key = (session_id, participant_id)
        if name is None:
            self._enrolling.pop(key, None)
            return
        if key not in self._shared:
            raise KeyError(participant_id)
        weights_path()
        self._enrolling[key] = name

    def enrolled_voices(self, session_id: str, participant_id: str) -> list[str]:
        """Names enrolled on a shared device so far."""
        voices = self._shared.get((session_id, participant_id))
        return voices.names if voices is not None else []

    # -- TapSink ---------------------------------------------------------------------------

    def push(self, chunk: TapChunk) -> None:
        """Queue a chunk; never blocks."""
        with self._cond:
            self._ingest_busy += 1
        self._inbox.put(chunk)

    def end_of_stream(self, session_id: str, participant_id: str) -> None:
        """Close the participant's open utterance and forget the stream."""
        with self._cond:
            self._ingest_busy += 1
        self._inbox.put((session_id, participant_id))

    # -- lifecycle ---------------------------------------------------------------------------

    async def drain(self, record: bool = False) -> None:
        """Wait until everything pushed so far has been captioned and delivered; with
        ``record``, also until every second pass has been decoded and delivered."""
        def wait() -> None:
            with self._cond:
                self._cond.wait_for(lambda: self._ingest_busy == 0)
            self.pool.wait_idle(idle_jobs=record)
        await asyncio.to_thread(wait)
        while True:
            with self._inflight_lock:
                waiting = list(self._inflight)
            if not waiting:
                return
            await asyncio.gather(*(asyncio.wrap_future(f) for f in waiting),
                                 return_exceptions=True)
            if record:
                await asyncio.to_thread(self.pool.wait_idle, idle_jobs=True)

    async def close(self, discard: bool = False) -> None:
        """Finish queued work, then stop the threads. ``discard``: drop audio and decodes
        not yet started, so that a server stops in seconds whatever was queued."""
        if discard:
            self._discarding = True
        self._inbox.put(None)
        await asyncio.to_thread(self._ingest.join)
        await asyncio.to_thread(self.pool.close, discard)
        if not discard:
            await self.drain()

    # -- ingest thread -----------------------------------------------------------------------

    def _ingest_loop(self) -> None:
        while True:
            item = self._inbox.get()
            if item is None:
                return
            try:
                if self._discarding:
                    pass  # shutting down: queued audio is dropped, not transcribed
                elif isinstance(item, TapChunk):
                    self._ingest_chunk(item)
                else:
                    stream = self._streams.pop(item, None)
                    if stream is not None:
                        self._dispatch(stream, stream.segmenter.flush())
            except Exception:  # bad input from one participant never stops the others
                log.exception("dropped audio from a participant's stream")
            finally:
                with self._cond:
                    self._ingest_busy -= 1
                    self._cond.notify_all()

    def _ingest_chunk(self, chunk: TapChunk) -> None:
        key = (chunk.session_id, chunk.speaker.participant_id)
        stream = self._streams.get(key)
        if stream is not None and (chunk.caucus_id != stream.caucus_id
                                   or abs(chunk.start - stream.expected) > GAP_TOLERANCE):
            # Speech never runs across a caucus boundary (privacy) or a hole in the audio.
            # The flush is attributed to the old space before anything of the new is read.
            self._dispatch(stream, stream.segmenter.flush())
            stream.segmenter = Segmenter(self._seg_opts, chunk.start)
            stream.carry = np.zeros(0, np.float32)
            if chunk.caucus_id != stream.caucus_id:
                with stream.lock:  # a voice is never carried into another space
                    stream.last_voice = None
            stream.caucus_id = chunk.caucus_id
            stream.heard_by = None
            stream.origin, stream.fed = chunk.start, 0
            stream.anchors.clear()
        if stream is None:
            stream = _Stream(chunk.session_id, chunk.speaker, chunk.caucus_id,
                             Segmenter(self._seg_opts, chunk.start), origin=chunk.start)
            self._streams[key] = stream
        stream.speaker = chunk.speaker
        stream.chunk_heard_by = chunk.heard_by
        stream.heard_by = (chunk.heard_by if stream.heard_by is None
                           else stream.heard_by & chunk.heard_by)
        stream.voices = self._shared.get(key)
        audio = int16_to_float(chunk.samples)
        stream.anchors.append((stream.origin + stream.fed / TAP_SAMPLE_RATE, chunk.start))
        stream.fed += audio.size
        stream.expected = chunk.start + audio.size / TAP_SAMPLE_RATE
        probs = stream.vad.feed(audio)
        buf = np.concatenate([stream.carry, audio])
        used = probs.size * 512
        stream.carry = buf[used:]
        self._dispatch(stream, stream.segmenter.push(buf[:used], probs))

    def _dispatch(self, stream: _Stream, events: list[SegmentEvent]) -> None:
        for event in events:
            uid = stream.utterance_ids.setdefault(event.index, self._new_id())
            heard = stream.heard(event.start if event.kind == "final"
                                 else event.utterance_start)
            if event.kind == "final":
                stream.utterance_ids.pop(event.index, None)
                # The next utterance is heard from the latest chunk on.
                stream.heard_by = stream.chunk_heard_by
                with stream.lock:
                    stream.finalized[uid] = None
                    while len(stream.finalized) > FINALIZED_KEPT:
                        stream.finalized.popitem(last=False)
                    stream.pending.pop(uid, None)
                    stream.partial_voice.pop(uid, None)
                if self._segment_sink is not None:
                    self._hand_off(stream, event, heard)
                    continue
                self._queue_final(_FinalJob(stream, event, uid, heard,
                                            self.language(stream.session_id)))
                continue
            with stream.lock:
                queued = uid in stream.pending and stream.pending[uid][0] is not None
                stream.pending.setdefault(uid, []).append((event, heard))
            # A partial decode cannot be interrupted, so one started while the pool is busy
            # would delay the next final caption by a whole decode. Only start partials on
            # an idle pool; otherwise the chunk waits and joins the next partial job.
            if not queued and self.pool.backlog() == 0:
                with stream.lock:
                    stream.pending[uid].insert(0, None)  # marks "a job is queued"
                self.pool.submit(PARTIAL, functools.partial(self._partial, stream, uid))

    # -- worker threads ----------------------------------------------------------------------

    def _warm_up(self) -> None:
        language = self.config.language
        _spec, model = load(self.config, language)
        silence = np.zeros(TAP_SAMPLE_RATE // 2, np.float32)
        recognize(model, silence, language)
        recognize_batch(model, [DecodeRequest(silence)], language,
                        min_window=self.config.partial_min_window)

    def _partial(self, stream: _Stream, uid: str) -> None:
        with stream.lock:
            jobs = [j for j in stream.pending.pop(uid, []) if j is not None]
            if not jobs or uid in stream.finalized:
                return
        events = [e for e, _heard in jobs]
        heard = jobs[-1][1]  # the narrowest: who could hear all of it so far
        language = self.language(stream.session_id)
        spec, model = load(self.config, language)
        audio = np.concatenate([e.audio for e in events])
        rec = recognize_batch(model, [DecodeRequest(audio)], language, beam_size=1,
                              min_window=self.config.partial_min_window)[0]
        voice = self._partial_voice(stream, uid, heard, audio)
        with stream.lock:
            if uid in stream.finalized:
                return
            parts = stream.partial_text.setdefault(uid, [])
            parts.append(self.styled(stream.session_id, rec.text, language, final=False))
            text = join_text(parts, language)
        caption = Caption(uid, stream.session_id, heard.speaker, heard.caucus_id,
                          events[0].utterance_start, events[-1].end, text, False, spec.name,
                          rec.confidence, language, heard_by=heard.heard_by,
                          heard_at=jobs[0][1].heard_at)
        if voice is not None:
            caption = replace(caption, voice=voice.label,
                              speaker=replace(heard.speaker,
                                              name=voice.display_name(heard.speaker.name)))
        self._deliver(caption)

    def _partial_voice(self, stream: _Stream, uid: str, heard: _Heard,
                       audio: npt.NDArray[np.float32]) -> Voice | None:
        """Which enrolled person a shared device's partial caption names: the one reading
        their enrollment sentence; the one this utterance was already told to be; with
        ``PARTIAL_VOICE_SECONDS`` set, the nearest enrolled voice to its new audio when that
        is long enough to tell (never learning from it: the final does); else the stream's
        latest enrolled voice, if it was heard in this same space. None: not a shared
        device, or not known."""
        voices = stream.voices
        if voices is None:
            return None
        name = self._enrolling.get((stream.session_id, heard.speaker.participant_id))
        if name is not None:
            return Voice(name, True)
        with stream.lock:
            known = stream.partial_voice.get(uid)
            last = stream.last_voice
        if known is not None and known.label in voices.names:
            return known
        if PARTIAL_VOICE_SECONDS is not None \
                and audio.size >= PARTIAL_VOICE_SECONDS * TAP_SAMPLE_RATE:
            try:
                voice = voices.known(audio)
            except TranscriptionError as exc:  # the words matter more than the label
                log.warning("shared-device voice of a partial not told: %s", exc.code)
                return None
            if voice is not None:
                with stream.lock:
                    if uid not in stream.finalized:
                        stream.partial_voice[uid] = voice
            return voice
        if last is not None and last[0] == heard.caucus_id and last[1] is voices \
                and last[2].label in voices.names:
            return last[2]
        return None

    @staticmethod
    def _remember_voice(stream: _Stream, caucus_id: str | None, voices: OnlineVoices | None,
                        voice: Voice | None) -> None:
        """A final of a shared device was given an enrolled voice: later partials of the
        same space may fall back to it."""
        if voices is not None and voice is not None and voice.enrolled:
            with stream.lock:
                stream.last_voice = (caucus_id, voices, voice)

    def styled(self, session_id: str, raw: str, language: str, final: bool = True) -> str:
        """Recognized text as the room and the record read it: case words put back by
        sound (``biasing``), then punctuation, amounts and dates (``itn``)."""
        biaser = self._biasers.get(session_id)
        if biaser is not None and language == "zh":
            raw = biaser.correct(raw)
        return record_style(raw, language, final)

    def _nobody_speaking(self) -> bool:
        """The idle gate: no stream has an utterance open (read from worker threads; a
        stale answer only delays or advances one idle job by a poll)."""
        try:
            streams = list(self._streams.values())
        except RuntimeError:  # the ingest thread changed the dict meanwhile: ask again
            return False
        return not any(st.segmenter.speaking for st in streams)

    def _queue_final(self, job: _FinalJob) -> None:
        """Finals wait in one queue; each decode call takes every final queued by then
        (up to ``batch_finals``), so speakers who stop together share one call."""
        with self._finals_lock:
            self._finals.append(job)
            if self._finals_jobs >= len(self._finals):
                return  # a queued call will take this one too
            self._finals_jobs += 1
        self.pool.submit(FINAL, self._decode_finals)

    def _decode_finals(self) -> None:
        with self._finals_lock:
            self._finals_jobs -= 1
            if not self._finals:
                return
            language = self._finals[0].language
            limit = max(1, self.config.batch_finals)
            batch = [j for j in self._finals if j.language == language][:limit]
            for job in batch:
                self._finals.remove(job)
        spec, model = load(self.config, language)
        # When finals are already queuing, a wide beam would make every later caption
        # later still; greedy keeps the room's captions close to real time.
        beam = self.config.beam_size if self.pool.backlog() <= BEAM_BACKLOG else 1
        requests = [DecodeRequest(j.event.audio, self.live_prompt(j.stream.session_id, language))
                    for j in batch]
        recs = recognize_batch(model, requests, language, beam_size=beam,
                               min_window=self.config.min_window)
        self.decode_calls.append(len(batch))
        del self.decode_calls[:-256]
        for job, rec in zip(batch, recs, strict=True):
            self._final(job, rec.text, rec.confidence, spec.name)

    def _final(self, job: _FinalJob, text: str, confidence: float, model_name: str) -> None:
        stream, event, uid, heard = job.stream, job.event, job.uid, job.heard
        language = job.language
        with stream.lock:
            stream.partial_text.pop(uid, None)
            stream.partial_voice.pop(uid, None)
        raw, text = text, self.styled(stream.session_id, text, language)
        # A sentence read to enroll enrolls even when no word was recognized in it.
        voices = stream.voices
        voice = self._voice_of(stream, event.audio, assign=bool(text))
        self._remember_voice(stream, heard.caucus_id, voices, voice)
        if not text:
            return
        caption = Caption(uid, stream.session_id, heard.speaker, heard.caucus_id,
                          event.start, event.end, text, True, model_name, confidence,
                          language, heard_by=heard.heard_by, heard_at=heard.heard_at)
        if voice is not None:
            caption = replace(caption, voice=voice.label,
                              speaker=replace(heard.speaker,
                                              name=voice.display_name(heard.speaker.name)))
        space = (stream.session_id, heard.caucus_id)
        recent = self._recent.setdefault(space, deque(maxlen=NEIGHBOURS))
        history = list(recent)  # what was said just before, in the same space only
        recent.append(raw)
        future = self._deliver(caption)
        if self._on_record is None:
            return
        second = functools.partial(self._second_pass, caption, event.audio, history)

        def after_delivery(_done: concurrent.futures.Future[None]) -> None:
            # The record's pass is queued only once the live final has been delivered
            # (and stored): it can never overtake it, and it runs in idle time.
            try:
                self.pool.submit(IDLE, second)
            except RuntimeError:  # closing
                pass
        future.add_done_callback(after_delivery)

    def _voice_of(self, stream: _Stream, audio: npt.NDArray[np.float32],
                  assign: bool = True) -> Voice | None:
        """Who of a shared device spoke (None: not shared, or the encoder failed). The
        utterance that a waiting enrollment was for enrolls that person's voice."""
        voices = stream.voices
        if voices is None:
            return None
        key = (stream.session_id, stream.speaker.participant_id)
        name = self._enrolling.get(key)
        try:
            if name is not None:
                # The sentence may come as several utterances (a pause): gather them.
                with self._enroll_lock:
                    heard = self._enroll_audio.get(key)
                    if heard is None or heard[0] != name:
                        heard = self._enroll_audio[key] = (name, [])
                    heard[1].append(audio)
                    clip = np.concatenate(heard[1])
                if clip.size >= voices.ENROLL_MIN_SECONDS * TAP_SAMPLE_RATE:
                    voices.enroll(name, clip)
                    with self._enroll_lock:
                        self._enroll_audio.pop(key, None)
                    if self._enrolling.get(key) == name:
                        self._enrolling.pop(key, None)
                    if self._on_enrolled is not None:
                        callback = self._on_enrolled
                        self._track(asyncio.run_coroutine_threadsafe(
                            self._safe_enrolled(callback, key, name), self._loop))
                return Voice(name, True)
            return voices.assign(audio) if assign else None
        except TranscriptionError as exc:  # the words matter more than the voice label
            log.warning("shared-device voice not assigned: %s", exc.code)
            return None

    @staticmethod
    async def _safe_enrolled(callback: EnrolledCallback, key: StreamKey, name: str) -> None:
        try:
            await callback(key[0], key[1], name)
        except Exception:  # the voice is enrolled whatever a listener does
            log.exception("enrollment listener failed for session %s", key[0])

    def _second_pass(self, live: Caption, audio: npt.NDArray[np.float32],
                     history: list[str]) -> None:
        """The record's text of one utterance: beam search, the case's context and the
        neighbouring utterances of the same space as prompt."""
        assert self._on_record is not None
        language = live.language
        spec, model = load(self.config, language)
        context = self._contexts.get(live.session_id)
        if not self.config.record_history:
            history = []
        if context is not None and self.config.context_prompt:
            prompt = build_prompt(context, language, token_counter(model),
                                  RECORD_PROMPT_TOKENS, history)
        else:
            prompt = history_prompt(history, token_counter(model), RECORD_PROMPT_TOKENS)
        # Idle time: the whole 30 s window, as Whisper was trained (the trimmed window
        # that makes live captions fast occasionally adds a word).
        rec = recognize_batch(model, [DecodeRequest(audio, prompt)], language,
                              beam_size=self.config.record_beam_size, min_window=None)[0]
        text = self.styled(live.session_id, rec.text, language) or live.text
        record = replace(live, text=text, confidence=rec.confidence, model=spec.name,
                         source="record")
        self._track(asyncio.run_coroutine_threadsafe(self._safe_record(record), self._loop))

    async def _safe_record(self, caption: Caption) -> None:
        assert self._on_record is not None
        try:
            await self._on_record(caption)
        except Exception:  # the live text stays the record's text
            log.exception("second pass listener failed for utterance %s",
                          caption.utterance_id)

    def _hand_off(self, stream: _Stream, event: SegmentEvent, heard: _Heard) -> None:
        assert self._segment_sink is not None
        language = self.language(stream.session_id)
        if stream.voices is not None:
            # A shared device: who of its people spoke is decided here, where the voices
            # live (a worker thread: an embedding is too slow for the ingest thread).
            self.pool.submit(FINAL, functools.partial(self._hand_off_voiced, stream, event,
                                                      heard, language))
            return
        self._send_segment(FinishedSegment(
            stream.session_id, heard.speaker, heard.caucus_id, event.start, event.end,
            language, float_to_int16(event.audio), heard_by=heard.heard_by))

    def _hand_off_voiced(self, stream: _Stream, event: SegmentEvent, heard: _Heard,
                         language: str) -> None:
        voices = stream.voices
        voice = self._voice_of(stream, event.audio)
        self._remember_voice(stream, heard.caucus_id, voices, voice)
        speaker = heard.speaker if voice is None else replace(
            heard.speaker, name=voice.display_name(heard.speaker.name))
        self._send_segment(FinishedSegment(
            stream.session_id, speaker, heard.caucus_id, event.start, event.end, language,
            float_to_int16(event.audio), heard_by=heard.heard_by,
            voice=None if voice is None else voice.label))

    def _send_segment(self, segment: FinishedSegment) -> None:
        # The session's vocabulary travels with the audio: a worker elsewhere writes the
        # case's words as the live captions do.
        segment = replace(segment, context=self._contexts.get(segment.session_id))
        self._track(asyncio.run_coroutine_threadsafe(self._safe_hand_off(segment), self._loop))

    def _deliver(self, caption: Caption) -> concurrent.futures.Future[None]:
        future = asyncio.run_coroutine_threadsafe(self._safe_emit(caption), self._loop)
        self._track(future)
        return future

    def _track(self, future: concurrent.futures.Future[None]) -> None:
        """Remember a delivery until it is done, so ``drain`` can wait for it."""
        def forget(done: concurrent.futures.Future[None]) -> None:
            with self._inflight_lock:
                self._inflight.discard(done)
        with self._inflight_lock:
            self._inflight.add(future)
        future.add_done_callback(forget)

    async def _safe_hand_off(self, segment: FinishedSegment) -> None:
        assert self._segment_sink is not None
        try:
            await self._segment_sink(segment)
        except Exception:  # the stream stays up; the utterance is lost, so say so loudly
            log.exception("could not hand off a finished segment of session %s",
                          segment.session_id)

    async def _safe_emit(self, caption: Caption) -> None:
        try:
            await self._on_caption(caption)
        except Exception:  # a listener's error never breaks the pipeline
            log.exception("caption listener failed for utterance %s", caption.utterance_id)
