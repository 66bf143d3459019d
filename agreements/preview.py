"""The live preview: a draft version as HTML, for everyone in the room to read.

The HTML carries what the signed document says (it is built from the same
context as the DOCX). The digest a signature binds to covers this HTML *and*
the canonical JSON of the data, because the HTML masks ID numbers that a DOCX
template may print in full: a change anywhere in the data changes the digest.
Autoescaping is on: party-supplied text is never markup.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from .context import build_context
from .models import DocumentData

if TYPE_CHECKING:
    from .draft import Draft

_LABELS = {
    "zh-CN": {
        "agreement": "人民调解协议书",
        "record": "人民调解记录",
        "oral_register": "口头调解协议登记表",
        "summary": "纠纷简要情况",
        "oral": "口头协议内容",
        "performance": "履行情况",
        "not_performed": "尚未履行。",
        "no": "编号",
        "version": "版本",
        "parties": "当事人",
        "id": "证件号码",
        "address": "住址",
        "phone": "联系方式",
        "rep": "法定代表人",
        "agent": "委托代理人",
        "facts": "纠纷的主要事实",
        "disputed": "争议事项",
        "resp": "各方责任",
        "terms": "协议内容",
        "owes": "向",
        "amount": "金额",
        "method": "履行方式",
        "place": "履行地点",
        "deadline": "履行期限",
        "copies": "本协议一式{n}份，当事人各执一份，人民调解委员会留存一份。",
        "confirm": "当事人可以自本协议生效之日起{n}日内共同向人民法院申请司法确认。",
        "time": "时间",
        "room": "地点（线上调解室）",
        "subject": "事由",
        "joined": "参加地点",
        "participants": "其他参加人",
        "statements": "调解情况",
        "evidence": "出示的证据",
        "outcome": "调解结果",
        "signers": "签名",
        "wet_ink": "本纠纷涉及婚姻、收养或继承，不适用电子签名，须打印后手写签名。",
        "matter": "纠纷类型",
        "disputed_n": "争议事项",
    },
    "en": {
        "agreement": "People's Mediation Agreement",
        "record": "People's Mediation Record",
        "oral_register": "Register of an Oral Mediation Agreement",
        "summary": "The dispute in brief",
        "oral": "What the parties agreed orally",
        "performance": "Performance",
        "not_performed": "Not yet performed.",
        "no": "No.",
        "version": "Version",
        "parties": "Parties",
        "id": "ID number",
        "address": "Address",
        "phone": "Contact",
        "rep": "Legal representative",
        "agent": "Authorised agent",
        "facts": "Main facts",
        "disputed": "Matters in dispute",
        "resp": "Responsibility",
        "terms": "Terms agreed",
        "owes": "owes",
        "amount": "Amount",
        "method": "Method",
        "place": "Place",
        "deadline": "Deadline",
        "copies": "Made in {n} copies: one for each party and one for the committee.",
        "confirm": "The parties may jointly apply to a people's court for judicial "
        "confirmation within {n} days of this agreement taking effect.",
        "time": "Time",
        "room": "Place (online room)",
        "subject": "Matter",
        "joined": "joined from",
        "participants": "Other participants",
        "statements": "Statements",
        "evidence": "Evidence shown",
        "outcome": "Outcome",
        "signers": "Signatures",
        "wet_ink": "This matter concerns marriage, adoption or inheritance: electronic "
        "signatures do not apply; print it for handwritten signatures.",
        "matter": "Matter",
        "disputed_n": "Disputed point ",
    },
}

_PAGE = """<!DOCTYPE html>
<html lang="{{ language }}"><head><meta charset="utf-8">
<meta name="tiaojie-template" content="{{ template_ref }}">
<title>{{ t[kind] }} {{ case_number }}</title></head>
<body><article class="document {{ kind }}">
<h1>{{ t[kind] }}</h1>
<p class="case-number">{{ t.no }} {{ case_number }} · {{ t.version }} {{ version }}</p>
{% if not esign_applies %}<p class="wet-ink">{{ t.wet_ink }}</p>{% endif %}
{% if kind != "record" %}
<p class="matter">{{ t.matter }}{{ colon }}{{ matter_label }}</p>
<section class="parties"><h2>{{ t.parties }}</h2>
{% for p in parties %}<div data-party="{{ p.party_id }}"><p>{{ p.role_label }}{{ colon }}{{ p.name }}{% if p.details %}{{ sep }}{{ p.details }}{% endif %}</p>
{%- if p.is_organisation and p.representative %}<p>{{ t.rep }}{{ colon }}{{ p.representative }}</p>{% endif %}
{%- for a in p.agents %}<p>{{ a.line }}</p>{% endfor %}</div>
{% endfor %}</section>{% if kind == "agreement" %}
<section><h2>{{ t.facts }}</h2><p>{{ facts }}</p>
{% for d in disputed_points %}<p>{{ t.disputed_n }}{{ loop.index }}{{ colon }}{{ d }}</p>{% endfor %}</section>
{% if responsibility %}<section><h2>{{ t.resp }}</h2><p>{{ responsibility }}</p></section>{% endif %}{% endif %}
{% else %}
<section class="parties"><h2>{{ t.parties }}</h2><ul>
{% for p in parties %}<li data-party="{{ p.party_id }}"><strong>{{ p.role_label }}</strong> {{ p.name }}
{%- if p.details %}{{ sep }}{{ p.details }}{% endif %}
{%- if p.is_organisation and p.representative %}{{ semi }}{{ t.rep }} {{ p.representative }}{% endif %}
{%- for a in p.agents %}{{ semi }}{{ a.line }}{% endfor %}
{%- if p.joined_from %}{{ semi }}{{ t.joined }} {{ p.joined_from }}{% endif %}</li>
{% endfor %}</ul></section>
{% endif %}
{% if kind == "agreement" %}
<section class="clauses"><h2>{{ t.terms }}</h2>
{% for c in clauses %}<p>{{ c.number }}. {% if language == "zh-CN" %}{{ c.obligor }}向{{ c.obligee }}{{ c.obligation }}{% if c.amount %}{{ c.amount }}{% endif %}。{{ c.terms }}。{% else %}{{ c.obligor }} owes {{ c.obligee }}: {{ c.obligation }}{% if c.amount %}, {{ c.amount }}{% endif %}. {{ c.terms }}.{% endif %}</p>
{% endfor %}{% for o in other_terms %}<p>{{ loop.index + clauses|length }}. {{ o }}</p>{% endfor %}
<p>{{ t.copies.format(n=copies) }}</p><p>{{ t.confirm.format(n=confirmation_days) }}</p></section>
{% elif kind == "oral_register" %}
<section><h2>{{ t.summary }}</h2><p>{{ dispute_summary }}</p></section>
<section><h2>{{ t.oral }}</h2><p>{{ agreement_content }}</p></section>
<section><h2>{{ t.performance }}</h2><p>{% if performance %}{{ performance }}{% else %}{{ t.not_performed }}{% endif %}</p></section>
{% else %}
<p>{{ t.time }}: {{ started_at }}{% if ended_at %} – {{ ended_at }}{% endif %}</p>
<p>{{ t.room }}: {% if place %}{{ place }}{% else %}{{ room }}{% endif %}</p><p>{{ t.subject }}: {{ subject }}</p>
<section><h2>{{ t.participants }}</h2><ul>{% for p in participants %}<li>{{ p.name }} ({{ p.role }}), {{ t.joined }} {{ p.joined_from }}</li>{% endfor %}</ul></section>
<section><h2>{{ t.statements }}</h2>{% for s in statements %}<p><strong>{{ s.speaker }}</strong>{% if s.time %} <time>{{ s.time }}</time>{% endif %}: {{ s.text }}</p>{% endfor %}</section>
<section><h2>{{ t.evidence }}</h2><ol>{% for e in evidence %}<li>{{ e.submitted_by }}: {{ e.description }}</li>{% endfor %}</ol></section>
<section><h2>{{ t.outcome }}</h2><p>{{ outcome }}</p></section>
{% endif %}
<section class="signers"><h2>{{ t.signers }}</h2><ul>
{% for s in signers %}<li data-signer="{{ s.signer_id }}">{{ s.label }}{{ colon }}{{ s.name }}</li>{% endfor %}
{% if not recorder.signs and recorder.name %}<li data-signer="recorder">{{ recorder.label }}{{ colon }}{{ recorder.name }}</li>{% endif %}
</ul><p>{{ committee }} · {{ signed_on }}</p></section>
</article></body></html>
"""

_env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=True)
_template = _env.from_string(_PAGE)


def render_preview(draft: Draft, version: int, data: DocumentData) -> str:
    """The HTML of one draft version, deterministic for the same inputs."""
    context = build_context(data, draft.language)
    context.update(
        t=_LABELS[draft.language],
        kind=draft.kind,
        version=version,
        template_ref=draft.template_ref,
        sep="，" if draft.language == "zh-CN" else ", ",
        semi="；" if draft.language == "zh-CN" else "; ",
        colon="：" if draft.language == "zh-CN" else ": ",
    )
    return _template.render(context)


def version_digest(html: str, data: DocumentData) -> str:
    """SHA-256 (hex) of the preview HTML, a NUL byte, and the data's canonical JSON."""
    canonical = json.dumps(
        data.model_dump(mode="json"), ensure_ascii=False, sort_keys=True, separators=(",", ":")
    )
    digest = hashlib.sha256(html.encode("utf-8"))
    digest.update(b"\x00")
    digest.update(canonical.encode("utf-8"))
    return digest.hexdigest()
