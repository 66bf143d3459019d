"""RoomNamespace: validate the payload, check the seat, call one Hub method, acknowledge.

Every handler answers through the Socket.IO acknowledgement: ``{"ok": true, ...}`` or
``{"ok": false, "error": {"code", "message"}}``; a failing handler also emits ``error``
with the same body. A bad payload never drops the connection or touches the room.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from http.cookies import SimpleCookie
from typing import Any, TypeVar

import socketio
from pydantic import BaseModel, ValidationError

from signaling import accounts, ratelimit
from signaling.context import Services
from signaling.errors import (
    BadRequest,
    InviteError,
    PayloadTooLarge,
    RateLimited,
    TiaojieError,
    Unauthorized,
)
from signaling.hub import Hub, login_room, participant_room
from signaling.schemas import (
    CaucusCreateIn,
    CaucusEndIn,
    CaucusExtendIn,
    CaucusMoveIn,
    ChatIn,
    DenyIn,
    HandIn,
    In,
    InterpreterAttachIn,
    JoinAuth,
    LobbyMessageIn,
    MuteIn,
    SharedDeviceIn,
    SignalIn,
    TargetIn,
    VoiceEnrollIn,
)
from signaling.seats import Seat
from signaling.sockets.guards import LIFECYCLE_EVENTS, error_ack, refuse_forged_lifecycle

log = logging.getLogger("tiaojie.signaling")

COOKIE_NAME = "tiaojie_session"
EVENTS_PER_SECOND = 20.0
"""Sustained event rate one connection may send (a token bucket); bursts up to BURST."""
BURST = 40.0

M = TypeVar("M", bound=BaseModel)


class _Empty(In):
    pass


# The one list of client events, with their payload model. The authorization table
# (tests) and the fuzzers read it, so nothing ships unlisted.
EVENTS: dict[str, type[BaseModel]] = {
    "admit": TargetIn, "deny": DenyIn, "send_back": TargetIn, "remove": TargetIn,
    "mute": MuteIn, "request_mute": MuteIn, "shared_device": SharedDeviceIn,
    "voice_enroll": VoiceEnrollIn,
    "caucus_create": CaucusCreateIn, "caucus_move": CaucusMoveIn, "caucus_end": CaucusEndIn,
    "caucus_return_all": _Empty, "chat": ChatIn, "hand": HandIn, "signal": SignalIn,
    "state": _Empty, "leave": _Empty, "end_session": _Empty, "lobby_message": LobbyMessageIn,
    "caucus_extend": CaucusExtendIn, "interpreter_attach": InterpreterAttachIn,
}


@dataclass(frozen=True)
class ExtraEvent:
    """A Socket.IO event contributed by another package (agreements, experts, ...)."""

    model: type[BaseModel]
    handler: Callable[[Services, dict[str, Any], Any], Awaitable[dict[str, Any] | None]]
    max_bytes: int | None = None
    """A larger payload limit than the room's default (a drawn signature image)."""
    """Called with the services, the caller's seat as a dict (``Seat.as_dict``: session_id,
    participant_id, role, login, sid) and the validated payload; raises TiaojieError
    subclasses to refuse."""


EXTRA_EVENTS: dict[str, ExtraEvent] = {}


def register_event(name: str, model: type[BaseModel],
                   handler: Callable[[Services, dict[str, Any], Any],
                                     Awaitable[dict[str, Any] | None]],
                   max_bytes: int | None = None) -> None:
    """Add an event to the namespace; it is validated, rate-limited and acknowledged like
    the built-in ones and listed in ``EVENTS`` for the authorization table and fuzzers."""
    if name in EVENTS and name not in EXTRA_EVENTS:
        raise ValueError(f"event {name!r} already exists")
    EXTRA_EVENTS[name] = ExtraEvent(model, handler, max_bytes)
    EVENTS[name] = model


def _validation_error(exc: ValidationError) -> BadRequest:
    problems = [f"{'.'.join(str(p) for p in e['loc']) or 'payload'}: {e['msg']}"
                for e in exc.errors()[:5]]
    return BadRequest("Invalid payload: " + "; ".join(problems), code="invalid_payload")


