"""The 口头调解协议登记表 (人民调解法 art. 28): a kind of its own, drafted like the others,
rendered from its built-in zh-CN template to DOCX and PDF."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from pydantic import ValidationError

from agreements import LibreOfficeConverter, builtin_template, mask_id_number, render
from agreements.demo import demo_oral_register
from agreements.models import OralRegisterData
from agreements.preview import render_preview
from agreements.template import validate_template

from .conftest import Room, docx_text, needs_soffice


def test_the_register_needs_two_parties_what_they_agreed_and_the_dispute() -> None:
    data = demo_oral_register().model_dump(mode="json")
    for field, value in (("parties", data["parties"][:1]), ("agreement_content", ""),
                         ("dispute_summary", "")):
        with pytest.raises(ValidationError):
            OralRegisterData.model_validate({**data, field: value})


def test_the_builtin_templates_pass_the_office_template_check() -> None:
    for language in ("zh-CN", "en"):
        validate_template(builtin_template("oral_register", language), "oral_register")


def test_a_register_is_drafted_and_signed_by_the_parties_and_the_mediator(room: Room) -> None:
    data = demo_oral_register()
    version = room.drafts.create(case_number=data.case_number, kind="oral_register",
                                 data=data, author="mediator")
    assert "口头调解协议登记表" in room.drafts.preview(version.draft_id)
    ceremony = room.signing.open(version.draft_id)
    assert [s.signer_id for s in ceremony.signers] == ["P1", "P2", "mediator"]
    assert room.sign_all(version, ceremony).status == "complete"


@needs_soffice
@pytest.mark.slow
def test_the_register_renders_to_docx_and_pdf_with_every_field(tmp_path: Path) -> None:
    data = demo_oral_register()
    docx = render(builtin_template("oral_register", "zh-CN"), data, language="zh-CN")
    pdf = LibreOfficeConverter(profile_root=tmp_path / "lo").convert(docx)
    path = tmp_path / "register.pdf"
    path.write_bytes(pdf)
    text = re.sub(r"\s+", "", subprocess.run(["pdftotext", str(path), "-"], check=True,
                                              capture_output=True, text=True,
                                              timeout=60).stdout)
    expected = ["口头调解协议登记表", data.case_number, "邻里纠纷", "纠纷简要情况",
                data.dispute_summary, "口头协议内容", data.agreement_content, "履行情况",
                data.performance, "调解员：赵调解", data.committee, "登记日期：2026年11月26日"]
    expected += [p.name for p in data.parties] + [mask_id_number(p.id_number)
                                                  for p in data.parties if p.id_number]
    for value in expected:
        assert re.sub(r"\s+", "", value) in text, value
    for p in data.parties:
        if p.id_number and len(p.id_number) > 8:
            assert p.id_number not in text  # printed masked
    assert "登记人" not in text  # no recorder given: no empty label
    assert "口头协议内容" in docx_text(docx)


def test_the_preview_says_what_the_register_prints() -> None:
    from agreements.draft import Draft, DraftId, utc_now

    data = demo_oral_register().model_copy(update={"performance": ""})
    draft = Draft(draft_id=DraftId("x"), case_number=data.case_number, kind="oral_register",
                  language="zh-CN", template_ref="t", created_by="m", created_at=utc_now())
    html = render_preview(draft, 1, data)
    assert data.agreement_content in html and "尚未履行" in html
