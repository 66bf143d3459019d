"""Transcription benchmark on ../shared/data: accuracy, speed, live latency, DER.

Run from the repository root: ``python benchmarks/transcription.py`` (about 6 minutes on
2 cores). Prints a table, then one line ``RESULT {json}``. ``--smoke`` (CI) runs every
part on the least data: tiny.en on two English clips, base on the shortest Mandarin
clip, one real-time speaker, one diarization file.

- wer_en / cer_zh: streaming pipeline (20 ms frames, decoding allowed to keep up), with
  the batch figure (one decode per clip, beam 5) beside it for the 1.2x comparison.
- rtf: process CPU seconds per audio second while streaming the clips.
- final_caption_latency_*: wall time from an utterance's end (its ``end`` on the tap
  clock, which includes the 0.2 s of trailing silence kept) to its final caption, with
  audio pushed in 20 ms frames in real time.
- max_concurrent_speakers: simultaneous real-time speakers one process serves with p95
  final-caption latency under 1.5 s.
- live_cer_zh / live_cer_zh_context / second_pass_cer_zh: base on the Mandarin clips
  through the live pipeline, without and with the session's case context (the meeting
  clip gets ``tests/transcription/data/meeting_case.json``; the other clips have no case),
  and the record's second pass (with context). ``live_cer_zh_prompt``: the context also
  given to Whisper as ``initial_prompt`` (off by default).
- final_caption_latency_p95_ms_3_speakers: three speakers talking at once.
- max_concurrent_speakers (after) and max_concurrent_speakers_before: the same sweep with
  the decode path before issue 16 (30 s encoder window, one final per decode call).
- der: per file, with the declared speaker count and with enrollment clips.
- archive_bytes_per_participant_hour: the audio archive's disk use (Ogg Opus pages sealed
  in AES-GCM chunks) per participant-hour, from ``benchmarks/archive.py``'s run through
  the real feed and store (part ``archive``: 4 participants x 120 s; --smoke 1 x 20 s).

The machine's load changes every latency figure: compare variants of one run as ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from media.tap import TAP_SAMPLE_RATE, Speaker, TapChunk  # noqa: E402
from tests.transcription.conftest import DIAR, EN, ZH, references  # noqa: E402
from tests.transcription.diarization_helpers import der, enrollment_from_reference  # noqa: E402
from tests.transcription.pipeline_helpers import FRAME, stream, with_silence  # noqa: E402
from transcription.asr import recognize  # noqa: E402
from transcription.context import SpeechContext  # noqa: E402
from transcription.audio import decode_file, float_to_int16  # noqa: E402
from transcription.diarization import EmbeddedDiarizer  # noqa: E402
from transcription.metrics import cer, wer  # noqa: E402
from transcription.models import TranscriptionConfig, load  # noqa: E402
from transcription.pipeline import TranscriptionPipeline  # noqa: E402
from transcription.utterance import Caption  # noqa: E402

Audio = npt.NDArray[np.float32]
PARTS = ["accuracy", "latency", "concurrency", "der", "archive"]
SPEAKERS = [Speaker(f"p{i}", f"Speaker {i}", "party") for i in range(16)]


MEETING_CASE = ROOT / "tests" / "transcription" / "data" / "meeting_case.json"


def meeting_context() -> tuple[str, SpeechContext]:
    """The meeting clip's file name and the case context a mediator could have written."""
    case = json.loads(MEETING_CASE.read_text(encoding="utf-8"))
    return case["file"], SpeechContext.from_case(names=case["names"],
                                                 dispute_type=case["dispute_type"],
                                                 summary=case["summary"])


async def streamed_texts(config: TranscriptionConfig, clips: list[Audio], language: str,
                         contexts: list[SpeechContext | None] | None = None,
                         record: bool = False) -> tuple[list[str], float, float]:
    """Each clip through the pipeline; returns texts, CPU seconds and audio seconds.

    ``contexts``: each clip's session context. ``record``: the texts returned are the
    second pass's (the live finals are still decoded and delivered first)."""
    finals: list[Caption] = []
    records: list[Caption] = []

    async def on_caption(c: Caption) -> None:
        if c.final:
            finals.append(c)

    async def on_record(c: Caption) -> None:
        records.append(c)

    pipeline = TranscriptionPipeline(replace(config, language=language), on_caption,
                                     on_record=on_record if record else None)
    await pipeline.drain()  # warm-up outside the measurement
    texts: list[str] = []
    cpu0 = time.process_time()
    audio_s = 0.0
    for i, clip in enumerate(clips):
        finals.clear()
        records.clear()
        speaker = SPEAKERS[i % len(SPEAKERS)]
        padded = with_silence(clip)
        if contexts is not None:
            pipeline.set_context(f"clip{i}", contexts[i])
        await stream(pipeline, padded, speaker, session=f"clip{i}")
        pipeline.end_of_stream(f"clip{i}", speaker.participant_id)
        await pipeline.drain(record=record)
        audio_s += padded.size / TAP_SAMPLE_RATE
        sep = "" if language == "zh" else " "
        got = records if record else finals
        texts.append(sep.join(c.text for c in sorted(got, key=lambda c: c.start)))
    cpu = time.process_time() - cpu0
    await pipeline.close()
    return texts, cpu, audio_s


