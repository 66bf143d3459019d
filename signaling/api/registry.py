"""Routes as data: each HTTP route is declared once with its models, and the OpenAPI
document is generated from the same declarations, so the two cannot drift apart."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ValidationError

from signaling.errors import BadRequest, PayloadTooLarge
from signaling.schemas import ErrorOut

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Route:
    """One HTTP route: method, path, models and who may call it."""

    method: str
    path: str
    handler: Handler
    summary: str
    access: str
    """Who may call it, in words; the authorization table in tests holds the exact rule."""
    body: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    tag: str = "api"
    query: tuple[tuple[str, str], ...] = ()
    """(name, description) of query parameters (all strings, optional)."""
    content_type: str = "application/json"
    error_content_type: str = "application/json"
    """How refusals are answered: JSON ``ErrorOut`` for the API, ``text/html`` for a page
    that shows its own errors."""


@dataclass
class ApiRouter:
    """Collects routes, then installs them on an aiohttp app."""

    routes: list[Route] = field(default_factory=list)

    def add(self, route: Route) -> None:
        self.routes.append(route)

    def install(self, app: web.Application) -> None:
        for r in self.routes:
            app.router.add_route(r.method, r.path, r.handler)


async def read_limited(request: web.Request, limit: int,
                       message: str = "The request body is too large.") -> bytes:
    """The whole request body, refused with 413 ``payload_too_large`` past ``limit`` bytes.

    ``StreamReader.read(n)`` returns what has arrived so far (at most ``n`` bytes), not the
    body: a large upload sent in several packets would be cut short. This reads to the end.
    """
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(message, code="payload_too_large")
    parts: list[bytes] = []
    size = 0
    while True:
        chunk = await request.content.read(min(limit + 1 - size, 1 << 20))
        if not chunk:
            return b"".join(parts)
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(message, code="payload_too_large")
        parts.append(chunk)


async def read_body(request: web.Request, model: type[Any], limit: int) -> Any:
    """Parse and validate a JSON body into ``model``; a clear 4xx for anything else."""
    raw = await read_limited(request, limit)
    try:
        data = json.loads(raw or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("The body is not valid JSON.", code="invalid_json") from None
    if not isinstance(data, dict):
        raise BadRequest("The body must be a JSON object.", code="invalid_payload")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}"
                    for e in exc.errors()[:8]]
        raise BadRequest("Invalid request: " + "; ".join(problems),
                         code="invalid_payload") from None


def json_response(model: BaseModel, status: int = 200) -> web.Response:
    return web.Response(text=model.model_dump_json(), status=status,
                        content_type="application/json")


def _schema_ref(model: type[BaseModel], components: dict[str, Any]) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, sub in schema.pop("$defs", {}).items():
        _add_component(components, name, sub)
    _add_component(components, model.__name__, schema)
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _add_component(components: dict[str, Any], name: str, schema: dict[str, Any]) -> None:
    """Components are keyed by the model's class name: two different models of one name
    would silently describe one route with the other's fields (and the client's generated
    types with them), so that is refused."""
    if components.get(name, schema) != schema:
        raise ValueError(f"two different models are named {name}: rename one "
                         "(OpenAPI components are keyed by the class name)")
    components[name] = schema


def openapi(router: ApiRouter, *, title: str, version: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every declared route."""
    components: dict[str, Any] = {}
    error_ref = _schema_ref(ErrorOut, components)
    paths: dict[str, Any] = {}
    for r in router.routes:
        op: dict[str, Any] = {"summary": r.summary, "description": f"Access: {r.access}",
                              "tags": [r.tag], "operationId": _op_id(r)}
        params = [{"name": n, "in": "path", "required": True,
                   "schema": {"type": "string", "pattern": "^[0-9A-Za-z_-]{1,64}$"}}
                  for n in re.findall(r"{(\w+)}", r.path)]
        params += [{"name": n, "in": "query", "required": False, "description": d,
                    "schema": {"type": "string", "maxLength": 200}} for n, d in r.query]
        if params:
            op["parameters"] = params
        if r.body is not None:
            op["requestBody"] = {"required": True, "content": {
                "application/json": {"schema": _schema_ref(r.body, components)}}}
        ok: dict[str, Any] = {"description": "Success"}
        if r.response is not None:
            ok["content"] = {r.content_type: {"schema": _schema_ref(r.response, components)}}
        elif r.content_type != "application/json":
            fmt = "binary" if not r.content_type.startswith("text/") else None
            ok["content"] = {r.content_type: {"schema": {"type": "string",
                                                         **({"format": fmt} if fmt else {})}}}
        responses: dict[str, Any] = {str(r.status): ok}
        for code, text in (("400", "Invalid input"), ("401", "Not logged in"),
                           ("403", "Not allowed"), ("404", "Not found"),
                           ("409", "Conflict"), ("413", "Too large"), ("429", "Too many requests")):
            schema = error_ref if r.error_content_type == "application/json" else {
                "type": "string"}
            responses[code] = {"description": text,
                               "content": {r.error_content_type: {"schema": schema}}}
        op["responses"] = responses
        if r.access != "anyone":
            op["security"] = [{"cookie": []}, {"bearer": []}]
        paths.setdefault(r.path, {})[r.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "cookie": {"type": "apiKey", "in": "cookie", "name": "tiaojie_session"},
                "bearer": {"type": "http", "scheme": "bearer"},
            },
        },
    }


def _op_id(r: Route) -> str:
    return r.handler.__name__
