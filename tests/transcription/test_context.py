"""The session's vocabulary, record-style text, and idle-time work (no speech model)."""

from __future__ import annotations

import threading

import pytest

from transcription.biasing import Biaser
from transcription.context import SpeechContext, build_prompt, history_prompt
from transcription.itn import chinese_to_number, normalize, record_style
from transcription.workers import FINAL, IDLE, PARTIAL, WorkerPool

CASE = SpeechContext.from_case(
    names=["王建国", "刘芳"], places=["万达广场"], dispute_type="劳动争议",
    summary="商场销售部员工与商场就上半年业绩考核发生争议。各部门汇报上半年销售业绩。")


def chars(text: str) -> int:
    return len(text)


@pytest.mark.parametrize("spoken, written", [
    ("他欠我三千五百块钱", "他欠我3500元"),
    ("一共一万五千元", "一共15000元"),
    ("两万块", "20000元"),
    ("5000块钱", "5000元"),
    ("二零二四年三月五号还款", "2024年3月5日还款"),
    ("十二月三十一号之前", "12月31日之前"),
    ("百分之二十的利息", "20%的利息"),
    ("三点五元", "3.5元"),
    # Words that hold a numeral are left alone.
    ("我们一起去一下", "我们一起去一下"),
    ("一块儿去", "一块儿去"),
    ("拿了一块地", "拿了一块地"),
    ("三个人", "三个人"),
])
def test_amounts_and_dates_are_written_as_a_record_writes_them(spoken: str,
                                                                written: str) -> None:
    assert normalize(spoken) == written


def test_numerals_read_as_numbers() -> None:
    assert [chinese_to_number(t) for t in ("一万五", "三千零五", "十五", "两百五", "二零二四",
                                           "一百二十", "三千五百万")] == \
        [15000, 3005, 15, 250, 2024, 120, 35_000_000]
    assert chinese_to_number("你好") is None


def test_record_style_punctuates_a_final_and_leaves_other_languages_alone() -> None:
    assert record_style("好 首先说一下,刚才这个", "zh") == "好，首先说一下，刚才这个。"
    assert record_style("他借了两万块", "zh", final=False) == "他借了20000元"
    assert record_style("是吗?", "zh") == "是吗？"
    assert record_style("two thousand", "en") == "two thousand"


def test_the_prompt_is_bounded_and_names_come_first() -> None:
    for budget in (16, 40, 64, 200):
        prompt = build_prompt(CASE, "zh", chars, budget)
        assert len(prompt) <= budget
    prompt = build_prompt(CASE, "zh", chars, 64)
    assert "王建国" in prompt and "万达广场" in prompt
    big = build_prompt(CASE, "zh", chars, 400)
    assert "销售" in big and "劳动合同" in big
    assert build_prompt(CASE, "zh", chars, 5) == "", "not even the style sentence fits"


def test_neighbours_come_last_and_stay_within_the_budget() -> None:
    prompt = build_prompt(CASE, "zh", chars, 80, history=["前一句话", "刚才说的话"])
    assert prompt.endswith("前一句话刚才说的话") and len(prompt) <= 80
    assert history_prompt(["一二三四", "五六"], chars, 3) == "五六"
    assert history_prompt(["一二三四", "五六"], chars, 6) == "一二三四五六"


def test_case_words_are_put_back_by_their_sound() -> None:
    biaser = Biaser.for_context(CASE)
    assert biaser.correct("首先咱们上场上半年这个先歌舞们会报一下就是夜级") == \
        "首先咱们商场上半年这个先歌舞们汇报一下就是业绩"
    assert biaser.correct("他叫王建国吗") == "他叫王建国吗"
    assert biaser.correct("我们今天天气很好") == "我们今天天气很好", "no case word sounds like it"
    assert Biaser([]).correct("上场") == "上场"


def test_dispute_type_terms_come_from_the_type() -> None:
    assert "物业费" in SpeechContext.from_case(dispute_type="property_management").terms
    assert SpeechContext.from_case(dispute_type="其他").terms == ("其他",)
    assert SpeechContext().empty


def test_idle_work_waits_for_silence_and_for_urgent_work() -> None:
    speaking = threading.Event()
    speaking.set()
    order: list[str] = []
    release = threading.Event()

    def hold() -> None:
        release.wait()

    pool = WorkerPool(1, idle_gate=lambda: not speaking.is_set())
    try:
        pool.submit(FINAL, hold)  # the worker is busy
        pool.submit(IDLE, lambda: order.append("second pass"))
        pool.submit(PARTIAL, lambda: order.append("partial"))
        pool.submit(FINAL, lambda: order.append("final"))
        release.set()
        assert pool.wait_idle(10), "urgent work does not wait for idle work"
        assert order == ["final", "partial"], "idle work never runs while someone speaks"
        speaking.clear()
        assert pool.wait_idle(10, idle_jobs=True)
        assert order == ["final", "partial", "second pass"]
    finally:
        pool.close()
