"""Audio helpers: file decoding through PyAV and sample-format conversion."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import numpy.typing as npt

from media.tap import TAP_SAMPLE_RATE

from .errors import AudioDecodeError

FloatAudio = npt.NDArray[np.float32]


def int16_to_float(samples: npt.NDArray[np.int16]) -> FloatAudio:
    """Tap chunks are int16; Whisper, Silero and the voice encoder want float32 in [-1, 1)."""
    return (samples.astype(np.float32) / 32768.0).astype(np.float32)


def float_to_int16(audio: npt.NDArray[np.floating]) -> npt.NDArray[np.int16]:
    """The inverse, clipping so that loud input never wraps around."""
    return np.clip(np.round(audio * 32768.0), -32768, 32767).astype(np.int16)


def decode_file(path: str | Path, sample_rate: int = TAP_SAMPLE_RATE) -> FloatAudio:
    """Decode the first audio stream of any file PyAV reads to mono float32 at ``sample_rate``."""
    try:
        container = av.open(str(path))
    except (OSError, av.error.FFmpegError) as exc:
        raise AudioDecodeError(f"cannot open {Path(path).name}: {exc}") from exc
    with container:
        if not container.streams.audio:
            raise AudioDecodeError(f"{Path(path).name} has no audio stream")
        resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
        parts: list[FloatAudio] = []
        try:
            for frame in container.decode(audio=0):
                for out in resampler.resample(frame):
                    parts.append(out.to_ndarray().reshape(-1).astype(np.float32))
            for out in resampler.resample(None):
                parts.append(out.to_ndarray().reshape(-1).astype(np.float32))
        except av.error.FFmpegError as exc:
            raise AudioDecodeError(f"cannot decode {Path(path).name}: {exc}") from exc
    if not parts:
        return np.zeros(0, dtype=np.float32)
    return np.concatenate(parts)
