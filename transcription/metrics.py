"""Accuracy measures shared by the tests and the benchmark: WER, CER, text normalisation."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from .asr import to_simplified

_NUMBERS = {"0": "zero", "1": "one", "2": "two", "3": "three", "4": "four", "5": "five",
            "6": "six", "7": "seven", "8": "eight", "9": "nine", "10": "ten"}


def edit_distance(ref: Sequence[str], hyp: Sequence[str]) -> int:
    """Levenshtein distance between two token sequences."""
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1]


def normalize_en(text: str) -> list[str]:
    """Lowercase words without punctuation; small numerals spelled out as the references are."""
    words = re.sub(r"[^a-z0-9' ]+", " ", text.lower().replace("-", " ")).split()
    return [_NUMBERS.get(w, w) for w in words]


def normalize_zh(text: str) -> list[str]:
    """Characters without punctuation or spaces, simplified (how the references are written)."""
    text = to_simplified(text)
    return [c for c in text if not c.isspace() and not unicodedata.category(c).startswith("P")]


def wer(refs: Sequence[str], hyps: Sequence[str]) -> float:
    """Corpus word error rate: total edits over total reference words."""
    errors = sum(edit_distance(normalize_en(r), normalize_en(h)) for r, h in zip(refs, hyps))
    return errors / max(1, sum(len(normalize_en(r)) for r in refs))


def cer(refs: Sequence[str], hyps: Sequence[str]) -> float:
    """Corpus character error rate for Chinese."""
    errors = sum(edit_distance(normalize_zh(r), normalize_zh(h)) for r, h in zip(refs, hyps))
    return errors / max(1, sum(len(normalize_zh(r)) for r in refs))
