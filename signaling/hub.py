"""The Hub: turns what participants ask for into room changes, log entries and broadcasts.

Every broadcast names its audience explicitly from the room state (a list of
participants), never a Socket.IO room that might hold someone who moved: what is said
in a caucus reaches exactly the members of that caucus.

The Hub is the facade that callers hold; three parts live in their own modules and keep
their names here: joining and the lobby (``signaling.joining``), the event-log writer
(``signaling.eventlog_writer``) and the reconnect grace timers (``signaling.grace``).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import Any

import socketio

from signaling.accounts import Principal
from signaling.context import Services
from signaling.db.base import utcnow
from signaling.db.models import MediationSession
from signaling.errors import Conflict, Forbidden, NotFound, TiaojieError
from signaling.eventlog_writer import EventLogWriter
from signaling.grace import ReconnectGrace
from signaling.grants import ensure_admin, ensure_chat, ensure_screen
from signaling.joining import Joining
from signaling.rooms.room import Member, Room
from signaling.seats import ParticipantId, Seat, SessionId

log = logging.getLogger("tiaojie.hub")


def participant_room(participant_id: str) -> str:
    """The Socket.IO room holding one participant's connections (on any node)."""
    return f"p:{participant_id}"


def login_room(login_session_id: str) -> str:
    """The Socket.IO room holding every connection opened with one staff login."""
    return f"login:{login_session_id}"


def _offers_screen(message: dict[str, Any]) -> bool:
    """Whether an offer would publish a screen: declared as one, or a second video m-line
    (the SFU takes an undeclared second video for the screen)."""
    sources = message.get("sources") or {}
    return "screen" in sources.values() or str(message.get("sdp") or "").count("m=video") > 1


