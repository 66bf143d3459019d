"""Checking uploaded templates before any session depends on them."""

from __future__ import annotations

import io
import zipfile

import pytest

from agreements import (
    DocumentKind,
    Language,
    TemplateRejected,
    TemplateUnsafe,
    builtin_template,
    validate_template,
)
from agreements.template import MAX_TEMPLATE_BYTES

from .conftest import make_docx


def problems(
    content: bytes, kind: DocumentKind = "agreement", content_type: str | None = None
) -> list[tuple[str, str, str]]:
    with pytest.raises(TemplateRejected) as caught:
        validate_template(content, kind, content_type)
    return [(p.code, p.message, p.where) for p in caught.value.problems]


@pytest.mark.parametrize("kind", ["agreement", "record"])
@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_built_in_templates_pass_validation(kind: DocumentKind, language: Language) -> None:
    content = builtin_template(kind, language)
    assert validate_template(content, kind).content == content


def test_every_undefined_field_is_listed_with_where_it_is_used() -> None:
    content = make_docx(
        "{{ case_number }} {{ casenumber }}",
        "{%p for p in parties %}",
        "{{ p.nmae }}",
        "{%p endfor %}",
        "{{ committee }} {{ seal_image }}",
    )
    found = problems(content)
    assert [code for code, _, _ in found] == ["undefined_field"] * 3
    assert [where for _, _, where in found] == [
        "{{ case_number }} {{ casenumber }}",
        "{{ p.nmae }}",
        "{{ committee }} {{ seal_image }}",
    ]
    assert "'casenumber' is not a field of the agreement" in found[0][1]


def test_a_field_of_the_record_is_undefined_in_an_agreement_template() -> None:
    content = make_docx("{{ room }}")
    assert problems(content, "agreement")[0][0] == "undefined_field"
    assert validate_template(content, "record").kind == "record"


def test_broken_jinja_is_refused_with_each_broken_paragraph() -> None:
    found = problems(make_docx("{{ case_number }", "{{ a + }}", "fine {{ committee }}"))
    assert {code for code, _, _ in found} == {"syntax_error"}
    wheres = {where for _, _, where in found}
    assert "{{ case_number }" in wheres
    assert "{{ a + }}" in wheres
    assert not any("fine" in w and "case_number" not in w for w in wheres)


def test_an_unclosed_block_is_a_syntax_error() -> None:
    assert problems(make_docx("{% if case_number %}", "text"))[0][0] == "syntax_error"


@pytest.mark.parametrize(
    "expression",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ case_number.__class__.__base__.__subclasses__() }}",
        "{% if false %}{{ parties.__init__.__globals__ }}{% endif %}",
        "{{ parties['__class__'] }}",
        "{{ cycler.__init__.__globals__.os }}",
    ],
)
def test_a_template_reaching_for_python_internals_is_refused_as_unsafe(expression: str) -> None:
    with pytest.raises(TemplateUnsafe) as caught:
        validate_template(make_docx("{{ case_number }}", expression), "agreement")
    assert caught.value.code == "template_unsafe"
    assert all(p.code == "unsafe_access" for p in caught.value.problems)
    assert "Python internals" in caught.value.problems[0].message


def test_including_other_templates_is_refused() -> None:
    with pytest.raises(TemplateUnsafe):
        validate_template(make_docx("{% include 'x.html' %}"), "agreement")


def test_a_file_that_is_not_a_zip_is_not_a_docx() -> None:
    assert problems(b"%PDF-1.7 not a docx")[0][0] == "not_docx"


def test_a_zip_without_word_document_xml_is_not_a_docx() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("content.xml", "<office/>")
    assert problems(buffer.getvalue())[0][:2] == ("not_docx", "the zip has no word/document.xml")


def test_a_declared_content_type_other_than_docx_is_refused() -> None:
    found = problems(builtin_template("agreement", "zh-CN"), content_type="application/pdf")
    assert found[0][0] == "not_docx"
    ok = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    validate_template(builtin_template("agreement", "zh-CN"), "agreement", ok)


def test_an_oversized_upload_is_refused_before_it_is_parsed() -> None:
    found = problems(b"PK" + b"\0" * MAX_TEMPLATE_BYTES)
    assert found == [("too_large", found[0][1], "")]


def test_the_refusal_serialises_for_the_edges() -> None:
    with pytest.raises(TemplateRejected) as caught:
        validate_template(make_docx("{{ nope }}"), "agreement")
    payload = caught.value.to_dict()
    assert payload["code"] == "template_rejected"
    assert payload["retryable"] is False
    assert payload["problems"] == [
        {
            "code": "undefined_field",
            "message": "'nope' is not a field of the agreement",
            "where": "{{ nope }}",
        }
    ]


@pytest.mark.parametrize(
    "expression", ["{{ 'x' * 10**8 }}", "{{ [1] * 100000 }}", "{{ 9 ** 999999 }}"]
)
def test_a_template_that_would_exhaust_memory_is_refused(expression: str) -> None:
    with pytest.raises(TemplateUnsafe):
        validate_template(make_docx(expression), "agreement")


def test_modest_arithmetic_in_a_template_still_works() -> None:
    validate_template(make_docx("{{ '-' * 20 }} {{ copies * 2 }} {{ 2 ** 10 }}"), "agreement")


def test_a_template_whose_expression_raises_is_refused_with_the_error() -> None:
    found = problems(make_docx("{{ copies / 0 }}"))
    assert found[0][0] == "render_error"
    assert "ZeroDivisionError" in found[0][1]
