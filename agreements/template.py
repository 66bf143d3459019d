"""Checking a DOCX template before any session depends on it.

An office may upload its own template. It is refused, with every problem
listed, when it is not a DOCX, is too large, has broken Jinja, names a field
our data does not have, or tries to reach Python internals. The checks run the
template in the same sandbox that rendering uses, against the fictitious demo
case, so a template that passes here renders for real data too.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from docx import Document
from docxtpl import DocxTemplate
from jinja2 import StrictUndefined, TemplateSyntaxError, Undefined, nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from .context import build_context
from .demo import demo_agreement, demo_oral_register, demo_record
from .errors import TemplateProblem, TemplateRejected, TemplateUnsafe
from .models import DocumentData, DocumentKind

MAX_TEMPLATE_BYTES = 5 * 1024 * 1024
"""Largest upload accepted; a letterhead image fits, a zip bomb does not."""
MAX_UNCOMPRESSED_BYTES = 50 * 1024 * 1024
"""Largest total size of the zip's members once inflated."""
DOCX_CONTENT_TYPES = frozenset(
    {
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        # Browsers and curl send this when they do not know the type.
        "application/octet-stream",
    }
)
_TEMPLATE_PARTS = re.compile(r"^/word/(document|header\d*|footer\d*|footnotes)\.xml$")
_EXPRESSION = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_TAGS = re.compile(r"<[^>]+>")


MAX_REPEAT = 10_000
"""Largest count a template may multiply a string or list by, or raise a number to."""


