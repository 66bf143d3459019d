"""Case words put back where the recognizer heard their sound but wrote other characters.

Whisper base hears 商场 and writes 上场, hears 业绩 and writes 夜级: the syllables are
right, the characters are not, because it does not know the case. When a stretch of the
text has exactly the pinyin (tones ignored) of a word of the session's context, and the
context's word is not what was written, the context's word is written instead.

Measured on the base model, giving the same words as ``initial_prompt`` made the text
worse (the model drops the utterance's first words and copies prompt text into short
utterances, see docs/benchmarks.md), so this is how the case's vocabulary biases the
captions by default; the prompt path stays for larger local models.

Candidate words: the names, places and dispute terms as given, and from the summary the
2-4 character runs between punctuation and function words (no segmenter is needed:
a run must be matched whole by sound, which rules out most accidental matches).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from .context import SpeechContext

_HAN = re.compile(r"[\u4e00-\u9fff]")
_BREAK = re.compile(r"[^\u4e00-\u9fff]+|[的了和与及就在对把被向等是也都很又还吗呢吧啊]")
MIN_LEN = 2
MAX_LEN = 4


@lru_cache(maxsize=4096)
def _sound(text: str) -> tuple[str, ...]:
    from pypinyin import lazy_pinyin

    return tuple(lazy_pinyin(text))


def vocabulary(context: SpeechContext) -> tuple[str, ...]:
    """The words a session's text is corrected towards, longest first."""
    words: dict[str, None] = {}
    for word in [*context.names, *context.places, *context.terms]:
        if len(word) >= MIN_LEN and all(_HAN.match(c) for c in word):
            words[word] = None
    for clause in context.summary:
        for run in _BREAK.split(clause):
            for n in range(MIN_LEN, MAX_LEN + 1):
                if len(run) == n or (len(run) > n and n in (2, 4)):
                    for i in range(0, len(run) - n + 1):
                        words[run[i:i + n]] = None
    return tuple(sorted(words, key=len, reverse=True))


class Biaser:
    """Corrects text towards one session's vocabulary (build once per context)."""

    def __init__(self, words: Iterable[str]) -> None:
        self._by_sound: dict[tuple[str, ...], str] = {}
        for word in words:
            self._by_sound.setdefault(_sound(word), word)
        self._lengths = sorted({len(k) for k in self._by_sound}, reverse=True)

    @classmethod
    def for_context(cls, context: SpeechContext) -> Biaser:
        return cls(vocabulary(context))

    def correct(self, text: str) -> str:
        """``text`` with stretches that sound like case words written as those words.

        Where matches overlap, the choice covers the most characters and, among equals,
        changes the fewest of what the recognizer wrote (会报 → 汇报 rather than 们会 →
        门汇, when both sound like something of the summary)."""
        if not self._by_sound or not text:
            return text
        n_text = len(text)
        # best[i]: (characters covered, -characters changed, choice) for text[i:]
        best: list[tuple[int, int, str | None]] = [(0, 0, None)] * (n_text + 1)
        for i in range(n_text - 1, -1, -1):
            cov, neg, _ = best[i + 1]
            choice: tuple[int, int, str | None] = (cov, neg, None)
            for n in self._lengths:
                piece = text[i:i + n]
                if len(piece) < n or not all(_HAN.match(c) for c in piece):
                    continue
                word = self._by_sound.get(_sound(piece))
                if word is None:
                    continue
                cov2, neg2, _ = best[i + n]
                changed = sum(1 for a, b in zip(piece, word, strict=True) if a != b)
                option = (cov2 + n, neg2 - changed, word)
                if option[:2] > choice[:2]:
                    choice = option
            best[i] = choice
        out: list[str] = []
        i = 0
        while i < n_text:
            word = best[i][2]
            if word is None:
                out.append(text[i])
                i += 1
            else:
                out.append(word)
                i += len(word)
        return "".join(out)
