"""Who spoke when on a shared track: the ``Diarizer`` protocol and its implementations.

``EmbeddedDiarizer`` needs only packaged parts: Silero VAD (faster-whisper), GE2E voice
embeddings (Resemblyzer's weights run in numpy) and spherical k-means with the declared
speaker count. With enrollment clips the centroids start at the enrolled voices, so
clusters come out already named (identification rather than anonymous clustering).
``PyannoteDiarizer`` adapts a locally configured pyannote.audio pipeline.
``OnlineVoices`` labels the utterances of a live shared device one at a time.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from media.tap import TAP_SAMPLE_RATE

from .errors import DiarizerNotConfigured, DiarizerUnavailable
from .voice_encoder import VoiceEncoder, shared_encoder

Audio = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Turn:
    """One stretch of one speaker's speech."""

    start: float
    """Seconds from the start of the audio."""
    end: float
    """Seconds from the start of the audio."""
    speaker: str
    """A cluster label ("SPEAKER_00") or an enrolled person's name."""


class Diarizer(Protocol):
    """Splits audio into speaker turns."""

    def diarize(self, audio: Audio, num_speakers: int | None = None,
                enrollment: Mapping[str, Audio] | None = None) -> list[Turn]:
        """Turns of 16 kHz mono ``audio``; ``enrollment`` maps names to reference clips."""
        ...