class DocumentSandbox(SandboxedEnvironment):
    """Jinja's sandbox, also bounding ``*`` and ``**``, which it leaves unchecked:
    ``{{ 'x' * 10**9 }}`` would otherwise allocate a gigabyte while rendering."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            if isinstance(right, int | float) and abs(right) > 64:
                raise SecurityError("exponent too large in template")
            return left**right
        for count, other in ((left, right), (right, left)):
            if (
                isinstance(count, int)
                and isinstance(other, str | list | tuple)
                and count * max(len(other), 1) > MAX_REPEAT
            ):
                raise SecurityError("repetition too large in template")
        return left * right


def make_environment() -> SandboxedEnvironment:
    """The one Jinja environment templates run in: sandboxed, strict, XML-escaped."""
    return DocumentSandbox(undefined=StrictUndefined, autoescape=True)


@dataclass(frozen=True)
class ValidatedTemplate:
    """A template that passed every check, ready for ``render``."""

    kind: DocumentKind
    """Which document it renders."""
    content: bytes
    """The DOCX bytes as uploaded."""


def check_container(content: bytes, content_type: str | None = None) -> list[TemplateProblem]:
    """Problems with the file itself: size, declared type, and DOCX structure."""
    if len(content) > MAX_TEMPLATE_BYTES:
        return [
            TemplateProblem(
                "too_large", f"{len(content)} bytes; the limit is {MAX_TEMPLATE_BYTES} bytes"
            )
        ]
    problems = []
    if content_type is not None and content_type.split(";")[0].strip() not in DOCX_CONTENT_TYPES:
        problems.append(TemplateProblem("not_docx", f"content type {content_type!r} is not DOCX"))
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
            inflated = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        problems.append(TemplateProblem("not_docx", "the file is not a zip archive (DOCX)"))
        return problems
    if "word/document.xml" not in names or "[Content_Types].xml" not in names:
        problems.append(TemplateProblem("not_docx", "the zip has no word/document.xml"))
    if inflated > MAX_UNCOMPRESSED_BYTES:
        problems.append(TemplateProblem("too_large", f"{inflated} bytes once uncompressed"))
    return problems


def _sources(content: bytes) -> Iterator[tuple[str, str, list[str]]]:
    """(part name, Jinja source, paragraph texts) of each part docxtpl renders.

    The source is cleaned as docxtpl does before rendering; the paragraph texts
    are the part as the author typed it, for checks and error locations.
    """
    tpl = DocxTemplate(io.BytesIO(content))
    document = tpl.get_docx()
    for part in document.part.package.iter_parts():
        if _TEMPLATE_PARTS.match(str(part.partname)):
            xml = part.blob.decode("utf-8")
            # One paragraph per line, as docxtpl does, so line numbers map to paragraphs.
            source = re.sub(r"<w:p([ >])", r"\n<w:p\1", tpl.patch_xml(xml))
            paragraphs = [_TAGS.sub("", p).strip() for p in re.split(r"<w:p[ >]", xml)]
            yield str(part.partname), source, [p for p in paragraphs if p]


def _paragraph(source: str, lineno: int | None) -> str:
    if not lineno:
        return ""
    lines = source.splitlines()
    if 0 < lineno <= len(lines):
        return _TAGS.sub("", lines[lineno - 1]).strip()[:200]
    return ""


def _unsafe_nodes(tree: nodes.Template) -> Iterator[TemplateProblem]:
    """Static refusal of private attributes and template loading, even in dead branches."""
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        name: Any = node.attr if isinstance(node, nodes.Getattr) else None
        if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
            name = node.arg.value
        if isinstance(name, str) and name.startswith("_"):
            yield TemplateProblem(
                "unsafe_access",
                f"access to {name!r} is not allowed: templates cannot reach Python internals",
                str(node.lineno),
            )
    for _ in tree.find_all((nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends)):
        yield TemplateProblem(
            "unsafe_access", "templates cannot include, import or extend other templates"
        )


def _locate(sources: list[tuple[str, str, list[str]]], name: str) -> str:
    """The first paragraph whose Jinja tags mention ``name``, for the error report."""
    word = re.compile(r"\b" + re.escape(name) + r"\b")
    for _, _, paragraphs in sources:
        for text in paragraphs:
            if any(word.search(tag) for tag in re.findall(r"\{[{%].*?[}%]\}", text)):
                return text[:200]
    return name


def _syntax_problems(
    env: SandboxedEnvironment, part: str, source: str, paragraphs: list[str]
) -> list[TemplateProblem]:
    problems = []
    try:
        tree = env.parse(source)
    except TemplateSyntaxError as exc:
        problems.append(
            TemplateProblem(
                "syntax_error", f"{part}: {exc.message}", _paragraph(source, exc.lineno)
            )
        )
        # Jinja stops at the first error; check each paragraph's {{ expressions }}
        # on their own so that the administrator sees all the broken ones at once.
        for text in paragraphs:
            if text.count("{{") != text.count("}}") or text.count("{%") != text.count("%}"):
                problems.append(TemplateProblem("syntax_error", "unbalanced {{ }} or {% %}", text))
                continue
            for match in _EXPRESSION.finditer(text):
                try:
                    env.parse(match.group(0))
                except TemplateSyntaxError as inner:
                    problems.append(TemplateProblem("syntax_error", inner.message or "", text))
        # The first error is usually also found paragraph by paragraph: keep one copy.
        unique = {(p.code, p.where): p for p in problems}
        return list(unique.values())
    return [
        TemplateProblem(p.code, p.message, _paragraph(source, int(p.where)) if p.where else "")
        for p in _unsafe_nodes(tree)
    ]


def _runtime_problems(
    content: bytes, kind: DocumentKind, sources: list[tuple[str, str, list[str]]]
) -> list[TemplateProblem]:
    """Render against the demo case, recording every undefined name instead of stopping."""
    missing: list[str] = []
    unsafe: list[str] = []

    class Recording(Undefined):
        """An undefined that notes its name, then behaves as empty so rendering goes on."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            if self._undefined_exception is SecurityError:
                unsafe.append(self._undefined_message)
            elif self._undefined_name is not None and self._undefined_name not in missing:
                missing.append(self._undefined_name)

        def __getattr__(self, name: str) -> Any:
            if name.startswith("__"):
                raise AttributeError(name)
            return self

        __getitem__ = __getattr__

        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            return self

    env = DocumentSandbox(undefined=Recording, autoescape=True)
    data: DocumentData
    if kind == "agreement":
        data = demo_agreement()
    elif kind == "record":
        data = demo_record()
    else:
        data = demo_oral_register()
    tpl = DocxTemplate(io.BytesIO(content))
    problems: list[TemplateProblem] = []
    try:
        tpl.render(build_context(data, "zh-CN"), jinja_env=env, autoescape=True)
        out = io.BytesIO()
        tpl.save(out)
        Document(io.BytesIO(out.getvalue()))  # the result must open as a DOCX
    except SecurityError as exc:
        unsafe.append(str(exc))
    except Exception as exc:  # noqa: BLE001 - an uploaded template can raise anything
        problems.append(TemplateProblem("render_error", f"rendering the demo case failed: {exc!r}"))
    for name in missing:
        problems.append(
            TemplateProblem(
                "undefined_field",
                f"{name!r} is not a field of the {kind}",
                _locate(sources, name),
            )
        )
    for message in unsafe:
        problems.append(TemplateProblem("unsafe_access", message))
    return problems


def validate_template(
    content: bytes, kind: DocumentKind, content_type: str | None = None
) -> ValidatedTemplate:
    """Check an uploaded template; raise ``TemplateRejected`` listing every problem.

    ``TemplateUnsafe`` (a ``TemplateRejected``) is raised when any problem is an
    attempt to reach Python internals, so the edge can flag the upload.
    """
    problems = check_container(content, content_type)
    if not problems:
        env = make_environment()
        sources = list(_sources(content))
        for part, source, paragraphs in sources:
            problems.extend(_syntax_problems(env, part, source, paragraphs))
        if not problems:
            problems.extend(_runtime_problems(content, kind, sources))
    if any(p.code == "unsafe_access" for p in problems):
        raise TemplateUnsafe(problems)
    if problems:
        raise TemplateRejected(problems)
    return ValidatedTemplate(kind=kind, content=content)
