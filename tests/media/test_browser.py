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
