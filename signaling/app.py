"""The application factory: one aiohttp app with the API, Socket.IO and the web client."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Literal

import socketio
from aiohttp import web
from redis.asyncio import Redis

from signaling.api.registry import ApiRouter, Route, json_response, openapi
from signaling import (
    audio_archive,
    authz,
    dispute_types,
    evidence,
    intake,
    return_visits,
    screenshare,
)
from signaling.api import office as office_routes
from signaling.api.routes import add_routes
from signaling.context import Services
from signaling.db.engine import Database
from signaling.db.migrate import migrate
from signaling.errors import RateLimited, TiaojieError
from signaling.features import Feature, load_features
from signaling.hub import Hub
from signaling.notify import build_notifier
from signaling.keys import API, SERVICES
from signaling.metrics import Metrics, metrics_handler
from signaling.rooms.store import LocalRoomStore, RedisRoomStore
from signaling.schemas import HealthOut
from signaling.settings import Settings, SettingsError
from signaling.sockets.namespace import RoomNamespace, register_event
from signaling.web import add_web_routes, security_headers

log = logging.getLogger("tiaojie.app")

try:
    VERSION = version("tiaojie")
except PackageNotFoundError:  # running from a source tree
    VERSION = "0.0.0"

SHUTDOWN_DISCONNECT_S = 5.0
"""How long shutdown waits for connections to take their close packet."""

Plugin = Callable[[web.Application, Services], Awaitable[None]]


def _error_json(code: str, message: str, status: int) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


def _count_error(request: web.Request, status: int) -> None:
    services = request.app.get(SERVICES)
    if services is not None and "metrics" in services.extras:
        services.extras["metrics"].http_errors.labels(str(status)).inc()


@web.middleware
async def errors_as_json(request: web.Request,
                         handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                         ) -> web.StreamResponse:
    try:
        return await handler(request)
    except TiaojieError as err:
        _count_error(request, err.status)
        resp = web.json_response({"error": err.to_dict()}, status=err.status)
        if isinstance(err, RateLimited):
            resp.headers["Retry-After"] = str(max(1, int(err.retry_after + 0.999)))
        return resp
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        _count_error(request, exc.status)
        code = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}.get(
            exc.status, "http_error")
        resp = _error_json(code, exc.reason, exc.status)
        for h in ("Allow",):
            if h in exc.headers:
                resp.headers[h] = exc.headers[h]
        return resp
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        _count_error(request, 500)
        return _error_json("internal", "Something went wrong; nothing was lost.", 500)


async def healthz(request: web.Request) -> web.Response:
    s = request.app[SERVICES]
    db_state = redis_state = "ok"
    try:
        await s.db.ping()
    except Exception as exc:  # report, do not raise: health must always answer
        db_state = f"error: {type(exc).__name__}"
    if s.redis is None:
        redis_state = "not configured"
    else:
        try:
            await s.redis.ping()
        except Exception as exc:
            redis_state = f"error: {type(exc).__name__}"
    ok = db_state == "ok" and redis_state in ("ok", "not configured")
    out = HealthOut(status="ok" if ok else "degraded", database=db_state, redis=redis_state,
                    node=s.settings.node_id, version=VERSION)
    return json_response(out, status=200 if ok else 503)


def openapi_document(app: web.Application) -> dict[str, Any]:
    """The OpenAPI document of a built app: served at /api/openapi.json, and written by
    ``python3 -m signaling.openapi_dump`` for the client's generated types."""
    return openapi(app[API], title="Tiaojie API", version=VERSION)


async def openapi_json(request: web.Request) -> web.Response:
    doc = openapi_document(request.app)
    return web.Response(text=json.dumps(doc, ensure_ascii=False), content_type="application/json")