def batch_texts(config: TranscriptionConfig, clips: list[Audio], language: str) -> list[str]:
    _spec, model = load(config, language)
    return [recognize(model, clip, language, beam_size=5).text for clip in clips]


async def realtime_latencies(config: TranscriptionConfig, tracks: list[Audio],
                             language: str) -> list[float]:
    """Stream each track in real time in parallel; seconds from utterance end to final."""
    latencies: list[float] = []
    t0 = 0.0

    async def on_caption(c: Caption) -> None:
        if c.final:
            latencies.append(time.monotonic() - (t0 + c.end))

    pipeline = TranscriptionPipeline(replace(config, language=language), on_caption)
    await pipeline.drain()
    samples = [float_to_int16(t) for t in tracks]
    longest = max(s.size for s in samples)
    t0 = time.monotonic()
    for i in range(0, longest, FRAME):
        for k, s in enumerate(samples):
            if i < s.size:
                pipeline.push(TapChunk("rt", SPEAKERS[k], None, s[i:i + FRAME],
                                       i / TAP_SAMPLE_RATE))
        due = t0 + (i + FRAME) / TAP_SAMPLE_RATE
        await asyncio.sleep(max(0.0, due - time.monotonic()))
    for k in range(len(samples)):
        pipeline.end_of_stream("rt", SPEAKERS[k].participant_id)
    await pipeline.drain()
    await pipeline.close()
    return latencies


def conversation(clips: list[Audio], gap: float, rotate: int = 0) -> Audio:
    """Clips one after another with pauses: a speaker's turns in a session."""
    order = clips[rotate:] + clips[:rotate]
    return np.concatenate([with_silence(c, before=gap, after=0) for c in order] +
                          [np.zeros(TAP_SAMPLE_RATE, np.float32)])


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) * 1000 if values else float("nan")