def speech_regions(audio: Audio, threshold: float = 0.5, pad: float = 0.1
                   ) -> list[tuple[float, float]]:
    """Speech (start, end) in seconds by Silero VAD, with short pauses kept inside."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    opts = VadOptions(threshold=threshold, min_silence_duration_ms=300,
                      speech_pad_ms=int(pad * 1000), min_speech_duration_ms=150)
    return [(s["start"] / TAP_SAMPLE_RATE, s["end"] / TAP_SAMPLE_RATE)
            for s in get_speech_timestamps(audio, opts)]


def spherical_kmeans(x: Audio, k: int, init: Audio | None = None, iters: int = 30,
                     seed: int = 0) -> tuple[npt.NDArray[np.int64], Audio]:
    """Cluster unit vectors by cosine similarity; ``init`` fixes the starting centroids."""
    rng = np.random.default_rng(seed)
    if init is not None:
        starts = [init.astype(np.float32)]
    else:  # k-means++ seeding, a few restarts; keep the tightest result
        starts = []
        for _ in range(8):
            picked = [x[rng.integers(len(x))]]
            for _ in range(1, k):
                dist = 1 - np.max(x @ np.stack(picked).T, axis=1)
                p = np.maximum(dist, 0) ** 2
                picked.append(x[rng.choice(len(x), p=p / p.sum())] if p.sum() > 0
                             else x[rng.integers(len(x))])
            starts.append(np.stack(picked))
    best: tuple[float, npt.NDArray[np.int64], Audio] | None = None
    for cents in starts:
        labels = np.argmax(x @ cents.T, axis=1)
        for _ in range(iters):
            labels = np.argmax(x @ cents.T, axis=1)
            new = np.stack([x[labels == j].mean(axis=0) if np.any(labels == j) else cents[j]
                            for j in range(k)])
            new /= np.maximum(np.linalg.norm(new, axis=1, keepdims=True), 1e-8)
            if np.allclose(new, cents):
                break
            cents = new.astype(np.float32)
        labels = np.argmax(x @ cents.T, axis=1)
        score = float(np.sum(np.max(x @ cents.T, axis=1)))
        if best is None or score > best[0]:
            best = (score, labels, cents)
    assert best is not None
    return best[1], best[2]


def estimate_speakers(audio: Audio, regions: list[tuple[float, float]],
                      same_voice: float = 0.6, max_speakers: int = 8) -> int:
    """Guess the speaker count when nobody declared it (a fallback: declare it if known).

    Speech is cut into ~2 s pieces, one embedding each (steadier than 1.6 s frames),
    merged by average-linkage while pieces sound alike; clusters of a single piece (or
    under a tenth of the pieces) are treated as noise, not as a person. On the shared
    data this finds 2 on dev00, dev01 and two mixed Harvard speakers, 1 on jfk and on one
    Harvard speaker, and wrongly 1 on sample.wav.
    """
    encoder = shared_encoder()
    pieces: list[Audio] = []
    for start, end in regions:
        t = start
        while end - t >= 0.8:
            stop = end if end - (t + 2.0) < 0.8 else t + 2.0
            pieces.append(encoder.embed_utterance(
                audio[int(t * TAP_SAMPLE_RATE):int(stop * TAP_SAMPLE_RATE)]))
            t = stop
    if len(pieces) < 2:
        return 1
    x = np.stack(pieces)
    sim = x @ x.T
    clusters = [[i] for i in range(len(x))]
    while len(clusters) > 1:
        best, pair = -1.0, (0, 1)
        for i, j in itertools.combinations(range(len(clusters)), 2):
            score = float(sim[np.ix_(clusters[i], clusters[j])].mean())
            if score > best:
                best, pair = score, (i, j)
        if best < same_voice:
            break
        clusters[pair[0]] += clusters.pop(pair[1])
    floor = max(2, int(0.1 * len(x)))
    return max(1, min(max_speakers, sum(len(c) >= floor for c in clusters)))


def _turns_from_labels(centres: npt.NDArray[np.float64], labels: list[str],
                       regions: list[tuple[float, float]], resolution: float = 0.05
                       ) -> list[Turn]:
    """Paint each speech region with the label of the nearest embedding window."""
    turns: list[Turn] = []
    for start, end in regions:
        times = np.arange(start, end, resolution)
        if times.size == 0:
            continue
        nearest = np.abs(times[:, None] - centres[None, :]).argmin(axis=1)
        cur, cur_start = labels[nearest[0]], start
        for t, idx in zip(times[1:], nearest[1:]):
            if labels[idx] != cur:
                turns.append(Turn(cur_start, float(t), cur))
                cur, cur_start = labels[idx], float(t)
        turns.append(Turn(cur_start, end, cur))
    return turns


class EmbeddedDiarizer:
    """Diarization from packaged parts only: VAD, GE2E embeddings, k-means."""

    def __init__(self, step: float = 0.25, smooth: int = 5, vad_threshold: float = 0.3,
                 vad_pad: float = 0.2) -> None:
        self.vad_threshold = vad_threshold
        """Silero threshold; lower than for captions because far-field meeting speech is
        quiet and a missed second costs DER while a caption cares only about words."""
        self.vad_pad = vad_pad
        """Seconds of padding around each speech region."""
        self.step = step
        """Seconds between embedding windows (each window covers 1.6 s)."""
        self.smooth = smooth
        """Median-filter width over window labels, against one-window flips."""

    def diarize(self, audio: Audio, num_speakers: int | None = None,
                enrollment: Mapping[str, Audio] | None = None) -> list[Turn]:
        """Turns of ``audio``; see ``Diarizer``."""
        if num_speakers is not None and num_speakers < 1:
            raise ValueError(f"num_speakers must be >= 1, got {num_speakers}")
        regions = speech_regions(audio, self.vad_threshold, self.vad_pad)
        if not regions:
            return []
        encoder = shared_encoder()
        embeds, centres = encoder.embed_frames(audio, step=self.step)
        in_speech = np.array([any(s - 0.4 <= c <= e + 0.4 for s, e in regions) for c in centres])
        if in_speech.any():
            embeds, centres = embeds[in_speech], centres[in_speech]
        names: list[str]
        if enrollment:
            names = list(enrollment)
            init = np.stack([encoder.embed_utterance(enrollment[n]) for n in names])
            k = len(names)
            labels, _ = spherical_kmeans(embeds, k, init=init, iters=5)
        else:
            k = num_speakers or estimate_speakers(audio, regions)
            k = min(k, len(embeds))
            labels, _ = spherical_kmeans(embeds, k)
            names = [f"SPEAKER_{j:02d}" for j in range(k)]
        labels = _median_filter(labels, self.smooth)
        return _turns_from_labels(centres, [names[j] for j in labels], regions)


def _median_filter(labels: npt.NDArray[np.int64], width: int) -> npt.NDArray[np.int64]:
    """Majority vote in a sliding window (labels are categories, so a mode, not a median)."""
    if width <= 1 or len(labels) < width:
        return labels
    half = width // 2
    padded = np.pad(labels, half, mode="edge")
    return np.array([np.bincount(padded[i:i + width]).argmax() for i in range(len(labels))])


class PyannoteDiarizer:
    """Adapter for a pyannote.audio pipeline installed in a local directory.

    pyannote.audio (and torch) are an optional extra: the import happens on first use,
    so the service starts without them and only this diarizer refuses to work.
    """

    def __init__(self, pipeline_dir: Path | None) -> None:
        if pipeline_dir is None:
            raise DiarizerNotConfigured("no pyannote pipeline directory is configured")
        if not (pipeline_dir / "config.yaml").exists():
            raise DiarizerNotConfigured(f"{pipeline_dir} holds no pyannote config.yaml")
        self.pipeline_dir = pipeline_dir
        self._pipeline: Any = None

    def _load(self) -> Any:
        if self._pipeline is None:
            try:
                from pyannote.audio import Pipeline
            except ImportError as exc:
                raise DiarizerUnavailable("pyannote.audio is not installed: install the "
                                          "'pyannote' extra (needs torch)") from exc
            self._pipeline = Pipeline.from_pretrained(str(self.pipeline_dir))
        return self._pipeline

    def diarize(self, audio: Audio, num_speakers: int | None = None,
                enrollment: Mapping[str, Audio] | None = None) -> list[Turn]:
        """Turns from pyannote; enrollment names clusters afterwards by voice similarity."""
        pipeline = self._load()
        import torch  # present once pyannote.audio imported

        waveform = torch.from_numpy(audio[None, :].copy())
        kwargs = {"num_speakers": num_speakers} if num_speakers else {}
        result = pipeline({"waveform": waveform, "sample_rate": TAP_SAMPLE_RATE}, **kwargs)
        annotation = getattr(result, "speaker_diarization", result)
        turns = [Turn(float(seg.start), float(seg.end), str(label))
                 for seg, _, label in annotation.itertracks(yield_label=True)]
        return name_turns(audio, turns, enrollment) if enrollment else turns


def diarizer_for(pyannote_dir: Path | None) -> Diarizer:
    """The diarizer a setting asks for: the pyannote pipeline in ``pyannote_dir`` (the
    ``pyannote_dir`` of ``TranscriptionConfig``, ``TIAOJIE_PYANNOTE_DIR``), else the
    embedded one. A directory without a pipeline is refused here, at once."""
    return PyannoteDiarizer(pyannote_dir) if pyannote_dir is not None else EmbeddedDiarizer()


def name_turns(audio: Audio, turns: list[Turn], enrollment: Mapping[str, Audio]) -> list[Turn]:
    """Rename anonymous cluster labels to enrolled names (best one-to-one match)."""
    encoder = shared_encoder()
    labels = sorted({t.speaker for t in turns})
    voices = {lab: encoder.embed_utterance(np.concatenate(
        [audio[int(t.start * TAP_SAMPLE_RATE):int(t.end * TAP_SAMPLE_RATE)]
         for t in turns if t.speaker == lab])) for lab in labels}
    names = list(enrollment)
    refs = {n: encoder.embed_utterance(enrollment[n]) for n in names}
    best: dict[str, str] = {}
    best_score = -np.inf
    for perm in itertools.permutations(names, min(len(names), len(labels))):
        score = sum(float(voices[lab] @ refs[n]) for lab, n in zip(labels, perm))
        if score > best_score:
            best_score, best = score, dict(zip(labels, perm))
    return [Turn(t.start, t.end, best.get(t.speaker, t.speaker)) for t in turns]


@dataclass(frozen=True)
class Voice:
    """One voice on a shared device, as assigned to an utterance."""

    label: str
    """"1", "2", ... in order of first appearance, or the enrolled name."""
    enrolled: bool
    """Whether ``label`` is a person's enrolled name."""

    def display_name(self, device_name: str) -> str:
        """"Wang Fang" when enrolled, else "Device owner (2)"."""
        return self.label if self.enrolled else f"{device_name} ({self.label})"


