"""The 司法确认申请书: the parties' joint application to a people's court to confirm their
mediation agreement (人民调解法 art. 33; 民事诉讼法 art. 205), prefilled from the sealed
agreement and the identities the parties confirmed.

Like the built-in agreement and record, the wording below *is* the template: a DOCX is
generated from it with python-docx and filled with docxtpl. The court is left blank for
the parties to fill in (the basic court where the committee sits, art. 205). The court
needs the parties' full identity numbers, so unlike the agreement this document prints
them unmasked; it goes in the clerk's bundle for the court only.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date
from functools import cache
from typing import Any

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt
from docxtpl import DocxTemplate

from .builtin import _set_fonts
from .context import _LABELS, MATTER_LABELS, agent_details, format_date, party_details
from .models import AgreementData, PartyDetails
from .template import make_environment

COURT_BLANK = "＿" * 10
"""Where the parties write the court's name."""

_APPLICATION_ZH: list[tuple[str, str]] = [
    ("title", "司法确认申请书"),
    ("p", "{%p for p in applicants %}"),
    ("p", "申请人{{ loop.index }}：{{ p.name }}{% if p.details %}，{{ p.details }}{% endif %}"),
    ("p", "{%p if p.representative %}"),
    ("p", "法定代表人：{{ p.representative }}"),
    ("p", "{%p endif %}"),
    ("p", "{%p for a in p.agents %}"),
    ("p", "委托代理人：{{ a }}"),
    ("p", "{%p endfor %}"),
    ("p", "{%p endfor %}"),
    ("h", "请求事项："),
    ("p", "请求人民法院依法确认申请人之间于{{ effective_on }}经{{ committee }}主持调解达成的"
          "人民调解协议（编号：{{ case_number }}）有效。"),
    ("h", "事实和理由："),
    ("p", "申请人之间因{{ matter }}，于{{ effective_on }}经{{ committee }}主持调解，自愿达成"
          "人民调解协议（编号：{{ case_number }}），协议自{{ effective_on }}起生效。"
          "协议的主要内容为："),
    ("p", "{%p for c in clauses %}"),
    ("p", "{{ loop.index }}. {{ c }}"),
    ("p", "{%p endfor %}"),
    ("p", "该协议是申请人的真实意思表示，内容不违反法律、行政法规的强制性规定，不损害国家利益、"
          "社会公共利益和他人合法权益。为此，申请人依照《中华人民共和国人民调解法》第三十三条和"
          "《中华人民共和国民事诉讼法》的有关规定，自调解协议生效之日起三十日内（至{{ deadline }}）"
          "共同向人民法院申请司法确认。"),
    ("p", "申请人承诺：出于解决纠纷的目的自愿达成协议，没有恶意串通、规避法律的行为；"
          "如因虚假陈述、隐瞒事实等导致调解协议被撤销或者确认无效，愿意承担相应的法律责任。"),
    ("p", "此致"),
    ("p", "{{ court }}人民法院"),
    ("p", "{%p for p in applicants %}"),
    ("right", "申请人{{ loop.index }}（签名、盖章或者按指印）：＿＿＿＿＿＿"),
    ("p", "{%p endfor %}"),
    ("right", "＿＿＿＿年＿＿月＿＿日"),
    ("h", "附："),
    ("p", "1. 人民调解协议书（编号：{{ case_number }}，电子签章版）"),
    ("p", "{%p if has_record %}"),
    ("p", "2. 人民调解记录"),
    ("p", "{%p endif %}"),
    ("p", "{{ identities_number }}. 申请人身份信息（经本人确认）"),
]


@cache
def application_template() -> bytes:
    """The 司法确认申请书 template as a DOCX (docxtpl tags), generated once per process."""
    document = Document()
    _set_fonts(document)
    for style, text in _APPLICATION_ZH:
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
    document.core_properties.title = "司法确认申请书"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _details(p: PartyDetails) -> str:
    """Everything the court asks about an applicant, the identity number in full."""
    return party_details(p, "zh-CN", full_id=True)


def _agent(p: PartyDetails) -> list[str]:
    out = [_LABELS["zh-CN"]["sep"].join(
        x for x in (a.name, agent_details(a, "zh-CN", full_id=True, with_kind=False)) if x)
        for a in p.agents]
    if p.agent and not out:
        out.append(p.agent)
    return out


def _clause(data: AgreementData, n: int) -> str:
    names = {p.party_id: p.name for p in data.parties}
    c = data.clauses[n]
    amount = f"人民币{c.amount}元" if c.amount is not None else ""
    terms = "；".join(x for x in (f"履行方式：{c.method}" if c.method else "",
                                  f"履行地点：{c.place}" if c.place else "",
                                  f"履行期限：{format_date(c.deadline, 'zh-CN')}前") if x)
    return f"{names[c.obligor]}向{names[c.obligee]}{c.obligation}{amount}。{terms}。"


def application_context(data: AgreementData, applicants: Sequence[PartyDetails],
                        effective_on: date, deadline: date | None,
                        has_record: bool) -> dict[str, Any]:
    return {
        "applicants": [{"name": p.name, "details": _details(p),
                        "representative": "，".join(
                            x for x in (p.legal_representative or "",
                                        p.legal_representative_title or "") if x)
                        if p.kind == "organisation" else "",
                        "agents": _agent(p)} for p in applicants],
        "committee": data.committee,
        "case_number": data.case_number,
        "matter": MATTER_LABELS["zh-CN"][data.matter.value],
        "effective_on": format_date(effective_on, "zh-CN"),
        "deadline": format_date(deadline, "zh-CN") if deadline else "",
        "clauses": [_clause(data, n) for n in range(len(data.clauses))]
        + list(data.other_terms),
        "court": COURT_BLANK,
        "has_record": has_record,
        "identities_number": 3 if has_record else 2,
    }


def render_application(data: AgreementData, applicants: Sequence[PartyDetails],
                       effective_on: date, deadline: date | None,
                       has_record: bool = False) -> bytes:
    """The prefilled application as DOCX bytes: ``applicants`` are the parties as they
    confirmed themselves (or as the agreement prints them), in the agreement's order."""
    tpl = DocxTemplate(io.BytesIO(application_template()))
    tpl.render(application_context(data, applicants, effective_on, deadline, has_record),
               jinja_env=make_environment(), autoescape=True)
    out = io.BytesIO()
    tpl.save(out)
    return out.getvalue()