async def run(args: argparse.Namespace) -> dict[str, object]:
    cache = Path(args.cache_dir or tempfile.mkdtemp(prefix="tiaojie-models-"))
    configs = {name: TranscriptionConfig(cache_dir=cache, prefer=name, beam_size=args.beam,
                                         min_window=args.min_window)
               for name in ("tiny.en", "base")}
    en_refs = dict(list(references(EN).items())[:args.en_clips])
    en_clips = [decode_file(EN / f) for f in en_refs]
    zh_all = references(ZH)
    zh_refs = {f: zh_all[f] for f in sorted(zh_all, key=lambda f: len(zh_all[f]))
               [:args.zh_clips]} if args.zh_clips else zh_all
    zh_clips = [decode_file(ZH / f) for f in zh_refs]
    models = {name: configs[name] for name in args.models}
    result: dict[str, object] = {}
    rows: list[tuple[str, str]] = []

    wer_en: dict[str, float] = {}
    wer_batch: dict[str, float] = {}
    rtf: dict[str, float] = {}
    for name, config in models.items() if "accuracy" in args.parts else ():
        texts, cpu, audio_s = await streamed_texts(config, en_clips, "en")
        wer_en[name] = wer(list(en_refs.values()), texts)
        wer_batch[name] = wer(list(en_refs.values()), batch_texts(config, en_clips, "en"))
        rtf[name] = cpu / audio_s
        rows += [(f"wer_en {name} streaming", f"{wer_en[name]:.3f}"),
                 (f"wer_en {name} batch beam 5", f"{wer_batch[name]:.3f}"),
                 (f"rtf {name} (CPU s / audio s)", f"{rtf[name]:.3f}")]
    if "accuracy" in args.parts:
        base = configs["base"]
        refs = list(zh_refs.values())
        meeting, case = meeting_context()
        contexts: list[SpeechContext | None] = [case if f == meeting else None
                                                for f in zh_refs]
        texts, _cpu, _audio_s = await streamed_texts(base, zh_clips, "zh")
        cer_zh = cer(refs, texts)
        ctx_texts, _cpu, _audio_s = await streamed_texts(base, zh_clips, "zh", contexts)
        cer_ctx = cer(refs, ctx_texts)
        rec_texts, _cpu, _audio_s = await streamed_texts(base, zh_clips, "zh", contexts,
                                                         record=True)
        cer_rec = cer(refs, rec_texts)
        cer_batch = cer(refs, batch_texts(base, zh_clips, "zh"))
        rows += [("cer_zh base live, no context", f"{cer_zh:.3f}"),
                 ("cer_zh base live, case context", f"{cer_ctx:.3f}"),
                 ("cer_zh base second pass (record), case context", f"{cer_rec:.3f}"),
                 ("cer_zh base batch beam 5 (one decode per clip)", f"{cer_batch:.3f}")]
        result.update(wer_en=wer_en, wer_en_batch=wer_batch, cer_zh={"base": cer_zh},
                      cer_zh_batch={"base": cer_batch}, rtf=rtf,
                      live_cer_zh={"base": cer_zh}, live_cer_zh_context={"base": cer_ctx},
                      second_pass_cer_zh={"base": cer_rec})
        if args.record_variants:
            second: dict[str, float] = {}
            for label, variant in (
                    ("no neighbours as prompt", replace(base, record_history=False)),
                    ("beam 1", replace(base, record_beam_size=1)),
                    ("no neighbours, beam 1", replace(base, record_history=False,
                                                      record_beam_size=1))):
                v_texts, _cpu, _audio_s = await streamed_texts(variant, zh_clips, "zh",
                                                               contexts, record=True)
                second[label] = cer(refs, v_texts)
                rows.append((f"cer_zh base second pass, {label}", f"{second[label]:.3f}"))
            result["second_pass_cer_zh_variants"] = second
        if args.prompt_variant:
            prompt_texts, _cpu, _audio_s = await streamed_texts(
                replace(base, context_prompt=True), zh_clips, "zh", contexts)
            cer_prompt = cer(refs, prompt_texts)
            rows.append(("cer_zh base live, context also as initial_prompt", f"{cer_prompt:.3f}"))
            result["live_cer_zh_prompt"] = {"base": cer_prompt}
        for label, got in (("live", texts), ("context", ctx_texts), ("record", rec_texts)):
            print(f"# {label}: " + " | ".join(got))

    p50: dict[str, float] = {}
    p95: dict[str, float] = {}
    p50_3: dict[str, float] = {}
    p95_3: dict[str, float] = {}
    for name, config in models.items() if "latency" in args.parts else ():
        lat = await realtime_latencies(config, [conversation(en_clips[: args.clips], 1.0)], "en")
        p50[name], p95[name] = pct(lat, 50), pct(lat, 95)
        rows += [(f"final caption latency {name} p50 / p95 ms (n={len(lat)})",
                  f"{p50[name]:.0f} / {p95[name]:.0f}")]
        tracks = [conversation(en_clips[: args.clips], 0.8 + 0.3 * k, rotate=k) for k in range(3)]
        lat3 = await realtime_latencies(config, tracks, "en")
        p50_3[name], p95_3[name] = pct(lat3, 50), pct(lat3, 95)
        rows += [(f"final caption latency {name}, 3 speakers, p50 / p95 ms (n={len(lat3)})",
                  f"{p50_3[name]:.0f} / {p95_3[name]:.0f}")]
    if "latency" in args.parts:
        result.update(final_caption_latency_p50_ms=p50, final_caption_latency_p95_ms=p95,
                      final_caption_latency_p50_ms_3_speakers=p50_3,
                      final_caption_latency_p95_ms_3_speakers=p95_3)

    concurrency: dict[str, int] = {}
    before: dict[str, int] = {}
    for name in args.concurrency_models if "concurrency" in args.parts else ():
        variants = [("after", configs[name], concurrency)]
        if not args.no_before:
            # The decode path before issue 16: 30 s windows, one final per call.
            variants.insert(0, ("before", replace(configs[name], min_window=None,
                                                  partial_min_window=None,
                                                  batch_finals=1), before))
        for label, config, out in variants:
            best = 0
            for n in range(1, args.max_streams + 1):
                tracks = [conversation(en_clips[:args.concurrency_clips], 0.8 + 0.3 * k,
                                       rotate=k) for k in range(n)]
                lat = await realtime_latencies(config, tracks, "en")
                ok = pct(lat, 95) < 1500
                rows.append((f"{n} concurrent speakers, {name} ({label}): p95 ms",
                             f"{pct(lat, 95):.0f}"))
                if not ok:
                    break
                best = n
            out[name] = best
    if "concurrency" in args.parts:
        result["max_concurrent_speakers"] = concurrency
        if before:
            result["max_concurrent_speakers_before"] = before

    ders: dict[str, dict[str, float]] = {}
    diarizer = EmbeddedDiarizer()
    with warnings.catch_warnings():
        if "der" not in args.parts:
            return _table(rows, result)
        warnings.simplefilter("ignore")
        for name in args.der_files:
            audio = decode_file(DIAR / f"{name}.wav")
            declared = der(name, diarizer.diarize(audio, num_speakers=2))
            enrolled = der(name, diarizer.diarize(
                audio, enrollment=enrollment_from_reference(name, audio)))
            ders[name] = {"declared": round(declared, 3), "enrolled": round(enrolled, 3)}
            rows.append((f"der {name} declared / enrolled", f"{declared:.3f} / {enrolled:.3f}"))
    result["der"] = ders
    return _table(rows, result)


