"""Browser end-to-end fixtures: the built client, Debian's Chromium with fake devices,
per-page watchers for CSP violations and axe-core, and the screenshot folder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from tests.conftest import ROOT, SHARED_DATA

# Assertions wait for what a person would wait for, not for a time: on a 2-core host
# shared with the suite's own servers and bots, 5 s (playwright's default) is too short
# for a page to connect its socket or decode its first frames.
expect.set_options(timeout=20_000)

CHROMIUM = os.environ.get("TIAOJIE_CHROMIUM", "/usr/bin/chromium")
WEB = ROOT / "web_client"
AXE = WEB / "node_modules" / "axe-core" / "axe.min.js"
SPEECH = SHARED_DATA / "speech" / "zh" / "BAC009S0764W0121.wav"
FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
    "--allow-loopback-in-peer-connection", "--autoplay-policy=no-user-gesture-required",
]
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 1}
DESKTOP = {"viewport": {"width": 1366, "height": 900}}

# Collects what the page's Content-Security-Policy refused; runs before the page's own
# scripts in every document (init scripts are not subject to the page's CSP).
WATCH_JS = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__csp.push({directive: e.violatedDirective, blocked: e.blockedURI, sample: e.sample});
});
"""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def client_dist() -> Path:
    """The built client; built here only when missing (CI runs npm ci && npm run build)."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    npm = shutil.which("npm")
    if not (WEB / "node_modules").exists():
        if npm is None:
            pytest.skip("web_client/node_modules is missing and npm is not installed")
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=WEB, check=True)
    if not (WEB / "dist" / "index.html").exists():
        assert npm is not None
        subprocess.run([npm, "run", "build"], cwd=WEB, check=True)
    return WEB / "dist"


@pytest.fixture
def artifacts() -> Iterator[Path]:
    env = os.environ.get("TIAOJIE_E2E_ARTIFACTS")
    if env:
        p = Path(env)
        p.mkdir(parents=True, exist_ok=True)
        yield p
        return
    with tempfile.TemporaryDirectory(prefix="tiaojie-e2e-") as d:
        yield Path(d)


class Audit:
    """Screenshots, axe-core results and CSP violations of every page in a scenario."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.t0 = time.monotonic()
        self.step = 0
        self.axe: dict[str, list[dict[str, Any]]] = {}
        self.csp: dict[str, list[Any]] = {}

    async def shot(self, page: Any, name: str) -> None:
        self.step += 1
        print(f"{time.monotonic() - self.t0:7.1f}s  {name}", flush=True)
        await page.screenshot(path=str(self.folder / f"{self.step:02d}-{name}.png"), full_page=True)

    async def check(self, page: Any, name: str) -> None:
        """Run axe-core on the page as it is now and keep serious and critical findings."""
        result = await page.evaluate(
            """async () => {
                const r = await axe.run(document, {resultTypes: ['violations']});
                return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                  nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}));
            }""")
        bad = [v for v in result if v["impact"] in ("serious", "critical")]
        self.axe[name] = result
        if bad:
            self.axe[f"{name}:serious"] = bad
        await self.csp_of(page, name)

    async def csp_of(self, page: Any, name: str) -> None:
        found = await page.evaluate("window.__csp || []")
        if found:
            self.csp[name] = found

    def serious(self) -> dict[str, Any]:
        return {k: v for k, v in self.axe.items() if k.endswith(":serious")}

    def save(self) -> None:
        (self.folder / "axe.json").write_text(json.dumps(self.axe, ensure_ascii=False, indent=1))
        (self.folder / "csp.json").write_text(json.dumps(self.csp, ensure_ascii=False, indent=1))


@pytest.fixture
async def browsers(client_dist: Path) -> AsyncIterator[tuple[Any, Any]]:
    """Two Chromiums: the first's fake microphone speaks real Mandarin speech (the party
    whose captions are checked), the second's beeps (everyone else), so that the speech
    recognizer has one voice to transcribe, as in a real session."""
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        speaking = await p.chromium.launch(
            executable_path=CHROMIUM,
            args=[*FLAGS, f"--use-file-for-fake-audio-capture={SPEECH}"] if SPEECH.exists() else FLAGS)
        beeping = await p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield speaking, beeping
        finally:
            await speaking.close()
            await beeping.close()


async def new_page(browser: Any, base_url: str, *, phone: bool = False,
                   locale: str = "zh-CN") -> Any:
    ctx = await browser.new_context(base_url=base_url, locale=locale,
                                    permissions=["camera", "microphone"],
                                    **(PHONE if phone else DESKTOP))
    await ctx.add_init_script(WATCH_JS)
    await ctx.add_init_script(path=str(AXE))
    page = await ctx.new_page()
    page.on("dialog", lambda d: d.accept())
    page.set_default_timeout(15_000)
    return page
