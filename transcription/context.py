"""What the recognizer is told about a session before it hears it: the case's vocabulary.

Whisper conditions its decoding on "previous text" (``initial_prompt``): words that
appear there become far more likely, and the style of the text (simplified characters,
punctuation) carries over. A session's context is case-level data the mediator already
holds: the parties' and mediator's names, place names, the dispute type's usual terms,
and words of the case summary. It holds nothing said in the session, so giving it to
every stream of the session (joint or caucus) reveals nothing across a caucus boundary.

The prompt is bounded in tokens: every prompt token is decoded before the first word,
so an unbounded summary would cost every caption latency.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

STYLE_ZH = "以下是普通话的调解对话，用简体中文记录，有标点。"
"""Asks for simplified characters and punctuation, in the register of a mediation."""
STYLE_EN = "The following is a mediation conversation, with punctuation."

LIVE_PROMPT_TOKENS = 64
"""Prompt budget of live captions: about 10 % of a greedy base decode's cost."""
RECORD_PROMPT_TOKENS = 160
"""Prompt budget of the second pass (context plus neighbouring utterances)."""

DISPUTE_TERMS: dict[str, tuple[str, ...]] = {
    "neighbour": ("邻里", "漏水", "噪音", "通道", "物业"),
    "family": ("赡养", "抚养", "继承", "离婚", "财产分割"),
    "labour": ("工资", "拖欠", "劳动合同", "加班费", "经济补偿", "工伤"),
    "debt": ("借款", "欠条", "还款", "利息", "本金"),
    "property": ("物业费", "业主", "维修", "租金", "押金", "房屋"),
    "traffic": ("交通事故", "赔偿", "医疗费", "误工费", "保险"),
    "medical": ("医疗纠纷", "医院", "手术", "病历", "赔偿"),
    "contract": ("合同", "违约", "货款", "交付", "定金"),
    "consumer": ("退货", "退款", "商家", "质量问题", "发票"),
    "land": ("宅基地", "承包地", "土地", "边界", "补偿款"),
}
"""Usual words of each dispute type (keys as cases store them; Chinese names map below)."""
_TYPE_ALIASES = {"neighbourhood": "neighbour", "property_management": "property",
                 "tort": "traffic", "marriage": "family", "inheritance": "family",
                 "婚姻纠纷": "family", "继承纠纷": "family", "损害赔偿纠纷": "traffic",
                 "邻里纠纷": "neighbour", "婚姻家庭纠纷": "family", "家庭纠纷": "family",
                 "劳动争议": "labour", "劳动纠纷": "labour", "债务纠纷": "debt",
                 "借贷纠纷": "debt", "物业纠纷": "property", "房屋租赁纠纷": "property",
                 "交通事故纠纷": "traffic", "医疗纠纷": "medical", "合同纠纷": "contract",
                 "消费纠纷": "consumer", "土地纠纷": "land"}



@dataclass(frozen=True)
class SpeechContext:
    """A session's vocabulary, most important first."""

    names: tuple[str, ...] = ()
    """People: the mediator's and the parties' names as the room shows them."""
    places: tuple[str, ...] = ()
    """Place names of the case (village, street, estate, company)."""
    summary: tuple[str, ...] = ()
    """Clauses of the case summary the mediator wrote, in order."""
    terms: tuple[str, ...] = ()
    """The dispute type and its usual words."""

    @classmethod
    def from_case(cls, *, names: Iterable[str] = (), places: Iterable[str] = (),
                  dispute_type: str = "", summary: str = "") -> SpeechContext:
        """Build the context from what the case holds; duplicates and blanks dropped."""
        kind = _TYPE_ALIASES.get(dispute_type.strip(), dispute_type.strip())
        type_terms = DISPUTE_TERMS.get(kind, ())
        label = [dispute_type] if dispute_type and kind not in DISPUTE_TERMS else []
        clauses = [c for c in _CLAUSE.split(summary) if c.strip()]
        return cls(_unique(names), _unique(places), _unique(clauses),
                   _unique([*label, *type_terms]))

    @property
    def empty(self) -> bool:
        return not (self.names or self.places or self.summary or self.terms)


_CLAUSE = re.compile(r"[。；;！!？?\n]+")


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for item in items:
        item = item.strip()
        if item and item not in seen:
            seen[item] = None
    return tuple(seen)


def build_prompt(context: SpeechContext | None, language: str, count_tokens: Callable[[str], int],
                 max_tokens: int, history: Iterable[str] = ()) -> str:
    """The ``initial_prompt`` for one decode, at most ``max_tokens`` tokens.

    In order, each part only while the budget lasts: the style sentence; the people and
    places (names are what Whisper gets wrong most and the context fixes best); the case
    summary, clause by clause; the dispute type's terms; then (second pass) the
    neighbouring utterances' text, kept last because Whisper weighs the end of its prompt
    most and they are what the speaker just said.
    """
    zh = language == "zh"
    sep = "、" if zh else ", "
    stop = "。" if zh else ". "
    budget = max_tokens
    parts: list[str] = []

    def take(text: str) -> bool:
        nonlocal budget
        cost = count_tokens(text)
        if cost > budget:
            return False
        parts.append(text)
        budget -= cost
        return True

    if not take(STYLE_ZH if zh else STYLE_EN):
        return ""
    recent = [h.strip() for h in history if h.strip()]
    reserve = min(budget // 2, sum(count_tokens(h) for h in recent[-2:]))
    budget -= reserve
    if context is not None:
        people = [*context.names, *context.places]
        while people and not take(sep.join(people) + stop):
            people.pop()  # the least important last
        for clause in context.summary:
            take(clause.strip() + stop)
        terms = list(context.terms)
        while terms and not take(sep.join(terms) + stop):
            terms.pop()
    budget += reserve
    tail: list[str] = []
    for text in reversed(recent):
        cost = count_tokens(text)
        if cost > budget:
            break
        tail.insert(0, text)
        budget -= cost
    return ("" if zh else " ").join([*parts, *tail])


def history_prompt(history: Iterable[str], count_tokens: Callable[[str], int],
                   max_tokens: int) -> str:
    """The neighbouring utterances' raw text, most recent last, at most ``max_tokens``:
    the second pass's context when the case's words are not prompted (as Whisper itself
    conditions on previous text; unpunctuated, which the base model copes with best)."""
    kept: list[str] = []
    budget = max_tokens
    for text in reversed([h.strip() for h in history if h.strip()]):
        cost = count_tokens(text)
        if cost > budget:
            break
        kept.insert(0, text)
        budget -= cost
    return "".join(kept)
