"""Notifications through every sender: Aliyun and Tencent SMS against local gateways that
check the signature as each provider documents it, e-mail against a local SMTP server
(aiosmtpd) with an .ics attachment, and the development outbox. Nothing logs a code, a
full phone number or a credential; production refuses the outbox."""

from __future__ import annotations

import asyncio
import logging
import os
import stat
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from signaling.notify import (
    Attachment,
    ChannelUnavailable,
    Dispatcher,
    GatewayRefused,
    GatewayUnavailable,
    OutboxNotifier,
    RecipientInvalid,
    build_notifier,
    channel_of,
    compose,
    mask_recipient,
)
from signaling.notify.aliyun import AliyunSms, canonical_query, signature
from signaling.notify.smtp import SmtpSender
from signaling.notify.tencent import TencentSms
from signaling.settings import SettingsError, load_settings
from tests.conftest import free_port
from tests.signaling.mail_inbox import Inbox

from . import sms_gateway as gw_mod
from .sms_gateway import LocalGateway, sender_settings, start_gateway

PHONE = "13912345678"
CODE = "604213"


def ours(caplog: pytest.LogCaptureFixture) -> str:
    """What our own loggers wrote (the local SMTP server's debug log quotes everything)."""
    return "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("tiaojie"))


def code_message(to: str = PHONE, code: str = CODE) -> Any:
    return compose("signing_code", to, {"code": code, "minutes": 10},
                   reference="c0ffee", meta={"signer_id": "P1"})


@pytest.fixture(params=["aliyun", "tencent"])
async def gateway(request: pytest.FixtureRequest) -> AsyncIterator[tuple[str, LocalGateway]]:
    gw = await start_gateway(request.param)
    try:
        yield request.param, gw
    finally:
        await gw.close()


def sms_sender(provider: str, gw: LocalGateway, **changes: Any) -> Any:
    settings = load_settings(**{**sender_settings(provider, gw), **changes})
    return build_notifier(settings)


async def test_a_code_reaches_the_phone_through_the_gateway_with_a_valid_signature(
        gateway: tuple[str, LocalGateway], caplog: pytest.LogCaptureFixture) -> None:
    provider, gw = gateway
    sender = sms_sender(provider, gw)
    caplog.set_level(logging.DEBUG)
    try:
        receipt = await sender.send(code_message())
        await sender.send(code_message(code="111222"))  # a fresh nonce and signature each time
    finally:
        await sender.close()
    assert receipt.sender == provider and receipt.gateway_id
    assert gw.refused == []
    assert gw.codes_to(PHONE) == [CODE, "111222"]
    sms = gw.received[0]
    assert sms.template == gw_mod.TEMPLATES["signing_code"] and sms.sign_name == "长宁调解"
    assert sms.reference == "c0ffee"
    # Aliyun names the template's parameters, Tencent numbers them in template order.
    assert sms.params == ({"code": CODE, "minutes": "10"} if provider == "aliyun"
                          else [CODE, "10"])
    logged = ours(caplog)
    assert "delivered: signing_code to *******5678" in logged
    for secret in (CODE, PHONE, gw_mod.KEY_SECRET, gw_mod.SECRET_KEY):
        assert secret not in logged


async def test_a_wrong_secret_is_refused_by_the_gateway_and_the_error_says_nothing_secret(
        gateway: tuple[str, LocalGateway], caplog: pytest.LogCaptureFixture) -> None:
    provider, gw = gateway
    wrong = ({"aliyun_access_key_secret": "not-the-secret"} if provider == "aliyun"
             else {"tencent_secret_key": "not-the-secret"})
    sender = sms_sender(provider, gw, **wrong)
    caplog.set_level(logging.DEBUG)
    try:
        with pytest.raises(GatewayRefused) as err:
            await sender.send(code_message())
    finally:
        await sender.close()
    assert gw.received == []
    assert gw.refused == ["SignatureDoesNotMatch" if provider == "aliyun"
                          else "AuthFailure.SignatureFailure"]
    assert err.value.retryable is False
    for text in (str(err.value), ours(caplog)):
        assert CODE not in text and PHONE not in text and "not-the-secret" not in text


