"""Staff accounts and login sessions, with a growing back-off after failed logins."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from signaling.credentials import (
    DUMMY_PASSWORD_HASH,
    hash_password,
    hash_token,
    new_token,
    verify_password,
)
from signaling.db.base import utcnow
from signaling.db.models import USER_ROLES, LoginSession, Office, User
from signaling.errors import BadRequest, Conflict, RateLimited, Unauthorized

SERVICE_ACCOUNT_PREFIX = "apply@"
"""Usernames of the service's own stand-in accounts (the office's online applications):
disabled, never listed as staff, never reset or enabled by an administrator."""
LOCKOUT_AFTER = 5
"""Failed logins before the account is locked for a while."""
LOCKOUT_BASE_S = 30.0
LOCKOUT_MAX_S = 3600.0


@dataclass(frozen=True)
class Principal:
    """A logged-in staff member, as the request handlers see them."""

    user_id: str
    office_id: str
    role: str
    display_name: str
    username: str
    login_session_id: str
    csrf_token: str


async def ensure_office(db: AsyncSession, name: str) -> Office:
    office = (await db.execute(select(Office).where(Office.name == name))).scalar_one_or_none()
    if office is None:
        office = Office(name=name)
        db.add(office)
        await db.flush()
    return office


async def create_user(db: AsyncSession, *, office_id: str, username: str, password: str,
                      role: str, display_name: str | None = None) -> User:
    if role not in USER_ROLES:
        raise BadRequest(f"role must be one of {', '.join(USER_ROLES)}", code="bad_role")
    if len(password) < 8:
        raise BadRequest("A password needs at least 8 characters.", code="weak_password")
    if username.startswith(SERVICE_ACCOUNT_PREFIX):
        raise BadRequest("That username is reserved for the service.", code="username_reserved")
    exists = (await db.execute(select(User).where(User.username == username))).scalar_one_or_none()
    if exists is not None:
        raise Conflict("That username is taken.", code="username_taken")
    user = User(office_id=office_id, username=username, role=role,
                display_name=display_name or username, password_hash=hash_password(password))
    db.add(user)
    await db.flush()
    return user


def _lockout_seconds(failures: int) -> float:
    over = failures - LOCKOUT_AFTER
    return float(min(LOCKOUT_BASE_S * (2 ** max(over, 0)), LOCKOUT_MAX_S))


async def login(db: AsyncSession, username: str, password: str,
                hours: int) -> tuple[User, str, LoginSession]:
    """Check a password and open a login session; returns the bearer token once."""
    user = (await db.execute(select(User).where(User.username == username))).scalar_one_or_none()
    now = utcnow()
    if user is not None and user.locked_until is not None and user.locked_until > now:
        raise RateLimited("Too many failed logins; try again later.",
                          retry_after=(user.locked_until - now).total_seconds())
    ok = verify_password(user.password_hash if user else DUMMY_PASSWORD_HASH, password)
    if user is None or not ok or not user.active:
        if user is not None:
            user.failed_logins += 1
            if user.failed_logins >= LOCKOUT_AFTER:
                user.locked_until = now + timedelta(seconds=_lockout_seconds(user.failed_logins))
            await db.commit()
        raise Unauthorized("Wrong username or password.", code="bad_credentials")
    user.failed_logins = 0
    user.locked_until = None
    token = new_token()
    ls = LoginSession(user_id=user.id, token_hash=hash_token(token), csrf_token=new_token(),
                      expires_at=now + timedelta(hours=hours))
    db.add(ls)
    await db.commit()
    return user, token, ls


async def principal_for_token(db: AsyncSession, token: str) -> Principal | None:
    row = (await db.execute(
        select(LoginSession, User).join(User, User.id == LoginSession.user_id)
        .where(LoginSession.token_hash == hash_token(token))
    )).first()
    if row is None:
        return None
    ls, user = row
    if ls.revoked or ls.expires_at <= utcnow() or not user.active:
        return None
    return Principal(user_id=user.id, office_id=user.office_id, role=user.role,
                     display_name=user.display_name, username=user.username,
                     login_session_id=ls.id, csrf_token=ls.csrf_token)


async def login_active(db: AsyncSession, login_session_id: str) -> bool:
    """Whether a login still holds: not logged out, not expired, the account active.

    Open sockets ask on every event, so that logging out (or an administrator disabling
    the account) takes a mediator's powers away at once on every node."""
    row = (await db.execute(
        select(LoginSession.revoked, LoginSession.expires_at, User.active)
        .join(User, User.id == LoginSession.user_id)
        .where(LoginSession.id == login_session_id))).first()
    if row is None:
        return False
    revoked, expires_at, active = row
    return bool(not revoked and expires_at > utcnow() and active)


async def logout(db: AsyncSession, login_session_id: str) -> None:
    ls = await db.get(LoginSession, login_session_id)
    if ls is not None:
        ls.revoked = True
        await db.commit()


def expired(at: datetime) -> bool:
    return at <= utcnow()
