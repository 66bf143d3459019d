"""Security headers and the browser client's static files."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "media-src 'self' blob:; connect-src 'self' ws: wss:; font-src 'self'; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")

HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(self), microphone=(self), display-capture=(self), "
                          "geolocation=(), payment=(), usb=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}

DIST = Path(__file__).resolve().parent.parent / "web_client" / "dist"


@web.middleware
async def security_headers(request: web.Request,
                           handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                           ) -> web.StreamResponse:
    resp = await handler(request)
    for k, v in HEADERS.items():
        resp.headers.setdefault(k, v)
    if request.path.startswith("/api/"):
        resp.headers.setdefault("Cache-Control", "no-store")
    return resp


async def _index(request: web.Request) -> web.StreamResponse:
    index = DIST / "index.html"
    if index.exists():
        # The page names the current hashed bundles: always ask for it again.
        return web.FileResponse(index, headers={"Cache-Control": "no-cache"})
    return web.Response(text=_PLACEHOLDER, content_type="text/html")


async def _asset(request: web.Request) -> web.StreamResponse:
    """A built bundle. Looked up per request, so a client built after start-up is served;
    names carry a content hash, so they may be cached for good."""
    name = request.match_info["name"]
    path = DIST / "assets" / name
    if "/" in name or name.startswith(".") or not path.is_file():
        raise web.HTTPNotFound()
    return web.FileResponse(path, headers={
        "Cache-Control": "public, max-age=31536000, immutable"})


PDF_DATA = ("cmaps", "standard_fonts")
"""The PDF renderer's character maps and standard fonts (pdfjs-dist), under dist/assets/pdf."""


async def _pdf_data(request: web.Request) -> web.StreamResponse:
    """A character map or standard font of the in-page PDF viewer: public data of the
    renderer, named by pdf.js (not hashed), so cached for a day."""
    kind, name = request.match_info["kind"], request.match_info["name"]
    path = DIST / "assets" / "pdf" / kind / name
    if kind not in PDF_DATA or "/" in name or name.startswith(".") or not path.is_file():
        raise web.HTTPNotFound()
    return web.FileResponse(path, headers={"Cache-Control": "public, max-age=86400"})


_PLACEHOLDER = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<title>调解 Tiaojie</title></head><body><h1>调解 Tiaojie</h1>
<p>The service is running. The browser client is not built: run
<code>npm --prefix web_client ci &amp;&amp; npm --prefix web_client run build</code>.</p>
<p>API: <a href="/api/openapi.json">/api/openapi.json</a> ·
health: <a href="/healthz">/healthz</a></p>
</body></html>"""


def add_web_routes(app: web.Application) -> None:
    for path in ("/", "/join", "/mediator", "/expert", "/clerk", "/login", "/copy", "/office"):
        app.router.add_get(path, _index)
    # The public application page (a stable link per office, and its printable QR poster),
    # the applicant's status page and an invitee's "cannot come" page.
    for path in ("/apply/{office_id}", "/apply/{office_id}/poster", "/application",
                 "/decline"):
        app.router.add_get(path, _index)
    app.router.add_get("/assets/{name}", _asset)
    app.router.add_get("/assets/pdf/{kind}/{name}", _pdf_data)
