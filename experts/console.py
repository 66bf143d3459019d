"""The expert console: a Socket.IO namespace (``/experts``) where an open connection means
"online", rings arrive and experts accept, decline or hang up.

Connect with ``auth={"token": <login token>}`` (or the login cookie). Every event is
acknowledged ``{"ok": true, ...}`` or ``{"ok": false, "error": {"code", "message"}}``,
like the room namespace.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from http.cookies import CookieError, SimpleCookie
from typing import Any, TypeVar

import socketio
from pydantic import BaseModel, ValidationError

from experts.directory import own_profile, to_out
from experts.errors import NotExpert
from experts.schemas import CallRef, DeclineIn
from experts.switchboard import CONSOLE_NAMESPACE, Switchboard, expert_room
from experts.tables import ExpertProfile
from signaling import accounts
from signaling.errors import BadRequest, PayloadTooLarge, RateLimited, TiaojieError, Unauthorized
from signaling.hub import login_room
from signaling.sockets.guards import LIFECYCLE_EVENTS, error_ack, refuse_forged_lifecycle
from signaling.sockets.namespace import COOKIE_NAME

log = logging.getLogger("tiaojie.experts.console")

EVENTS_PER_SECOND = 10.0
BURST = 20.0
MAX_PAYLOAD = 4096

M = TypeVar("M", bound=BaseModel)

CONSOLE_EVENTS: dict[str, type[BaseModel]] = {"accept": CallRef, "decline": DeclineIn,
                                              "hang_up": CallRef}
"""The console's client events with their payloads (for the authorization tests)."""


