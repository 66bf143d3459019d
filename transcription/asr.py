"""Speech recognition of one piece of audio with a loaded faster-whisper model."""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from faster_whisper import WhisperModel


@dataclass(frozen=True)
class Recognition:
    """The text of one decoded piece of audio."""

    text: str
    """The words, whitespace-trimmed; simplified characters for Chinese."""
    confidence: float
    """exp(mean token log-probability) over the segments, 0..1."""
    language: str
    """The language decoded in."""
    segments: tuple[tuple[float, float, str], ...] = ()
    """(start, end, text) of Whisper's segments, relative to the audio's start."""


def to_simplified(text: str) -> str:
    """Convert traditional characters to simplified (Whisper sometimes writes traditional).

    Uses ``zhconv`` when installed; without it the text is returned unchanged.
    """
    try:
        import zhconv  # pure Python, ships its dictionary
    except ImportError:
        return text
    return str(zhconv.convert(text, "zh-cn"))


def join_text(parts: list[str], language: str) -> str:
    """Chinese is written without spaces between segments; other languages with one."""
    parts = [p.strip() for p in parts if p.strip()]
    return ("" if language == "zh" else " ").join(parts)


def recognize(model: WhisperModel, audio: npt.NDArray[np.float32], language: str,
              beam_size: int = 1, vad_filter: bool = False,
              initial_prompt: str | None = None, hotwords: str | None = None
              ) -> Recognition:
    """Decode ``audio`` (16 kHz float32). Blocking: call it from a worker thread.

    No prompt by default (the live pipeline passes the session's context, see
    ``transcription.context``). Script drift is also handled by converting the output to
    simplified characters.
    """
    segments, _info = model.transcribe(
        audio, language=language, beam_size=beam_size, vad_filter=vad_filter,
        condition_on_previous_text=False, initial_prompt=initial_prompt or None,
        hotwords=hotwords or None, without_timestamps=not vad_filter)
    texts: list[str] = []
    spans: list[tuple[float, float, str]] = []
    logprob_sum = 0.0
    tokens = 0
    for seg in segments:
        text = to_simplified(seg.text) if language == "zh" else seg.text
        texts.append(text)
        spans.append((float(seg.start), float(seg.end), text.strip()))
        n = max(1, len(seg.tokens))
        logprob_sum += seg.avg_logprob * n
        tokens += n
    confidence = math.exp(logprob_sum / tokens) if tokens else 0.0
    return Recognition(join_text(texts, language), confidence, language, tuple(spans))


@dataclass(frozen=True)
class DecodeRequest:
    """One piece of audio of a batch, with its own prompt (its session's context)."""

    audio: npt.NDArray[np.float32]
    """16 kHz float32, at most 30 s (longer is cut: utterances are bounded below that)."""
    prompt: str = ""
    """``initial_prompt`` text for this piece; empty for none."""


def token_counter(model: WhisperModel) -> Callable[[str], int]:
    """Counts the model's tokens in a text (to bound prompts)."""
    tokenizer = model.hf_tokenizer

    def count(text: str) -> int:
        return len(tokenizer.encode(text, add_special_tokens=False).ids)
    return count


MAX_TOKENS_PER_SECOND = 12
"""Mandarin runs at about 4-5 characters a second, ~1-2 tokens each: a decode that asks
for more than this is looping, so it is stopped (and the piece decoded again alone)."""


WINDOW_PAD = 2.0
"""Seconds of silence after the longest piece in a trimmed encoder window."""


def window_frames(seconds: float, min_window: float | None) -> int:
    """Mel frames the encoder reads for audio this long: the whole 30 s window
    (``min_window`` None), or the audio plus ``WINDOW_PAD``, at least ``min_window``."""
    if min_window is None:
        return 3000
    frames = int(min(30.0, max(min_window, seconds + WINDOW_PAD)) * 100)
    return frames + frames % 2  # the encoder's convolution halves the frame count


def recognize_batch(model: WhisperModel, requests: Sequence[DecodeRequest], language: str,
                    beam_size: int = 1, min_window: float | None = None
                    ) -> list[Recognition]:
    """Decode several pieces of audio in ONE encoder and decoder call (a batch).

    Each piece keeps its own prompt and is decoded independently (batch dimension, never
    concatenated audio): nothing of one piece can appear in another's text, which is what
    lets finals of different speakers, sessions or caucuses share a call. A piece whose
    decode looks like a loop (too many tokens, or text that compresses too well) is
    decoded again alone with ``recognize``, which has Whisper's temperature fallback.

    ``min_window``: encode only the audio plus ``WINDOW_PAD`` (at least this many
    seconds) instead of Whisper's fixed 30 s window. The encoder's cost grows with the
    window, so a 3 s utterance costs a fraction of a full decode; on speech/zh the text
    is the same (see docs/benchmarks.md). None keeps the 30 s window.
    """
    from faster_whisper.audio import pad_or_trim
    from faster_whisper.tokenizer import Tokenizer
    from faster_whisper.transcribe import get_suppressed_tokens

    if not requests:
        return []
    tokenizer = Tokenizer(model.hf_tokenizer, model.model.is_multilingual, task="transcribe",
                          language=language)
    longest = max(r.audio.size for r in requests) / 16000
    frames = window_frames(longest, min_window)
    feats = [pad_or_trim(model.feature_extractor(r.audio[:480_000])[..., :-1], frames)
             for r in requests]
    encoder_output = model.encode(np.stack(feats).astype(np.float32))
    prompts: list[list[int]] = []
    limits: list[int] = []
    for r in requests:
        previous = tokenizer.encode(r.prompt)[-(model.max_length // 2 - 1):] if r.prompt else []
        prompt = model.get_prompt(tokenizer, previous, without_timestamps=True)
        prompts.append(prompt)
        limits.append(len(prompt) + 8 + int(MAX_TOKENS_PER_SECOND * r.audio.size / 16000))
    max_length = min(model.max_length, max(limits))
    results = model.model.generate(
        encoder_output, prompts, beam_size=beam_size, patience=1, length_penalty=1,
        repetition_penalty=1, no_repeat_ngram_size=0, max_length=max_length,
        return_scores=True, return_no_speech_prob=True, suppress_blank=True,
        suppress_tokens=get_suppressed_tokens(tokenizer, [-1]))
    out: list[Recognition] = []
    for r, prompt, limit, result in zip(requests, prompts, limits, results, strict=True):
        tokens = [t for t in result.sequences_ids[0] if t < tokenizer.eot]
        text = tokenizer.decode(tokens).strip()
        if len(tokens) >= limit - len(prompt) or _compression_ratio(text) > 2.4:
            out.append(recognize(model, r.audio, language, beam_size=max(beam_size, 1),
                                 initial_prompt=r.prompt or None))
            continue
        if result.no_speech_prob > 0.6 and result.scores[0] < -1.0:
            out.append(Recognition("", 0.0, language))
            continue
        if language == "zh":
            text = to_simplified(text)
        n = max(1, len(tokens))
        avg = result.scores[0] * n / (n + 1)
        out.append(Recognition(text, math.exp(avg) if tokens else 0.0, language,
                               ((0.0, r.audio.size / 16000, text),) if text else ()))
    return out


def _compression_ratio(text: str) -> float:
    raw = text.encode("utf-8")
    return len(raw) / len(zlib.compress(raw)) if raw else 0.0
