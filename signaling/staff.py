"""The administrator's staff accounts: list, create, change role or name, disable, reset a
password. An administrator manages the accounts of their own office; another office's
account answers like a missing one."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from signaling.accounts import SERVICE_ACCOUNT_PREFIX, Principal, create_user
from signaling.credentials import hash_password
from signaling.db.models import LoginSession, User
from signaling.errors import BadRequest, Forbidden, NotFound
from signaling.notify import normalise_mobile
from signaling.schemas import StaffIn, StaffPatch


def checked_phone(value: str) -> str | None:
    """A staff account's mobile number as stored (11 digits), None for an empty one."""
    if not value:
        return None
    phone = normalise_mobile(value)
    if phone is None:
        raise BadRequest("Please enter a mainland mobile number (11 digits).",
                         code="phone_invalid")
    return phone


def ensure_admin(p: Principal) -> None:
    if p.role != "admin":
        raise Forbidden("Only an administrator manages staff accounts.", code="role_not_allowed")


async def list_staff(db: AsyncSession, p: Principal) -> list[User]:
    ensure_admin(p)
    stmt = select(User).where(User.office_id == p.office_id,
                              ~User.username.startswith(SERVICE_ACCOUNT_PREFIX)).order_by(
        User.role, User.username)
    return list((await db.execute(stmt.limit(2000))).scalars())


async def staff_member(db: AsyncSession, p: Principal, user_id: str) -> User:
    ensure_admin(p)
    user = await db.get(User, user_id)
    if (user is None or user.office_id != p.office_id
            or user.username.startswith(SERVICE_ACCOUNT_PREFIX)):
        raise NotFound("No such account.", code="not_found")
    return user


async def add_staff(db: AsyncSession, p: Principal, body: StaffIn) -> User:
    ensure_admin(p)
    phone = checked_phone(body.phone)
    user = await create_user(
        db,
        office_id=p.office_id,
        username=body.username,
        password=body.password,
        role=body.role,
        display_name=body.display_name,
    )
    user.phone = phone
    await db.commit()
    return user


async def _revoke_logins(db: AsyncSession, user_id: str) -> None:
    await db.execute(
        update(LoginSession).where(LoginSession.user_id == user_id).values(revoked=True)
    )


async def change_staff(db: AsyncSession, p: Principal, user_id: str, body: StaffPatch) -> User:
    """Rename, change the role or (de)activate; a changed role or a disabled account ends
    the account's logins, so that the old powers stop at once."""
    user = await staff_member(db, p, user_id)
    if user.id == p.user_id and (body.active is False or body.role not in (None, "admin")):
        raise BadRequest(
            "You cannot disable your own account or drop your own administrator role.",
            code="own_account",
        )
    end_logins = False
    if body.phone is not None:
        user.phone = checked_phone(body.phone)
    if body.display_name is not None:
        user.display_name = body.display_name
    if body.role is not None and body.role != user.role:
        user.role = body.role
        end_logins = True
    if body.active is not None and body.active != user.active:
        user.active = body.active
        end_logins = end_logins or not body.active
        if body.active:
            user.failed_logins = 0
            user.locked_until = None
    if end_logins:
        await _revoke_logins(db, user.id)
    await db.commit()
    return user


async def reset_password(db: AsyncSession, p: Principal, user_id: str, password: str) -> User:
    """Set a new password (the administrator hands it over out of band); every login of
    the account ends and a lock-out is lifted."""
    user = await staff_member(db, p, user_id)
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    await _revoke_logins(db, user.id)
    await db.commit()
    return user