class Hub:
    """Room operations for the Socket.IO namespace and the HTTP API."""

    def __init__(self, services: Services, sio: socketio.AsyncServer) -> None:
        self.s = services
        self.sio = sio
        self._background: set[asyncio.Task[None]] = set()
        self.events = EventLogWriter(services)
        self.joining = Joining(self)
        self.grace = ReconnectGrace(self)

    # -- the parts' names, as callers know them ----------------------------------
    async def log_event(self, session_id: str, kind: str, *, actor_id: str | None = None,
                        caucus_id: str | None = None, payload: dict[str, Any] | None = None
                        ) -> int:
        return await self.events.log_event(session_id, kind, actor_id=actor_id,
                                           caucus_id=caucus_id, payload=payload)

    async def flush(self) -> None:
        """Wait until every written-behind event is stored, then stop the writers."""
        await self.events.flush()

    async def join_with_invite(self, token: str, name: str, consent: bool,
                               joined_from: str, shared_names: list[str] | None = None) -> Seat:
        return await self.joining.join_with_invite(token, name, consent, joined_from,
                                                   shared_names)

    async def join_with_resume(self, token: str) -> Seat:
        return await self.joining.join_with_resume(token)

    async def join_as_staff(self, principal: Principal, session_id: str) -> Seat:
        return await self.joining.join_as_staff(principal, session_id)

    async def welcome(self, seat: Seat) -> dict[str, Any]:
        return await self.joining.welcome(seat)

    def rtc_for(self, room: Room, m: Member) -> dict[str, Any]:
        return self.joining.rtc_for(room, m)

    async def send_lobby(self, seat: Seat) -> None:
        await self.joining.send_lobby(seat)

    async def admit(self, session_id: str, actor_id: str, target_id: str) -> None:
        await self.joining.admit(session_id, actor_id, target_id)

    async def deny(self, session_id: str, actor_id: str, target_id: str, reason: str) -> None:
        await self.joining.deny(session_id, actor_id, target_id, reason)

    async def send_back(self, session_id: str, actor_id: str, target_id: str) -> None:
        await self.joining.send_back(session_id, actor_id, target_id)

    async def disconnected(self, session_id: str, participant_id: str) -> None:
        await self.grace.disconnected(session_id, participant_id)

    # -- emitting ----------------------------------------------------------
    async def emit_to(self, participant_ids: list[str], event: str, data: Any) -> None:
        if participant_ids:
            await self.sio.emit(event, data, to=[participant_room(p) for p in participant_ids],
                                namespace="/")

    async def broadcast_layout(self, room: Room) -> None:
        admins = [m.participant_id for m in room.in_room() if m.grants.room_admin]
        others = [m.participant_id for m in room.in_room()
                  if not m.grants.room_admin and m.grants.caucus_scope is None]
        scoped = [m.participant_id for m in room.in_room()
                  if not m.grants.room_admin and m.grants.caucus_scope is not None]
        await self.emit_to(admins, "layout", room.layout(for_admin=True))
        by_space: dict[str | None, list[str]] = {}
        for pid in others:  # a caucus's name only to its members
            by_space.setdefault(room.members[pid].caucus_id, []).append(pid)
        for space, pids in by_space.items():
            await self.emit_to(pids, "layout", room.layout(for_admin=False, member_of=space))
        for pid in scoped:  # each sees only the caucus they are limited to
            await self.emit_to([pid], "layout", room.layout_for(pid))
        await self.emit_to(admins, "lobby", {"waiting": [m.public(for_admin=True)
                                                         for m in room.lobby()]})

    async def _after_change(self, room: Room) -> None:
        await self.broadcast_layout(room)
        try:
            await self.s.media.update_room(room)
        except Exception:  # an error in the media layer never breaks signaling
            log.exception("media update failed for session %s", room.session_id)

    async def leave(self, session_id: str, participant_id: str) -> None:
        async with self.s.rooms.edit(session_id) as room:
            room.leave(participant_id)
        self.grace.cancel(participant_id)
        await self.s.media.remove_participant(session_id, participant_id)
        await self.log_event(session_id, "participant.left", actor_id=participant_id,
                             payload={"reason": "left"})
        await self._after_change(room)

    # -- the mediator's controls -------------------------------------------------
    async def _admin_edit(self, session_id: str, actor_id: str) -> Room:
        room = await self.s.rooms.get(session_id)
        if room is None:
            raise NotFound("No such session.", code="session_not_found")
        ensure_admin(room.member(actor_id).grants)
        return room

    async def refresh_speech_context(self, session_id: str) -> None:
        """Give the recognizer the session's vocabulary again (case data and who is
        seated): installed by transcription as ``speech_context``; never stops the room.
        The media node transcribing the session (in a cluster) is told as well."""
        await self._refresh_local_context(session_id)
        try:
            await self._speech_to_media(session_id)
        except TiaojieError as err:  # the media node refused: captions lose context only
            log.warning("speech settings of session %s not applied by its media node: %s",
                        session_id, err.code)

    async def _refresh_local_context(self, session_id: str) -> None:
        refresh = self.s.extras.get("speech_context")
        if refresh is None:
            return
        try:
            await refresh(session_id)
        except Exception:  # captions without context are still captions
            log.exception("could not load the speech context of session %s", session_id)

    async def _speech_to_media(self, session_id: str) -> bool | None:
        """Tell the node whose SFU carries the session (a ``tiaojie media`` node, or
        another ``serve`` node) that its speech settings changed; it reads them again
        from the shared state (``sync_speech``). True/False: that node has captions on
        or off; None: not relayed (the session runs here, or on no node yet). Raises the
        remote node's refusal (``voices_unavailable``)."""
        relay = getattr(self.s.media, "speech_changed", None)
        if relay is None:
            return None
        try:
            result: bool | None = await relay(session_id)
        except TiaojieError:
            raise
        except Exception:  # the media node is away: it syncs when the session lands
            log.warning("could not relay speech settings of session %s", session_id,
                        exc_info=True)
            return None
        return result

    async def sync_speech(self, session_id: str) -> bool:
        """Apply a session's speech settings to this node's pipeline from the shared
        state (the database and the room in Redis): its language, its case vocabulary,
        its shared-device seats and a pending voice enrollment. Idempotent: run when a
        session lands on this media node and whenever another node changes a setting.
        False when this node transcribes nothing."""
        pipeline = self.s.extras.get("transcription")
        if pipeline is None:
            return False
        async with self.s.db.session() as db:
            session = await db.get(MediationSession, session_id)
            language = session.language if session is not None else None
        if language:
            try:
                pipeline.set_language(session_id, language)
            except Exception as exc:  # an unsupported language turns captions off
                log.warning("captions unavailable for session %s: %s", session_id, exc)
        await self._refresh_local_context(session_id)
        room = await self.s.rooms.get(session_id)
        if room is None:
            return True
        for m in room.members.values():
            try:
                if m.shared_device > 1:
                    pipeline.mark_shared_device(session_id, m.participant_id, m.shared_device)
                    pipeline.enroll_next(session_id, m.participant_id, m.enrolling)
                else:  # one person (again): nothing split, nothing enrolled
                    pipeline.mark_shared_device(session_id, m.participant_id, 1)
            except Exception as exc:  # the voice encoder's weights are missing
                raise Conflict(getattr(exc, "message", str(exc)),
                               code="voices_unavailable") from exc
        return True

    async def remove(self, session_id: str, actor_id: str, target_id: str) -> None:
        await self._admin_edit(session_id, actor_id)
        async with self.s.rooms.edit(session_id) as room:
            room.remove(target_id)
        await self.s.media.remove_participant(session_id, target_id)
        await self.log_event(session_id, "participant.removed", actor_id=actor_id,
                             payload={"participant_id": target_id})
        await self.emit_to([target_id], "removed", {})
        await self._after_change(room)
        await self._disconnect_participant(room, target_id)

    async def _disconnect_participant(self, room: Room, participant_id: str) -> None:
        # Leave a moment for the "removed"/"denied" event to be delivered first. The sids
        # may live on another node: the Redis manager forwards the disconnect there.
        await asyncio.sleep(0.05)
        for sid in list(room.member(participant_id).sids):
            await self.sio.disconnect(sid, namespace="/")

    async def connection_opened(self, session_id: str, participant_id: str, sid: str) -> None:
        async with self.s.rooms.edit(session_id) as room:
            m = room.member(participant_id)
            if sid not in m.sids:
                m.sids.append(sid)

    async def connection_closed(self, session_id: str, participant_id: str, sid: str) -> bool:
        """Forget a connection; True when it was the participant's last one."""
        async with self.s.rooms.edit(session_id) as room:
            m = room.members.get(participant_id)
            if m is None:
                return False
            if sid in m.sids:
                m.sids.remove(sid)
            return not m.sids

    async def mute(self, session_id: str, actor_id: str, target_id: str, source: str,
                   muted: bool) -> None:
        await self._admin_edit(session_id, actor_id)
        async with self.s.rooms.edit(session_id) as room:
            room.mute(target_id, source, muted)
        await self.log_event(session_id, "participant.muted" if muted else "participant.unmuted",
                             actor_id=actor_id, payload={"participant_id": target_id,
                                                         "source": source})
        await self.emit_to([target_id], "muted", {"source": source, "muted": muted})
        await self._after_change(room)

    async def request_mute(self, session_id: str, actor_id: str, target_id: str,
                           source: str) -> None:
        room = await self._admin_edit(session_id, actor_id)
        room.member(target_id)
        await self.emit_to([target_id], "mute_request", {"source": source, "by": actor_id})

    async def set_shared_device(self, session_id: str, actor_id: str, target_id: str,
                                people: int) -> None:
        await self._admin_edit(session_id, actor_id)
        pipeline = self.s.extras.get("transcription")
        if pipeline is not None:
            try:
                pipeline.mark_shared_device(session_id, target_id, people)
            except Exception as exc:  # the voice encoder's weights are missing
                raise Conflict(getattr(exc, "message", str(exc)),
                               code="voices_unavailable") from exc
        async with self.s.rooms.edit(session_id) as room:
            m = room.member(target_id)
            before = (m.shared_device, list(m.voices), m.enrolling)
            m.shared_device = people
            if people <= 1:  # one person again: the enrolled voices are forgotten
                m.voices, m.enrolling = [], None
            else:
                m.voices = m.voices[:people]
        try:  # the node transcribing the session (in a cluster) splits the seat too
            await self._speech_to_media(session_id)
        except TiaojieError:
            async with self.s.rooms.edit(session_id) as room:
                m = room.member(target_id)
                m.shared_device, m.voices, m.enrolling = before
            raise
        await self.log_event(session_id, "participant.shared_device", actor_id=actor_id,
                             payload={"participant_id": target_id, "people": people})
        await self._emit_voices(m)
        await self._after_change(room)

    async def enroll_voice(self, session_id: str, actor_id: str, target_id: str,
                           name: str | None) -> None:
        """The next sentence from a shared seat enrolls ``name``'s voice (None cancels).
        The mediator enrolls anyone's; a party only the people at their own device."""
        room = await self.s.rooms.get(session_id)
        if room is None:
            raise NotFound("No such session.", code="session_not_found")
        actor = room.member(actor_id)
        if actor_id != target_id:
            ensure_admin(actor.grants)
        elif actor.state != "room":
            raise Forbidden("Only participants in the room can do this.", code="not_in_room")
        target = room.member(target_id)
        if target.shared_device < 2:
            raise Conflict("The mediator has not marked this device as shared.",
                           code="not_shared_device")
        if name is not None and name not in target.voices \
                and len(target.voices) >= target.shared_device:
            raise Conflict("Everyone who shares this device has enrolled.",
                           code="voices_full")
        unavailable = Conflict("Live captions are off, so voices cannot be enrolled.",
                               code="captions_unavailable")
        pipeline = self.s.extras.get("transcription")
        if pipeline is None and not getattr(self.s.media, "speech_changed", None):
            raise unavailable
        if pipeline is not None:
            try:
                try:
                    pipeline.enroll_next(session_id, target_id, name)
                except KeyError:  # the pipeline restarted since the seat was marked
                    pipeline.mark_shared_device(session_id, target_id, target.shared_device)
                    pipeline.enroll_next(session_id, target_id, name)
            except Exception as exc:  # the voice encoder's weights are missing
                raise Conflict(getattr(exc, "message", str(exc)),
                               code="voices_unavailable") from exc
        async with self.s.rooms.edit(session_id) as room:
            m = room.member(target_id)
            before = m.enrolling
            m.enrolling = name
        # In a cluster the sentence is heard where the session's SFU runs: tell that node.
        error: TiaojieError | None = None
        try:
            relayed = await self._speech_to_media(session_id)
        except TiaojieError as err:
            relayed, error = None, err
        if error is None and pipeline is None and not relayed:
            error = unavailable  # no node in the cluster transcribes this session
        if error is not None:
            async with self.s.rooms.edit(session_id) as room:
                room.member(target_id).enrolling = before
            raise error
        await self._emit_voices(m)
        await self._after_change(room)

    async def voice_enrolled(self, session_id: str, target_id: str, name: str) -> None:
        """The pipeline enrolled ``name`` from their sentence: captions now carry it."""
        async with self.s.rooms.edit(session_id) as room:
            m = room.members.get(target_id)
            if m is None:
                return
            if name not in m.voices:
                m.voices.append(name)
            if m.enrolling == name:
                m.enrolling = None
        await self.log_event(session_id, "participant.voice_enrolled", actor_id=target_id,
                             payload={"participant_id": target_id, "name": name})
        await self._emit_voices(m)
        await self._after_change(room)

    async def _emit_voices(self, m: Member) -> None:
        """The seat's own view of its shared device (the mediator reads the layout)."""
        await self.emit_to([m.participant_id], "voices", {
            "people": m.shared_device, "voices": list(m.voices), "enrolling": m.enrolling})

    # -- caucuses ----------------------------------------------------------------
    async def create_caucus(self, session_id: SessionId, actor_id: ParticipantId, name: str,
                            members: list[str], limit_minutes: int | None = None) -> str:
        """Open a caucus with any chosen members (any sides, experts, interpreters); the
        members' interpreters follow them in. Validated whole before anything changes."""
        await self._admin_edit(session_id, actor_id)
        async with self.s.rooms.edit(session_id) as room:
            for pid in members:  # validate before changing anything
                m = room.member(pid)
                if m.state != "room":
                    raise Conflict("Only participants in the room can be moved.",
                                   code="target_not_in_room")
                if m.grants.caucus_scope is not None:
                    raise Forbidden("This participant's access is limited to one caucus.",
                                    code="outside_scope")
            before = _spaces(room)
            c = room.create_caucus(name, limit_minutes * 60 if limit_minutes else None)
            for pid in members:
                room.move(pid, c.id)
            moved = _movers(before, room)  # the members and the interpreters who followed
        await self.log_event(session_id, "caucus.created", actor_id=actor_id, caucus_id=None,
                             payload={"caucus_id": c.id, "name": name, "members": moved,
                                      "limit_minutes": limit_minutes})
        await self._after_change(room)
        await self._hand_exhibits(room, moved)
        return c.id

    async def _hand_exhibits(self, room: Room, movers: list[str]) -> None:
        """Whoever changed space now looks at what their new space is looking at: its
        exhibit and page, or none (their old space's exhibit is not theirs to follow).
        ``movers`` is taken inside the edit that moved them (``_movers``), from the room
        that edit stored, so it is exactly who the room operation moved."""
        for pid in movers:
            await self.emit_to([pid], "space_exhibit", {"exhibit": room.exhibit_for(pid)})

    async def extend_caucus(self, session_id: SessionId, actor_id: ParticipantId, caucus_id: str,
                            minutes: int) -> int:
        """Push the caucus's warning ``minutes`` later; answers the new limit (seconds)."""
        await self._admin_edit(session_id, actor_id)
        async with self.s.rooms.edit(session_id) as room:
            c = room.extend_caucus(caucus_id, minutes * 60)
        await self.log_event(session_id, "caucus.extended", actor_id=actor_id, caucus_id=None,
                             payload={"caucus_id": caucus_id, "minutes": minutes})
        await self.broadcast_layout(room)
        return c.limit_s or 0

    async def attach_interpreter(self, session_id: str, actor_id: str, interpreter_id: str,
                                 party_id: str | None) -> None:
        await self._admin_edit(session_id, actor_id)
        async with self.s.rooms.edit(session_id) as room:
            room.attach_interpreter(interpreter_id, party_id)
        await self.log_event(session_id, "interpreter.attached", actor_id=actor_id,
                             payload={"participant_id": interpreter_id,
                                      "interprets_for": party_id})
        await self._after_change(room)

    async def move(self, session_id: SessionId, actor_id: ParticipantId, target_id: str,
                   caucus_id: str | None) -> None:
        await self._admin_edit(session_id, actor_id)
        async with self.s.rooms.edit(session_id) as room:
            before = _spaces(room)
            room.move(target_id, caucus_id)
            moved = _movers(before, room)  # the target and the interpreters who followed
        await self.log_event(session_id, "caucus.moved", actor_id=actor_id,
                             payload={"participant_id": target_id, "caucus_id": caucus_id})
        await self._after_change(room)
        await self._hand_exhibits(room, moved)

    async def end_caucus(self, session_id: SessionId, actor_id: ParticipantId,
                         caucus_id: str) -> None:
        await self._admin_edit(session_id, actor_id)
        async with self.s.rooms.edit(session_id) as room:
            c = room.caucuses.get(caucus_id)
            started = c.created_at if c else time.time()
            before = _spaces(room)
            room.end_caucus(caucus_id)
            # Not end_caucus's own list: it names a seat scoped to the caucus, which stays.
            moved = _movers(before, room)
        # The joint record says that a caucus took place and for how long, never what was said.
        await self.log_event(session_id, "caucus.ended", actor_id=actor_id,
                             payload={"caucus_id": caucus_id,
                                      "duration_s": round(time.time() - started, 1)})
        await self._after_change(room)
        await self._hand_exhibits(room, moved)

    async def return_all(self, session_id: SessionId, actor_id: ParticipantId) -> None:
        room = await self._admin_edit(session_id, actor_id)
        for cid in list(room.caucuses):
            await self.end_caucus(session_id, actor_id, cid)

    # -- talk ----------------------------------------------------------------------
    async def chat(self, session_id: str, actor_id: str, text: str) -> dict[str, Any]:
        room = await self.s.rooms.get(session_id)
        if room is None:
            raise NotFound("No such session.", code="session_not_found")
        m = room.member(actor_id)
        ensure_chat(m.grants)
        if m.state != "room":
            raise Forbidden("You are not in the room yet.", code="not_in_room")
        msg = {"id": uuid.uuid4().hex,
               "from": {"participant_id": m.participant_id, "name": m.name, "role": m.role},
               "caucus_id": m.caucus_id, "text": text, "at": time.time()}
        await self.emit_to(room.audience(m.caucus_id), "chat", msg)
        # Written behind the broadcast, in order per session: the room hears a line at once,
        # and the log gets it a moment later (flushed on shutdown).
        self.events.write_behind(session_id, "chat", actor_id, m.caucus_id,
                           {"text": text, "id": msg["id"]})
        return msg

    async def message_lobby(self, session_id: str, actor_id: str, text: str) -> int:
        """The mediator tells the people waiting in the lobby something; returns how many
        it reached. Nobody in the room (or in another session) receives it."""
        room = await self._admin_edit(session_id, actor_id)
        m = room.member(actor_id)
        waiting = [w.participant_id for w in room.lobby()]
        msg = {"from": {"participant_id": m.participant_id, "name": m.name, "role": m.role},
               "text": text, "at": time.time()}
        await self.emit_to(waiting, "lobby_message", msg)
        await self.log_event(session_id, "lobby.message", actor_id=actor_id,
                             payload={"text": text, "reached": len(waiting)})
        return len(waiting)

    async def raise_hand(self, session_id: str, actor_id: str, raised: bool) -> None:
        async with self.s.rooms.edit(session_id) as room:
            m = room.member(actor_id)
            if m.state != "room":
                raise Forbidden("You are not in the room yet.", code="not_in_room")
            if m.grants.hidden:
                raise Forbidden("Hidden observers cannot raise a hand.", code="forbidden")
            room.set_hand(actor_id, raised)
        event = {"participant_id": actor_id, "name": m.name, "raised": raised,
                 "caucus_id": m.caucus_id}
        await self.emit_to(room.audience(m.caucus_id), "hand", event)
        await self.broadcast_layout(room)  # the participant list shows raised hands

    async def end_session(self, session_id: str, actor_id: str) -> None:
        """End the session for everyone at once: no seat, resume link, socket or media
        route outlives it (the parties' own copy of a sealed document is fetched through
        its own route, not through the room)."""
        await self._admin_edit(session_id, actor_id)
        async with self.s.db.session() as db:
            s = await db.get(MediationSession, session_id)
            assert s is not None
            s.status = "ended"
            s.ended_at = utcnow()
            await db.commit()
        async with self.s.rooms.edit(session_id) as room:
            everyone = room.end()
        for pid in everyone:
            self.grace.cancel(pid)
        await self.log_event(session_id, "session.ended", actor_id=actor_id)
        await self.emit_to(everyone, "session_ended", {})
        try:
            await self.s.media.update_room(room)  # an ended view routes and taps nothing
        except Exception:
            log.exception("media update failed for ended session %s", session_id)
        for pid in everyone:
            await self.s.media.remove_participant(session_id, pid)
        # In the background: the mediator's own acknowledgement goes out first.
        task = asyncio.create_task(self._disconnect_all(room, everyone))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _disconnect_all(self, room: Room, participant_ids: list[str]) -> None:
        # As for a removal: a moment for "session_ended" to arrive, then every connection
        # goes (the Redis manager forwards a disconnect to the node holding the sid).
        # Sockets that miss it are refused on their next event (the room has ended).
        await asyncio.sleep(0.2)
        for pid in participant_ids:
            m = room.members.get(pid)
            for sid in list(m.sids if m else ()):
                try:
                    await self.sio.disconnect(sid, namespace="/")
                except Exception:
                    log.warning("could not disconnect a socket of ended session %s",
                                room.session_id, exc_info=True)

    async def logged_out(self, login_session_id: str) -> None:
        """A staff login ended: its sockets lose every power now (events check the login
        too, so a socket held by another node is powerless even before it drops)."""
        room = login_room(login_session_id)
        await self.sio.emit("logged_out", {}, to=room, namespace="/")
        for sid, _eio_sid in list(self.sio.manager.get_participants("/", room)):
            await self.sio.disconnect(sid, namespace="/")

    # -- media relay -----------------------------------------------------------------
    async def signal(self, session_id: str, actor_id: str,
                     message: dict[str, Any]) -> dict[str, Any] | None:
        room = await self.s.rooms.get(session_id)
        if room is None:
            raise NotFound("No such session.", code="session_not_found")
        if room.ended:
            raise TiaojieError("This session has ended.", code="session_ended", status=410)
        m = room.member(actor_id)
        if m.state != "room":
            raise Forbidden("You are not in the room yet.", code="not_in_room")
        if not (m.grants.can_publish or m.grants.can_subscribe):
            raise Forbidden("You may not send or receive media.", code="media_not_allowed")
        if message.get("type") == "offer" and _offers_screen(message):
            ensure_screen(m.grants)
        return await self.s.media.handle_signal(session_id, actor_id, message)

    async def media_to_participant(self, session_id: str, participant_id: str,
                                   message: dict[str, Any]) -> None:
        """Server-originated media signaling (renegotiation offers, ICE) for one participant."""
        await self.emit_to([participant_id], "signal", message)


def _spaces(room: Room) -> dict[str, str | None]:
    """Where each participant in the room is: a caucus id, or None for the joint session."""
    return {m.participant_id: m.caucus_id for m in room.in_room()}


def _movers(before: dict[str, str | None], room: Room) -> list[str]:
    """Who changed space since ``before`` (``_spaces`` of the same edit): called inside
    that edit, right after the room operation, so the movers reported and handed their
    space's exhibit are the ones that operation moved."""
    return [pid for pid, space in _spaces(room).items()
            if pid in before and before[pid] != space]
