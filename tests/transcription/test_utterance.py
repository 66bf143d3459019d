"""Caption payloads and caucus privacy."""

from __future__ import annotations

from dataclasses import FrozenInstanceError

import pytest

from media.tap import Speaker
from transcription.utterance import Caption, audience, in_joint_record

ALICE = Speaker("p-alice", "Alice", "party")


def caption(caucus: str | None = None, final: bool = True) -> Caption:
    return Caption("u1", "s1", ALICE, caucus, 1.0, 2.5, "hello", final, "base", 0.9, "en")


def test_the_event_payload_has_exactly_the_signaling_fields() -> None:
    assert caption("c1").to_event() == {
        "utterance_id": "u1",
        "speaker": {"participant_id": "p-alice", "name": "Alice", "role": "party"},
        "caucus": "c1", "start": 1.0, "end": 2.5, "text": "hello", "final": True,
        "heard_at": None}


def test_a_record_round_trips() -> None:
    c = caption("c1")
    assert Caption.from_record(c.to_record()) == c


def test_captions_are_immutable() -> None:
    with pytest.raises(FrozenInstanceError):
        caption().text = "changed"  # type: ignore[misc]


ROOM = {"p-alice": "c1", "p-alice-lawyer": "c1", "p-bob": "c2", "p-expert": None}


def test_a_caucus_caption_reaches_only_its_caucus_and_the_mediator() -> None:
    assert audience(caption("c1"), ROOM, ["p-mediator"]) == {
        "p-alice", "p-alice-lawyer", "p-mediator"}


def test_the_other_side_never_receives_a_caucus_caption() -> None:
    assert "p-bob" not in audience(caption("c1"), ROOM, ["p-mediator"])


def test_a_caption_from_an_unknown_caucus_goes_to_the_mediator_alone() -> None:
    assert audience(caption("c9"), ROOM, ["p-mediator"]) == {"p-mediator"}


def test_a_joint_session_caption_reaches_everyone() -> None:
    assert audience(caption(None), ROOM, ["p-mediator"]) == set(ROOM) | {"p-mediator"}


def test_caucus_utterances_stay_out_of_the_joint_record() -> None:
    assert in_joint_record(caption(None))
    assert not in_joint_record(caption("c1"))
    assert not in_joint_record(caption(None, final=False))
