"""Join links: created by staff, redeemed once (or N times) by the people they name."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from signaling import errors
from signaling.accounts import Principal
from signaling.cases import STAFF_WHO_MANAGE, ensure_staff, get_session
from signaling.credentials import hash_token, new_token
from signaling.db.base import utcnow
from signaling.db.models import Invite, MediationSession
from signaling.errors import NotFound
from signaling.schemas import InviteIn
from signaling.sides import check_side


def join_url(public_url: str, token: str) -> str:
    # The token travels in the fragment: browsers never send it to a server or in a
    # Referer header; the client exchanges it over Socket.IO and clears the address bar.
    return f"{public_url}/join#t={token}"


async def create_invite(db: AsyncSession, p: Principal, session_id: str,
                        body: InviteIn) -> tuple[Invite, str]:
    ensure_staff(p, STAFF_WHO_MANAGE)
    s = await get_session(db, p, session_id)
    await check_side(db, s.case_id, body.side)
    token = new_token()
    inv = Invite(session_id=s.id, token_hash=hash_token(token), role=body.role, side=body.side,
                 label=body.label, interpretation=body.interpretation,
                 expires_at=utcnow() + timedelta(hours=body.expires_in_hours),
                 max_uses=body.max_uses, created_by=p.user_id)
    db.add(inv)
    await db.commit()
    return inv, token


async def list_invites(db: AsyncSession, p: Principal, session_id: str) -> list[Invite]:
    s = await get_session(db, p, session_id)
    stmt = select(Invite).where(Invite.session_id == s.id).order_by(Invite.created_at)
    return list((await db.execute(stmt)).scalars())


async def revoke_invite(db: AsyncSession, p: Principal, invite_id: str) -> Invite:
    ensure_staff(p, STAFF_WHO_MANAGE)
    inv = await db.get(Invite, invite_id)
    if inv is None:
        raise NotFound("No such invite.", code="invite_not_found")
    await get_session(db, p, inv.session_id)  # office check
    inv.revoked = True
    await db.commit()
    return inv


async def redeem(db: AsyncSession, token: str) -> tuple[Invite, MediationSession]:
    """Check a join token and count one use, atomically. Raises a distinct code per reason."""
    inv = (await db.execute(select(Invite).where(Invite.token_hash == hash_token(token)))) \
        .scalar_one_or_none()
    if inv is None:
        raise errors.invite_invalid()
    if inv.revoked:
        raise errors.invite_revoked()
    if inv.expires_at <= utcnow():
        raise errors.invite_expired()
    # Conditional update: two nodes redeeming the last use at once cannot both win.
    res = await db.execute(
        update(Invite).where(Invite.id == inv.id, Invite.uses < Invite.max_uses,
                             Invite.revoked.is_(False))
        .values(uses=Invite.uses + 1))
    if res.rowcount != 1:  # type: ignore[attr-defined]
        await db.rollback()
        raise errors.invite_used_up()
    s = await db.get(MediationSession, inv.session_id)
    if s is None or s.status == "ended":
        await db.rollback()
        raise errors.TiaojieError("This session has ended.", code="session_ended", status=410)
    return inv, s
