"""Speaker embeddings with Resemblyzer's GE2E encoder, run in numpy (no torch).

The ``resemblyzer`` package ships its trained weights (``pretrained.pt``, 17 MB) but
imports torch, which the embedded service must not need. Building Tiaojie fetches that
file from the resemblyzer wheel into ``transcription/weights/`` (see
``build_backend/tiaojie_build.py``), so ``pip install`` alone brings it. We read it
ourselves (the legacy torch serialisation is a few pickles followed by raw storages)
and run the network, a 3-layer LSTM of 256 units, a linear layer and a ReLU, in numpy.
"""

from __future__ import annotations

import importlib.util
import pickle
import struct
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import numpy.typing as npt

from media.tap import TAP_SAMPLE_RATE

from .errors import DiarizerUnavailable

N_FFT = 400
"""25 ms analysis window."""
HOP = 160
"""10 ms hop: one mel frame per 10 ms."""
N_MELS = 40
PARTIAL_FRAMES = 160
"""Frames per partial embedding (1.6 s), the length the encoder was trained on."""

_DTYPES = {"FloatStorage": np.float32, "DoubleStorage": np.float64, "LongStorage": np.int64,
           "IntStorage": np.int32, "HalfStorage": np.float16}


class _StorageType:
    def __init__(self, name: str) -> None:
        self.dtype = np.dtype(_DTYPES[name])


def _rebuild(storage: tuple[str, int], offset: int, size: tuple[int, ...],
             stride: tuple[int, ...], *_: Any) -> tuple[str, int, tuple[int, ...],
                                                        tuple[int, ...]]:
    return (storage[0], offset, tuple(size), tuple(stride))  # resolved after storages load


class _Unpickler(pickle.Unpickler):
    """Maps the few torch globals a state dict uses onto plain Python; refuses the rest."""

    def __init__(self, f: BinaryIO, storages: dict[str, tuple[np.dtype[Any], int]]) -> None:
        super().__init__(f)
        self._storages = storages

    def find_class(self, module: str, name: str) -> Any:
        if module == "collections" and name == "OrderedDict":
            return OrderedDict
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return _rebuild
        if module == "torch" and name in _DTYPES:
            return _StorageType(name)
        raise pickle.UnpicklingError(f"unexpected global {module}.{name} in weights file")

    def persistent_load(self, pid: Any) -> Any:
        _tag, storage_type, key, _location, numel, _view = pid
        self._storages[key] = (storage_type.dtype, int(numel))
        return (key, int(numel))


def load_legacy_state_dict(path: Path) -> dict[str, npt.NDArray[np.float32]]:
    """Read a state dict written by ``torch.save`` in the pre-1.6 (non-zip) format."""
    storages: dict[str, tuple[np.dtype[Any], int]] = {}
    with path.open("rb") as f:
        for _ in range(3):  # magic number, protocol version, system info
            pickle.load(f)  # nosec B301: ints and a dict of ints/bools from a package file
        obj = _Unpickler(f, storages).load()
        keys = pickle.load(f)  # nosec B301: a list of strings
        data: dict[str, npt.NDArray[Any]] = {}
        for key in keys:
            dtype, _numel = storages[key]
            (count,) = struct.unpack("<q", f.read(8))
            data[key] = np.frombuffer(f.read(count * dtype.itemsize), dtype=dtype)
    state = obj.get("model_state", obj)
    out: dict[str, npt.NDArray[np.float32]] = {}
    for name, (key, offset, size, stride) in state.items():
        flat = data[key]
        arr = np.lib.stride_tricks.as_strided(
            flat[offset:], shape=size, strides=[s * flat.itemsize for s in stride])
        out[name] = np.array(arr, dtype=np.float32)
    return out


PACKAGED_WEIGHTS = Path(__file__).resolve().parent / "weights" / "pretrained.pt"
"""Where the build puts Resemblyzer's weights (with its licence and a notice)."""


def weights_path() -> Path:
    """The weights the build fetched, else those of an installed ``resemblyzer`` (found
    without importing it: it needs torch), as installs before the build step had them."""
    if PACKAGED_WEIGHTS.is_file():
        return PACKAGED_WEIGHTS
    spec = importlib.util.find_spec("resemblyzer")
    if spec is not None and spec.submodule_search_locations:
        installed = Path(next(iter(spec.submodule_search_locations))) / "pretrained.pt"
        if installed.is_file():
            return installed
    raise DiarizerUnavailable(
        "the embedded diarizer needs the speaker-encoder weights, which the build fetches: "
        "reinstall with pip install -e '.[models]' (or run "
        "python build_backend/tiaojie_build.py in the source tree) where the package "
        "index can be reached")


