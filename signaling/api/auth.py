"""Who is calling: a login cookie (with a CSRF header for changes) or a bearer token."""

from __future__ import annotations

from aiohttp import web

from signaling.accounts import Principal, principal_for_token
from signaling.credentials import tokens_equal
from signaling.errors import Forbidden, Unauthorized
from signaling.keys import SERVICES
from signaling.sockets.namespace import COOKIE_NAME

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
CSRF_HEADER = "X-CSRF-Token"


async def require_principal(request: web.Request) -> Principal:
    services = request.app[SERVICES]
    header = request.headers.get("Authorization", "")
    via_cookie = False
    token = ""
    if header.lower().startswith("bearer "):
        token = header[7:].strip()
    else:
        token = request.cookies.get(COOKIE_NAME, "")
        via_cookie = bool(token)
    if not token or len(token) > 200:
        raise Unauthorized("Please log in.", code="login_required")
    async with services.db.session() as db:
        p = await principal_for_token(db, token)
    if p is None:
        raise Unauthorized("Your login has expired; please log in again.", code="login_required")
    if via_cookie and request.method not in SAFE_METHODS:
        # Cookies ride along on cross-site requests; a header read from our own page does not.
        sent = request.headers.get(CSRF_HEADER, "")
        if not sent or not tokens_equal(sent, p.csrf_token):
            raise Forbidden("Missing or wrong CSRF token.", code="csrf_failed")
    return p