class RoomNamespace(socketio.AsyncNamespace):  # type: ignore[misc]
    """The default namespace: joining, the lobby, the room, caucuses, chat and media relay."""

    def __init__(self, services: Services, hub: Hub) -> None:
        super().__init__("/")
        self.s = services
        self.hub = hub
        self._buckets: dict[str, tuple[float, float]] = {}
        self._closing: set[asyncio.Future[None]] = set()

    # -- plumbing ------------------------------------------------------------------
    def _limit(self, sid: str) -> None:
        tokens, last = self._buckets.get(sid, (BURST, time.monotonic()))
        now = time.monotonic()
        tokens = min(BURST, tokens + (now - last) * EVENTS_PER_SECOND)
        if tokens < 1.0:
            self._buckets[sid] = (tokens, now)
            raise RateLimited("Too many messages; slow down.",
                              retry_after=(1.0 - tokens) / EVENTS_PER_SECOND)
        self._buckets[sid] = (tokens - 1.0, now)

    def _parse(self, model: type[M], data: Any, event: str | None = None) -> M:
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise BadRequest("The payload must be a JSON object.", code="invalid_payload")
        size = len(json.dumps(data, default=str))
        extra = EXTRA_EVENTS.get(event) if event else None
        limit = (extra.max_bytes if extra and extra.max_bytes else
                 self.s.settings.max_message_bytes)
        if size > limit:
            raise PayloadTooLarge("This message is too large.", code="payload_too_large")
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            raise _validation_error(exc) from None

    def _count(self, event: str, outcome: str) -> None:
        m = self.s.extras.get("metrics")
        if m is not None:
            m.events.labels(event if event in EVENTS else "unknown", outcome).inc()

    async def _seat(self, sid: str) -> Seat:
        """The caller's seat, if it still holds: the session has not ended, and a staff
        member's login has not ended (logout, expiry, a disabled account)."""
        stored: dict[str, Any] = await self.get_session(sid)
        if not stored.get("participant_id"):
            raise Unauthorized("Join a session first.", code="not_joined")
        seat = Seat.from_session(stored)
        room = await self.s.rooms.get(seat.session_id)
        if room is None or room.ended:
            await self._drop(sid)
            raise TiaojieError("This session has ended.", code="session_ended", status=410)
        if seat.login is not None:
            async with self.s.db.session() as db:
                active = await accounts.login_active(db, seat.login)
            if not active:
                await self._drop(sid)
                raise Unauthorized("Your login has ended; log in again.",
                                   code="login_required")
        return seat

    async def _drop(self, sid: str) -> None:
        """Close a connection whose seat no longer holds, once its refusal is answered."""
        async def later() -> None:
            await asyncio.sleep(0.05)
            await self.disconnect(sid)
        task = asyncio.ensure_future(later())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def _run(self, sid: str, event: str, data: Any,
                   fn: Callable[[Seat, Any], Awaitable[dict[str, Any] | None]]
                   ) -> dict[str, Any]:
        try:
            self._limit(sid)
            payload = self._parse(EVENTS[event], data, event)
            seat = await self._seat(sid)
            result = await fn(seat, payload)
            self._count(event, "ok")
            return {"ok": True, **(result or {})}
        except TiaojieError as err:
            self._count(event, err.code)
            body = error_ack(err)
            if isinstance(err, RateLimited):
                body["error"]["retry_after"] = round(err.retry_after, 2)
            await self.emit("error", {"event": event, **body["error"]}, to=sid)
            return body
        except Exception:
            self._count(event, "internal")
            log.exception("event %s failed", event)
            internal = TiaojieError("Something went wrong; the room is unaffected.",
                                    code="internal", status=500)
            await self.emit("error", {"event": event, **internal.to_dict()}, to=sid)
            return error_ack(internal)

    # -- connection ----------------------------------------------------------------
    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        try:
            seat, login = await self._join(environ, auth)
        except TiaojieError as err:
            log.info("join refused: %s", err.code)
            body = err.to_dict()
            if isinstance(err, RateLimited):
                body["retry_after"] = round(err.retry_after, 2)
            raise socketio.exceptions.ConnectionRefusedError(err.message, body)
        except Exception:
            log.exception("join failed")
            internal = TiaojieError("The server could not seat you; please try again.",
                                    code="internal", status=500)
            raise socketio.exceptions.ConnectionRefusedError(internal.message,
                                                             internal.to_dict()) from None
        await self.save_session(sid, replace(seat, login=login).to_session())
        await self.enter_room(sid, participant_room(seat.participant_id))
        if login is not None:
            await self.enter_room(sid, login_room(login))
        await self.hub.connection_opened(seat.session_id, seat.participant_id, sid)
        welcome = await self.hub.welcome(seat)
        await self.emit("joined", welcome, to=sid)
        await self.hub.send_lobby(seat)

    async def _join(self, environ: dict[str, Any], auth: Any) -> tuple[Seat, str | None]:
        """The seat, and the staff login it was opened with (None for a party's link)."""
        if not isinstance(auth, dict):
            raise BadRequest("Connect with an invitation, a seat or a login.", code="no_auth")
        a = self._parse(JoinAuth, auth)
        if a.resume:
            return await self.hub.join_with_resume(a.resume), None
        if a.invite:
            if not a.name:
                raise BadRequest("Please give your name.", code="name_required")
            if not a.consent:
                raise BadRequest("Consent to recording and transcription is needed to join.",
                                 code="consent_required")
            limiter = ratelimit.limiter_for(self.s)
            ip = _peer_address(environ, self.s.settings)
            await limiter.ensure_not_blocked(ratelimit.INVITE_PER_IP, ip)
            try:
                # Several people said they share the device: the mediator sees who.
                names = list(dict.fromkeys(a.shared_names))
                return await self.hub.join_with_invite(a.invite, a.name, a.consent,
                                                       a.joined_from,
                                                       names if len(names) > 1 else None), None
            except InviteError:
                # Only failed links count: a whole office behind one address still joins,
                # while someone trying guessed or leaked-and-revoked links is stopped.
                await limiter.hit(ratelimit.INVITE_PER_IP, ip)
                raise
        token = a.token or _cookie(environ, COOKIE_NAME)
        if token and a.session_id:
            async with self.s.db.session() as db:
                principal = await accounts.principal_for_token(db, token)
            if principal is None:
                raise Unauthorized("Your login has expired.", code="login_required")
            seat = await self.hub.join_as_staff(principal, a.session_id)
            return seat, principal.login_session_id
        raise BadRequest("Connect with an invitation, a seat or a login and a session id.",
                         code="no_auth")

    async def on_disconnect(self, sid: str, reason: Any = None) -> None:
        self._buckets.pop(sid, None)
        try:
            stored = await self.get_session(sid)
        except KeyError:
            return
        if not stored.get("participant_id"):
            return
        seat = Seat.from_session(stored)
        last = await self.hub.connection_closed(seat.session_id, seat.participant_id, sid)
        if last and not stored.get("left"):
            await self.hub.disconnected(seat.session_id, seat.participant_id)

    # -- events: one line each ---------------------------------------------------------
    async def on_admit(self, sid: str, data: Any = None) -> dict[str, Any]:
        return await self._run(sid, "admit", data, lambda s, p: self.hub.admit(
            s.session_id, s.participant_id, p.participant_id))

    async def on_deny(self, sid: str, data: Any = None) -> dict[str, Any]:
        return await self._run(sid, "deny", data, lambda s, p: self.hub.deny(
            s.session_id, s.participant_id, p.participant_id, p.reason))

    async def on_send_back(self, sid: str, data: Any = None) -> dict[str, Any]:
        return await self._run(sid, "send_back", data, lambda s, p: self.hub.send_back(
            s.session_id, s.participant_id, p.participant_id))

    async def on_remove(self, sid: str, data: Any = None) -> dict[str, Any]:
        return await self._run(sid, "remove", data, lambda s, p: self.hub.remove(
            s.session_id, s.participant_id, p.participant_id))

    async def on_mute(self, sid: str, data: Any = None) -> dict[str, Any]:
        return await self._run(sid, "mute", data, lambda s, p: self.hub.mute(
            s.session_id, s.participant_id, p.participant_id, p.source, p.muted))

    async def on_request_mute(self, sid: str, data: Any = None) -> dict[str, Any]:
        return await self._run(sid, "request_mute", data, lambda s, p: self.hub.request_mute(
            s.session_id, s.participant_id, p.participant_id, p.source))

    async def on_shared_device(self, sid: str, data: Any = None) -> dict[str, Any]:
        return await self._run(sid, "shared_device", data, lambda s, p:
                               self.hub.set_shared_device(s.session_id, s.participant_id,
                                                          p.participant_id, p.people))

    async def on_voice_enroll(self, sid: str, data: Any = None) -> dict[str, Any]:
        return await self._run(sid, "voice_enroll", data, lambda s, p:
                               self.hub.enroll_voice(s.session_id, s.participant_id,
                                                     p.participant_id, p.name))

    async def on_caucus_create(self, sid: str, data: Any = None) -> dict[str, Any]:
        async def go(s: Seat, p: CaucusCreateIn) -> dict[str, Any]:
            cid = await self.hub.create_caucus(s.session_id, s.participant_id, p.name,
                                               p.members, p.limit_minutes)
            return {"caucus_id": cid}
        return await self._run(sid, "caucus_create", data, go)

    async def on_caucus_extend(self, sid: str, data: Any = None) -> dict[str, Any]:
        async def go(s: Seat, p: CaucusExtendIn) -> dict[str, Any]:
            limit = await self.hub.extend_caucus(s.session_id, s.participant_id,
                                                 p.caucus_id, p.minutes)
            return {"limit_s": limit}
        return await self._run(sid, "caucus_extend", data, go)

    async def on_interpreter_attach(self, sid: str, data: Any = None) -> dict[str, Any]:
        return await self._run(sid, "interpreter_attach", data, lambda s, p:
                               self.hub.attach_interpreter(s.session_id, s.participant_id,
                                                           p.participant_id, p.interprets_for))

    async def on_caucus_move(self, sid: str, data: Any = None) -> dict[str, Any]:
        return await self._run(sid, "caucus_move", data, lambda s, p: self.hub.move(
            s.session_id, s.participant_id, p.participant_id, p.caucus_id))

    async def on_caucus_end(self, sid: str, data: Any = None) -> dict[str, Any]:
        return await self._run(sid, "caucus_end", data, lambda s, p: self.hub.end_caucus(
            s.session_id, s.participant_id, p.caucus_id))

    async def on_caucus_return_all(self, sid: str, data: Any = None) -> dict[str, Any]:
        return await self._run(sid, "caucus_return_all", data, lambda s, p: self.hub.return_all(
            s.session_id, s.participant_id))

    async def on_chat(self, sid: str, data: Any = None) -> dict[str, Any]:
        async def go(s: Seat, p: ChatIn) -> dict[str, Any]:
            if len(p.text) > self.s.settings.chat_max_chars:
                raise PayloadTooLarge("This message is too long.", code="payload_too_large")
            msg = await self.hub.chat(s.session_id, s.participant_id, p.text)
            return {"id": msg["id"]}
        return await self._run(sid, "chat", data, go)

    async def on_lobby_message(self, sid: str, data: Any = None) -> dict[str, Any]:
        async def go(s: Seat, p: LobbyMessageIn) -> dict[str, Any]:
            reached = await self.hub.message_lobby(s.session_id, s.participant_id, p.text)
            return {"reached": reached}
        return await self._run(sid, "lobby_message", data, go)

    async def on_hand(self, sid: str, data: Any = None) -> dict[str, Any]:
        return await self._run(sid, "hand", data, lambda s, p: self.hub.raise_hand(
            s.session_id, s.participant_id, p.raised))

    async def on_signal(self, sid: str, data: Any = None) -> dict[str, Any]:
        async def go(s: Seat, p: SignalIn) -> dict[str, Any]:
            answer = await self.hub.signal(s.session_id, s.participant_id,
                                           p.model_dump(exclude_none=True))
            return {"answer": answer} if answer else {}
        return await self._run(sid, "signal", data, go)

    async def on_state(self, sid: str, data: Any = None) -> dict[str, Any]:
        async def go(s: Seat, p: Any) -> dict[str, Any]:
            return await self.hub.welcome(s)
        return await self._run(sid, "state", data, go)

    async def on_leave(self, sid: str, data: Any = None) -> dict[str, Any]:
        async def go(s: Seat, p: Any) -> None:
            stored = await self.get_session(sid)
            stored["left"] = True  # so that the disconnect that follows is not a drop
            await self.save_session(sid, stored)
            await self.hub.leave(s.session_id, s.participant_id)
        return await self._run(sid, "leave", data, go)

    async def on_end_session(self, sid: str, data: Any = None) -> dict[str, Any]:
        return await self._run(sid, "end_session", data, lambda s, p: self.hub.end_session(
            s.session_id, s.participant_id))

    async def trigger_event(self, event: str, *args: Any) -> Any:
        refused = await refuse_forged_lifecycle(self, event, args)
        if refused is not None:
            return refused
        extra = EXTRA_EVENTS.get(event)
        if extra is not None and args:
            data = args[1] if len(args) > 1 else None
            sid = args[0]
            return await self._run(sid, event, data, lambda seat, payload: extra.handler(
                self.s, seat.as_dict(sid), payload))
        # Unknown events get a clear error instead of silence.
        if event not in EVENTS and event not in LIFECYCLE_EVENTS:
            sid = args[0] if args else None
            if sid is not None:
                err = BadRequest(f"Unknown event {event!r}.", code="unknown_event")
                await self.emit("error", {"event": event, **err.to_dict()}, to=sid)
                return error_ack(err)
            return None
        return await super().trigger_event(event, *args)


def _peer_address(environ: dict[str, Any], settings: Any) -> str:
    """The caller's address for the limits. python-engineio's aiohttp driver sets
    REMOTE_ADDR to a constant 127.0.0.1, so read the aiohttp request itself."""
    request = environ.get("aiohttp.request")
    remote = getattr(request, "remote", None)
    return ratelimit.client_ip(remote, environ.get("HTTP_X_FORWARDED_FOR"),
                               ratelimit.trusted_proxies(settings))


def _cookie(environ: dict[str, Any], name: str) -> str | None:
    raw = environ.get("HTTP_COOKIE", "")
    if not raw:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw)
    except Exception:
        return None
    morsel = jar.get(name)
    return morsel.value if morsel else None
