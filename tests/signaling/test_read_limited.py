"""A request body that arrives in several pieces is read whole, and refused past its limit.

``StreamReader.read(n)`` returns what has arrived so far: a sealed PDF posted to the
clerk's verify route was cut at the first packets and judged "not a readable PDF", and an
evidence upload could be stored truncated. ``read_limited`` reads to the end."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from signaling.api.registry import read_limited
from signaling.errors import TiaojieError
from tests.conftest import free_port

LIMIT = 256 * 1024


async def _echo(request: web.Request) -> web.Response:
    try:
        body = await read_limited(request, LIMIT)
    except TiaojieError as exc:
        return web.json_response({"code": exc.code}, status=exc.status)
    return web.json_response({"size": len(body), "sha256": hashlib.sha256(body).hexdigest()})


async def _pieces(data: bytes, size: int) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i:i + size]
        await asyncio.sleep(0.01)  # the next piece is not there yet when the server reads


async def _post(url: str, data: bytes, *, chunked: bool) -> tuple[int, dict[str, object]]:
    async with aiohttp.ClientSession() as http:
        body = _pieces(data, 16 * 1024) if chunked else data
        async with http.post(url, data=body) as r:
            return r.status, await r.json()


async def test_a_body_in_pieces_is_read_whole_and_a_large_one_refused() -> None:
    app = web.Application()
    app.router.add_post("/echo", _echo)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    url = f"http://127.0.0.1:{port}/echo"
    try:
        data = bytes(range(256)) * 800  # 200 KiB, under the limit
        for chunked in (True, False):
            status, out = await _post(url, data, chunked=chunked)
            assert status == 200 and out == {
                "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}, (chunked, out)
        # Past the limit: refused whether the length is declared or only streamed.
        for chunked in (True, False):
            status, out = await _post(url, b"x" * (LIMIT + 1), chunked=chunked)
            assert (status, out) == (413, {"code": "payload_too_large"}), chunked
    finally:
        await runner.cleanup()