async def test_throttling_by_the_gateway_is_reported_as_worth_retrying(
        gateway: tuple[str, LocalGateway]) -> None:
    provider, gw = gateway
    gw.fail_next.append("isv.BUSINESS_LIMIT_CONTROL" if provider == "aliyun"
                        else "LimitExceeded.PhoneNumberThirtySecondLimit")
    sender = sms_sender(provider, gw)
    try:
        with pytest.raises(GatewayUnavailable) as err:
            await sender.send(code_message())
        assert err.value.retryable is True
        await sender.send(code_message())  # and the next one goes through
    finally:
        await sender.close()
    assert gw.codes_to(PHONE) == [CODE]


async def test_an_unreachable_gateway_is_a_retryable_failure(tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}/"
    sender = AliyunSms(access_key_id="k", access_key_secret="s", sign_name="n",
                       templates={"signing_code": "T"}, endpoint=dead)
    try:
        with pytest.raises(GatewayUnavailable) as err:
            await sender.send(code_message())
    finally:
        await sender.close()
    assert err.value.retryable and "ClientConnectorError" in err.value.message


async def test_a_purpose_without_a_template_is_refused_before_anything_is_sent(
        gateway: tuple[str, LocalGateway]) -> None:
    provider, gw = gateway
    sender = sms_sender(provider, gw, sms_templates={"signing_code": "SMS_0001"})
    try:
        with pytest.raises(ChannelUnavailable, match="session_reminder"):
            await sender.send(compose("session_reminder", PHONE, {
                "case_number": "(2026)1", "time": "10:00", "url": "https://x/join"}))
        with pytest.raises(ChannelUnavailable, match="e-mail"):
            await sender.send(code_message(to="party@example.cn"))
    finally:
        await sender.close()
    assert gw.received == [] and gw.refused == []


def test_the_aliyun_signature_follows_the_documented_canonical_form() -> None:
    # Sorted by name; RFC 3986 encoding keeps -_.~, writes a space as %20 and '*' as %2A.
    params = {"b": "x y*~", "A": "é/"}
    assert canonical_query(params) == "A=%C3%A9%2F&b=x%20y%2A~"
    assert signature("secret", "GET", params) == gw_mod.aliyun_expected_signature(
        "GET", params, "secret")


def test_the_tencent_signature_matches_the_gateway_check_for_the_exact_request() -> None:
    sender = TencentSms(secret_id=gw_mod.SECRET_ID, secret_key=gw_mod.SECRET_KEY,
                        sdk_app_id=gw_mod.APP_ID, sign_name="s", templates={"signing_code": "1"},
                        endpoint="https://sms.tencentcloudapi.com/")
    payload = sender.payload(code_message())
    headers = {k.lower(): v for k, v in sender.headers(payload, 1_767_225_600).items()}
    fields = dict(p.strip().split("=", 1) for p in headers["authorization"].split(" ", 1)[1]
                  .split(","))
    assert fields["Credential"] == f"{gw_mod.SECRET_ID}/2026-01-01/sms/tc3_request"
    assert fields["SignedHeaders"] == "content-type;host"
    assert fields["Signature"] == gw_mod.tencent_expected_signature(
        headers, ["content-type", "host"], payload, "1767225600", "2026-01-01", "sms",
        gw_mod.SECRET_KEY)


@pytest.fixture
def smtp_server() -> Any:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller, inbox
    finally:
        controller.stop()


async def test_an_email_with_an_ics_invitation_reaches_a_local_smtp_server(
        smtp_server: Any, caplog: pytest.LogCaptureFixture) -> None:
    controller, inbox = smtp_server
    settings = load_settings(notify_sender="smtp", smtp_host="127.0.0.1",
                             smtp_port=controller.port, smtp_security="none",
                             smtp_from="长宁调解 <tiaojie@example.cn>")
    sender = build_notifier(settings)
    ics = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nSUMMARY:调解\r\n"
           "END:VEVENT\r\nEND:VCALENDAR\r\n").encode()
    caplog.set_level(logging.DEBUG)
    try:
        await sender.send(compose("session_invite", "li.si@example.cn", {
            "case_number": "(2026)长北调字第7号", "time": "2026-12-01 09:30",
            "url": "https://tiaojie.example.cn/join#t=abc"}, attachments=(
                Attachment("invite.ics", "text/calendar; method=REQUEST", ics),)))
        with pytest.raises(ChannelUnavailable):
            await sender.send(code_message())  # no SMS sender on an e-mail-only server
    finally:
        await sender.close()
    assert len(inbox.messages) == 1
    mail = inbox.messages[0]
    assert mail["To"] == "li.si@example.cn" and mail["Subject"] == "调解会议邀请"
    body = mail.get_body(("plain",))
    assert body is not None and "(2026)长北调字第7号" in body.get_content()
    parts = [p for p in mail.iter_attachments()]
    assert [p.get_filename() for p in parts] == ["invite.ics"]
    assert parts[0].get_content_type() == "text/calendar"
    assert parts[0].get_param("method") == "REQUEST"
    assert parts[0].get_payload(decode=True) == ics
    assert "l***@example.cn" in ours(caplog) and "li.si@example.cn" not in ours(caplog)


