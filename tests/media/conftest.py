"""Fixtures for the media tests: a tone file, Debian's Chromium, the SFU behind a harness."""

from __future__ import annotations

import pathlib
import wave
from collections.abc import AsyncIterator, Iterator

import numpy as np
import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--allow-loopback-in-peer-connection",
    "--autoplay-policy=no-user-gesture-required",
]


@pytest.fixture(scope="session")
def tone_wav(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """A steady 440 Hz tone: a speaker who never stops talking."""
    path = tmp_path_factory.mktemp("audio") / "tone.wav"
    rate = 48000
    t = np.arange(rate * 10) / rate
    samples = (0.5 * 32767 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())
    return path


@pytest.fixture
def chromium_args(tone_wav: pathlib.Path) -> Iterator[list[str]]:
    yield [*CHROMIUM_FLAGS, f"--use-file-for-fake-audio-capture={tone_wav}"]


@pytest.fixture
async def browser(chromium_args: list[str]) -> AsyncIterator[object]:
    if not pathlib.Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed")
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=CHROMIUM, args=chromium_args, headless=True)
        try:
            yield b
        finally:
            await b.close()