def _table(rows: list[tuple[str, str]], result: dict[str, object]) -> dict[str, object]:
    if not rows:
        return result
    width = max(len(r[0]) for r in rows)
    print(f"{'measure'.ljust(width)}  value")
    for label, value in rows:
        print(f"{label.ljust(width)}  {value}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache-dir", default=None, help="where the base model is assembled")
    parser.add_argument("--beam", type=int, default=TranscriptionConfig.beam_size,
                        help="beam size for final captions")
    parser.add_argument("--clips", type=int, default=13, help="clips in the latency run")
    parser.add_argument("--max-streams", type=int, default=4)
    parser.add_argument("--parts", nargs="*", default=PARTS, choices=PARTS,
                        help="sections to run (default: all)")
    parser.add_argument("--concurrency-models", nargs="*", default=["tiny.en", "base"])
    parser.add_argument("--concurrency-clips", type=int, default=6,
                        help="clips in each concurrent speaker's conversation")
    parser.add_argument("--models", nargs="*", default=["tiny.en", "base"],
                        choices=["tiny.en", "base"], help="models for accuracy and latency")
    parser.add_argument("--en-clips", type=int, default=None, help="English clips (all)")
    parser.add_argument("--zh-clips", type=int, default=None,
                        help="Mandarin clips, shortest first (all)")
    parser.add_argument("--der-files", nargs="*", default=["sample", "dev00", "dev01"])
    parser.add_argument("--record-variants", action="store_true",
                        help="also the second pass without its neighbours as prompt and "
                             "with beam 1, in the same run")
    parser.add_argument("--prompt-variant", action="store_true",
                        help="also measure live CER with the context as initial_prompt")
    parser.add_argument("--min-window", type=float, default=None,
                        help="final captions' shortest encoder window in seconds (default: "
                             "the full 30 s window)")
    parser.add_argument("--no-before", action="store_true",
                        help="skip the concurrency sweep of the old decode path")
    parser.add_argument("--smoke", action="store_true",
                        help="seconds, the least data (CI): every part still runs")
    args = parser.parse_args()
    if args.smoke:
        args.models, args.concurrency_models = ["tiny.en"], ["tiny.en"]
        args.en_clips, args.zh_clips, args.clips = 2, 1, 2
        args.max_streams, args.concurrency_clips, args.der_files = 1, 2, ["sample"]
    started = time.monotonic()
    result = asyncio.run(run(args))
    result["archive_bytes_per_participant_hour"] = None
    if "archive" in args.parts:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from archive import run as archive_run  # benchmarks/archive.py

        people, seconds = (1, 20.0) if args.smoke else (4, 120.0)
        archived = asyncio.run(archive_run(people, seconds, 32_000))
        result["archive_bytes_per_participant_hour"] = archived[
            "archive_bytes_per_participant_hour"]
        print(f"archive bytes per participant-hour ({people} x {seconds:.0f} s, 32 kbit/s): "
              f"{archived['archive_bytes_per_participant_hour']}")
    result["wall_s"] = round(time.monotonic() - started, 1)
    result["smoke"] = args.smoke

    def rounded(v: object) -> object:
        if isinstance(v, float):
            return round(v, 4)
        if isinstance(v, dict):
            return {k: rounded(x) for k, x in v.items()}
        return v
    print("RESULT " + json.dumps({k: rounded(v) for k, v in result.items()}, ensure_ascii=False))


if __name__ == "__main__":
    main()
