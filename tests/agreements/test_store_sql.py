"""The SQL stores keep the library's guarantees on SQLite and PostgreSQL: a version number
is stored once, a stale ceremony save is refused, and what is stored reads back equal."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest

from agreements import (
    CollectedSignature,
    DraftId,
    DraftVersion,
    InMemoryCeremonyStore,
    OutboxCodeSender,
    VersionConflict,
    version_digest,
)
from agreements.demo import demo_agreement
from agreements.images import make_png
from agreements.runtime import Runtime, Stores
from agreements.store_sql import Place
from signaling.accounts import create_user, ensure_office
from signaling.context import Services
from signaling.db.engine import Database
from signaling.db.migrate import migrate
from signaling.db.models import Case, MediationSession
from signaling.rooms.store import LocalRoomStore
from signaling.settings import load_settings


@pytest.fixture
async def runtime(database_url: str, tmp_path: Path) -> AsyncIterator[tuple[Runtime, Place]]:
    db = Database(database_url)
    await migrate(db)
    async with db.session() as s:
        office = await ensure_office(s, "示例街道人民调解委员会")
        user = await create_user(s, office_id=office.id, username="li", password="x" * 12,
                                 role="mediator")
        case = Case(office_id=office.id, number="（2026）长新调字第015号", dispute_type="x",
                    created_by=user.id)
        s.add(case)
        await s.flush()
        session = MediationSession(case_id=case.id, created_by=user.id)
        s.add(session)
        await s.commit()
        place = Place(case.id, session.id, None)
    services = Services(settings=load_settings(data_dir=tmp_path, database_url=database_url,
                                               env="test"),
                        db=db, rooms=LocalRoomStore())
    try:
        yield Runtime(services), place
    finally:
        await db.close()


def _create(st: Stores) -> DraftVersion:
    return st.drafts.create(case_number="（2026）长新调字第015号", kind="agreement",
                            data=demo_agreement(), author="mediator")


async def test_a_version_reads_back_exactly_as_it_was_stored(
        runtime: tuple[Runtime, Place]) -> None:
    rt, place = runtime
    v1 = await rt.run(_create, place)
    again = await rt.run(lambda st: st.draft_store.get_version(v1.draft_id, 1))
    assert again == v1
    # The preview rebuilt from stored data is the one the digest was computed over.
    html = await rt.run(lambda st: st.drafts.preview(v1.draft_id))
    assert version_digest(html, again.data) == v1.digest


async def test_a_version_number_is_stored_once_even_when_two_saves_race(
        runtime: tuple[Runtime, Place]) -> None:
    rt, place = runtime
    v1 = await rt.run(_create, place)
    twin = replace(v1, number=2, author="someone")
    await rt.run(lambda st: st.draft_store.append_version(twin))
    with pytest.raises(VersionConflict):
        await rt.run(lambda st: st.draft_store.append_version(replace(twin, author="late")))
    if rt.services.db.is_sqlite:
        return  # one writer at a time: the race below cannot happen on SQLite
    edited = demo_agreement().model_copy(update={"facts": "改写。"})
    results = await asyncio.gather(
        *(rt.run(lambda st: st.drafts.edit(DraftId(v1.draft_id), edited, "m", 2))
          for _ in range(2)), return_exceptions=True)
    assert sorted(type(r).__name__ for r in results) == ["DraftVersion", "VersionConflict"]
    versions = await rt.run(lambda st: st.draft_store.list_versions(v1.draft_id))
    assert [v.number for v in versions] == [1, 2, 3]


async def test_a_stale_ceremony_save_is_refused_and_racing_signers_both_count(
        runtime: tuple[Runtime, Place], tmp_path: Path) -> None:
    rt, place = runtime
    outbox = OutboxCodeSender(tmp_path / "outbox")
    rt.sender = outbox
    v1 = await rt.run(_create, place)
    ceremony = await rt.run(lambda st: st.signing.open(v1.draft_id))
    stale = replace(ceremony, revision=ceremony.revision + 5)
    with pytest.raises(VersionConflict):
        await rt.run(lambda st: st.ceremony_store.save(stale))
    def send(signer: str) -> Callable[[Stores], datetime]:
        return lambda st: st.signing.send_code(ceremony.ceremony_id, signer)

    def sign(signer: str) -> Callable[[Stores], CollectedSignature]:
        code = outbox.last_code(signer)
        assert code is not None
        return lambda st: st.signing.sign(ceremony.ceremony_id, signer, code=code,
                                          version_digest=v1.digest, image_png=make_png(200, 60))

    for signer in ("P1", "P2"):
        await rt.run(send(signer))

    # Both signers at once, without the per-draft lock: the revision check makes one
    # of them redo its step on fresh state, and neither signature is lost.
    await asyncio.gather(*(rt.run(sign(s)) for s in ("P1", "P2")))
    stored = await rt.run(lambda st: st.ceremony_store.get(ceremony.ceremony_id))
    assert sorted(stored.signatures) == ["P1", "P2"]
    # Everything round-trips through JSON: the images, the times, the digest.
    memory = InMemoryCeremonyStore()
    memory.add(stored)
    assert memory.get(stored.ceremony_id) == stored
    assert stored.signatures["P1"].image_png == make_png(200, 60)
