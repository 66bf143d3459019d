"""The dispute types an office offers (纠纷类型): data, not code.

Rows without an office are the service-wide defaults (seeded by migration
``0007_dispute_types`` with the 人民调解 register's names). An office reads the defaults
until its head or administrator changes its list; the first change copies the defaults
into rows of the office (same keys, same order), and from then on the office reads its own
rows only. Types are never deleted: a deactivated type is no longer offered on the
application page or the new-case form, and the cases that name it keep its name (a case
stores the name as the register writes it, not the key).
"""

from __future__ import annotations

import re
import secrets
from typing import Annotated

from aiohttp import web
from pydantic import StringConstraints
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from signaling.accounts import Principal
from signaling.api.registry import ApiRouter, Route, json_response, read_body
from signaling.db.models import DisputeType, Office
from signaling.errors import BadRequest, Conflict, Forbidden, NotFound
from signaling.keys import SERVICES
from signaling.schemas import In, Out

NAME_MAX = 40
MAX_TYPES = 100
"""An office's list, active or not, holds at most this many types."""
MANAGERS = ("admin", "head")
READERS = ("mediator", "clerk", "admin", "head")
_KEY = r"^[a-z][a-z0-9_]{1,39}$"

TypeName = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
"""Checked by ``_name`` (a clear code for empty and too long names)."""


class DisputeTypeIn(In):
    name: TypeName
    key: Annotated[str, StringConstraints(pattern=_KEY)] | None = None
    """A stable key for scripts; made up when absent."""


class DisputeTypePatch(In):
    name: TypeName | None = None
    active: bool | None = None
    position: int | None = None
    """The new place in the list, from 0."""


class DisputeTypeOut(Out):
    id: str
    key: str
    name: str
    active: bool
    position: int
    default: bool
    """Still the service-wide default row (the office has not changed its list)."""


class DisputeTypeList(Out):
    items: list[DisputeTypeOut]


class PublicType(Out):
    key: str
    name: str


class PublicTypeList(Out):
    items: list[PublicType]


def _out(t: DisputeType) -> DisputeTypeOut:
    return DisputeTypeOut(id=t.id, key=t.key, name=t.name, active=t.active,
                          position=t.position, default=t.office_id is None)


def _name(value: str) -> str:
    name = re.sub(r"\s+", " ", value).strip()
    if not name:
        raise BadRequest("Please give the dispute type a name.", code="dispute_type_name_empty")
    if len(name) > NAME_MAX:
        raise BadRequest(f"A dispute type's name has at most {NAME_MAX} characters.",
                         code="dispute_type_name_too_long")
    return name


async def _own(db: AsyncSession, office_id: str) -> list[DisputeType]:
    return list((await db.execute(select(DisputeType).where(
        DisputeType.office_id == office_id).order_by(DisputeType.position))).scalars())


async def types_of(db: AsyncSession, office_id: str, *, active_only: bool = False
                   ) -> list[DisputeType]:
    """The office's list in order: its own rows, or the defaults while it has none."""
    rows = await _own(db, office_id)
    if not rows:
        rows = list((await db.execute(select(DisputeType).where(
            DisputeType.office_id.is_(None)).order_by(DisputeType.position))).scalars())
    return [t for t in rows if t.active or not active_only]


async def name_for(db: AsyncSession, office_id: str, value: str) -> str | None:
    """The register name of the office's active type whose key or name is ``value``."""
    for t in await types_of(db, office_id, active_only=True):
        if value in (t.key, t.name):
            return t.name
    return None


async def name_of_key(db: AsyncSession, office_id: str, key: str) -> str | None:
    """The name of the office's type (active or not) with this key: old cases stay readable."""
    for t in await types_of(db, office_id):
        if t.key == key:
            return t.name
    return None


def ensure_manager(p: Principal) -> None:
    if p.role not in MANAGERS:
        raise Forbidden("Only the office's head or an administrator changes its dispute types.",
                        code="role_not_allowed")


async def _make_own(db: AsyncSession, office_id: str) -> list[DisputeType]:
    """The office's own rows, copied from the defaults on its first change."""
    rows = await _own(db, office_id)
    if rows:
        return rows
    for t in await types_of(db, office_id):
        db.add(DisputeType(office_id=office_id, key=t.key, name=t.name, active=t.active,
                           position=t.position))
    try:
        await db.commit()
    except IntegrityError:  # another request made the copy first: use theirs
        await db.rollback()
    return await _own(db, office_id)


def _renumber(rows: list[DisputeType]) -> None:
    for i, t in enumerate(rows):
        t.position = i