class ExpertConsole(socketio.AsyncNamespace):  # type: ignore[misc]
    """The ``/experts`` namespace: presence, rings and answers for logged-in experts."""

    def __init__(self, board: Switchboard) -> None:
        super().__init__(CONSOLE_NAMESPACE)
        self.board = board
        self._buckets: dict[str, tuple[float, float]] = {}
        self.local: dict[str, str] = {}
        """sid → expert id of the consoles on this node (vouched for to the presence set)."""
        self.logins: dict[str, str] = {}
        """sid → the login session the console was opened with (checked on every event)."""

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        try:
            profile, login = await self._authenticate(environ, auth)
        except TiaojieError as err:
            log.info("console refused: %s", err.code)
            raise socketio.exceptions.ConnectionRefusedError(err.message, err.to_dict())
        await self.save_session(sid, {"expert_id": profile.id, "login": login})
        await self.enter_room(sid, expert_room(profile.id))
        await self.enter_room(sid, login_room(login))
        self.local[sid] = profile.id
        self.logins[sid] = login
        await self.board.presence.add(profile.id, sid)
        status = (await self.board.status_of([profile.id]))[profile.id]
        await self.emit("console", {
            "profile": to_out(profile, status, full_phone=True).model_dump(mode="json"),  # type: ignore[arg-type]
            "rings": await self.board.pending_for(profile.id)}, to=sid)

    async def logged_out(self, login_session_id: str) -> None:
        """Close this node's consoles opened with a login that was just logged out (on
        other nodes, every event checks the login, so those consoles answer nothing)."""
        room = login_room(login_session_id)
        for sid, _eio_sid in list(self.server.manager.get_participants(self.namespace, room)):
            await self.disconnect(sid)

    async def _authenticate(self, environ: dict[str, Any],
                            auth: Any) -> tuple[ExpertProfile, str]:
        token = auth.get("token") if isinstance(auth, dict) else None
        if not isinstance(token, str) or len(token) > 200:
            token = None
        token = token or _login_cookie(environ)
        if not token:
            raise Unauthorized("Log in to open the expert console.", code="login_required")
        async with self.board.s.db.session() as db:
            principal = await accounts.principal_for_token(db, token)
            if principal is None:
                raise Unauthorized("Your login has expired.", code="login_required")
            profile = await own_profile(db, principal)
        if not profile.active:
            raise NotExpert()
        return profile, principal.login_session_id

    async def on_disconnect(self, sid: str, reason: Any = None) -> None:
        self._buckets.pop(sid, None)
        self.logins.pop(sid, None)
        expert_id = self.local.pop(sid, None)
        if expert_id is not None:
            await self.board.presence.remove(expert_id, sid)

    # -- plumbing ----------------------------------------------------------------
    def _limit(self, sid: str) -> None:
        tokens, last = self._buckets.get(sid, (BURST, time.monotonic()))
        now = time.monotonic()
        tokens = min(BURST, tokens + (now - last) * EVENTS_PER_SECOND)
        if tokens < 1.0:
            self._buckets[sid] = (tokens, now)
            raise RateLimited("Too many messages; slow down.",
                              retry_after=(1.0 - tokens) / EVENTS_PER_SECOND)
        self._buckets[sid] = (tokens - 1.0, now)

    def _parse(self, model: type[M], data: Any) -> M:
        if not isinstance(data, dict):
            raise BadRequest("The payload must be a JSON object.", code="invalid_payload")
        if len(json.dumps(data, default=str)) > MAX_PAYLOAD:
            raise PayloadTooLarge("This message is too large.", code="payload_too_large")
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            problems = [f"{'.'.join(str(p) for p in e['loc']) or 'payload'}: {e['msg']}"
                        for e in exc.errors()[:5]]
            raise BadRequest("Invalid payload: " + "; ".join(problems),
                             code="invalid_payload") from None

    async def _run(self, sid: str, event: str, data: Any,
                   fn: Callable[[ExpertProfile, Any], Awaitable[dict[str, Any] | None]]
                   ) -> dict[str, Any]:
        try:
            self._limit(sid)
            payload = self._parse(CONSOLE_EVENTS[event], data)
            expert_id = self.local.get(sid)
            if expert_id is None:
                raise Unauthorized("Open the console first.", code="not_joined")
            async with self.board.s.db.session() as db:
                login = self.logins.get(sid)
                if login is None or not await accounts.login_active(db, login):
                    raise Unauthorized("Your login has ended; log in again.",
                                       code="login_required")
                profile = await db.get(ExpertProfile, expert_id)
            if profile is None or not profile.active:
                raise NotExpert()
            return {"ok": True, **(await fn(profile, payload) or {})}
        except TiaojieError as err:
            return error_ack(err)
        except Exception:
            log.exception("console event %s failed", event)
            return error_ack(TiaojieError("Something went wrong.", code="internal", status=500))

    # -- events ------------------------------------------------------------------
    async def on_accept(self, sid: str, data: Any = None) -> dict[str, Any]:
        async def go(p: ExpertProfile, body: CallRef) -> dict[str, Any]:
            g = await self.board.answer(p, body.call_id)
            return {"grant": {"token": g.token, "session_id": g.session_id,
                              "participant_id": g.participant_id, "scope": g.scope,
                              "caucus_id": g.caucus_id}}
        return await self._run(sid, "accept", data, go)

    async def on_decline(self, sid: str, data: Any = None) -> dict[str, Any]:
        async def go(p: ExpertProfile, body: DeclineIn) -> None:
            await self.board.decline(p, body.call_id)
        return await self._run(sid, "decline", data, go)

    async def on_hang_up(self, sid: str, data: Any = None) -> dict[str, Any]:
        async def go(p: ExpertProfile, body: CallRef) -> None:
            await self.board.hang_up(p, body.call_id)
        return await self._run(sid, "hang_up", data, go)

    async def trigger_event(self, event: str, *args: Any) -> Any:
        # The same guard as the room namespace: a client packet named like a lifecycle
        # callback would otherwise mark this expert offline while connected.
        refused = await refuse_forged_lifecycle(self, event, args)
        if refused is not None:
            return refused
        if event not in CONSOLE_EVENTS and event not in LIFECYCLE_EVENTS:
            err = BadRequest(f"Unknown event {event!r}.", code="unknown_event")
            return error_ack(err)
        return await super().trigger_event(event, *args)


def _login_cookie(environ: dict[str, Any]) -> str | None:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(environ.get("HTTP_COOKIE", ""))
    except CookieError:
        return None
    morsel = jar.get(COOKIE_NAME)
    return morsel.value if morsel else None
