"""Command-line entry points: ``transcribe`` and ``diarize`` for recordings.

The main ``tiaojie`` CLI calls ``register_cli``; ``python -m transcription`` works alone.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from .audio import decode_file
from .diarization import Audio, diarizer_for
from .errors import TranscriptionError
from .models import TranscriptionConfig
from .offline import to_rttm, transcribe_recording


def _enrollment(pairs: list[str]) -> dict[str, Audio]:
    out: dict[str, Audio] = {}
    for pair in pairs:
        name, sep, path = pair.partition("=")
        if not sep or not name or not path:
            raise ValueError(f"--enroll expects NAME=FILE, got {pair!r}")
        out[name] = decode_file(path)
    return out


def _transcribe(args: argparse.Namespace) -> int:
    try:
        config = TranscriptionConfig(model_dir=args.model_dir, language=args.language,
                                     beam_size=args.beam_size, pyannote_dir=args.pyannote_dir)
        lines = transcribe_recording(decode_file(args.file), config, args.language,
                                     args.speakers, enrollment=_enrollment(args.enroll))
    except TranscriptionError as exc:
        print(f"error [{exc.code}]: {exc.message}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps([line.to_dict() for line in lines], ensure_ascii=False, indent=2))
    else:
        for line in lines:
            m, s = divmod(int(line.start), 60)
            print(f"[{m:02d}:{s:02d}] {line.speaker}: {line.text}")
    return 0


def _diarize(args: argparse.Namespace) -> int:
    try:
        audio = decode_file(args.file)
        turns = diarizer_for(args.pyannote_dir).diarize(audio, args.speakers,
                                                        _enrollment(args.enroll))
    except TranscriptionError as exc:
        print(f"error [{exc.code}]: {exc.message}", file=sys.stderr)
        return 2
    if args.rttm:
        sys.stdout.write(to_rttm(turns, Path(args.file).stem))
    else:
        for t in turns:
            print(f"{t.start:8.2f} {t.end:8.2f} {t.speaker}")
    return 0


def _pyannote_option(parser: argparse.ArgumentParser) -> None:
    env = os.environ.get("TIAOJIE_PYANNOTE_DIR") or None
    parser.add_argument("--pyannote-dir", type=Path, default=Path(env) if env else None,
                        help="a local pyannote.audio pipeline directory (config.yaml and its "
                             "models; needs the 'pyannote' extra); default "
                             "$TIAOJIE_PYANNOTE_DIR, else the embedded diarizer")


def register_cli(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``transcribe`` and ``diarize`` subcommands."""
    t = subparsers.add_parser("transcribe", help="speaker-attributed transcript of a recording")
    t.add_argument("file", help="any audio or video file PyAV reads")
    t.add_argument("--language", choices=["zh", "en"], default="zh")
    t.add_argument("--speakers", type=int, default=None, help="number of speakers, if known")
    t.add_argument("--json", action="store_true", help="print [{speaker, start, end, text}]")
    t.add_argument("--model-dir", type=Path, default=None, help="local faster-whisper model")
    t.add_argument("--beam-size", type=int, default=5)
    t.add_argument("--enroll", action="append", default=[], metavar="NAME=FILE",
                   help="a reference clip of a named speaker (repeatable)")
    _pyannote_option(t)
    t.set_defaults(func=_transcribe)
    d = subparsers.add_parser("diarize", help="who spoke when, as RTTM")
    d.add_argument("file", help="any audio or video file PyAV reads")
    d.add_argument("--speakers", type=int, default=None, help="number of speakers, if known")
    d.add_argument("--rttm", action="store_true", help="print RTTM lines")
    d.add_argument("--enroll", action="append", default=[], metavar="NAME=FILE",
                   help="a reference clip of a named speaker (repeatable)")
    _pyannote_option(d)
    d.set_defaults(func=_diarize)


def main(argv: list[str] | None = None) -> int:
    """``python -m transcription``."""
    parser = argparse.ArgumentParser(prog="python -m transcription")
    register_cli(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))
