"""The offices themselves (本单位 / 单位管理): name, city, address, public phone and the two
switches of city-wide expert sharing.

Who may do what:

- an administrator lists every office, creates offices and changes any field of any
  office (the same powers ``tiaojie`` gives on the command line with ``ensure_office``);
- an office head (role ``head``) changes the address and the public phone of their own
  office only: the name, the city and the sharing switches decide whose experts join whose
  cases, which is the administrator's decision;
- every logged-in staff member reads their own office.

The time zone is not a field of the office: it is the deployment's setting
``TIAOJIE_OFFICE_TIME_ZONE`` (``signaling.scheduling.office_zone``), shown read-only.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from signaling.accounts import Principal
from signaling.db.models import Office
from signaling.errors import BadRequest, Conflict, Forbidden, NotFound
from signaling.schemas import OfficeIn, OfficePatch

HEAD_FIELDS = frozenset({"address", "phone"})
"""What an office head may change of their own office."""
_PHONE = re.compile(r"^\+?[0-9(][0-9 ()-]*[0-9]$")


def checked_phone(value: str) -> str:
    """An office's public number as written: digits with spaces, hyphens, brackets and a
    leading +, 3 to 20 digits (12348, 0571-12348, (021) 6212 3456); empty for none."""
    if not value:
        return ""
    digits = sum(c.isdigit() for c in value)
    if not _PHONE.match(value) or not 3 <= digits <= 20:
        raise BadRequest("Please enter a phone number: digits, spaces and hyphens only.",
                         code="office_phone_invalid")
    return value


def ensure_editor(p: Principal) -> None:
    """The caller may edit their own office (some of it): its head or an administrator."""
    if p.role not in ("admin", "head"):
        raise Forbidden("Only the office's head or an administrator edits the office.",
                        code="role_not_allowed")


def ensure_admin(p: Principal) -> None:
    if p.role != "admin":
        raise Forbidden("Only an administrator manages offices.", code="role_not_allowed")


async def _name_free(db: AsyncSession, name: str, office_id: str | None = None) -> None:
    stmt = select(Office.id).where(Office.name == name)
    if office_id is not None:
        stmt = stmt.where(Office.id != office_id)
    if (await db.execute(stmt)).first() is not None:
        raise Conflict("An office of that name exists.", code="office_exists")


async def list_offices(db: AsyncSession, p: Principal) -> list[Office]:
    ensure_admin(p)
    return list((await db.execute(select(Office).order_by(Office.city, Office.name)
                                  .limit(5000))).scalars())


async def own_office(db: AsyncSession, p: Principal) -> Office:
    office = await db.get(Office, p.office_id)
    if office is None:  # the account outlived its office: nothing to show
        raise NotFound("No such office.", code="not_found")
    return office


async def create_office(db: AsyncSession, p: Principal, body: OfficeIn) -> Office:
    ensure_admin(p)
    await _name_free(db, body.name)
    office = Office(name=body.name, city=body.city, address=body.address,
                    phone=checked_phone(body.phone), share_experts=body.share_experts,
                    use_city_experts=body.use_city_experts)
    db.add(office)
    await db.commit()
    return office


async def change_office(db: AsyncSession, p: Principal, office_id: str | None,
                        body: OfficePatch) -> Office:
    """``office_id`` None: the caller's own office (an administrator or its head)."""
    data = body.model_dump(exclude_unset=True)
    if office_id is None:
        ensure_editor(p)
        office = await own_office(db, p)
    else:
        ensure_admin(p)
        found = await db.get(Office, office_id)
        if found is None:
            raise NotFound("No such office.", code="not_found")
        office = found
    if p.role != "admin" and set(data) - HEAD_FIELDS:
        raise Forbidden("An office head changes the address and the phone only.",
                        code="role_not_allowed")
    for key in ("name", "city", "address", "phone", "share_experts", "use_city_experts"):
        if data.get(key) is None and key in data:
            raise BadRequest(f"{key} may not be null.", code="invalid_payload")
    if "name" in data:
        await _name_free(db, data["name"], office.id)
    if "phone" in data:
        data["phone"] = checked_phone(data["phone"])
    for key, value in data.items():
        setattr(office, key, value)
    await db.commit()
    return office