def _mel_filters(sr: int = TAP_SAMPLE_RATE, n_fft: int = N_FFT,
                 n_mels: int = N_MELS) -> npt.NDArray[np.float32]:
    """Slaney-style mel filterbank with area normalisation (what the encoder was trained on)."""
    def hz_to_mel(f: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        f = np.asarray(f, dtype=np.float64)
        lin = f / (200.0 / 3)
        log_part = 15.0 + np.log(np.maximum(f, 1e-10) / 1000.0) / (np.log(6.4) / 27.0)
        return np.where(f >= 1000.0, log_part, lin)

    def mel_to_hz(m: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        lin = m * (200.0 / 3)
        log_part = 1000.0 * np.exp((np.log(6.4) / 27.0) * (m - 15.0))
        return np.where(m >= 15.0, log_part, lin)

    fft_freqs = np.linspace(0, sr / 2, n_fft // 2 + 1)
    mels = np.linspace(hz_to_mel(np.array(0.0)), hz_to_mel(np.array(sr / 2.0)), n_mels + 2)
    hz = mel_to_hz(mels)
    fdiff = np.diff(hz)
    ramps = hz[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (hz[2:n_mels + 2] - hz[:n_mels]))[:, None]
    return weights.astype(np.float32)


def mel_spectrogram(wav: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Power mel spectrogram, (frames, 40), centred frames with a Hann window."""
    padded = np.pad(wav, N_FFT // 2, mode="constant")
    n = 1 + (padded.size - N_FFT) // HOP
    if n <= 0:
        return np.zeros((0, N_MELS), np.float32)
    idx = np.arange(N_FFT)[None, :] + HOP * np.arange(n)[:, None]
    window = np.hanning(N_FFT + 1)[:-1].astype(np.float32)  # periodic Hann
    spec = np.abs(np.fft.rfft(padded[idx] * window, axis=1)) ** 2
    return (spec.astype(np.float32) @ _MEL.T).astype(np.float32)


_MEL = _mel_filters()


def _sigmoid(x: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    # Clipping keeps exp() finite; the sigmoid is already 0 or 1 to float32 precision there.
    return (1.0 / (1.0 + np.exp(-np.clip(x, -30.0, 30.0)))).astype(np.float32)


class VoiceEncoder:
    """The GE2E speaker encoder: audio in, a 256-dim L2-normalised voice embedding out."""

    def __init__(self, path: Path | None = None) -> None:
        w = load_legacy_state_dict(path or weights_path())
        self._layers = [(w[f"lstm.weight_ih_l{i}"].T.copy(), w[f"lstm.weight_hh_l{i}"].T.copy(),
                         w[f"lstm.bias_ih_l{i}"] + w[f"lstm.bias_hh_l{i}"]) for i in range(3)]
        self._linear = (w["linear.weight"].T.copy(), w["linear.bias"])

    def _forward(self, mels: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """(batch, frames, 40) → (batch, 256); the LSTM's last hidden state, as trained."""
        x = mels
        batch, frames, _ = x.shape
        h = np.zeros((batch, 256), np.float32)
        for w_ih, w_hh, bias in self._layers:
            pre = x @ w_ih + bias  # input projections for all steps at once
            h = np.zeros((batch, 256), np.float32)
            c = np.zeros((batch, 256), np.float32)
            outs = np.empty((batch, frames, 256), np.float32)
            for t in range(frames):
                gates = pre[:, t] + h @ w_hh
                i, f, g, o = np.split(gates, 4, axis=1)  # PyTorch's gate order
                c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
                h = _sigmoid(o) * np.tanh(c)
                outs[:, t] = h
            x = outs
        raw = np.maximum(0, h @ self._linear[0] + self._linear[1])
        out: npt.NDArray[np.float32] = raw / np.maximum(
            np.linalg.norm(raw, axis=1, keepdims=True), 1e-8)
        return out

    def embed_frames(self, wav: npt.NDArray[np.float32], step: float = 0.5
                     ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float64]]:
        """Embeddings of 1.6 s windows every ``step`` seconds and each window's centre time."""
        wav = _normalize_volume(wav)
        mel = mel_spectrogram(wav)
        hop_frames = max(1, round(step * TAP_SAMPLE_RATE / HOP))
        if mel.shape[0] < PARTIAL_FRAMES:
            mel = np.pad(mel, ((0, PARTIAL_FRAMES - mel.shape[0]), (0, 0)))
        starts = np.arange(0, mel.shape[0] - PARTIAL_FRAMES + 1, hop_frames)
        batch = np.stack([mel[s:s + PARTIAL_FRAMES] for s in starts])
        embeds = np.concatenate([self._forward(batch[i:i + 64]) for i in range(0, len(batch), 64)])
        centres = (starts + PARTIAL_FRAMES / 2) * HOP / TAP_SAMPLE_RATE
        return embeds, centres

    def embed_utterance(self, wav: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """One embedding for a whole clip: the normalised mean of its windows."""
        embeds, _ = self.embed_frames(wav, step=1 / 1.3)
        mean = embeds.mean(axis=0)
        unit: npt.NDArray[np.float32] = (mean / max(float(np.linalg.norm(mean)), 1e-8)
                                         ).astype(np.float32)
        return unit


def _normalize_volume(wav: npt.NDArray[np.float32], target_dbfs: float = -30.0
                      ) -> npt.NDArray[np.float32]:
    """Raise quiet audio to -30 dBFS, as the encoder's training data was (never lower it)."""
    rms = float(np.sqrt(np.mean(wav.astype(np.float64) ** 2))) if wav.size else 0.0
    if rms <= 0:
        return wav
    change = target_dbfs - 20 * np.log10(rms)
    return wav if change < 0 else (wav * 10 ** (change / 20)).astype(np.float32)


_shared: VoiceEncoder | None = None
_shared_lock = threading.Lock()


def shared_encoder() -> VoiceEncoder:
    """One encoder per process (loading reads 17 MB)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = VoiceEncoder()
        return _shared
