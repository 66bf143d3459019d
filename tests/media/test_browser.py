"""Real Headless Chromium participants against the real SFU (through tests/media/harness.py).

Every assertion is about media the browsers measured (inbound-rtp: framesDecoded,
totalAudioEnergy), and every wait is for a condition, never for a time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from media.config import MediaConfig
from media.routing import ParticipantView, RoomView
from media.sfu import SFU

from .harness import Harness, wait_for

pytestmark = pytest.mark.browser
SESSION = "s1"


class Room:
    """The SFU, the harness and the pages of one test session."""

    def __init__(self, browser: Any, config: MediaConfig) -> None:
        self.browser = browser
        self.harness = Harness()
        self.sfu = SFU(self.harness.send, None, config)
        self.url = ""
        self.pages: dict[str, Any] = {}
        self.people: dict[str, ParticipantView] = {}

    async def start(self) -> None:
        self.url = await self.harness.start(self.sfu)

    async def set_view(self, *people: ParticipantView) -> None:
        for p in people:
            self.people[p.participant_id] = p
        await self.sfu.update_room(RoomView(SESSION, tuple(self.people.values())))

    async def join(self, pid: str) -> Any:
        context = await self.browser.new_context()
        page = await context.new_page()
        await page.goto(f"{self.url}?session={SESSION}&pid={pid}")
        assert await page.evaluate("start()")
        self.pages[pid] = page
        return page

    async def inbound(self, pid: str) -> dict[str, dict[str, float]]:
        result: dict[str, dict[str, float]] = await self.pages[pid].evaluate("inbound()")
        return result

    async def close(self) -> None:
        for page in self.pages.values():
            await page.context.close()
        await self.sfu.close()
        await self.harness.stop()


@pytest.fixture
async def room(browser: Any) -> AsyncIterator[Room]:
    r = Room(browser, MediaConfig(announced_addresses=["127.0.0.1"]))
    await r.start()
    try:
        yield r
    finally:
        await r.close()


def person(pid: str, role: str = "party", caucus: str | None = None) -> ParticipantView:
    return ParticipantView(participant_id=pid, name=pid.upper(), role=role, caucus_id=caucus)


async def media_rising(room: Room, subscriber: str, publishers: list[str]) -> bool:
    """``subscriber`` decodes video and hears audio from every publisher, and both grow."""
    first = await room.inbound(subscriber)

    async def grown() -> bool:
        now = await room.inbound(subscriber)
        return all(
            now.get(p, {}).get("framesDecoded", 0) > first.get(p, {}).get("framesDecoded", 0) > 0
            and now.get(p, {}).get("audioEnergy", 0) > first.get(p, {}).get("audioEnergy", 0) > 0
            for p in publishers
        )

    async def started() -> bool:
        nonlocal first
        first = await room.inbound(subscriber)
        return all(
            first.get(p, {}).get("framesDecoded", 0) > 0
            and first.get(p, {}).get("audioEnergy", 0) > 0
            for p in publishers
        )

    await wait_for(started)
    await wait_for(grown)
    return True


async def test_three_participants_see_and_hear_each_other(room: Room) -> None:
    await room.set_view(person("m", "mediator"), person("a"), person("b"))
    for pid in ("m", "a", "b"):
        await room.join(pid)
    for pid in ("m", "a", "b"):
        others = [p for p in ("m", "a", "b") if p != pid]
        assert await media_rising(room, pid, others)
    stats = await room.sfu.stats()
    assert stats.participants == 3
    assert stats.forwarded_streams == 12  # 3 subscribers x 2 publishers x (audio + video)
    assert stats.forwarded_bytes > stats.received_bytes  # each publisher reaches two others


async def _b_gone(room: Room) -> bool:
    producers = room.sfu.routers[SESSION].producers.values()
    return "b" not in {p.participant_id for p in producers}


async def energy(room: Room, subscriber: str, publisher: str) -> float:
    return float((await room.inbound(subscriber)).get(publisher, {}).get("audioEnergy", 0.0))


async def test_in_a_caucus_side_b_hears_nothing_from_side_a_while_a_keeps_talking(
    room: Room,
) -> None:
    await room.set_view(person("m", "mediator"), person("a"), person("b"))
    for pid in ("m", "a", "b"):
        await room.join(pid)
    assert await media_rising(room, "b", ["a", "m"])
    offers_before = await room.pages["b"].evaluate("window.serverOffers")

    # The mediator takes side A into a caucus; side B stays in the joint session.
    await room.set_view(person("m", "mediator", "c1"), person("a", caucus="c1"))

    # Audio already in B's jitter buffer may still play out: wait until B's energy from A
    # stops moving, then hold it against several rises of what the mediator hears from A.
    async def b_settled() -> bool:
        e1 = await energy(room, "b", "a")
        m1 = await energy(room, "m", "a")
        await wait_for(lambda: _rose(room, "m", "a", m1))
        return await energy(room, "b", "a") == e1

    await wait_for(b_settled)
    b_frozen = await energy(room, "b", "a")
    for _ in range(4):
        m_now = await energy(room, "m", "a")
        await wait_for(lambda m_now=m_now: _rose(room, "m", "a", m_now))  # type: ignore[misc]
        assert await energy(room, "b", "a") == b_frozen
    # A caucus is a routing change, not a renegotiation.
    assert await room.pages["b"].evaluate("window.serverOffers") == offers_before

    # Back to the joint session: B hears A again on the same track.
    await room.set_view(person("m", "mediator"), person("a"))
    await wait_for(lambda: _rose(room, "b", "a", b_frozen))
    assert await room.pages["b"].evaluate("window.serverOffers") == offers_before


async def _rose(room: Room, subscriber: str, publisher: str, before: float) -> bool:
    return await energy(room, subscriber, publisher) > before


@pytest.mark.parametrize("how", ["cut", "restart"])
async def test_a_participant_whose_connection_is_cut_rejoins_and_gets_media_again(
    room: Room, how: str
) -> None:
    await room.set_view(person("m", "mediator"), person("a"), person("b"))
    for pid in ("m", "a", "b"):
        await room.join(pid)
    assert await media_rising(room, "b", ["a", "m"])
    a_offers = await room.pages["a"].evaluate("window.serverOffers")

    if how == "restart":
        # The participant asks to start over: the server drops its connection, the
        # browser comes back on a new one.
        frozen = await room.inbound("a")
        assert await room.pages["b"].evaluate("restart()")
    else:
        # The connection just dies; the server notices when B's DTLS closes.
        await room.pages["b"].evaluate("cut()")
        frozen = await room.inbound("a")
        await wait_for(lambda: _b_gone(room))
        assert await room.pages["b"].evaluate("rejoin()")

    assert await media_rising(room, "b", ["a", "m"])

    async def a_sees_b_again() -> bool:
        now = (await room.inbound("a")).get("b", {})
        return (
            now.get("framesDecoded", 0) > frozen["b"]["framesDecoded"]
            and now.get("audioEnergy", 0) > frozen["b"]["audioEnergy"]
        )

    await wait_for(a_sees_b_again)
    # B's new connection is re-bound into A's existing tracks: A renegotiated nothing.
    assert await room.pages["a"].evaluate("window.serverOffers") == a_offers


async def test_one_participants_bad_sdp_gets_an_error_and_nobody_else_is_affected(
    room: Room,
) -> None:
    await room.set_view(person("m", "mediator"), person("a"), person("x"))
    for pid in ("m", "a"):
        await room.join(pid)
    from media.errors import BadSdp

    with pytest.raises(BadSdp) as err:
        await room.sfu.handle_signal(
            SESSION, "x", {"type": "offer", "sdp": "v=0\r\nm=nonsense\r\n"}
        )
    assert err.value.code == "bad_sdp"
    assert await media_rising(room, "m", ["a"])
    assert await media_rising(room, "a", ["m"])


async def test_a_mediator_muted_camera_reaches_nobody_while_its_audio_still_does(
    room: Room,
) -> None:
    await room.set_view(person("m", "mediator"), person("a"), person("b"))
    for pid in ("m", "a", "b"):
        await room.join(pid)
    assert await media_rising(room, "b", ["a"])

    muted = ParticipantView("a", "A", "party", muted_sources=frozenset({"video"}))
    await room.set_view(muted)

    async def frames(subscriber: str) -> float:
        return float((await room.inbound(subscriber)).get("a", {}).get("framesDecoded", 0))

    async def settled() -> bool:
        # Frames already in flight or in the browser's jitter buffer still decode after
        # the mute; on a loaded host a decoder can stall and then catch up. Settled means
        # no new frame over several rises of A's audio, not over one.
        f = {s: await frames(s) for s in ("m", "b")}
        for _ in range(3):
            e = await energy(room, "b", "a")
            await wait_for(lambda e=e: _rose(room, "b", "a", e))  # type: ignore[misc]
        return {s: await frames(s) for s in ("m", "b")} == f

    await wait_for(settled)
    frozen = {s: await frames(s) for s in ("m", "b")}
    for _ in range(3):  # A's audio keeps arriving; A's video does not, for anyone
        e = await energy(room, "b", "a")
        await wait_for(lambda e=e: _rose(room, "b", "a", e))  # type: ignore[misc]
        assert {s: await frames(s) for s in ("m", "b")} == frozen