def _ensure_unique_name(rows: list[DisputeType], name: str, but: DisputeType | None) -> None:
    if any(t.name == name and t is not but for t in rows):
        raise Conflict("The office already has a dispute type of this name.",
                       code="dispute_type_duplicate")


async def create(db: AsyncSession, p: Principal, body: DisputeTypeIn) -> DisputeType:
    ensure_manager(p)
    name = _name(body.name)
    rows = await _make_own(db, p.office_id)
    _ensure_unique_name(rows, name, None)
    if len(rows) >= MAX_TYPES:
        raise Conflict(f"An office has at most {MAX_TYPES} dispute types.",
                       code="dispute_types_full")
    key = body.key or f"t_{secrets.token_hex(4)}"
    if any(t.key == key for t in rows):
        raise Conflict("The office already has a dispute type with this key.",
                       code="dispute_type_duplicate")
    t = DisputeType(office_id=p.office_id, key=key, name=name, active=True,
                    position=len(rows))
    db.add(t)
    await db.commit()
    return t


async def change(db: AsyncSession, p: Principal, type_id: str, body: DisputeTypePatch
                 ) -> DisputeType:
    """Rename, (de)activate or move one of the office's types. A default row's id names the
    office's copy of it (the office reads the defaults until its first change)."""
    ensure_manager(p)
    target = await db.get(DisputeType, type_id[:32])
    if target is None or target.office_id not in (None, p.office_id):
        raise NotFound("No such dispute type.", code="not_found")
    if target.office_id is None and await _own(db, p.office_id):
        raise NotFound("No such dispute type.", code="not_found")  # the office's own list rules
    key = target.key  # read before the copy: a rollback there expires what was loaded
    rows = await _make_own(db, p.office_id)
    t = next(r for r in rows if r.key == key)
    if body.name is not None:
        name = _name(body.name)
        _ensure_unique_name(rows, name, t)
        t.name = name
    if body.active is not None:
        t.active = body.active
    if body.position is not None:
        if not 0 <= body.position < len(rows):
            raise BadRequest(f"position must be from 0 to {len(rows) - 1}.",
                             code="dispute_type_position")
        rows.remove(t)
        rows.insert(body.position, t)
        _renumber(rows)
    await db.commit()
    return t


# -- routes ------------------------------------------------------------------------------

async def public_list(request: web.Request) -> web.Response:
    async with request.app[SERVICES].db.session() as db:
        office = await db.get(Office, request.match_info["office_id"][:32])
        if office is None:
            raise NotFound("No such office.", code="not_found")
        items = await types_of(db, office.id, active_only=True)
    return json_response(PublicTypeList(items=[PublicType(key=t.key, name=t.name)
                                               for t in items]))


async def staff_list(request: web.Request) -> web.Response:
    from signaling.api.auth import require_principal

    p = await require_principal(request)
    if p.role not in READERS:
        raise Forbidden("Your role may not do this.", code="role_not_allowed")
    async with request.app[SERVICES].db.session() as db:
        items = await types_of(db, p.office_id)
    return json_response(DisputeTypeList(items=[_out(t) for t in items]))


async def create_route(request: web.Request) -> web.Response:
    from signaling.api.auth import require_principal

    p = await require_principal(request)
    ensure_manager(p)
    body = await read_body(request, DisputeTypeIn, 4096)
    async with request.app[SERVICES].db.session() as db:
        t = await create(db, p, body)
        return json_response(_out(t), status=201)


async def change_route(request: web.Request) -> web.Response:
    from signaling.api.auth import require_principal

    p = await require_principal(request)
    ensure_manager(p)
    body = await read_body(request, DisputeTypePatch, 4096)
    async with request.app[SERVICES].db.session() as db:
        t = await change(db, p, request.match_info["type_id"], body)
        return json_response(_out(t))


def add_routes(api: ApiRouter) -> None:
    managers = "the office's head or an administrator, for their own office"
    for r in (
        Route("GET", "/api/v1/public/offices/{office_id}/dispute-types", public_list,
              "The dispute types the office offers now (active, in order)", "anyone", None,
              PublicTypeList, tag="applications"),
        Route("GET", "/api/v1/office/dispute-types", staff_list,
              "The office's dispute types, deactivated ones included (for forms and the "
              "console)", "staff of the office", None, DisputeTypeList, tag="office"),
        Route("POST", "/api/v1/office/dispute-types", create_route,
              "Add a dispute type to the office's list (at its end)", managers,
              DisputeTypeIn, DisputeTypeOut, 201, tag="office"),
        Route("PATCH", "/api/v1/office/dispute-types/{type_id}", change_route,
              "Rename, deactivate or reactivate, or move a dispute type", managers,
              DisputeTypePatch, DisputeTypeOut, tag="office"),
    ):
        api.add(r)
