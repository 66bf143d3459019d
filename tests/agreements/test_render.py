"""Rendering the built-in templates with docxtpl: every field, both languages."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from docx import Document

from agreements import (
    AgreementData,
    Language,
    RecordData,
    RenderFailed,
    TemplateUnsafe,
    builtin_template,
    mask_id_number,
    render,
    statements_from_transcript,
)
from agreements.demo import demo_agreement, demo_record
from agreements.images import make_png
from agreements.models import Clause, PartyDetails

from .conftest import docx_text, make_docx

LANGUAGES = ["zh-CN", "en"]


def agreement_values(data: AgreementData) -> list[str]:
    values = [data.case_number, data.committee, data.facts, data.responsibility]
    values += list(data.disputed_points) + list(data.other_terms)
    for p in data.parties:
        values += [p.name, p.address, p.phone or "", mask_id_number(p.id_number)]
        values += [p.legal_representative or "", p.agent or "", p.occupation or ""]
        values += [a.name for a in p.agents] + [a.phone or "" for a in p.agents]
    for c in data.clauses:
        values += [c.obligation, c.method, c.place]
    values += [data.mediator.name, data.recorder.name if data.recorder else ""]
    return [v for v in values if v]


@pytest.mark.parametrize("language", LANGUAGES)
def test_agreement_carries_every_field_the_issue_lists(language: Language) -> None:
    data = demo_agreement()
    text = docx_text(render(builtin_template("agreement", language), data, language=language))
    for value in agreement_values(data):
        assert value in text, value
    if language == "zh-CN":
        assert "人民币12,000.00元" in text
        assert "2026年12月31日前" in text
        assert "本协议一式3份" in text  # two parties + the committee
        assert "30日内共同向人民法院申请司法确认" in text
        assert "法定代表人：李四" in text
        for label in ("申请人（签名、盖章或按指印）", "被申请人（签名、盖章或按指印）"):
            assert label in text
        # The recorder is printed; art. 29 does not ask for their signature.
        for label in ("调解员（签名）：赵调解", "记录人：钱记录", "（印章）"):
            assert label in text
        assert "记录人（签名）" not in text
        assert "纠纷类型：物业纠纷" in text
        assert "委托代理人：王五，律师，特别授权，联系方式：13800000002" in text
        assert "2026年11月25日" in text
    else:
        assert "CNY 12,000.00" in text
        assert "31 December 2026" in text
        assert "made in 3 copies" in text
        assert "within 30 days" in text
        assert "judicial confirmation" in text
        assert "Applicant (signature, seal or fingerprint)" in text
        assert "Mediator (signature): 赵调解" in text
        assert "Recorder: 钱记录" in text and "Recorder (signature)" not in text
        assert "Matter: property management dispute" in text
        assert "(seal)" in text


# A label whose value is missing: "性别：，" or "履行方式：；" (headings may end in "：").
EMPTY_LABEL = re.compile(r"[：:][ \t]*[，,；;。]")


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_party_with_only_a_name_leaves_no_empty_label_in_the_document(
        language: Language) -> None:
    bare = demo_agreement().model_copy(update={"parties": (
        PartyDetails(party_id="P1", name="张三"),
        PartyDetails(party_id="P2", role="respondent", kind="organisation",
                     name="某公司", legal_representative="李四"),
    ), "clauses": (Clause(obligor="P2", obligee="P1", obligation="道歉",
                          deadline=date(2026, 12, 1)),),
        "responsibility": "", "disputed_points": (), "recorder": None})
    text = docx_text(render(builtin_template("agreement", language), bare, language=language))
    body = text.split("签名：" if language == "zh-CN" else "Signatures:")[0]
    assert not EMPTY_LABEL.search(body), EMPTY_LABEL.findall(body)
    for word in ("性别", "民族", "出生", "住址", "联系方式", "履行方式", "履行地点",
                 "各方当事人的责任", "记录人", "Recorder", "sex:", "contact", "Method", "place:"):
        assert word not in text, word
    assert ("张三" in text and "某公司" in text and "法定代表人：李四" in text
            if language == "zh-CN" else "Legal representative: 李四" in text)


@pytest.mark.parametrize("language", LANGUAGES)
def test_record_carries_time_place_participants_statements_evidence_and_outcome(
    language: Language,
) -> None:
    data = demo_record()
    text = docx_text(render(builtin_template("record", language), data, language=language))
    expected = [data.case_number, data.subject, data.room, data.outcome]
    expected += [p.name for p in data.parties] + list(data.joined_from.values())
    expected += [f"{p.name}" for p in data.participants] + [
        p.joined_from for p in data.participants
    ]
    expected += [s.text for s in data.statements] + [e.description for e in data.evidence]
    expected += [data.mediator.name, data.recorder.name]
    for value in expected:
        assert value in text, value
    if language == "zh-CN":
        assert "09:30 至 2026年11月25日 10:45" in text
        assert "当事人在人民调解活动中享有下列权利" in text
        assert "以上记录已向当事人宣读" in text
        assert "记录人（签名）" in text
    else:
        assert "09:30 to 25 November 2026, 10:45" in text
        assert "Notice of rights and duties" in text
        assert "read back to the parties" in text


def test_id_numbers_are_masked_unless_the_template_asks_for_the_full_one() -> None:
    data = demo_agreement()
    full = data.parties[0].id_number
    assert full is not None
    masked_text = docx_text(render(builtin_template("agreement", "zh-CN"), data))
    assert full not in masked_text
    assert "3101**********0013" in masked_text

    template = make_docx(
        "{%p for p in parties %}", "{{ p.name }} {{ p.id_number_full }}", "{%p endfor %}"
    )
    assert f"张三 {full}" in docx_text(render(template, data))


def test_mask_keeps_region_and_last_four_only() -> None:
    assert mask_id_number("310105196803140013") == "3101**********0013"
    assert mask_id_number("12345") == "1****"
    assert mask_id_number(None) == ""


def test_markup_in_party_text_is_escaped_not_interpreted() -> None:
    data = demo_agreement().model_copy(update={"facts": 'A <w:p> & "B" </w:t>'})
    text = docx_text(render(builtin_template("agreement", "en"), data, language="en"))
    assert 'A <w:p> & "B" </w:t>' in text


def test_drawn_signatures_land_in_their_blocks_as_images() -> None:
    png = make_png(200, 60)
    out = render(
        builtin_template("record", "zh-CN"),
        demo_record(),
        signature_images={"P1": png, "mediator": png},
        signature_text={"recorder": "钱记录"},
    )
    document = Document(io.BytesIO(out))
    assert len(document.inline_shapes) == 2
    assert "记录人（签名）：钱记录 钱记录" in docx_text(out)


def test_a_template_naming_an_unknown_field_fails_to_render() -> None:
    with pytest.raises(RenderFailed) as caught:
        render(make_docx("{{ no_such_field }}"), demo_agreement())
    assert caught.value.code == "render_failed"


def test_rendering_refuses_to_reach_python_internals() -> None:
    with pytest.raises(TemplateUnsafe):
        render(make_docx("{{ case_number.__class__.__mro__ }}"), demo_agreement())


def test_a_non_docx_template_is_a_render_error() -> None:
    with pytest.raises(RenderFailed):
        render(b"not a zip", demo_record())


def test_models_refuse_clauses_about_unknown_parties() -> None:
    data = demo_agreement().model_dump()
    data["clauses"][0]["obligor"] = "P9"
    with pytest.raises(ValueError, match="unknown party_id 'P9'"):
        AgreementData.model_validate(data)


def test_an_organisation_needs_a_legal_representative() -> None:
    data = demo_record().model_dump()
    data["parties"][1]["legal_representative"] = None
    with pytest.raises(ValueError, match="legal_representative"):
        RecordData.model_validate(data)


def test_transcript_lines_become_one_statement_per_turn() -> None:
    lines = [
        ("张三", "楼上漏水。"),
        ("张三", "两个星期了。"),
        ("王五", " "),
        ("王五", "同意维修。"),
    ]
    statements = statements_from_transcript(lines)
    assert [(s.speaker, s.text) for s in statements] == [
        ("张三", "楼上漏水。 两个星期了。"),
        ("王五", "同意维修。"),
    ]


def test_an_expression_that_raises_is_a_render_error() -> None:
    with pytest.raises(RenderFailed, match="ZeroDivisionError"):
        render(make_docx("{{ copies / 0 }}"), demo_agreement())
