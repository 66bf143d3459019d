"""Speaker turns from the joint transcript: what the prefilled record's statements are."""

from __future__ import annotations

from agreements.session_record import speaker_turns
from signaling.transcripts import SpokenLine


def line(pid: str, text: str, start: float, *, voice: str | None = None,
         language: str = "zh", name: str = "") -> SpokenLine:
    return SpokenLine(participant_id=pid, speaker_name=name or pid, speaker_role="party",
                      voice=voice, start=start, end=start + 2.0, text=text, language=language)


def test_consecutive_utterances_of_one_speaker_are_one_turn_from_first_start_to_last_end(
        ) -> None:
    turns = speaker_turns([line("a", "你好。", 1.0), line("a", "我说完了。", 4.0),
                           line("b", "好的。", 9.0), line("a", "还有一点。", 12.0)])
    assert [(t.speaker, t.text, t.start, t.end) for t in turns] == [
        ("a", "你好。我说完了。", 1.0, 6.0), ("b", "好的。", 9.0, 11.0),
        ("a", "还有一点。", 12.0, 14.0)]


def test_two_voices_of_one_shared_device_are_two_speakers_and_blank_lines_vanish() -> None:
    turns = speaker_turns([line("d", "one", 0.0, voice="1", language="en", name="Voice 1"),
                           line("d", "  ", 1.0, voice="1", language="en"),
                           line("d", "two", 2.0, voice="2", language="en", name="Voice 2"),
                           line("d", "three", 4.0, voice="2", language="en", name="Voice 2")])
    assert [(t.speaker, t.text) for t in turns] == [("Voice 1", "one"), ("Voice 2", "two three")]


def test_no_transcript_gives_no_statements() -> None:
    assert speaker_turns([]) == ()


def test_a_record_whose_recorder_is_not_seated_prints_the_name_and_is_signed_without_them(
        ) -> None:
    """The agreement's rule for the 记录人: the office's choice fills the line, and only a
    recorder seated in the room (a clerk) is a signer."""
    from agreements.context import build_context
    from agreements.demo import demo_record
    from agreements.draft import Draft, DraftId, utc_now
    from agreements.preview import render_preview
    from agreements.signature import required_signers

    seated = demo_record()
    assert [s.signer_id for s in required_signers(seated)][-2:] == ["mediator", "recorder"]
    chosen = seated.model_copy(update={"recorder": seated.mediator, "recorder_signs": False})
    assert "recorder" not in [s.signer_id for s in required_signers(chosen)]
    for language in ("zh-CN", "en"):
        context = build_context(chosen, language)
        assert context["recorder"] == {"name": "赵调解", "label": context["recorder"]["label"],
                                       "signs": False}
    draft = Draft(draft_id=DraftId("d"), case_number=chosen.case_number, kind="record",
                  language="zh-CN", template_ref="builtin", created_by="m", created_at=utc_now())
    html = render_preview(draft, 1, chosen)
    assert '<li data-signer="recorder">记录人：赵调解</li>' in html
    assert '<li data-signer="recorder">' in render_preview(draft, 1, seated)
