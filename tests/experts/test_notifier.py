"""Out-of-band notification: the webhook is signed, retried on server errors only, and
never raises; the log adapter never writes a whole phone number."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging

import pytest
from aiohttp import web

from experts import notifier
from experts.notifier import LogNotifier, Notification, WebhookNotifier
from tests.conftest import free_port

N = Notification(call_id="c" * 32, expert_id="e" * 32, expert_name="王医生",
                 phone="13912345678", domain="medical", scope="consultation",
                 office_id="o" * 32, console_url="http://127.0.0.1/experts/console",
                 answer_by="2026-11-25T08:00:00+00:00")


async def test_the_webhook_body_is_signed_with_the_shared_secret() -> None:
    port = free_port()
    received: list[tuple[str, bytes]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append((request.headers["X-Tiaojie-Signature"], await request.read()))
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        await WebhookNotifier(f"http://127.0.0.1:{port}/hook", "s3cret").notify(N)
    finally:
        await runner.cleanup()
    [(sig, body)] = received
    assert sig == "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    doc = json.loads(body)
    assert doc["type"] == "expert_call" and doc["phone"] == "13912345678"
    assert doc["expert_name"] == "王医生"


@pytest.mark.parametrize(("statuses", "attempts"), [([503, 502, 200], 3), ([400], 1),
                                                    ([500, 500, 500, 500], 3)])
async def test_server_errors_are_retried_a_bounded_number_of_times(
        statuses: list[int], attempts: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(notifier, "WEBHOOK_BACKOFF_MAX_S", 0.01)
    port = free_port()
    seen: list[int] = []

    async def hook(request: web.Request) -> web.Response:
        seen.append(1)
        return web.Response(status=statuses[len(seen) - 1])

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        await WebhookNotifier(f"http://127.0.0.1:{port}/hook", "k").notify(N)  # never raises
    finally:
        await runner.cleanup()
    assert len(seen) == attempts


async def test_an_unreachable_gateway_is_logged_not_raised(
        caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(notifier, "WEBHOOK_BACKOFF_MAX_S", 0.01)
    caplog.set_level(logging.WARNING, logger="tiaojie.experts.notifier")
    await WebhookNotifier(f"http://127.0.0.1:{free_port()}/hook", "k").notify(N)
    assert "gave up" in caplog.text and "139****5678" in caplog.text
    assert "13912345678" not in caplog.text


async def test_the_log_adapter_masks_the_number(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="tiaojie.experts.notifier")
    log = LogNotifier()
    await log.notify(N)
    assert log.sent == [N]
    assert "139****5678" in caplog.text and "13912345678" not in caplog.text
