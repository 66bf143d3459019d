"""Streaming voice activity detection with the Silero model that faster-whisper ships.

faster-whisper's ``SileroVADModel.__call__`` scores a whole recording at once and resets
its recurrent state every call; live audio arrives 20 ms at a time, so this wrapper
keeps the recurrent state (h, c) and the 64-sample context between calls and scores
each 512-sample window exactly once. It uses the model's ONNX session directly: this is
the one place that relies on that attribute.
"""

from __future__ import annotations

import threading

import numpy as np
import numpy.typing as npt

WINDOW = 512
"""Samples per Silero window at 16 kHz (32 ms)."""
CONTEXT = 64
"""Samples of the previous window the v6 model expects in front of each window."""

_session_lock = threading.Lock()
_session: object | None = None


def _shared_model() -> object:
    """One ONNX session per process; sessions are thread-safe for ``run``."""
    global _session
    with _session_lock:
        if _session is None:
            from faster_whisper.vad import get_vad_model

            _session = get_vad_model()
        return _session


class StreamingVad:
    """Speech probabilities for one audio stream, fed in arbitrary-sized pieces."""

    def __init__(self) -> None:
        self._model = _shared_model()
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)
        self._context = np.zeros(CONTEXT, dtype=np.float32)
        self._pending = np.zeros(0, dtype=np.float32)

    def feed(self, audio: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Score every complete window now available; returns one probability per window."""
        buf = np.concatenate([self._pending, audio]) if self._pending.size else audio
        n = buf.size // WINDOW
        self._pending = buf[n * WINDOW:].copy()
        if n == 0:
            return np.zeros(0, dtype=np.float32)
        windows = buf[: n * WINDOW].reshape(n, WINDOW)
        contexts = np.empty((n, CONTEXT), dtype=np.float32)
        contexts[0] = self._context
        if n > 1:
            contexts[1:] = windows[:-1, -CONTEXT:]
        self._context = windows[-1, -CONTEXT:].copy()
        batch = np.concatenate([contexts, windows], axis=1).astype(np.float32)
        session = self._model.session  # type: ignore[attr-defined]
        out, self._h, self._c = session.run(None, {"input": batch, "h": self._h, "c": self._c})
        return np.asarray(out, dtype=np.float32).reshape(-1)
