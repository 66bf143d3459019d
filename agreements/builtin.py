"""The built-in templates, generated as DOCX with python-docx on first use.

We commit this generator, not the .docx files: a binary in git cannot be
reviewed line by line, and python-docx writes zip timestamps, so a committed
copy would drift from its source anyway. The text below *is* the template;
``builtin_template()`` builds the DOCX in memory once per process, and
``write_builtin_templates()`` writes copies an office can start its own from.

The wording follows the Ministry of Justice formats (人民调解文书格式) for the
人民调解协议书 and the 人民调解记录. A line is (style, text); docxtpl's
paragraph tags (``{%p ... %}``) stand alone on their own line.
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt

from .models import DocumentKind, Language

Line = tuple[str, str]

# Fonts that LibreOffice finds on the server (fonts-noto-cjk); Word on a
# clerk's PC substitutes its own CJK serif if these are missing.
LATIN_FONT = "Liberation Serif"
CJK_FONT = "Noto Serif CJK SC"

_AGREEMENT_ZH: list[Line] = [
    ("title", "人民调解协议书"),
    ("right", "编号：{{ case_number }}"),
    ("p", "纠纷类型：{{ matter_label }}"),
    # A line lists only what was given: an empty field never leaves a bare label.
    ("p", "{%p for p in parties %}"),
    ("p", "{{ p.role_label }}：{{ p.name }}{% if p.details %}，{{ p.details }}{% endif %}"),
    ("p", "{%p if p.is_organisation and p.representative %}"),
    ("p", "法定代表人：{{ p.representative }}"),
    ("p", "{%p endif %}"),
    ("p", "{%p for a in p.agents %}"),
    ("p", "{{ a.line }}"),
    ("p", "{%p endfor %}"),
    ("p", "{%p endfor %}"),
    ("h", "纠纷的主要事实、争议事项："),
    ("p", "{{ facts }}"),
    ("p", "{%p for d in disputed_points %}"),
    ("p", "争议事项{{ loop.index }}：{{ d }}"),
    ("p", "{%p endfor %}"),
    ("p", "{%p if responsibility %}"),
    ("h", "各方当事人的责任："),
    ("p", "{{ responsibility }}"),
    ("p", "{%p endif %}"),
    ("h", "经调解，各方当事人自愿达成如下协议："),
    ("p", "{%p for c in clauses %}"),
    (
        "p",
        (
            "{{ c.number }}. {{ c.obligor }}向{{ c.obligee }}{{ c.obligation }}"
            "{% if c.amount %}{{ c.amount }}{% endif %}。{{ c.terms }}。"
        ),
    ),
    ("p", "{%p endfor %}"),
    ("p", "{%p for t in other_terms %}"),
    ("p", "{{ loop.index + clauses|length }}. {{ t }}"),
    ("p", "{%p endfor %}"),
    ("p", "本协议一式{{ copies }}份，当事人各执一份，人民调解委员会留存一份。"),
    (
        "p",
        "本协议自各方当事人签名、盖章或者按指印，人民调解员签名并加盖人民调解委员会印章之日起生效。",
    ),
    (
        "p",
        (
            "当事人认为有必要的，可以自本协议生效之日起{{ confirmation_days }}日内"
            "共同向人民法院申请司法确认。"
        ),
    ),
    ("h", "签名："),
    ("p", "{%p for s in signers %}"),
    (
        "p",
        (
            "{{ s.label }}{% if s.is_party %}（签名、盖章或按指印）{% else %}（签名）{% endif %}："
            "{{ s.name }}{% if s.by %} {{ s.by }}{% endif %} {{ s.mark }} {{ s.signed_at }}"
        ),
    ),
    ("p", "{%p endfor %}"),
    ("p", "{%p if recorder.name %}"),
    ("p", "记录人：{{ recorder.name }}"),
    ("p", "{%p endif %}"),
    ("right", "{{ committee }}（印章）"),
    ("right", "{{ signed_on }}"),
]

_AGREEMENT_EN: list[Line] = [
    ("title", "People's Mediation Agreement"),
    ("right", "No. {{ case_number }}"),
    ("p", "Matter: {{ matter_label }}"),
    ("p", "{%p for p in parties %}"),
    ("p", "{{ p.role_label }}: {{ p.name }}{% if p.details %}, {{ p.details }}{% endif %}"),
    ("p", "{%p if p.is_organisation and p.representative %}"),
    ("p", "Legal representative: {{ p.representative }}"),
    ("p", "{%p endif %}"),
    ("p", "{%p for a in p.agents %}"),
    ("p", "{{ a.line }}"),
    ("p", "{%p endfor %}"),
    ("p", "{%p endfor %}"),
    ("h", "Main facts of the dispute and the matters in dispute:"),
    ("p", "{{ facts }}"),
    ("p", "{%p for d in disputed_points %}"),
    ("p", "Disputed point {{ loop.index }}: {{ d }}"),
    ("p", "{%p endfor %}"),
    ("p", "{%p if responsibility %}"),
    ("h", "Responsibility of each party:"),
    ("p", "{{ responsibility }}"),
    ("p", "{%p endif %}"),
    ("h", "Through mediation the parties have voluntarily agreed as follows:"),
    ("p", "{%p for c in clauses %}"),
    (
        "p",
        (
            "{{ c.number }}. {{ c.obligor }} owes {{ c.obligee }}: {{ c.obligation }}"
            "{% if c.amount %}, {{ c.amount }}{% endif %}. {{ c.terms }}."
        ),
    ),
    ("p", "{%p endfor %}"),
    ("p", "{%p for t in other_terms %}"),
    ("p", "{{ loop.index + clauses|length }}. {{ t }}"),
    ("p", "{%p endfor %}"),
    (
        "p",
        (
            "This agreement is made in {{ copies }} copies: one for each party and one "
            "kept by the people's mediation committee."
        ),
    ),
    (
        "p",
        (
            "It takes effect when every party has signed, sealed or fingerprinted it, the "
            "mediator has signed it and the committee's seal is affixed."
        ),
    ),
    (
        "p",
        (
            "The parties may, within {{ confirmation_days }} days of its taking effect, jointly "
            "apply to a people's court for judicial confirmation."
        ),
    ),
    ("h", "Signatures:"),
    ("p", "{%p for s in signers %}"),
    (
        "p",
        (
            "{{ s.label }}{% if s.is_party %} (signature, seal or fingerprint){% else %}"
            " (signature){% endif %}: {{ s.name }}{% if s.by %} {{ s.by }}{% endif %}"
            " {{ s.mark }} {{ s.signed_at }}"
        ),
    ),
    ("p", "{%p endfor %}"),
    ("p", "{%p if recorder.name %}"),
    ("p", "Recorder: {{ recorder.name }}"),
    ("p", "{%p endif %}"),
    ("right", "{{ committee }} (seal)"),
    ("right", "{{ signed_on }}"),
]

_RECORD_ZH: list[Line] = [
    ("title", "人民调解记录"),
    ("right", "编号：{{ case_number }}"),
    ("p", "时间：{{ started_at }}{% if ended_at %} 至 {{ ended_at }}{% endif %}"),
    ("p", "地点：{% if place %}{{ place }}{% else %}线上调解室 {{ room }}{% endif %}"),
    ("p", "事由：{{ subject }}"),
    ("h", "当事人："),
    ("p", "{%p for p in parties %}"),
    (
        "p",
        (
            # A record prefilled from the session may know only a party's name: no label
            # is printed without its value.
            "{{ p.role_label }}：{{ p.name }}{% if p.sex %}，{{ p.sex }}{% endif %}"
            "{% if p.id_number %}，{{ p.id_label }}：{{ p.id_number }}{% endif %}"
            "{% if p.address %}，{% if p.is_organisation %}住所地{% else %}住址{% endif %}："
            "{{ p.address }}{% endif %}"
            "{% if p.joined_from %}，参加地点：{{ p.joined_from }}{% endif %}"
        ),
    ),
    ("p", "{%p endfor %}"),
    ("h", "其他参加人："),
    ("p", "{%p for p in participants %}"),
    ("p", "{{ p.name }}（{{ p.role }}）{% if p.joined_from %}，参加地点：{{ p.joined_from }}"
          "{% endif %}"),
    ("p", "{%p endfor %}"),
    ("p", "调解员：{{ mediator.name }}    记录人：{{ recorder.name }}"),
    ("h", "告知事项："),
    (
        "p",
        (
            "当事人在人民调解活动中享有下列权利：选择或者接受人民调解员；接受调解、拒绝调解或者"
            "要求终止调解；要求调解公开进行或者不公开进行；自主表达意愿、自愿达成调解协议。"
        ),
    ),
    (
        "p",
        (
            "当事人在人民调解活动中履行下列义务：如实陈述纠纷事实；遵守调解现场秩序，尊重人民"
            "调解员；尊重对方当事人行使权利。"
        ),
    ),
    ("p", "{% if rights_notified %}当事人表示已知悉上述权利义务。{% else %}未告知。{% endif %}"),
    ("h", "调解情况："),
    ("p", "{%p for s in statements %}"),
    ("p", "{{ s.speaker }}{% if s.time %}（{{ s.time }}）{% endif %}：{{ s.text }}"),
    ("p", "{%p endfor %}"),
    ("h", "出示的证据："),
    ("p", "{%p for e in evidence %}"),
    ("p", "{{ loop.index }}. {{ e.submitted_by }}：{{ e.description }}"),
    ("p", "{%p endfor %}"),
    ("h", "调解结果："),
    ("p", "{% if outcome_reached %}达成协议。{% else %}未达成协议。{% endif %}{{ outcome }}"),
    ("p", "以上记录已向当事人宣读，当事人确认无误。"),
    ("p", "{%p for s in signers %}"),
    ("p", "{{ s.label }}（签名）：{{ s.name }}{% if s.by %} {{ s.by }}{% endif %} {{ s.mark }} "
          "{{ s.signed_at }}"),
    ("p", "{%p endfor %}"),
    ("right", "{{ committee }}"),
    ("right", "{{ signed_on }}"),
]

_RECORD_EN: list[Line] = [
    ("title", "People's Mediation Record"),
    ("right", "No. {{ case_number }}"),
    ("p", "Time: {{ started_at }}{% if ended_at %} to {{ ended_at }}{% endif %}"),
    ("p", "Place: {% if place %}{{ place }}{% else %}online mediation room {{ room }}{% endif %}"),
    ("p", "Matter: {{ subject }}"),
    ("h", "Parties:"),
    ("p", "{%p for p in parties %}"),
    (
        "p",
        (
            "{{ p.role_label }}: {{ p.name }}{% if p.sex %}, {{ p.sex }}{% endif %}"
            "{% if p.id_number %}, {{ p.id_label }}: {{ p.id_number }}{% endif %}"
            "{% if p.address %}, address: {{ p.address }}{% endif %}"
            "{% if p.joined_from %}, joined from: {{ p.joined_from }}{% endif %}"
        ),
    ),
    ("p", "{%p endfor %}"),
    ("h", "Other participants:"),
    ("p", "{%p for p in participants %}"),
    ("p", "{{ p.name }} ({{ p.role }}){% if p.joined_from %}, joined from: {{ p.joined_from }}"
          "{% endif %}"),
    ("p", "{%p endfor %}"),
    ("p", "Mediator: {{ mediator.name }}    Recorder: {{ recorder.name }}"),
    ("h", "Notice of rights and duties:"),
    (
        "p",
        (
            "In people's mediation the parties have the right to choose or accept a mediator; "
            "to accept or refuse mediation or ask for it to end; to ask for the mediation to be "
            "public or private; and to express their will freely and reach an agreement "
            "voluntarily."
        ),
    ),
    (
        "p",
        (
            "The parties have the duty to state the facts truthfully; to keep order and respect "
            "the mediator; and to respect the other party's exercise of their rights."
        ),
    ),
    (
        "p",
        (
            "{% if rights_notified %}The parties stated that they understood these rights and "
            "duties.{% else %}Not notified.{% endif %}"
        ),
    ),
    ("h", "Statements:"),
    ("p", "{%p for s in statements %}"),
    ("p", "{{ s.speaker }}{% if s.time %} ({{ s.time }}){% endif %}: {{ s.text }}"),
    ("p", "{%p endfor %}"),
    ("h", "Evidence shown:"),
    ("p", "{%p for e in evidence %}"),
    ("p", "{{ loop.index }}. {{ e.submitted_by }}: {{ e.description }}"),
    ("p", "{%p endfor %}"),
    ("h", "Outcome:"),
    (
        "p",
        (
            "{% if outcome_reached %}Agreement reached. {% else %}No agreement reached. "
            "{% endif %}{{ outcome }}"
        ),
    ),
    ("p", "This record was read back to the parties, who confirmed it is correct."),
    ("p", "{%p for s in signers %}"),
    ("p", "{{ s.label }} (signature): {{ s.name }}{% if s.by %} {{ s.by }}{% endif %} "
          "{{ s.mark }} {{ s.signed_at }}"),
    ("p", "{%p endfor %}"),
    ("right", "{{ committee }}"),
    ("right", "{{ signed_on }}"),
]

# 口头调解协议登记表 (人民调解法 art. 28): what the parties agreed orally, registered by the
# mediator; the MoJ's 人民调解文书格式 lists these fields.
_ORAL_REGISTER_ZH: list[Line] = [
    ("title", "口头调解协议登记表"),
    ("right", "编号：{{ case_number }}"),
    ("p", "纠纷类型：{{ matter_label }}"),
    ("h", "当事人："),
    ("p", "{%p for p in parties %}"),
    ("p", "{{ p.role_label }}：{{ p.name }}{% if p.details %}，{{ p.details }}{% endif %}"),
    ("p", "{%p for a in p.agents %}"),
    ("p", "{{ a.line }}"),
    ("p", "{%p endfor %}"),
    ("p", "{%p endfor %}"),
    ("h", "纠纷简要情况："),
    ("p", "{{ dispute_summary }}"),
    ("h", "口头协议内容："),
    ("p", "{{ agreement_content }}"),
    ("h", "履行情况："),
    ("p", "{% if performance %}{{ performance }}{% else %}尚未履行。{% endif %}"),
    ("p", "调解员：{{ mediator.name }}"
          "{% if recorder.name %}    登记人：{{ recorder.name }}{% endif %}"),
    ("p", "{%p for s in signers %}"),
    ("p", "{{ s.label }}（签名）：{{ s.name }}{% if s.by %} {{ s.by }}{% endif %} {{ s.mark }} "
          "{{ s.signed_at }}"),
    ("p", "{%p endfor %}"),
    ("right", "{{ committee }}"),
    ("right", "登记日期：{{ signed_on }}"),
]

_ORAL_REGISTER_EN: list[Line] = [
    ("title", "Register of an Oral Mediation Agreement"),
    ("right", "No. {{ case_number }}"),
    ("p", "Matter: {{ matter_label }}"),
    ("h", "Parties:"),
    ("p", "{%p for p in parties %}"),
    ("p", "{{ p.role_label }}: {{ p.name }}{% if p.details %}, {{ p.details }}{% endif %}"),
    ("p", "{%p for a in p.agents %}"),
    ("p", "{{ a.line }}"),
    ("p", "{%p endfor %}"),
    ("p", "{%p endfor %}"),
    ("h", "The dispute in brief:"),
    ("p", "{{ dispute_summary }}"),
    ("h", "What the parties agreed orally:"),
    ("p", "{{ agreement_content }}"),
    ("h", "Performance:"),
    ("p", "{% if performance %}{{ performance }}{% else %}Not yet performed.{% endif %}"),
    ("p", "Mediator: {{ mediator.name }}{% if recorder.name %}    Registered by: "
          "{{ recorder.name }}{% endif %}"),
    ("p", "{%p for s in signers %}"),
    ("p", "{{ s.label }} (signature): {{ s.name }}{% if s.by %} {{ s.by }}{% endif %} "
          "{{ s.mark }} {{ s.signed_at }}"),
    ("p", "{%p endfor %}"),
    ("right", "{{ committee }}"),
    ("right", "Registered on {{ signed_on }}"),
]

_SOURCES: dict[tuple[DocumentKind, Language], list[Line]] = {
    ("agreement", "zh-CN"): _AGREEMENT_ZH,
    ("agreement", "en"): _AGREEMENT_EN,
    ("record", "zh-CN"): _RECORD_ZH,
    ("record", "en"): _RECORD_EN,
    ("oral_register", "zh-CN"): _ORAL_REGISTER_ZH,
    ("oral_register", "en"): _ORAL_REGISTER_EN,
}


def _set_fonts(document: object) -> None:
    styles = document.styles  # type: ignore[attr-defined]
    normal = styles["Normal"]
    normal.font.name = LATIN_FONT
    normal.font.size = Pt(12)
    # python-docx has no API for the East Asian font slot; it is one attribute.
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), CJK_FONT)


def build_template(kind: DocumentKind, language: Language) -> bytes:
    """Generate the built-in DOCX template for ``kind`` in ``language``."""
    document = Document()
    _set_fonts(document)
    for style, text in _SOURCES[(kind, language)]:
        paragraph = document.add_paragraph()
        run = paragraph.add_run(text)
        if style == "title":
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
            run.bold = True
            run.font.size = Pt(20)
        elif style == "right":
            paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        elif style == "h":
            run.bold = True
    document.core_properties.title = _SOURCES[(kind, language)][0][1]
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


@cache
def builtin_template(kind: DocumentKind, language: Language) -> bytes:
    """The built-in template, generated once per process and cached."""
    return build_template(kind, language)


def builtin_ref(kind: DocumentKind, language: Language) -> str:
    """A stable reference to a built-in template, stored with drafts."""
    return f"builtin:{kind}:{language}"


def write_builtin_templates(directory: Path) -> list[Path]:
    """Write every built-in template to ``directory`` (for offices to adapt)."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for kind, language in _SOURCES:
        path = directory / f"{kind}.{language}.docx"
        path.write_bytes(builtin_template(kind, language))
        written.append(path)
    return written
