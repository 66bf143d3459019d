"""Drafts: every change a new immutable version, comments, the live preview."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from agreements import (
    AgreementData,
    DraftNotFound,
    DraftService,
    InMemoryDraftStore,
    Matter,
    VersionConflict,
)
from agreements.demo import demo_agreement, demo_record

from .conftest import Room


def test_creating_a_draft_stores_version_one_with_author_time_and_digest(room: Room) -> None:
    version = room.drafts.create(
        case_number="C-1", kind="agreement", data=demo_agreement(), author="mediator-1"
    )
    assert version.number == 1
    assert version.author == "mediator-1"
    assert version.created_at == room.clock.now
    assert version.changes == ("created",)
    assert len(version.digest) == 64
    draft = room.store.get_draft(version.draft_id)
    assert draft.template_ref == "builtin:agreement:zh-CN"


def test_each_edit_is_a_new_version_and_old_versions_are_unchanged(room: Room) -> None:
    v1 = room.drafts.create(case_number="C-1", kind="agreement", data=demo_agreement(), author="m")
    data = demo_agreement()
    clauses = list(data.clauses)
    clauses[0] = clauses[0].model_copy(update={"amount": Decimal("15000.00")})
    room.clock.advance(minutes=3)
    v2 = room.drafts.edit(v1.draft_id, data.model_copy(update={"clauses": tuple(clauses)}), "m", 1)
    assert v2.number == 2
    assert v2.created_at > v1.created_at
    assert v2.changes == ("clauses[1].amount: 12000.00 → 15000.00",)
    assert v2.digest != v1.digest
    stored = room.store.get_version(v1.draft_id, 1).data
    assert isinstance(stored, AgreementData)
    assert stored.clauses[0].amount == Decimal("12000.00")
    assert [v.number for v in room.store.list_versions(v1.draft_id)] == [1, 2]
    with pytest.raises(dataclasses.FrozenInstanceError):
        v1.number = 5  # type: ignore[misc]
    with pytest.raises(ValueError):
        stored.facts = "rewritten"


def test_change_summary_names_added_and_removed_entries(room: Room) -> None:
    v1 = room.drafts.create(case_number="C-1", kind="agreement", data=demo_agreement(), author="m")
    data = demo_agreement()
    edited = data.model_copy(
        update={"clauses": data.clauses[:1], "disputed_points": (*data.disputed_points, "利息")}
    )
    v2 = room.drafts.edit(v1.draft_id, edited, "m", 1)
    assert "clauses[2] removed" in v2.changes
    assert "disputed_points[3] added" in v2.changes


def test_an_edit_on_a_stale_version_is_a_retryable_conflict(room: Room) -> None:
    v1 = room.drafts.create(case_number="C-1", kind="agreement", data=demo_agreement(), author="m")
    room.drafts.edit(v1.draft_id, demo_agreement(Matter.tort), "m", 1)
    with pytest.raises(VersionConflict) as caught:
        room.drafts.edit(v1.draft_id, demo_agreement(Matter.debt), "other", 1)
    assert caught.value.retryable is True
    assert room.store.latest_version(v1.draft_id).number == 2


def test_participants_comment_on_a_given_version(room: Room) -> None:
    v1 = room.drafts.create(case_number="C-1", kind="agreement", data=demo_agreement(), author="m")
    room.drafts.edit(v1.draft_id, demo_agreement(Matter.tort), "m", 1)
    room.drafts.comment(v1.draft_id, 1, "party-P1", "金额太低")
    room.drafts.comment(v1.draft_id, 2, "party-P2", "同意")
    assert [c.text for c in room.store.list_comments(v1.draft_id)] == ["金额太低", "同意"]
    only_v2 = room.store.list_comments(v1.draft_id, version=2)
    assert [(c.author, c.version) for c in only_v2] == [("party-P2", 2)]
    with pytest.raises(DraftNotFound):
        room.drafts.comment(v1.draft_id, 7, "party-P1", "no such version")
    with pytest.raises(ValueError):
        room.drafts.comment(v1.draft_id, 1, "party-P1", "   ")


def test_the_preview_is_escaped_html_of_the_requested_version(room: Room) -> None:
    data = demo_agreement().model_copy(update={"facts": "<script>alert(1)</script>"})
    v1 = room.drafts.create(case_number="C-1", kind="agreement", data=data, author="m")
    html = room.drafts.preview(v1.draft_id)
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "3101**********0013" in html and "310105196803140013" not in html
    assert "人民币12,000.00元" in html
    assert "版本 1" in html


def test_the_record_preview_lists_where_each_participant_joined_from(room: Room) -> None:
    v1 = room.drafts.create(
        case_number="C-1", kind="record", data=demo_record(), author="m", language="en"
    )
    html = room.drafts.preview(v1.draft_id)
    assert "joined from 家中（长宁区）" in html
    assert "孙专家 (物业专家), joined from 专家工作室" in html


@pytest.mark.parametrize("matter", [Matter.marriage, Matter.adoption, Matter.inheritance])
def test_marriage_adoption_and_inheritance_are_flagged_for_wet_ink(
    room: Room, matter: Matter
) -> None:
    version = room.drafts.create(
        case_number="C-1", kind="agreement", data=demo_agreement(matter), author="m"
    )
    assert version.esign_applies is False
    assert "不适用电子签名" in room.drafts.preview(version.draft_id)


def test_a_draft_of_one_kind_refuses_data_of_the_other() -> None:
    drafts = DraftService(InMemoryDraftStore())
    with pytest.raises(TypeError):
        drafts.create(case_number="C-1", kind="record", data=demo_agreement(), author="m")


def test_unknown_drafts_are_not_found() -> None:
    store = InMemoryDraftStore()
    with pytest.raises(DraftNotFound) as caught:
        store.latest_version("nope")  # type: ignore[arg-type]
    assert caught.value.code == "draft_not_found"