async def test_a_refused_smtp_login_is_a_clear_refusal(smtp_server: Any) -> None:
    controller, _ = smtp_server
    sender = SmtpSender(host="127.0.0.1", port=controller.port, sender="a@example.cn",
                        security="starttls")
    with pytest.raises(GatewayUnavailable):
        # The local server offers no STARTTLS: the upgrade fails, and we never send in clear.
        await sender.send(compose("signing_code", "b@example.cn", {"code": "1", "minutes": 1}))


async def test_the_outbox_writes_owner_only_files_that_tests_read_back(tmp_path: Path) -> None:
    outbox = OutboxNotifier(tmp_path / "outbox")
    dispatcher = Dispatcher([outbox])
    await dispatcher.send(code_message())
    await dispatcher.send(compose("document_copy", "a@example.cn", {
        "case_number": "1", "document": "人民调解协议书", "days": 30, "url": "u"},
        attachments=(Attachment("协议书.pdf", "application/pdf", b"%PDF-1.7"),)))
    files = sorted((tmp_path / "outbox").iterdir())
    assert files and all(stat.S_IMODE(os.stat(f).st_mode) == 0o600 for f in files)
    first, second = outbox.messages()
    assert first["code"] == CODE and first["to"] == PHONE and files[0].name.endswith("-P1.json")
    assert second["attachments"][0]["size"] == 8


def test_addresses_are_recognised_and_masked() -> None:
    assert channel_of("+86 139-1234-5678") == "sms"
    assert channel_of("a.b@example.cn") == "email"
    with pytest.raises(RecipientInvalid):
        channel_of("12345")
    assert mask_recipient("13912345678") == "*******5678"
    assert mask_recipient("zhang@example.cn") == "z***@example.cn"


def test_production_refuses_the_outbox_and_names_missing_credentials(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    seal = tmp_path_factory.mktemp("seal") / "seal.p12"
    seal.write_bytes(b"x")
    safe = {"env": "production", "secret_key": "k" * 40, "behind_tls": True,
            "public_url": "https://tiaojie.example.cn", "trusted_proxies": ["10.0.0.2"],
            "database_url": "postgresql+asyncpg://u:a-chosen-password@h/db",
            "turn_secret": "t" * 40, "seal_pkcs12": seal,
            "data_dir": tmp_path_factory.mktemp("data")}
    with pytest.raises(SettingsError, match="TIAOJIE_NOTIFY_SENDER must be aliyun, tencent or "
                                            "smtp in production"):
        load_settings(**safe).check_production()
    with pytest.raises(SettingsError) as err:
        load_settings(**safe, notify_sender="aliyun").check_production()
    for name in ("TIAOJIE_ALIYUN_ACCESS_KEY_ID", "TIAOJIE_ALIYUN_ACCESS_KEY_SECRET",
                 "TIAOJIE_SMS_SIGN_NAME", "TIAOJIE_SMS_TEMPLATES"):
        assert name in str(err.value)
    load_settings(**safe, notify_sender="smtp", smtp_host="mail", smtp_from="a@b.cn"
                  ).check_production()
    # Outside production an incomplete real sender is refused too; the outbox is fine.
    with pytest.raises(SettingsError, match="TIAOJIE_TENCENT_SECRET_ID"):
        load_settings(notify_sender="tencent").check_production()
    load_settings().check_production()


async def test_senders_are_usable_from_many_tasks_at_once(
        gateway: tuple[str, LocalGateway]) -> None:
    provider, gw = gateway
    sender = sms_sender(provider, gw)
    try:
        await asyncio.gather(*(sender.send(code_message(code=f"{n:06d}")) for n in range(8)))
    finally:
        await sender.close()
    assert sorted(gw.codes_to(PHONE)) == [f"{n:06d}" for n in range(8)]