def build_app(settings: Settings, *, plugins: list[Plugin] | None = None,
              role: Literal["full", "media"] = "full") -> web.Application:
    """Build the service. ``plugins`` run at start-up to attach optional parts.

    ``role="media"`` is a media node of a cluster (``tiaojie media``): it receives its
    work over Redis (relayed WebRTC messages, room updates) and sends over Redis
    (Socket.IO's channel), so it serves no API, no Socket.IO endpoint and no web client,
    only ``/healthz`` and ``/metrics`` for the operator. Browsers reach it over UDP only.
    """
    settings.check_production()
    if role == "media" and not settings.redis_url:
        raise SettingsError("TIAOJIE_REDIS_URL is required: media nodes join a cluster")
    app = web.Application(middlewares=[security_headers, errors_as_json],
                          client_max_size=max(settings.max_message_bytes, 1024) * 64)
    redis = Redis.from_url(settings.redis_url, decode_responses=False) \
        if settings.redis_url else None
    services = Services(settings=settings, db=Database(settings.database_url),
                        rooms=RedisRoomStore(redis, settings.redis_prefix) if redis else LocalRoomStore(), redis=redis)
    # A media node only emits (to participants seated on signaling nodes).
    manager = socketio.AsyncRedisManager(
        settings.redis_url, channel=f"{settings.redis_prefix}:socketio",
        write_only=role == "media") if settings.redis_url else None
    sio = socketio.AsyncServer(
        async_mode="aiohttp", client_manager=manager,
        cors_allowed_origins=settings.origins,
        # The transport's hard cap closes the connection; keep it well above the
        # message limit so that an oversized message gets a clear error instead.
        max_http_buffer_size=max(settings.max_message_bytes * 16, 1_000_000),
        logger=False, engineio_logger=False, ping_interval=10, ping_timeout=10,
    )
    hub = Hub(services, sio)
    services.notifier = build_notifier(settings)
    services.sio = sio
    services.hub = hub
    services.on_logout.append(hub.logged_out)
    api = ApiRouter()
    api.add(Route("GET", "/healthz", healthz, "Health: database and Redis answer", "anyone",
                  None, HealthOut, tag="ops"))
    services.extras["metrics"] = Metrics()
    if role == "full":
        sio.register_namespace(RoomNamespace(services, hub))
        sio.attach(app)
        add_routes(api)
        evidence.add_routes(api)
        audio_archive.add_routes(api)
        office_routes.add_routes(api)
        intake.add_routes(api)
        dispute_types.add_routes(api)
        return_visits.add_routes(api)
        screenshare.add_events()
    features = load_features() if role == "full" else []
    for feature in features:
        _plug_in(feature, api)
    api.install(app)
    app.router.add_get("/metrics", metrics_handler)
    if role == "full":
        app.router.add_get("/api/openapi.json", openapi_json)
        add_web_routes(app)
    app[SERVICES] = services
    app[API] = api

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        await migrate(services.db)
        reminders = None
        if role == "full" and settings.session_reminder_interval_s > 0:
            from signaling.scheduling import ReminderLoop

            reminders = ReminderLoop(services, settings.session_reminder_interval_s)
            services.extras["session_reminders"] = reminders
            reminders.start()
        visit_reminders = None
        if role == "full" and settings.return_visit_reminder_interval_s > 0:
            from signaling.return_visits import ReturnVisitReminderLoop

            visit_reminders = ReturnVisitReminderLoop(
                services, settings.return_visit_reminder_interval_s)
            services.extras["return_visit_reminders"] = visit_reminders
            visit_reminders.start()
        for plugin in plugins or []:
            await plugin(app, services)
        log.info("tiaojie %s serving on %s (database: %s, redis: %s)", VERSION,
                 settings.public_url, services.db.engine.dialect.name,
                 "yes" if redis else "no")
        yield
        # Disconnect clients first so that they reconnect to another node at once. A
        # long-polling session nobody polls any more never takes its close packet, and
        # engine.io would wait for it forever: the wait is bounded.
        if sio.eio.sockets:
            try:
                await asyncio.wait_for(sio.eio.disconnect(), SHUTDOWN_DISCONNECT_S)
            except TimeoutError:
                log.warning("closing: some connections did not take their close in %s s",
                            SHUTDOWN_DISCONNECT_S)
        await sio.shutdown()
        if reminders is not None:
            await reminders.stop()
        if visit_reminders is not None:
            await visit_reminders.stop()
        await hub.flush()
        await services.media.close()
        archive = services.extras.get("audio_archive")
        if archive is not None:  # after the SFU: its last pages are sealed
            await archive.close()
        if services.notifier is not None:
            await services.notifier.close()
        await services.db.close()
        if redis is not None:
            await redis.aclose()

    app.cleanup_ctx.append(lifecycle)
    # Entered after the core's start-up (migrations, plugins) and left, in reverse
    # order, before the core's teardown: a feature's background work never outlives
    # the database and Redis it uses.
    for feature in features:
        app.cleanup_ctx.append(feature.run)
    return app


def _plug_in(feature: Feature, api: ApiRouter) -> None:
    """Everything a feature contributes before the app starts: its rows of the
    authorization table (``signaling/authz.py`` imports no feature itself), its routes and
    its events on the room namespace."""
    authz.register(feature.name, feature.authorization)
    feature.add_routes(api)
    for event in feature.socket_events():
        register_event(event.name, event.model, event.handler, event.max_bytes)
