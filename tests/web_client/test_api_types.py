"""The client's API types (web_client/src/api-types.ts) are generated from the server's
OpenAPI document (`npm run gen:api --prefix web_client`). A model changed on the server
without regenerating them fails here, and then `tsc --noEmit` shows which client code
reads what is gone.

The check regenerates the document in this process (the app built on embedded defaults,
no server started) and runs the project's own openapi-typescript from node_modules (what
`npm ci` installed; no network), then compares the TypeScript itself: a committed copy of
the JSON would be a second generated file to keep in step and would not prove that the
TypeScript was regenerated from it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from aiohttp import web

from signaling.openapi_dump import document, dumps

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web_client"
GENERATOR = WEB / "node_modules" / "openapi-typescript" / "bin" / "cli.js"
COMMITTED = WEB / "src" / "api-types.ts"


def test_the_document_does_not_depend_on_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    before = dumps(document())
    # Read from the environment, this would refuse to build (production, unsafe defaults).
    monkeypatch.setenv("TIAOJIE_ENV", "production")
    monkeypatch.setenv("TIAOJIE_PORT", "9999")
    assert dumps(document()) == before


def test_the_committed_api_types_are_generated_from_the_current_server() -> None:
    node = shutil.which("node")
    if node is None or not GENERATOR.exists():
        pytest.skip("node or web_client/node_modules is missing (npm ci --prefix web_client)")
    out = subprocess.run([node, str(GENERATOR)], input=dumps(document()), cwd=WEB,
                         capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout == COMMITTED.read_text(encoding="utf-8"), (
        "web_client/src/api-types.ts is out of date with the server's models: run "
        "`npm run gen:api --prefix web_client` and fix what `tsc --noEmit` then reports")


def test_two_different_models_of_one_name_are_refused_in_the_document() -> None:
    from pydantic import BaseModel

    from signaling.api.registry import ApiRouter, Route, openapi

    def first() -> type[BaseModel]:
        class ItemOut(BaseModel):
            id: str
        return ItemOut

    def second() -> type[BaseModel]:
        class ItemOut(BaseModel):
            name: str
        return ItemOut

    async def a(request: web.Request) -> web.StreamResponse:
        return web.Response()

    async def b(request: web.Request) -> web.StreamResponse:
        return web.Response()

    api = ApiRouter()
    api.add(Route("GET", "/api/v1/a", a, "A", "anyone", None, first()))
    api.add(Route("GET", "/api/v1/b", b, "B", "anyone", None, second()))
    with pytest.raises(ValueError, match="two different models are named ItemOut"):
        openapi(api, title="t", version="0")
