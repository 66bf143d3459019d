"""The hardened web surface, checked in Debian's Chromium: every page loads with no
Content-Security-Policy violation and the expected headers, and no other origin can
frame it."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from tests.conftest import free_port
from tests.signaling.harness import Server, running_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = os.environ.get("TIAOJIE_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PAGES = ("/", "/join", "/mediator", "/expert", "/clerk", "/login")
# Runs before the page's own scripts in every document; init scripts are not subject to
# the page's CSP, so the watcher itself cannot be what is refused.
WATCH_JS = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__csp.push({directive: e.violatedDirective, blocked: e.blockedURI,
                     sample: e.sample, source: e.sourceFile + ':' + e.lineNumber});
});
"""
PROBE_JS = "() => { const i = new Image(); i.src = 'http://csp-probe.invalid/barrier.png'; }"
"""An image from another origin, which img-src refuses before any request is made."""



@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            yield b
        finally:
            await b.close()


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    async with running_server(f"sqlite+aiosqlite:///{tmp_path / 't.db'}", tmp_path) as srv:
        yield srv


def csp_directives(header: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            out[words[0].lower()] = words[1:]
    return out


def assert_hardened(headers: dict[str, str], where: str) -> None:
    csp = csp_directives(headers.get("content-security-policy", ""))
    assert csp.get("frame-ancestors") == ["'none'"], (where, csp)
    assert csp.get("object-src") == ["'none'"], (where, csp)
    for directive in ("script-src", "default-src"):
        sources = csp.get(directive, [])
        assert sources and "'unsafe-inline'" not in sources \
            and "'unsafe-eval'" not in sources and "*" not in sources, (where, csp)
    assert headers.get("x-content-type-options") == "nosniff", where
    assert headers.get("referrer-policy") == "no-referrer", where
    perms = headers.get("permissions-policy", "")
    assert "camera=(self)" in perms and "microphone=(self)" in perms, (where, perms)
    assert "camera=*" not in perms and "microphone=*" not in perms, (where, perms)


async def test_every_page_loads_without_csp_violations_and_with_hardened_headers(
        server: Server, browser: Any) -> None:
    context = await browser.new_context()
    await context.add_init_script(WATCH_JS)
    page = await context.new_page()
    subresources: list[tuple[str, dict[str, str]]] = []
    page.on("response", lambda r: subresources.append((r.url, r.headers)))
    for path in PAGES:
        resp = await page.goto(server.url + path + ("?t=x" if path == "/join" else ""),
                               wait_until="load")
        assert resp is not None and resp.status == 200, path
        assert_hardened(resp.headers, path)
        # Barrier: a violation of our own making. The browser reports violations in the
        # order they happen, so once ours is in, any from the page's scripts and styles is.
        await page.evaluate(PROBE_JS)
        await page.wait_for_function(
            "window.__csp.some(v => v.blocked.startsWith('http://csp-probe.invalid'))")
        violations = [v for v in await page.evaluate("window.__csp")
                      if not v["blocked"].startswith("http://csp-probe.invalid")]
        assert violations == [], (path, violations)
    # Scripts, styles and API answers carry the same headers as the documents.
    same_origin = [(u, h) for u, h in subresources if u.startswith(server.url)]
    assert same_origin
    for url, headers in same_origin:
        assert headers.get("x-content-type-options") == "nosniff", url
    await context.close()


async def test_another_origin_cannot_frame_any_page(server: Server, browser: Any) -> None:
    # "localhost" and "127.0.0.1" are different origins for the browser.
    port = free_port()
    html = "".join(f'<iframe src="{server.url}{p}" width="200" height="100"></iframe>'
                   for p in PAGES)

    async def evil(_: web.Request) -> web.Response:
        return web.Response(text=f"<!doctype html><title>evil</title>{html}",
                            content_type="text/html")

    app = web.Application()
    app.router.add_get("/", evil)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "localhost", port).start()
    try:
        page = await browser.new_page()
        refusals: list[str] = []
        page.on("console", lambda m: refusals.append(m.text)
                if "frame-ancestors" in m.text else None)
        await page.goto(f"http://localhost:{port}/", wait_until="load")
        # Each refusal is reported on the console: wait for all of them, not for a time.
        for _ in range(200):
            if len(refusals) >= len(PAGES):
                break
            await asyncio.sleep(0.05)
        children = [f for f in page.frames if f != page.main_frame]
        assert len(children) == len(PAGES)
        for frame in children:
            # A refused frame holds Chromium's error page, not ours.
            body = await frame.evaluate("document.body ? document.body.innerText : ''")
            title = await frame.evaluate("document.title")
            assert "调解" not in body + title, (frame.url, title)
        assert len(refusals) == len(PAGES), refusals
    finally:
        await runner.cleanup()


async def test_api_answers_are_not_cached_and_carry_the_headers(server: Server) -> None:
    async with aiohttp.ClientSession() as http:
        for path in ("/api/openapi.json", "/api/v1/auth/me", "/api/v1/nowhere"):
            async with http.get(server.url + path) as r:
                assert_hardened({k.lower(): v for k, v in r.headers.items()}, path)
                assert r.headers.get("Cache-Control") == "no-store", path