class OnlineVoices:
    """Assigns each utterance of a live shared device to one of ``speakers`` voices.

    Voices are enrolled people (named, at any time: ``enroll``) and anonymous voices
    numbered "1", "2"... in order of first appearance. Once as many people as share the
    device have enrolled, every utterance goes to the nearest enrolled voice. Embeddings
    live in memory only, for the session: a voiceprint is never stored.
    """

    NEW_VOICE_BELOW = 0.72
    """Cosine similarity under which an utterance starts a new voice (while one is free)."""
    ENROLL_MIN_SECONDS = 3.0
    """Speech that enrolls a voice: a sentence split by a pause is gathered until this much
    (from 2 s of far-field meeting speech a voice was confused with the other person's)."""

    def __init__(self, speakers: int, enrollment: Mapping[str, Audio] | None = None) -> None:
        if speakers < 1:
            raise ValueError(f"speakers must be >= 1, got {speakers}")
        self.speakers = speakers
        self._labels: list[str] = []
        self._enrolled: list[bool] = []
        self._centroids: list[Audio] = []
        self._counts: list[int] = []
        self._pending = dict(enrollment or {})
        """Clips given at construction, embedded on first use (in a worker thread)."""
        self._lock = threading.Lock()

    @property
    def names(self) -> list[str]:
        """The enrolled people, in order of enrollment."""
        with self._lock:
            return [lab for lab, e in zip(self._labels, self._enrolled) if e] + list(self._pending)

    def enroll(self, name: str, audio: Audio) -> None:
        """Enroll (or enroll again) ``name`` from one clip; blocking (a worker thread).

        Anonymous voices heard so far are forgotten: they may be this person, and an
        enrolled voice is the better reference for everything said from now on.
        """
        if audio.size < self.ENROLL_MIN_SECONDS * TAP_SAMPLE_RATE:
            raise ValueError(f"an enrollment clip needs {self.ENROLL_MIN_SECONDS} s of speech")
        emb = shared_encoder().embed_utterance(audio)
        with self._lock:
            self._embed_pending(shared_encoder())
            self._set(name, emb)

    def _set(self, name: str, emb: Audio) -> None:
        keep = [i for i, e in enumerate(self._enrolled) if e and self._labels[i] != name]
        self._labels = [self._labels[i] for i in keep] + [name]
        self._enrolled = [True] * len(self._labels)
        self._centroids = [self._centroids[i] for i in keep] + [emb]
        self._counts = [self._counts[i] for i in keep] + [1]

    def _embed_pending(self, encoder: VoiceEncoder) -> None:
        for name, clip in self._pending.items():
            self._set(name, encoder.embed_utterance(clip))
        self._pending.clear()

    def assign(self, audio: Audio) -> Voice:
        """The voice of one utterance; blocking (runs in a worker thread)."""
        encoder = shared_encoder()
        emb = encoder.embed_utterance(audio)
        # Several workers may finish utterances of one device at once; centroids are shared.
        with self._lock:
            self._embed_pending(encoder)
            return self._assign_locked(emb)

    def known(self, audio: Audio) -> Voice | None:
        """The enrolled person who is speaking, for a partial caption: the nearest
        enrolled voice once everyone who shares the device has enrolled, or one this close
        (``NEW_VOICE_BELOW``) before; else None. Changes nothing (the final's ``assign``
        learns); blocking (a worker thread)."""
        encoder = shared_encoder()
        emb = encoder.embed_utterance(audio)
        with self._lock:
            self._embed_pending(encoder)
            enrolled = [i for i, e in enumerate(self._enrolled) if e]
            if not enrolled:
                return None
            sims = [float(self._centroids[i] @ emb) for i in enrolled]
            j = int(np.argmax(sims))
            if len(enrolled) >= self.speakers or sims[j] >= self.NEW_VOICE_BELOW:
                return self._voice(enrolled[j])
            return None

    def _assign_locked(self, emb: Audio) -> Voice:
        """Caller holds ``self._lock``."""
        if self._centroids:
            enrolled = sum(self._enrolled)
            # Everyone who shares the device has enrolled: the nearest of them spoke.
            pool = range(enrolled) if enrolled >= self.speakers else range(len(self._centroids))
            sims = np.array([float(self._centroids[i] @ emb) for i in pool])
            j = int(sims.argmax())
            if sims[j] >= self.NEW_VOICE_BELOW or len(self._centroids) >= max(
                    self.speakers, enrolled):
                return self._update(j, emb)
        self._labels.append(str(sum(not e for e in self._enrolled) + 1))
        self._enrolled.append(False)
        self._centroids.append(emb)
        self._counts.append(1)
        return self._voice(len(self._centroids) - 1)

    def _update(self, j: int, emb: Audio) -> Voice:
        if self._enrolled[j]:
            return self._voice(j)  # an enrolled reference stays as read: no drift to a neighbour
        n = self._counts[j]
        mean = self._centroids[j] * n + emb
        self._centroids[j] = mean / max(float(np.linalg.norm(mean)), 1e-8)
        self._counts[j] = n + 1
        return self._voice(j)

    def _voice(self, j: int) -> Voice:
        return Voice(self._labels[j], self._enrolled[j])
