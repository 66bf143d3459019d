"""Checks every Socket.IO namespace of ours shares: the acknowledgement shape and the
refusal of client events that carry a lifecycle name."""

from __future__ import annotations

from typing import Any

import socketio

from signaling.errors import BadRequest, TiaojieError

LIFECYCLE_EVENTS = frozenset({"connect", "disconnect"})
"""Names python-socketio dispatches to a namespace's lifecycle handlers."""


def error_ack(err: TiaojieError) -> dict[str, Any]:
    return {"ok": False, "error": err.to_dict()}


async def refuse_forged_lifecycle(ns: socketio.AsyncNamespace, event: str,
                                  args: tuple[Any, ...]) -> dict[str, Any] | None:
    """The refusal ack when a connected client sent an EVENT packet named ``connect`` or
    ``disconnect``; None when the call is the server's own (or another event).

    python-socketio hands such a packet to ``on_connect``/``on_disconnect``: a client
    could re-seat its socket with another invite, or mark itself gone while connected
    (dropping its presence and resetting its rate bucket). The server's own lifecycle
    calls run while the sid is pending, i.e. not yet (or no longer) connected; an event
    packet is only dispatched for a connected sid, so the manager tells them apart.
    """
    if event not in LIFECYCLE_EVENTS or not args or ns.server is None:
        return None
    sid = args[0]
    if not ns.server.manager.is_connected(sid, ns.namespace):
        return None
    err = BadRequest(f"Unknown event {event!r}.", code="unknown_event")
    await ns.emit("error", {"event": event, **err.to_dict()}, to=sid)
    return error_ack(err)
