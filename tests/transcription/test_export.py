"""Transcript exports."""

from __future__ import annotations

import json

from media.tap import Speaker
from transcription.export import to_json, to_srt, to_text, to_webvtt
from transcription.utterance import Caption

A = Speaker("pa", "王芳", "party")
B = Speaker("pb", "Li <Lei>", "mediator")
UTTS = [
    Caption("u2", "s", B, None, 65.25, 3661.5, "second\n\nline", True, "base", 0.8, "zh"),
    Caption("u1", "s", A, None, 1.0, 2.004, "我们开始吧", True, "base", 0.9, "zh"),
    Caption("u3", "s", A, None, 70.0, 71.0, "partial", False, "base", 0.5, "zh"),
]


def test_text_lists_final_utterances_in_time_order_with_names() -> None:
    assert to_text(UTTS) == "[00:00:01] 王芳: 我们开始吧\n[00:01:05] Li <Lei>: second line\n"


def test_srt_numbers_cues_and_uses_comma_milliseconds() -> None:
    assert to_srt(UTTS) == ("1\n00:00:01,000 --> 00:00:02,004\n王芳: 我们开始吧\n\n"
                            "2\n00:01:05,250 --> 01:01:01,500\nLi <Lei>: second line\n")


def test_webvtt_has_a_header_voice_spans_and_escapes_markup() -> None:
    vtt = to_webvtt(UTTS)
    assert vtt.startswith("WEBVTT\n\n")
    assert "00:00:01.000 --> 00:00:02.004\n<v 王芳>我们开始吧\n" in vtt
    assert "<v Li &lt;Lei&gt;>second line" in vtt
    assert "partial" not in vtt


def test_json_keeps_every_stored_field() -> None:
    data = json.loads(to_json(UTTS))
    assert [d["utterance_id"] for d in data] == ["u1", "u2"]
    assert data[0]["model"] == "base" and data[0]["speaker"]["name"] == "王芳"


def test_an_empty_transcript_exports_cleanly() -> None:
    assert to_text([]) == "" and to_srt([]) == "" and to_webvtt([]) == "WEBVTT\n\n"
    assert json.loads(to_json([])) == []
