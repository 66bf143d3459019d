"""The public verify page: anyone holding a sealed document checks it, with no login.

``GET /verify`` is a small zh-CN page (server-rendered, no script) with two forms: upload
the PDF, or type the short id printed under the QR code. ``/verify/{short_id}`` is what
the QR code opens. The JSON face is ``POST /api/verify`` (the PDF as multipart field
``file``, optional ``short_id``; or the raw body) and ``GET /api/verify/{short_id}``.

Authentic means: every signature intact, the seal chaining to a seal this server trusts,
nothing appended after it, and the file byte for byte a document the service sealed
(``agreements.audit``). The answer names the signers as the document prints them, with
roles and times, and the audit chain's verdict; never a phone or ID number, an address or
an IP. Every attempt counts against the caller's address (``verify_ip``).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from datetime import timedelta, timezone
from typing import Any

import jinja2
from aiohttp import BodyPartReader, StreamReader, web

from agreements.limits import VERIFY_PER_IP
from signaling import ratelimit
from signaling.api.registry import Handler, Route
from signaling.errors import BadRequest, NotFound, PayloadTooLarge, TiaojieError
from signaling.keys import SERVICES
from signaling.web import CSP

from .audit import DocumentCheck, check_document, find_document
from .runtime import runtime
from .shortid import display_short_id, normalise_short_id
from .tables import SealedDocumentRow

CHINA = timezone(timedelta(hours=8))
PDF_HEADER = b"%PDF-"
MULTIPART_SLACK = 64 * 1024
"""Room for the multipart framing and the short id around the PDF itself."""
KINDS = {"agreement": "人民调解协议书", "record": "人民调解记录"}


def _limit(request: web.Request) -> int:
    return int(request.app[SERVICES].settings.verify_max_bytes)


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"The PDF is larger than {limit} bytes.", code="pdf_too_large")


async def _count(request: web.Request) -> None:
    services = request.app[SERVICES]
    ip = ratelimit.client_ip(request.remote,
                             ",".join(request.headers.getall("X-Forwarded-For", [])),
                             ratelimit.trusted_proxies(services.settings))
    await ratelimit.limiter_for(services).check(VERIFY_PER_IP, ip)


async def _read_limited(stream: BodyPartReader | StreamReader, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = (await stream.read_chunk(64 * 1024) if isinstance(stream, BodyPartReader)
                 else await stream.read(64 * 1024))
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)


async def read_upload(request: web.Request) -> tuple[bytes, str | None]:
    """(the PDF, the short id sent with it) from a multipart form or a raw body."""
    limit = _limit(request)
    if request.content_length is not None and request.content_length > limit + MULTIPART_SLACK:
        raise _too_large(limit)
    pdf = b""
    short_id: str | None = None
    if request.content_type.startswith("multipart/"):
        try:
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                if not isinstance(part, BodyPartReader):
                    continue
                if part.name == "file":
                    pdf = await _read_limited(part, limit)
                elif part.name == "short_id":
                    short_id = (await _read_limited(part, 200)).decode("utf-8", "replace")
        except (ValueError, AssertionError, UnicodeDecodeError):
            raise BadRequest("The form could not be read.", code="pdf_malformed") from None
    else:
        pdf = await _read_limited(request.content, limit)
    if not pdf:
        raise BadRequest("Choose the PDF file to check.", code="pdf_missing")
    if PDF_HEADER not in pdf[:1024]:
        raise BadRequest("This file is not a PDF.", code="pdf_malformed")
    return pdf, (short_id or "").strip() or None


async def _expected(request: web.Request, ref: str | None) -> SealedDocumentRow | None:
    if ref is None:
        return None
    short = normalise_short_id(ref)
    if short is None:
        raise NotFound("No document has this verification id.", code="document_not_found")
    async with request.app[SERVICES].db.session() as db:
        found = await find_document(db, short)
    if found is None:
        raise NotFound("No document has this verification id.", code="document_not_found")
    return found


async def _check(request: web.Request, pdf: bytes,
                 expected: SealedDocumentRow | None) -> DocumentCheck:
    services = request.app[SERVICES]
    roots = await asyncio.to_thread(runtime(services).trust_roots)
    async with services.db.session() as db:
        verdict = await check_document(db, pdf, roots, expected=expected)
    if not verdict.pdf.readable:
        raise BadRequest("This file is not a readable PDF.", code="pdf_malformed")
    return verdict


async def verify_upload(request: web.Request) -> web.Response:
    await _count(request)
    pdf, ref = await read_upload(request)
    ref = ref or request.query.get("short_id")
    verdict = await _check(request, pdf, await _expected(request, ref))
    return web.json_response(verdict.to_dict(), dumps=_dumps)


async def verify_by_id(request: web.Request) -> web.Response:
    await _count(request)
    document = await _expected(request, request.match_info["short_id"])
    assert document is not None
    verdict = await _check(request, document.pdf, document)
    return web.json_response(verdict.to_dict(), dumps=_dumps)


def _dumps(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)


# -- the page ------------------------------------------------------------------------------

STYLE = """
body{font-family:system-ui,"Noto Sans CJK SC",sans-serif;max-width:46rem;margin:2rem auto;
padding:0 1rem;color:#1b1b1b;line-height:1.6}
h1{font-size:1.5rem}form{border:1px solid #ccc;border-radius:6px;padding:1rem;margin:1rem 0}
label{display:block;margin-bottom:.5rem}button{padding:.4rem 1.2rem;margin-top:.5rem}
.ok{border-left:6px solid #1a7f37;padding:.5rem 1rem;background:#eefbf1}
.bad{border-left:6px solid #c62828;padding:.5rem 1rem;background:#fdecea}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:.3rem .5rem;
text-align:left}code{word-break:break-all}
"""
STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
PAGE_CSP = CSP.replace("style-src 'self'", f"style-src 'self' 'sha256-{STYLE_HASH}'")

PAGE = jinja2.Environment(autoescape=True).from_string("""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>文书核验 · 调解 Tiaojie</title><style>{{ style|safe }}</style></head>
<body><main>
<h1>人民调解文书核验</h1>
<p>上传调解委员会盖章的 PDF 文件，或输入文书末页二维码下方的验证码，即可核验文书是否真实、未被改动。无需登录。</p>
{% if error %}<div class="bad" role="alert"><p><strong>无法核验：</strong>{{ error }}</p></div>{% endif %}
{% if v %}
<section aria-live="polite">
{% if v.authentic %}
<div class="ok"><p><strong>✔ 文书真实，未被改动。</strong></p></div>
{% else %}
<div class="bad"><p><strong>✘ 未能证明文书真实：文件可能被改动，或并非本平台盖章的文书。</strong></p>
<ul>{% for r in v.reasons %}<li>{{ r }}</li>{% endfor %}</ul></div>
{% endif %}
{% if v.document %}
<h2>文书</h2>
<table>
<tr><th>文书</th><td>{{ kinds.get(v.document.kind, v.document.kind) }}（第 {{ v.document.version }} 版）</td></tr>
<tr><th>验证码</th><td>{{ short_id(v.document.short_id) }}</td></tr>
<tr><th>盖章时间</th><td>{{ when(v.document.sealed_at) }}</td></tr>
{% if v.seal %}<tr><th>电子印章</th><td>{{ v.seal.signer }}</td></tr>{% endif %}
<tr><th>文件摘要（SHA-256）</th><td><code>{{ v.document.pdf_sha256 }}</code></td></tr>
</table>
{% endif %}
{% if v.signed_by %}
<h2>签署人</h2>
<table><tr><th>姓名</th><th>身份</th><th>签署时间</th><th>方式</th></tr>
{% for s in v.signed_by %}<tr><td>{{ s.name }}{% if s.acting_name %}（由 {{ s.acting_name }} 代签）{% endif %}</td>
<td>{{ s.role }}</td><td>{{ when(s.signed_at) }}</td>
<td>{{ "验证码 + 手写签名" if s.method == "drawn" else "验证码 + 输入姓名" }}</td></tr>{% endfor %}
</table>
{% endif %}
{% if v.certificate %}
<h2>完成证明</h2>
<table><tr><th>时间</th><th>经过</th></tr>
{% for s in v.certificate.timeline %}<tr><td>{{ when(s.at) }}</td><td>{{ s.what }}</td></tr>{% endfor %}
{% if v.document %}<tr><td>{{ when(v.document.sealed_at) }}</td><td>加盖电子印章，文书生效</td></tr>{% endif %}
</table>
<table><tr><th>签署人</th><th>身份</th><th>核验方式</th><th>所签版本摘要（SHA-256）</th></tr>
{% for g in v.certificate.signatures %}<tr><td>{{ g.name }}</td><td>{{ g.role }}</td><td>{{ g.verified_by }}</td>
<td>第 {{ g.version }} 版 <code>{{ g.version_digest }}</code></td></tr>{% endfor %}
</table>
{% endif %}
{% if v.audit_chain %}
<h2>调解过程记录（哈希链）</h2>
{% if v.audit_chain.intact %}<p class="ok">完整：{{ v.audit_chain.events }} 条事件逐条核对一致{% if v.audit_chain.redacted %}（其中 {{ v.audit_chain.redacted }} 条聊天内容已按保存期限删除，摘要保留）{% endif %}。</p>
{% else %}<p class="bad">记录被改动：第 {{ v.audit_chain.broken_at }} 条事件起无法核对。</p>{% endif %}
{% endif %}
</section>
{% endif %}
<form method="post" action="/verify" enctype="multipart/form-data">
<label for="file">上传 PDF 文件（不超过 {{ max_mb }} MB）</label>
<input id="file" name="file" type="file" accept="application/pdf,.pdf" required>
<br><button type="submit">核验文件</button>
</form>
<form method="get" action="/verify">
<label for="id">或输入验证码（10 位，如 ABCDE-12345）</label>
<input id="id" name="id" autocomplete="off" inputmode="text" maxlength="20" value="{{ typed }}">
<br><button type="submit">查询</button>
</form>
</main></body></html>
""")

ERRORS_ZH = {
    "pdf_too_large": "文件过大。",
    "pdf_malformed": "这不是可读取的 PDF 文件。",
    "pdf_missing": "请选择要核验的 PDF 文件。",
    "document_not_found": "没有与此验证码对应的文书，请核对后重新输入。",
    "rate_limited": "核验次数过多，请稍后再试。",
}


def _when(iso: str) -> str:
    from datetime import datetime

    return datetime.fromisoformat(iso).astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S（北京时间）")


def _page(request: web.Request, *, verdict: dict[str, Any] | None = None,
          error: TiaojieError | None = None, typed: str = "") -> web.Response:
    html = PAGE.render(
        v=verdict, error=ERRORS_ZH.get(error.code, error.message) if error else None,
        typed=typed, style=STYLE, kinds=KINDS, when=_when, short_id=display_short_id,
        max_mb=max(1, _limit(request) // (1024 * 1024)))
    resp = web.Response(text=html, content_type="text/html", charset="utf-8",
                        status=error.status if error else 200)
    resp.headers["Content-Security-Policy"] = PAGE_CSP
    resp.headers["Cache-Control"] = "no-store"
    if error is not None and error.code == "rate_limited":
        resp.headers["Retry-After"] = "60"
    return resp


async def page(request: web.Request) -> web.Response:
    typed = request.query.get("id", "").strip()
    if not typed:
        return _page(request)
    return await _page_for_id(request, typed)


async def page_for_id(request: web.Request) -> web.Response:
    return await _page_for_id(request, request.match_info["short_id"])


async def _page_for_id(request: web.Request, ref: str) -> web.Response:
    try:
        await _count(request)
        document = await _expected(request, ref)
        assert document is not None
        verdict = await _check(request, document.pdf, document)
    except TiaojieError as exc:
        return _page(request, error=exc, typed=ref[:20])
    return _page(request, verdict=verdict.to_dict(), typed=ref[:20])


async def page_upload(request: web.Request) -> web.Response:
    try:
        await _count(request)
        pdf, ref = await read_upload(request)
        verdict = await _check(request, pdf, await _expected(request, ref))
    except TiaojieError as exc:
        return _page(request, error=exc)
    return _page(request, verdict=verdict.to_dict())


def routes() -> list[Route]:
    """The public verify routes (no login; rate limited per address)."""
    anyone = "anyone"  # no login; every attempt counts against the address (verify_ip)

    def html(method: str, path: str, handler: Handler, summary: str,
             query: tuple[tuple[str, str], ...] = ()) -> Route:
        return Route(method, path, handler, summary, anyone, tag="verify", query=query,
                     content_type="text/html", error_content_type="text/html")

    return [
        html("GET", "/verify", page, "The public verify page (zh-CN): upload a PDF or type "
             "its short id", query=(("id", "a document's short id"),)),
        html("POST", "/verify", page_upload, "The verify page's upload form "
             "(multipart: file, short_id)"),
        html("GET", "/verify/{short_id}", page_for_id, "The verify page for one document "
             "(its QR code's address)"),
        Route("POST", "/api/verify", verify_upload, "Verify a PDF (multipart field file, "
              "optional short_id; or the raw body): authentic, who signed and when, the "
              "audit chain, the completion certificate. 413 pdf_too_large, 400 pdf_malformed, "
              "404 for an unknown short_id; no login, rate limited per address",
              anyone, tag="verify", query=(("short_id", "the document it should be"),)),
        Route("GET", "/api/verify/{short_id}", verify_by_id, "Verify the document sealed "
              "under a short id, as stored; no login, rate limited per address", anyone,
              tag="verify"),
    ]
