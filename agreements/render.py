"""Pure rendering: template bytes and document data in, DOCX bytes out.

No I/O and no clock: the same inputs give the same document text. The
template runs in the sandbox with StrictUndefined, so an unknown field is an
error here too, should an unchecked template ever reach this point.
"""

from __future__ import annotations

import io
from collections.abc import Mapping

from docx.shared import Mm
from docxtpl import DocxTemplate, InlineImage
from jinja2.exceptions import SecurityError

from .context import build_context
from .errors import RenderFailed, TemplateProblem, TemplateUnsafe
from .models import DocumentData, Language
from .template import make_environment

SIGNATURE_HEIGHT_MM = 15
"""Height of a drawn signature in its block; the width follows the aspect ratio."""


def render(
    template: bytes,
    data: DocumentData,
    *,
    language: Language = "zh-CN",
    signature_images: Mapping[str, bytes] | None = None,
    signature_text: Mapping[str, str] | None = None,
    signed_at: Mapping[str, str] | None = None,
    signed_by: Mapping[str, str] | None = None,
) -> bytes:
    """Render ``data`` into the DOCX ``template`` and return the DOCX bytes.

    ``signature_images`` maps a signer id to a PNG placed in its signature block;
    ``signature_text`` maps a signer id to a typed-name signature instead;
    ``signed_at`` maps a signer id to the printed signing time; ``signed_by`` a party's
    signer id to the agent who signed for it.
    """
    try:
        tpl = DocxTemplate(io.BytesIO(template))
        tpl.get_docx()
    except Exception as exc:  # python-docx raises several types for a bad package
        raise RenderFailed(f"the template is not a readable DOCX: {exc}") from exc
    marks: dict[str, object] = dict(signature_text or {})
    for signer_id, png in (signature_images or {}).items():
        marks[signer_id] = InlineImage(tpl, io.BytesIO(png), height=Mm(SIGNATURE_HEIGHT_MM))
    context = build_context(data, language, marks, signed_at, signed_by)
    try:
        tpl.render(context, jinja_env=make_environment(), autoescape=True)
    except SecurityError as exc:
        raise TemplateUnsafe([TemplateProblem("unsafe_access", str(exc))]) from exc
    except Exception as exc:  # template expressions can raise anything
        raise RenderFailed(f"the template failed to render: {exc!r}") from exc
    out = io.BytesIO()
    tpl.save(out)
    return out.getvalue()
