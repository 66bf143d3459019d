"""Relay-only through a real coturn (Debian's ``turnserver``) with time-limited credentials."""

from __future__ import annotations

import pathlib
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from media.config import MediaConfig

from .harness import free_port, wait_for
from .test_browser import Room, media_rising, person

pytestmark = pytest.mark.browser
SECRET = "test-shared-secret"


@pytest.fixture
def coturn(tmp_path: pathlib.Path) -> Iterator[int]:
    """coturn on loopback with ``use-auth-secret``; yields its port."""
    binary = shutil.which("turnserver")
    if binary is None:
        pytest.skip("coturn (turnserver) is not installed")
    port = free_port()
    log = tmp_path / "turn.log"
    proc = subprocess.Popen(
        [
            binary,
            "-n",
            "--listening-ip=127.0.0.1",
            "--relay-ip=127.0.0.1",
            f"--listening-port={port}",
            "--min-port=49400",
            "--max-port=49600",
            "--use-auth-secret",
            f"--static-auth-secret={SECRET}",
            "--realm=tiaojie",
            # The SFU's only host candidate is 127.0.0.1: coturn refuses loopback peers
            # unless told otherwise.
            "--allow-loopback-peers",
            "--no-tls",
            "--no-dtls",
            "--no-cli",
            f"--log-file={log}",
            "--simple-log",
            "--no-stdout-log",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
async def relay_room(browser: Any, coturn: int) -> AsyncIterator[Room]:
    config = MediaConfig(
        announced_addresses=["127.0.0.1"],
        turn_urls=[f"turn:127.0.0.1:{coturn}?transport=udp"],
        turn_secret=SECRET,
        turn_ttl=600,
        relay_only=True,
    )
    r = Room(browser, config)
    await r.start()
    try:
        yield r
    finally:
        await r.close()


async def test_relay_only_participants_reach_each_other_through_coturn(relay_room: Room) -> None:
    room = relay_room
    await room.set_view(person("m", "mediator"), person("a"))
    for pid in ("m", "a"):
        await room.join(pid)
    assert await media_rising(room, "m", ["a"])
    assert await media_rising(room, "a", ["m"])
    for page in room.pages.values():

        async def selected(page: Any = page) -> str | None:
            kind: str | None = await page.evaluate("candidateTypes()")
            return kind

        assert await wait_for(selected) == "relay"
