"""coturn time-limited TURN credentials (the ``use-auth-secret`` REST scheme).

username = ``"<expiry unix time>:<participant id>"``,
password = base64(HMAC-SHA1(shared secret, username)). coturn recomputes the password
from the username, so nothing is stored and a credential expires on its own.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class TurnCredential:
    """One participant's TURN username and password."""

    username: str
    """``expiry:participant_id``."""
    password: str
    """base64 HMAC-SHA1 of the username under the shared secret."""
    expires_at: int
    """Unix time after which coturn refuses it."""


def turn_password(secret: str, username: str) -> str:
    """The password coturn expects for ``username`` under ``secret``."""
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def mint_credential(
    secret: str, participant_id: str, ttl: int, now: float | None = None
) -> TurnCredential:
    """A credential for ``participant_id`` valid for ``ttl`` seconds from ``now``."""
    if not secret:
        raise ValueError("missing TURN secret")
    if ":" in participant_id:
        # coturn splits the username on the first colon; a colon in the id would make the
        # expiry unparsable for coturn.
        raise ValueError("participant id must not contain ':'")
    if ttl <= 0:
        raise ValueError("ttl must be positive")
    expires_at = int(time.time() if now is None else now) + ttl
    username = f"{expires_at}:{participant_id}"
    return TurnCredential(username, turn_password(secret, username), expires_at)


def ice_servers(
    *,
    participant_id: str,
    stun_urls: list[str],
    turn_urls: list[str],
    secret: str | None,
    ttl: int,
    now: float | None = None,
) -> list[dict[str, object]]:
    """The W3C ``iceServers`` list for one participant's browser."""
    servers: list[dict[str, object]] = []
    if stun_urls:
        servers.append({"urls": list(stun_urls)})
    if turn_urls and secret:
        cred = mint_credential(secret, participant_id, ttl, now)
        servers.append(
            {"urls": list(turn_urls), "username": cred.username, "credential": cred.password}
        )
    return servers
