"""A small pyannote.audio speaker-diarization pipeline, built and saved here with its own
random weights: it proves the adapter's code path (load a local directory, run, read the
turns back), not any accuracy. No hub download: every file the config names is local.

Needs the ``pyannote`` extra (pyannote.audio and ``torch==2.13.0``)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

os.environ.setdefault("PYANNOTE_METRICS_ENABLED", "0")  # no telemetry from a test
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a missing local file fails, never downloads

EMBEDDING_DIM = 512
"""XVectorSincNet's embedding size."""


def build_pipeline(out: Path) -> Path:
    """Write ``config.yaml``, two Lightning checkpoints and a PLDA into ``out``."""
    import lightning
    import torch
    from pyannote.audio.core.task import Problem, Resolution, Specifications
    from pyannote.audio.models.embedding import XVectorSincNet
    from pyannote.audio.models.segmentation import PyanNet

    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    seg = PyanNet(sample_rate=16000, num_channels=1)
    seg.specifications = Specifications(
        problem=Problem.MONO_LABEL_CLASSIFICATION, resolution=Resolution.FRAME, duration=5.0,
        min_duration=5.0, warm_up=(0.0, 0.0), classes=["speaker#1", "speaker#2"],
        powerset_max_classes=2, permutation_invariant=True)
    seg.setup()
    # Random weights say "nobody speaks" as often as not; this classifier always answers
    # the powerset class {speaker#1}, so that turns come out and the path is exercised.
    with torch.no_grad():
        seg.classifier.weight.zero_()
        seg.classifier.bias.copy_(torch.tensor([-10.0, 10.0, -10.0, -10.0]))
    emb = XVectorSincNet(sample_rate=16000, num_channels=1)
    emb.specifications = Specifications(problem=Problem.REPRESENTATION,
                                        resolution=Resolution.CHUNK, duration=2.0)
    emb.setup()
    for model, name in ((seg, "segmentation.ckpt"), (emb, "embedding.ckpt")):
        trainer = lightning.Trainer(logger=False, enable_checkpointing=False,
                                    enable_progress_bar=False)
        trainer.strategy.connect(model)
        trainer.save_checkpoint(out / name)
    # VBx's PLDA is loaded by the pipeline whatever the clustering: a random one in the
    # shapes it reads (agglomerative clustering, used here, ignores it).
    rng = np.random.default_rng(0)
    k = 16
    (out / "plda").mkdir(exist_ok=True)
    np.savez(out / "plda" / "xvec_transform.npz", mean1=np.zeros(EMBEDDING_DIM),
             mean2=np.zeros(k), lda=rng.standard_normal((EMBEDDING_DIM, k)))
    q, _ = np.linalg.qr(rng.standard_normal((k, k)))
    np.savez(out / "plda" / "plda.npz", mu=np.zeros(k), tr=q, psi=np.linspace(2.0, 1.0, k))
    (out / "config.yaml").write_text(f"""pipeline:
  name: pyannote.audio.pipelines.SpeakerDiarization
  params:
    segmentation: {out / 'segmentation.ckpt'}
    embedding: {out / 'embedding.ckpt'}
    clustering: AgglomerativeClustering
    plda: {out / 'plda'}
params:
  segmentation:
    min_duration_off: 0.0
  clustering:
    method: centroid
    min_cluster_size: 1
    threshold: 0.7
""", encoding="utf-8")
    return out
